"""``gitprov fetch`` and ``gitprov pull``: artifacts from a remote, verified, then placed.

Fetching streams each object into the cache's temp folder while hashing it and keeps it
only when the bytes match their name; a corrupt or missing remote object is reported,
and with any failure nothing is materialised. An interrupted fetch leaves only temp
files (removed by the next run or 'gitprov gc'); the next run fetches what is still
missing, so it resumes.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gitprov.adapters import git
from gitprov.adapters.store import RemoteStore
from gitprov.errors import GitprovError
from gitprov.services import checkout, remotes, transfer, workspace
from gitprov.services.transfer import Progress, TransferReport
from gitprov.services.workspace import Tracked, Workspace

_GLOB = frozenset("*?[")


@dataclass
class PullReport:
    remote: str
    artifacts: list[str]
    transfer: TransferReport
    restored: list[checkout.CheckoutResult] = field(default_factory=list)
    notes_merged: bool | None = None  # None: notes were not synced
    notes_problem: str | None = None


def select(ws: Workspace, cwd: Path, patterns: Sequence[str]) -> list[Tracked]:
    """Pointers named by paths or globs (matched against artifact paths), or all."""
    plain = [p for p in patterns if not _GLOB & set(p)]
    globs = [p for p in patterns if _GLOB & set(p)]
    chosen = workspace.find(ws, cwd, plain) if plain or not globs else []
    if globs:
        every = workspace.find(ws, cwd, [])
        prefix = ws.display(cwd) + "/" if cwd != ws.top else ""
        for pattern in globs:
            hits = [
                t
                for t in every
                if fnmatch.fnmatchcase(ws.display(t.artifact), prefix + pattern.removeprefix("./"))
            ]
            if not hits:
                raise GitprovError(
                    f"{pattern} matches no tracked artifact",
                    "Run 'gitprov status' to list them, and quote the pattern for your shell",
                )
            chosen += [t for t in hits if t not in chosen]
    return chosen


def fetch(
    *,
    cwd: Path,
    remote: str | None = None,
    paths: Sequence[str] = (),
    progress: Progress | None = None,
) -> PullReport:
    """Download what the selected pointers need into the cache; raise if any failed."""
    ws = workspace.open_workspace(cwd)
    spec = remotes.choose(remotes.load(ws.top, ws.layout.gitprov_dir), remote)
    chosen = select(ws, cwd, paths)
    store = RemoteStore(spec, base=ws.top)
    roots = [
        transfer.Want(t.pointer.digest, t.pointer.size, t.pointer.is_tree, ws.display(t.artifact))
        for t in chosen
    ]
    with ws.objects_lock(shared=True):
        # Temp files of a fetch or track that was killed (their process is gone): the
        # docstring's promise that the next run removes them (tests/reliability).
        ws.cache.clean_temp()
        moved = transfer.download(ws.cache, store, roots, jobs=spec.jobs, progress=progress)
    report = PullReport(spec.name, [ws.display(t.artifact) for t in chosen], moved)
    failures = moved.failures
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        raise GitprovError(
            f"{len(failures)} object(s) could not be fetched from '{spec.name}', so nothing "
            f"was put in the work tree: {failures[0]}{more}",
            "Fix the remote (see docs/remotes.md#recovery), then run the command again: "
            "what was fetched is kept",
        )
    return report


def pull(
    *,
    cwd: Path,
    remote: str | None = None,
    paths: Sequence[str] = (),
    force: bool = False,
    progress: Progress | None = None,
) -> PullReport:
    """Merge the remote's notes, fetch the artifacts, then put them in the work tree."""
    ws = workspace.open_workspace(cwd)
    spec = remotes.choose(remotes.load(ws.top, ws.layout.gitprov_dir), remote)
    notes_merged: bool | None = None
    notes_problem = None
    if spec.git_remote in git.remotes(ws.top):
        from gitprov.services import notes_sync  # noqa: PLC0415

        try:
            # Read-only towards the remote: a pull never pushes (notes go up on push).
            notes_merged = notes_sync.sync(cwd=ws.top, remote=spec.git_remote, push=False).merged
        except GitprovError as exc:
            notes_problem = str(exc)
    report = fetch(cwd=cwd, remote=spec.name, paths=paths, progress=progress)
    report.notes_merged, report.notes_problem = notes_merged, notes_problem
    selected = [str(ws.top / artifact) for artifact in report.artifacts]
    report.restored = checkout.checkout(cwd=cwd, paths=selected, force=force) if selected else []
    return report
