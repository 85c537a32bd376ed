"""``gitprov status``: how each tracked artifact compares with its pointer, without re-hashing
what the stat cache vouches for."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gitprov.adapters.statcache import StatCache
from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.services import dvc_aware, snapshot, workspace
from gitprov.services.workspace import Tracked, Workspace

State = Literal["unchanged", "modified", "missing"]


@dataclass(frozen=True)
class ArtifactStatus:
    """One tracked artifact: its work-tree state and whether the cache holds its bytes."""

    path: str
    pointer_path: str
    kind: str
    digest: str
    state: State
    in_cache: bool | None  # None: not gitprov's (DVC) or unknown
    source: Literal["gitprov", "dvc"] = "gitprov"
    alias: str | None = None  # DVC md5 for DVC-tracked outputs
    current_digest: str | None = None  # when modified
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def snapshot_id(self) -> str | None:
        return digests.snapshot_id(self.digest) if self.kind == "dataset" else None


def _cache_complete(ws: Workspace, stats: StatCache, tracked: Tracked) -> bool:
    """Whether the cache holds every object of the artifact (by name: 'verify' re-hashes).

    A snapshot found complete is remembered until gc removes objects, so a status of a
    large unchanged dataset does not stat every object each time.
    """
    digest = tracked.pointer.digest
    if not tracked.pointer.is_tree:
        return ws.cache.has(digest)
    if stats.is_complete(digest) and ws.cache.has(digest):
        return True
    if not ws.cache.has(digest):
        return False
    try:
        needed = snapshot.tree_objects(ws.cache, digest)
    except (GitprovError, ValueError):
        return False
    complete = all(ws.cache.has(obj) for obj in needed)
    if complete:
        stats.mark_complete(digest)
    return complete


def artifact_status(  # noqa: PLR0911 - one return per outcome reads best here
    ws: Workspace, stats: StatCache, tracked: Tracked
) -> ArtifactStatus:
    """Compare one artifact with its pointer."""
    pointer, artifact = tracked.pointer, tracked.artifact
    in_cache = _cache_complete(ws, stats, tracked)

    def result(state: State, **extra: Any) -> ArtifactStatus:
        return ArtifactStatus(
            path=ws.display(artifact),
            pointer_path=ws.display(tracked.pointer_path),
            kind=pointer.kind,
            digest=pointer.digest,
            state=state,
            in_cache=in_cache,
            **extra,
        )

    if not (artifact.exists() or artifact.is_symlink()):
        return result("missing")
    if artifact.is_symlink():
        return result("modified", note="is now a symlink (gitprov never follows it)")
    if not artifact.is_dir() and not artifact.is_file():
        return result("modified", note="is not a regular file or folder")
    if pointer.is_tree != artifact.is_dir():
        return result(
            "modified",
            note="is a folder, pointer names a file" if artifact.is_dir() else "is not a folder",
        )
    if not pointer.is_tree:
        snap = snapshot.snapshot_file(artifact, stats=stats, cache=None, mode="auto")
        if snap.digest == pointer.digest:
            return result("unchanged")
        return result("modified", current_digest=snap.digest)
    snap = snapshot.snapshot_directory(artifact, stats=stats, cache=None, mode="auto")
    if snap.digest == pointer.digest:
        return result("unchanged")
    try:
        old = snapshot.flatten(ws.cache, pointer.digest)
    except (GitprovError, ValueError):
        return result(
            "modified",
            current_digest=snap.digest,
            note="the old snapshot is not in the cache, so changed files cannot be listed",
        )
    new = snap.records
    added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
    changed = sorted(rel for rel in set(old) & set(new) if old[rel] != new[rel])
    return result(
        "modified",
        current_digest=snap.digest,
        added=added,
        removed=removed,
        changed=changed,
        note=None if added or removed or changed else "empty folders were added or removed",
    )


def status(*, cwd: Path, paths: list[str]) -> list[ArtifactStatus]:
    """Status of the named artifacts (all of them, DVC's included, when none are named)."""
    ws = workspace.open_workspace(cwd)
    tracked = workspace.find(ws, cwd, paths)
    with ws.stats() as stats:
        result = [artifact_status(ws, stats, item) for item in tracked]
    if not paths:
        for out in dvc_aware.dvc_outs(ws.top):
            present = (ws.top / out.path).exists()
            result.append(
                ArtifactStatus(
                    path=out.path,
                    pointer_path=out.dvc_file,
                    kind="dataset" if out.is_dir else "artifact",
                    digest=out.alias,
                    state="unchanged" if present else "missing",
                    in_cache=None,
                    source="dvc",
                    alias=out.alias,
                    note="tracked by DVC: 'dvc status' compares its content",
                )
            )
    return result
