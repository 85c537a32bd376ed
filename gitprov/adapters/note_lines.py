"""The note lines that mention a marker, across every lineage note, kept in a small cache.

``gitprov log`` and ``gitprov lineage`` must know every deprecation in the notes, and
reading every note blob costs ~0.1 s per 10,000 notes. The notes ref's tree is
content-addressed, so a cache keyed by its id is exact: when the notes have not changed
the answer is one small file read; when they have, a diff of the old and the new notes
trees (libgit2, unchanged fan-out subtrees skipped by id) names the few notes to read
again. The cache lives in ``<git-dir>/gitprov/note-lines.json``; losing it costs one
full read. No git process is started.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitprov.adapters.history import NOTES_REF, HistoryError

CACHE_NAME = "note-lines.json"
_VERSION = 1


def _lines(data: bytes, markers: Sequence[bytes]) -> list[str]:
    if not any(marker in data for marker in markers):
        return []
    text = data.decode("utf-8", "replace")
    return [line for line in text.split("\n") if any(m.decode() in line for m in markers)]


def _load(path: Path, markers: list[str]) -> tuple[str | None, dict[str, list[str]]]:
    try:
        cached: Any = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None, {}
    if (
        not isinstance(cached, dict)
        or cached.get("version") != _VERSION
        or cached.get("markers") != markers
        or not isinstance(cached.get("tree"), str)
        or not isinstance(cached.get("notes"), dict)
    ):
        return None, {}
    return cached["tree"], cached["notes"]


def _save(path: Path, data: bytes) -> None:
    """Replace the cache file. A rename, but no fsync: after a crash the cache may be
    empty or stale by content, which ``_load`` and the tree id catch (one full read)."""
    # Not adapters.fs's temp name: its 'secrets' import costs 'gitprov log' ~8 ms.
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(6).hex()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:  # a read-only repository still answers, without the cache
        with contextlib.suppress(OSError):
            tmp.unlink()


def marked_lines(cwd: Path, markers: Sequence[bytes]) -> list[tuple[str, str]]:
    """``(annotated commit, line)`` for every line of every note on ``refs/notes/gitprov``
    that contains one of ``markers``."""
    import pygit2  # noqa: PLC0415 - only commands that read history pay for it

    pygit2.settings.enable_strict_hash_verification(False)
    try:
        root = pygit2.discover_repository(str(cwd))
        if root is None:
            return []
        repo = pygit2.Repository(root)
        ref = repo.references.get(NOTES_REF)
        if ref is None:
            return []
        tree = ref.peel(pygit2.Commit).tree
        key = [m.decode() for m in markers]
        path = Path(repo.path) / "gitprov" / CACHE_NAME
        old_id, notes = _load(path, key)
        if old_id != str(tree.id):
            notes = _refresh(repo, tree, old_id, notes, markers)
            payload = {"version": _VERSION, "markers": key, "tree": str(tree.id), "notes": notes}
            _save(path, json.dumps(payload).encode("utf-8"))
    except pygit2.GitError as exc:
        raise HistoryError(
            f"cannot read the notes on {NOTES_REF}: {exc}",
            "Check the repository with 'git fsck' and 'git notes --ref=gitprov list'",
        ) from None
    return [(commit, line) for commit, lines in notes.items() for line in lines]


def _refresh(
    repo: Any, tree: Any, old_id: str | None, notes: dict[str, list[str]], markers: Sequence[bytes]
) -> dict[str, list[str]]:
    import pygit2  # noqa: PLC0415

    old = None
    if old_id is not None:
        with contextlib.suppress(KeyError, ValueError, pygit2.GitError):
            old = repo[pygit2.Oid(hex=old_id)].peel(pygit2.Tree)
    if old is None:  # no usable cache: read every note once
        fresh: dict[str, list[str]] = {}
        for note in repo.notes(NOTES_REF):
            lines = _lines(repo.odb.read(note.id)[1], markers)
            if lines:
                fresh[str(note.annotated_id)] = lines
        return fresh
    changed = dict(notes)
    gone: list[str] = []
    added: list[tuple[str, Any]] = []
    _diff(old, tree, "", gone, added)
    # A note's path is its commit id split by fan-out ("ab/cdef..."); git may move it to
    # another fan-out level, which shows as a removal and an addition: removals first.
    for commit in gone:
        changed.pop(commit, None)
    for commit, blob in added:
        changed.pop(commit, None)
        lines = _lines(repo.odb.read(blob)[1], markers)
        if lines:
            changed[commit] = lines
    return changed


def _blobs(tree: Any, prefix: str) -> list[tuple[str, Any]]:
    """``(commit id, blob id)`` of every note under ``tree`` (at fan-out ``prefix``)."""
    import pygit2  # noqa: PLC0415

    found = []
    for entry in tree:
        if entry.type_str == "tree":
            found += _blobs(entry.peel(pygit2.Tree), prefix + (entry.name or ""))
        elif entry.type_str == "blob":
            found.append((prefix + (entry.name or ""), entry.id))
    return found


def _diff(old: Any, new: Any, prefix: str, gone: list[str], added: list[tuple[str, Any]]) -> None:
    """The notes removed from and added to ``old`` to make ``new``: subtrees with the same
    id are skipped whole, so one new note costs a fan-out path, not the whole tree.
    (libgit2's own tree diff visits every entry: 20 ms on 10,000 notes.)"""
    import pygit2  # noqa: PLC0415

    before = {entry.name: entry for entry in old}
    after = {entry.name: entry for entry in new}
    for name in before.keys() | after.keys():
        was, now = before.get(name), after.get(name)
        if was is not None and now is not None and was.id == now.id:
            continue
        path = prefix + (name or "")
        if was is not None and now is not None and was.type_str == now.type_str == "tree":
            _diff(was.peel(pygit2.Tree), now.peel(pygit2.Tree), path, gone, added)
            continue
        if was is not None:
            gone += [commit for commit, _ in _notes(was, path)]
        if now is not None:
            added += _notes(now, path)


def _notes(entry: Any, path: str) -> list[tuple[str, Any]]:
    import pygit2  # noqa: PLC0415

    if entry.type_str == "tree":
        return _blobs(entry.peel(pygit2.Tree), path)
    return [(path, entry.id)] if entry.type_str == "blob" else []
