"""``gitprov track`` and ``gitprov untrack``: pointers in git, bytes in the cache."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gitprov.adapters import git
from gitprov.adapters.fs import atomic_write
from gitprov.adapters.statcache import StatCache
from gitprov.errors import GitprovError, UsageError
from gitprov.model import digest as digests
from gitprov.model import gitignore
from gitprov.model import pointer as pointers
from gitprov.model.dvcfile import DvcOut
from gitprov.services import dvc_aware, project_files, snapshot, workspace
from gitprov.services.workspace import Workspace

_CHECKPOINT_SUFFIXES = frozenset(
    {
        ".pt",
        ".pth",
        ".ckpt",
        ".safetensors",
        ".bin",
        ".onnx",
        ".h5",
        ".keras",
        ".pb",
        ".gguf",
        ".msgpack",
        ".joblib",
        ".pkl",
        ".npz",
        ".mlmodel",
        ".tflite",
    }
)


@dataclass(frozen=True)
class TrackResult:
    """What ``track`` did for one path."""

    path: str  # relative to the work tree top
    pointer_path: str
    kind: pointers.Kind
    digest: str
    size: int
    files: int
    outcome: Literal["added", "updated", "unchanged"]
    rehashed: int  # files read this time (0 when everything came from the stat cache)

    @property
    def snapshot_id(self) -> str | None:
        return digests.snapshot_id(self.digest) if self.kind == "dataset" else None


@dataclass(frozen=True)
class TrackReport:
    results: list[TrackResult]
    staged: list[str]


def default_kind(path: Path) -> pointers.Kind:
    """A folder is a dataset; a file with a model-weights suffix a checkpoint."""
    if path.is_dir():
        return "dataset"
    return "checkpoint" if path.suffix.lower() in _CHECKPOINT_SUFFIXES else "artifact"


_MAX_NAME_BYTES = 255 - len(pointers.SUFFIX)


def _check_trackable(ws: Workspace, path: Path, raw: str, outs: list[DvcOut]) -> str:
    rel = ws.display(path)
    if not (path.is_symlink() or path.exists()):
        raise UsageError(f"{raw} does not exist", "Check the path (see 'ls'), then retry")
    if path.is_symlink():
        raise UsageError(f"{raw} is a symlink", "Track the file or folder it points to instead")
    if path.name.endswith(pointers.SUFFIX):
        raise UsageError(f"{raw} is a gitprov pointer file", "Name the artifact it points to")
    if not path.is_dir() and not path.is_file():
        raise UsageError(f"{raw} is not a regular file or folder", "Name a file or folder")
    if len(os.fsencode(path.name)) > _MAX_NAME_BYTES:
        raise UsageError(
            f"{raw}: the name is too long for its pointer file ({path.name[:20]}...)",
            f"Rename it to at most {_MAX_NAME_BYTES} bytes",
        )
    for ancestor in path.parents:
        if ancestor == ws.top or ws.top not in ancestor.parents:
            break
        if ancestor.with_name(pointers.pointer_name(ancestor.name)).is_file():
            raise UsageError(
                f"{rel} is inside {ws.display(ancestor)}, which gitprov already tracks",
                f"Re-track the whole folder: 'gitprov track {ws.display(ancestor)}'",
            )
    if path.is_dir():
        inner = git.ls_files(ws.top, [f":(glob){rel}/**/*{pointers.SUFFIX}"])
        if inner:
            raise UsageError(
                f"{rel} contains artifacts gitprov tracks ({inner[0]}...)",
                "Untrack those first ('gitprov untrack PATH') or track them separately",
            )
    dvc_aware.refuse_if_dvc_tracked(ws.top, rel, outs)
    if git.is_tracked(ws.top, path):
        raise GitprovError(
            f"git already tracks {rel}; gitprov keeps artifact bytes out of git",
            f"Run 'git rm -r --cached {rel}' (the files stay on disk), then 'gitprov track {raw}'",
        )
    return rel


@dataclass(frozen=True)
class _Planned:
    """A snapshot taken and a pointer text ready to write (phase one of track)."""

    result: TrackResult
    pointer_path: Path
    text: str | None  # None: the pointer is already right


def track(
    *,
    cwd: Path,
    paths: list[str],
    kind: pointers.Kind | None = None,
    access: pointers.Access | None = None,
    jobs: int | None = None,
    produced_by: str | None = None,
) -> TrackReport:
    """Snapshot each path into the cache, write its pointer, ignore it, stage the pointer.

    Phase one checks every path, reads every existing pointer and stores every object;
    only when all of that succeeded does phase two write pointers and .gitignore and
    stage them. A refusal therefore leaves the repository as it was (stored objects are
    harmless: nothing names them, and 'gitprov gc' removes them).
    """
    ws = workspace.open_workspace(cwd)
    outs = dvc_aware.dvc_outs(ws.top)
    targets: dict[Path, str] = {}
    for raw in paths:
        path = workspace.inside_worktree(ws, cwd, raw)
        targets.setdefault(path, _check_trackable(ws, path, raw, outs))
    nested = [(a, b) for a in targets for b in targets if a != b and a in b.parents]
    if nested:
        raise UsageError(
            f"{ws.display(nested[0][1])} is inside {ws.display(nested[0][0])}, named too",
            "Name only the outer folder",
        )
    with ws.objects_lock(shared=True):
        ws.cache.clean_temp()
        with ws.stats() as stats:
            planned = [
                _plan(
                    ws,
                    stats,
                    path,
                    rel,
                    kind=kind,
                    access=access,
                    jobs=jobs,
                    produced_by=produced_by,
                )
                for path, rel in targets.items()
            ]
        ws.cache.flush()  # every object durable before a pointer names it
        with ws.worktree_lock():
            for plan in planned:
                if plan.text is not None:
                    atomic_write(plan.pointer_path, plan.text.encode("utf-8"))
            rules = [gitignore.rule_for(plan.result.path) for plan in planned]
            project_files.ensure_gitignore(ws.layout, rules)
            to_stage = [plan.pointer_path for plan in planned]
            to_stage.append(ws.top / project_files.GITIGNORE_PATH)
            git.stage(ws.top, to_stage)
    return TrackReport([plan.result for plan in planned], [ws.display(p) for p in to_stage])


def _plan(
    ws: Workspace,
    stats: StatCache,
    path: Path,
    rel: str,
    *,
    kind: pointers.Kind | None,
    access: pointers.Access | None,
    jobs: int | None,
    produced_by: str | None = None,
) -> _Planned:
    pointer_path = path.with_name(pointers.pointer_name(path.name))
    previous = workspace.load(pointer_path, ws) if pointer_path.exists() else None
    is_dir = path.is_dir()
    if is_dir:
        snap = snapshot.snapshot_directory(
            path, stats=stats, cache=ws.cache, mode=ws.link_mode, jobs=jobs
        )
    else:
        snap = snapshot.snapshot_file(path, stats=stats, cache=ws.cache, mode=ws.link_mode)
    old = previous.pointer if previous else None
    new = pointers.Pointer(
        kind=kind or (old.kind if old else default_kind(path)),
        path=path.name,
        digest=snap.digest,
        size=snap.size,
        files=snap.files,
        type="dir" if is_dir else "file",
        access=access or (old.access if old else "internal"),
        # A new digest was not produced by the old run; 'gitprov run' names its own.
        produced_by=produced_by or (old.produced_by if old and old.digest == snap.digest else None),
        card=old.card if old else None,
    )
    outcome: Literal["added", "updated", "unchanged"] = "added"
    if previous is not None:
        outcome = "unchanged" if new == old else "updated"
    text = None
    if outcome != "unchanged":
        text = pointers.render(new, previous.doc if previous else None)
    result = TrackResult(
        rel,
        ws.display(pointer_path),
        new.kind,
        new.digest,
        new.size,
        new.files,
        outcome,
        snap.rehashed,
    )
    return _Planned(result, pointer_path, text)


@dataclass(frozen=True)
class UntrackResult:
    path: str
    pointer_path: str


def untrack(*, cwd: Path, path: str) -> UntrackResult:
    """Stop tracking: remove the pointer (from git too) and the ignore rule.

    The artifact stays in the work tree as an independent, writable file; its bytes
    stay in the cache until 'gitprov gc'.
    """
    ws = workspace.open_workspace(cwd)
    (tracked,) = workspace.find(ws, cwd, [path])
    artifact = tracked.artifact
    if artifact.is_file() and not artifact.is_symlink():
        _make_independent(artifact)
    elif artifact.is_dir():
        for folder, _, names in os.walk(artifact):
            for name in names:
                file = Path(folder, name)
                if file.is_file() and not file.is_symlink():
                    _make_independent(file)
    rel = ws.display(artifact)
    gitignore_path = ws.top / project_files.GITIGNORE_PATH
    with ws.worktree_lock():
        git.unstage_and_forget(ws.top, tracked.pointer_path)
        tracked.pointer_path.unlink(missing_ok=True)
        if gitignore_path.is_file():
            text = gitignore_path.read_bytes().decode("utf-8")
            new = gitignore.without_rules(text, [gitignore.rule_for(rel)])
            if new != text:
                atomic_write(gitignore_path, new.encode("utf-8"))
                git.stage(ws.top, [gitignore_path])
    return UntrackResult(rel, ws.display(tracked.pointer_path))


def _make_independent(path: Path) -> None:
    """Give a (possibly hard-linked, read-only) file its own writable inode."""
    st = path.stat()
    if st.st_nlink > 1:
        temp = path.with_name(f".{path.name}.gitprov-tmp-untrack")
        shutil.copy2(path, temp)
        os.replace(temp, path)
    os.chmod(path, (st.st_mode | 0o200) & 0o7777)
