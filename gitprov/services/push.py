"""Uploading what commits name: the pre-push hook and ``gitprov push``.

The promise (DESIGN §4): **a remote git ref never names an artifact the remote store
lacks.** The pre-push hook runs before git moves any remote ref; it finds the commits
the remote lacks, uploads every object their pointers need, syncs notes, and only then
exits 0. Any failure exits non-zero, and git aborts the push.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gitprov.adapters import git
from gitprov.errors import GitprovError, UsageError
from gitprov.model import pointer as pointers
from gitprov.model.pushrefs import (
    RefUpdate,
    is_dvc_path,
    is_pointer_path,
    missing_commits_args,
    pushed_updates,
)
from gitprov.services import remotes

if TYPE_CHECKING:
    from gitprov.model.remote_config import RemoteSpec
    from gitprov.services.dvc_sync import DvcSyncResult
    from gitprov.services.notes_sync import NotesSyncResult
    from gitprov.services.transfer import Progress, TransferReport
    from gitprov.services.workspace import Workspace

SKIP_ENV = "GITPROV_SKIP_PUSH"


@dataclass(frozen=True)
class NamedPointer:
    path: str  # the pointer file's path in the repository
    pointer: pointers.Pointer

    @property
    def artifact(self) -> str:
        parent = self.path.rpartition("/")[0]
        return f"{parent}/{self.pointer.path}" if parent else self.pointer.path


@dataclass
class PushReport:
    """What one push did; ``uploads`` has one report per artifact remote."""

    git_remote: str | None
    artifacts: int = 0
    uploads: list[TransferReport] = field(default_factory=list)
    skipped: bool = False
    notes: NotesSyncResult | None = None
    notes_skipped: str | None = None
    dvc: DvcSyncResult | None = None
    requests: int = 0  # storage requests made


def read_pointers(ws: Workspace, blobs: Mapping[str, str]) -> list[NamedPointer]:
    """Parse pointer blobs (object id -> path); a broken one stops the push."""
    found = []
    for oid, data in git.read_blobs(ws.top, list(blobs)).items():
        path = blobs[oid]
        text = data.decode("utf-8", errors="replace")
        found.append(NamedPointer(path, pointers.parse(text, source=f"{path} ({oid[:12]})")[0]))
    return sorted(found, key=lambda item: (item.path, item.pointer.digest))


def check_access(spec: RemoteSpec, items: Sequence[NamedPointer]) -> None:
    refused = [item for item in items if item.pointer.access not in spec.accept]
    if refused:
        first = refused[0]
        raise GitprovError(
            f"refusing to upload {first.pointer.access} artifact {first.artifact}"
            + (f" (and {len(refused) - 1} more)" if len(refused) > 1 else "")
            + f" to artifact remote '{spec.name}', which accepts {', '.join(spec.accept)}",
            "Push to a remote that accepts it (accept = [..., "
            f'"{first.pointer.access}"] in its [remotes.NAME] table), or change the '
            "pointer's access level; nothing was uploaded",
        )


def upload_pointers(
    ws: Workspace, spec: RemoteSpec, items: Sequence[NamedPointer], progress: Progress | None
) -> tuple[TransferReport, int]:
    """Upload what ``items`` need to ``spec``; return the report and the requests made."""
    from gitprov.adapters.store import RemoteStore  # noqa: PLC0415 - only with work to do
    from gitprov.services import transfer  # noqa: PLC0415

    check_access(spec, items)
    store = RemoteStore(spec, base=ws.top)
    roots = [
        transfer.root_want(
            ws.cache, i.pointer.digest, i.pointer.size, is_tree=i.pointer.is_tree, label=i.artifact
        )
        for i in items
    ]
    report = transfer.upload(ws.cache, store, roots, jobs=spec.jobs, progress=progress)
    return report, store.requests


def pre_push(
    *,
    cwd: Path,
    git_remote: str | None,
    stdin: str,
    env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> PushReport:
    """The pre-push hook's work; raises GitprovError when the push must be aborted."""
    env = os.environ if env is None else env
    git_remote = git_remote or env.get("PRE_COMMIT_REMOTE_NAME")
    report = PushReport(git_remote)
    updates = pushed_updates(stdin, env)
    if not updates:
        return report  # deletions or notes only: nothing names new artifacts
    top = cwd
    rev_args = missing_commits_args(updates, git_remote)
    brought = git.objects_with_paths(top, rev_args)
    blobs = {oid: path for oid, path in brought if is_pointer_path(path)}
    dvc_files = sorted({path for _, path in brought if is_dvc_path(path)})
    report.skipped = env.get(SKIP_ENV) == "1"
    if blobs and not report.skipped:
        _upload_for_push(cwd, git_remote, blobs, report, progress)
    if report.skipped:
        _record_skip(top, git_remote, updates, len(blobs))
    if dvc_files and not report.skipped:
        from gitprov.services import dvc_sync  # noqa: PLC0415 - only when .dvc files changed

        present = [name for name in dvc_files if (top / name).is_file()]
        report.dvc = dvc_sync.push_dvc_outputs(cwd=top, dvc_files=present)
    _sync_notes(top, git_remote, report)
    return report


def _upload_for_push(
    cwd: Path,
    git_remote: str | None,
    blobs: Mapping[str, str],
    report: PushReport,
    progress: Progress | None,
) -> None:
    from gitprov.services import workspace  # noqa: PLC0415 - loads tomlkit and the cache

    ws = workspace.open_workspace(cwd)
    specs = remotes.for_git_remote(remotes.load(ws.top, ws.layout.gitprov_dir), git_remote or "")
    if not specs:
        raise GitprovError(
            f"the commits being pushed name {len(blobs)} artifact pointer(s), and no artifact "
            f"remote is set up for git remote '{git_remote}'",
            f"Add one with 'gitprov remote add {git_remote or 'NAME'} URL' and push again, or "
            f"push without artifacts: {SKIP_ENV}=1 git push",
        )
    items = read_pointers(ws, blobs)
    report.artifacts = len(items)
    for spec in specs:
        upload, requests = upload_pointers(ws, spec, items, progress)
        report.uploads.append(upload)
        report.requests += requests


def _record_skip(top: Path, git_remote: str | None, updates: Sequence[RefUpdate], n: int) -> None:
    from gitprov.services import notes_sync  # noqa: PLC0415

    for sha in sorted({u.local_sha for u in updates}):
        if git.resolve_commit(top, sha) is None:
            continue  # a tag of a tree or blob: no commit to annotate
        notes_sync.append_record(
            cwd=top,
            commit=sha,
            type="push-skipped",
            fields={"remote": git_remote or "", "pointers": n, "reason": f"{SKIP_ENV}=1"},
        )


def _sync_notes(top: Path, git_remote: str | None, report: PushReport) -> None:
    from gitprov.services import notes_sync  # noqa: PLC0415

    if not git_remote or git_remote not in git.remotes(top):
        report.notes_skipped = "notes are synced only with named git remotes"
        return
    if notes_sync.needs_sync(cwd=top, remote=git_remote):
        report.notes = notes_sync.sync(cwd=top, remote=git_remote, push=True)


# -- gitprov push -------------------------------------------------------------------------


def _looks_like_revisions(top: Path, cwd: Path, targets: Sequence[str]) -> bool:
    """Whether the arguments are a revision range rather than paths."""
    for target in targets:
        if (cwd / target).exists() or (cwd / f"{target}{pointers.SUFFIX}").exists():
            return False
        spec = target.lstrip("^")
        ends = spec.split("...") if "..." in spec else spec.split("..")
        if not all(git.resolve_commit(top, end or "HEAD") for end in ends):
            return False
    return True


def push(
    *,
    cwd: Path,
    targets: Sequence[str],
    all_history: bool = False,
    progress: Progress | None = None,
) -> PushReport:
    """``gitprov push [REMOTE] [--all | REV-RANGE | PATH...]``: upload without ``git push``."""
    from gitprov.services import workspace  # noqa: PLC0415

    ws = workspace.open_workspace(cwd)
    configured = remotes.load(ws.top, ws.layout.gitprov_dir)
    rest = list(targets)
    name = rest.pop(0) if rest and rest[0] in configured else None
    spec = remotes.choose(configured, name)
    if all_history and rest:
        raise UsageError("--all takes no revisions or paths", "Use either --all or arguments")
    if all_history:
        items = read_pointers(ws, git.reachable_blobs(ws.top, pointers.SUFFIX))
    elif rest and _looks_like_revisions(ws.top, cwd, rest):
        brought = git.objects_with_paths(ws.top, rest)
        items = read_pointers(ws, {o: p for o, p in brought if is_pointer_path(p)})
    else:
        items = [
            NamedPointer(ws.display(t.pointer_path), t.pointer)
            for t in workspace.find(ws, cwd, rest)
        ]
    report = PushReport(spec.git_remote, artifacts=len(items))
    upload, report.requests = upload_pointers(ws, spec, items, progress)
    report.uploads.append(upload)
    return report
