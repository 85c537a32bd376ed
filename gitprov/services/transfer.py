"""Moving objects between the local cache and an artifact remote, Merkle-aware.

Uploads keep one invariant on every remote: **a tree node is uploaded only after
everything below it.** So a node the remote already has stands for its whole subtree,
and finding what to send walks the snapshot top-down, one batched lookup per level,
descending only into nodes the remote lacks: an unchanged dataset costs one lookup, a
one-file change costs one lookup per level of its path.

Everything an upload needs is checked before the first byte is sent (local objects
present, remote objects of the right size): a push either sends all it must or fails
without having started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from gitprov.adapters.objects import ObjectCache
from gitprov.adapters.store import RemoteStore, StoreError
from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model import tree

# Fetched whole with one request; bigger objects are streamed (constant memory).
_SMALL = 8 << 20
# done objects, total objects, done bytes, total bytes
Progress = Callable[[int, int, int, int], None]


@dataclass(frozen=True)
class Want:
    """An object a pointer needs, directly or through its snapshot."""

    digest: str
    size: int
    is_node: bool
    label: str  # the artifact it belongs to, for messages


@dataclass
class TransferReport:
    remote: str
    objects_checked: int = 0  # looked up on the remote
    transferred: int = 0
    bytes: int = 0
    already_there: int = 0
    failures: list[str] = field(default_factory=list)


def _node_size(cache: ObjectCache, digest: str, label: str) -> int:
    try:
        return cache.path(digest).stat().st_size
    except FileNotFoundError:
        raise _not_local(digest, label) from None


def _not_local(digest: str, label: str) -> GitprovError:
    return GitprovError(
        f"{label}: object {digests.short(digest)} is not in the local cache, so it cannot be "
        "uploaded",
        "Restore it (gitprov pull from another remote, or re-create it and 'gitprov track'), "
        "or push without it: GITPROV_SKIP_PUSH=1 git push",
    )


def root_want(cache: ObjectCache, digest: str, size: int, *, is_tree: bool, label: str) -> Want:
    """The object a pointer names (for a snapshot: its root node)."""
    return Want(digest, _node_size(cache, digest, label) if is_tree else size, is_tree, label)


def _children(cache: ObjectCache, want: Want) -> Iterable[Want]:
    try:
        entries = tree.decode(cache.read_verified(want.digest))
    except ValueError:
        raise cache.corrupt(want.digest) from None
    for entry in entries:
        if entry.type == "dir":
            yield Want(entry.digest, _node_size(cache, entry.digest, want.label), True, want.label)
        elif entry.type == "file":
            yield Want(entry.digest, entry.size, False, want.label)


def _unique(wants: Iterable[Want], seen: set[str]) -> list[Want]:
    fresh = []
    for want in wants:
        if want.digest not in seen:
            seen.add(want.digest)
            fresh.append(want)
    return fresh


def plan_upload(
    cache: ObjectCache, store: RemoteStore, roots: Sequence[Want], report: TransferReport
) -> list[list[Want]]:
    """What the remote lacks, by level (roots first); checked against the local cache."""
    levels: list[list[Want]] = []
    seen: set[str] = set()
    frontier = _unique(roots, seen)
    while frontier:
        report.objects_checked += len(frontier)
        remote_sizes = store.sizes({w.digest: w.size for w in frontier})
        missing = []
        for want in frontier:
            size = remote_sizes.get(want.digest)
            if size is None:
                missing.append(want)
            elif size != want.size:
                raise store.corrupt(want.digest)
            else:
                report.already_there += 1
        absent = [w for w in missing if not cache.has(w.digest)]
        if absent:
            raise _not_local(absent[0].digest, absent[0].label)
        levels.append(missing)
        frontier = _unique(
            (child for want in missing if want.is_node for child in _children(cache, want)), seen
        )
    return levels


def upload(
    cache: ObjectCache,
    store: RemoteStore,
    roots: Sequence[Want],
    *,
    jobs: int,
    progress: Progress | None = None,
) -> TransferReport:
    """Send every object of ``roots`` the remote lacks, deepest level first."""
    report = TransferReport(store.spec.name)
    levels = plan_upload(cache, store, roots, report)
    total = sum(len(level) for level in levels)
    total_bytes = sum(w.size for level in levels for w in level)
    if not total:
        # A push killed after publishing its last objects left their staged copies: the
        # rerun has nothing to send, but still removes them (tests/reliability).
        store.remove_dead_staging()
        return report

    def send(want: Want) -> tuple[Want, bool]:
        return want, store.upload(want.digest, cache.path(want.digest))

    done = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool, _discard_on_error(store):
        # Children before parents: a level starts only when the one below it is complete.
        for level in reversed(levels):
            for want, sent in pool.map(send, level):
                done += 1
                report.transferred += sent
                report.already_there += not sent  # another clone uploaded it meanwhile
                report.bytes += want.size if sent else 0
                if progress:
                    progress(done, total, report.bytes, total_bytes)
            store.flush()  # this level is durable before its parents are sent
    return report


@contextlib.contextmanager
def _discard_on_error(store: RemoteStore) -> Iterator[None]:
    try:
        yield
    except BaseException:
        store.discard()
        raise


def download(
    cache: ObjectCache,
    store: RemoteStore,
    roots: Sequence[Want],
    *,
    jobs: int,
    progress: Progress | None = None,
) -> TransferReport:
    """Fetch every object of ``roots`` the cache lacks, each verified before it is kept.

    Failures (missing or corrupt on the remote) are collected, not raised: the caller
    decides what may still be materialised.
    """
    report = TransferReport(store.spec.name)
    seen: set[str] = set()
    frontier = _unique(roots, seen)

    def fetch(want: Want) -> str | None:
        try:
            small = want.is_node or want.size <= _SMALL  # a node's size is its subtree's
            with store.open_object(want.digest, small=small) as reader:
                if not cache.receive(want.digest, reader, defer=True):
                    return f"{want.label}: {store.corrupt(want.digest)}"
        except StoreError as exc:
            return f"{want.label}: {exc.problem}"
        return None

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while frontier:
            needed = [w for w in frontier if not cache.has(w.digest)]
            report.objects_checked += len(needed)
            for want, failure in zip(needed, pool.map(fetch, needed), strict=True):
                if failure:
                    report.failures.append(failure)
                else:
                    report.transferred += 1
                    report.bytes += want.size
                if progress:
                    progress(report.transferred, len(needed), report.bytes, 0)
            cache.flush()  # this level's objects durable and named: its nodes can be read
            frontier = _unique(
                (
                    child
                    for want in frontier
                    if want.is_node and cache.has(want.digest)
                    for child in _download_children(cache, want)
                ),
                seen,
            )
    return report


def _download_children(cache: ObjectCache, want: Want) -> Iterable[Want]:
    # Sizes are not needed to download; reading a node from the cache verifies it.
    try:
        entries = tree.decode(cache.read_verified(want.digest))
    except tree.TreeFormatError as exc:  # a node a hostile store crafted (issue 9)
        raise GitprovError(
            f"{want.label}: snapshot node {digests.short(want.digest)} from the remote is "
            f"malformed or unsafe: {exc}",
            "Do not use this snapshot; ask whoever pushed it to re-create it with 'gitprov track'",
        ) from None
    for entry in entries:
        if entry.type in ("dir", "file"):
            yield Want(entry.digest, entry.size, entry.type == "dir", want.label)
