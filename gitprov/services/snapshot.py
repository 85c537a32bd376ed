"""Snapshots of files and directories: digests, Merkle trees, incremental via the stat cache."""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gitprov.adapters.hashing import FileStat, hash_file
from gitprov.adapters.objects import LinkMode, ObjectCache
from gitprov.adapters.statcache import StatCache
from gitprov.adapters.walk import walk
from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model import tree


@dataclass(frozen=True)
class FileRecord:
    """A file or link in a snapshot, by path relative to the snapshot root."""

    type: tree.EntryType
    digest: str
    size: int
    exec: bool = False
    target: str | None = None


@dataclass
class Snapshot:
    """A snapshot of one file or directory."""

    digest: str  # the file's digest, or the root node's (the dataset snapshot ID)
    size: int
    files: int
    records: dict[str, FileRecord] = field(default_factory=dict)  # directories only
    nodes: dict[str, bytes] = field(default_factory=dict)  # node digest -> canonical bytes
    rehashed: int = 0


def default_jobs() -> int:
    """Hashing threads: hashlib and file reads release the GIL, so one per core."""
    return max(1, min(32, os.cpu_count() or 1))


def snapshot_file(
    path: Path, *, stats: StatCache, cache: ObjectCache | None, mode: LinkMode
) -> Snapshot:
    """Digest one file (from the stat cache when unchanged); store it when ``cache``."""
    started = time.time_ns()
    stat = FileStat.of(os.stat(path, follow_symlinks=False))
    known = stats.lookup(stats.under(path), str(path), stat)
    if known is not None and (cache is None or cache.has(known)):
        return Snapshot(known, stat.size, 1)
    digest, stat = cache.add_file(path, mode) if cache else hash_file(path)
    stats.record([(str(path), stat, digest)], hashed_since_ns=started)
    return Snapshot(digest, stat.size, 1, rehashed=1)


def snapshot_directory(
    root: Path,
    *,
    stats: StatCache | None,
    cache: ObjectCache | None,
    mode: LinkMode,
    jobs: int | None = None,
) -> Snapshot:
    """Merkle snapshot of ``root``; changed files are hashed in parallel.

    With ``cache`` every file and tree node is stored (files already present are not
    read again); without it nothing is written except stat-cache entries (``status``).
    Without ``stats`` every file is read (``verify`` trusts nothing).
    """
    started = time.time_ns()
    listing = walk(root)
    known = stats.under(root) if stats else {}
    records: dict[str, FileRecord] = {}
    todo: list[str] = []
    prefix = f"{root}/"
    for rel, stat in listing.files.items():
        digest = stats.lookup(known, prefix + rel, stat) if stats else None
        if digest is not None and (cache is None or cache.has(digest)):
            records[rel] = FileRecord("file", digest, stat.size, stat.executable)
        else:
            todo.append(rel)

    def work(rel: str) -> tuple[str, str, FileStat]:
        path = root / rel
        # Deferred: the caller's cache.flush() syncs the whole batch at once.
        digest, stat = cache.add_file(path, mode, defer=True) if cache else hash_file(path)
        return rel, digest, stat

    hashed: list[tuple[str, FileStat, str]] = []
    if todo:
        run: Callable[[str], tuple[str, str, FileStat]] = work
        # Writing to the cache waits on fsync more than on the CPU: more threads then.
        workers = jobs or (default_jobs() * 4 if cache is not None else default_jobs())
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for rel, digest, stat in pool.map(run, todo):
                records[rel] = FileRecord("file", digest, stat.size, stat.executable)
                hashed.append((prefix + rel, stat, digest))
        if stats:
            stats.record(hashed, hashed_since_ns=started)
    for rel, target in listing.links.items():
        data = target.encode()
        records[rel] = FileRecord(
            "link", digests.from_hex(hashlib.sha256(data).hexdigest()), len(data), target=target
        )
    key = listing_key(records, listing.dirs) if stats is not None and cache is None else None
    known_tree = stats.tree(key) if stats is not None and key is not None else None
    if known_tree is not None:
        # Same files, digests and folders as a tree built before: same root digest.
        digest, size, files = known_tree
        return Snapshot(digest, size, files, records, rehashed=len(todo))
    snapshot = build_tree(records, listing.dirs)
    snapshot.rehashed = len(todo)
    if stats is not None and key is not None:
        stats.remember_tree(key, snapshot.digest, snapshot.size, snapshot.files)
    if cache is not None:
        for data in snapshot.nodes.values():
            cache.add_bytes(data)
    return snapshot


def listing_key(records: dict[str, FileRecord], dirs: list[str]) -> str:
    """The sha256 of everything ``build_tree`` reads, in a canonical order.

    Fields are separated by NUL, which no path, digest or link target can contain, and
    every record has the same number of fields, so two different listings never share
    a key. Far cheaper than building the tree (no JSON, one hash over one string).
    """
    parts: list[str] = []
    for rel in sorted(records):
        r = records[rel]
        parts += (rel, r.type, r.digest, str(r.size), "x" if r.exec else "-", r.target or "")
    parts.append("")  # ends the records: folders follow
    parts += sorted(dirs)
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def build_tree(records: dict[str, FileRecord], dirs: list[str]) -> Snapshot:
    """Merkle nodes, bottom-up, for files/links ``records`` and folders ``dirs``."""
    children: dict[str, list[tree.Entry]] = defaultdict(list)
    for rel, record in records.items():
        parent, _, name = rel.rpartition("/")
        children[parent].append(
            tree.Entry(
                name, record.type, record.size, record.digest, record.exec, target=record.target
            )
        )
    nodes: dict[str, bytes] = {}
    root_entry = tree.Entry("", "dir", 0, digests.from_hex("0" * 64))
    every_dir = {""} | set(dirs)
    for rel in records:
        parent = rel
        while "/" in parent:
            parent = parent.rpartition("/")[0]
            every_dir.add(parent)
    for rel_dir in sorted(every_dir, key=lambda d: d.count("/") + (d != ""), reverse=True):
        entries = children.pop(rel_dir, [])
        data = tree.encode(entries)
        digest = tree.node_digest(data)
        nodes[digest] = data
        size = sum(entry.size for entry in entries if entry.type != "link")
        files = sum(
            entry.files if entry.type == "dir" else entry.type == "file" for entry in entries
        )
        entry = tree.Entry(rel_dir.rpartition("/")[2], "dir", size, digest, files=files)
        if rel_dir:
            children[rel_dir.rpartition("/")[0]].append(entry)
        else:
            root_entry = entry
    return Snapshot(root_entry.digest, root_entry.size, root_entry.files, records, nodes)


def flatten(
    cache: ObjectCache, root_digest: str, *, dirs: list[str] | None = None
) -> dict[str, FileRecord]:
    """Every file and link of a stored snapshot (nodes read from the cache, verified).

    ``dirs``, when given, receives every folder (empty ones included), parents first.
    """
    records: dict[str, FileRecord] = {}
    pending = [("", root_digest)]
    while pending:
        prefix, digest = pending.pop()
        # A node comes from a cache or a store anyone may have written to: its names
        # (decode) and its links' targets are checked before checkout writes anything, so
        # a hostile node cannot make it write, or link, outside the snapshot (issue 9).
        try:
            entries = tree.decode(cache.read_verified(digest))
            for entry in entries:
                if entry.type == "link":
                    tree.check_link_target(f"{prefix}{entry.name}", entry.target or "")
        except tree.TreeFormatError as exc:
            raise GitprovError(
                f"snapshot node {digests.short(digest)} is malformed or unsafe: {exc}",
                "Do not use this snapshot; re-create it with 'gitprov track' from an intact "
                "copy, or pull it again from a remote you trust",
            ) from None
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            if entry.type == "dir":
                pending.append((rel + "/", entry.digest))
                if dirs is not None:
                    dirs.append(rel)
            else:
                records[rel] = FileRecord(
                    entry.type, entry.digest, entry.size, entry.exec, entry.target
                )
    return records


def tree_objects(cache: ObjectCache, root_digest: str) -> set[str]:
    """Every object a stored snapshot needs: its nodes and its files' contents."""
    needed = {root_digest}
    pending = [root_digest]
    while pending:
        for entry in tree.decode(cache.read_verified(pending.pop())):
            if entry.type == "dir":
                pending.append(entry.digest)
                needed.add(entry.digest)
            elif entry.type == "file":
                needed.add(entry.digest)
    return needed


def readable_tree_objects(cache: ObjectCache, root_digest: str) -> tuple[set[str], bool]:
    """Like ``tree_objects`` but tolerant: what can be read, and whether that was all.

    A root node absent from the cache names nothing here (complete). A node that is
    present but corrupt, or a missing node below the root, leaves its subtree unknown
    (incomplete): callers that delete things must then stop.
    """
    if not cache.has(root_digest):
        return set(), True
    needed, complete, pending = {root_digest}, True, [root_digest]
    while pending:
        try:
            entries = tree.decode(cache.read_verified(pending.pop()))
        except (GitprovError, ValueError):
            complete = False
            continue
        for entry in entries:
            needed.add(entry.digest)
            if entry.type == "dir":
                pending.append(entry.digest)
    return needed, complete
