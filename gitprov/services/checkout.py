"""``gitprov checkout``: put the artifacts pointers name into the work tree, verified."""

from __future__ import annotations

import glob
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gitprov.adapters.fs import TEMP_INFIX, remove_stale_temp_files, temp_name_for
from gitprov.errors import GitprovError
from gitprov.services import snapshot, status, workspace
from gitprov.services.workspace import Tracked, Workspace


@dataclass(frozen=True)
class CheckoutResult:
    path: str
    outcome: Literal["restored", "unchanged"]
    files: int  # files written


def checkout(*, cwd: Path, paths: list[str], force: bool = False) -> list[CheckoutResult]:
    """Materialise artifacts from the cache; refuse to overwrite local changes unless ``force``.

    Every check happens before anything is written: a refusal changes nothing.
    """
    ws = workspace.open_workspace(cwd)
    tracked = workspace.find(ws, cwd, paths)
    with ws.stats() as stats:
        states = [status.artifact_status(ws, stats, item) for item in tracked]
    # A folder that only lacks some of its files holds no local change to lose: restoring
    # puts back the recorded bytes. That is what a killed pull or checkout leaves behind
    # (files appear one by one, each whole), so running it again completes the job
    # (tests/reliability/test_crash.py). A changed or added file is still refused.
    modified = [
        s.path
        for s in states
        if s.state == "modified" and not (s.removed and not s.added and not s.changed)
    ]
    if modified and not force:
        raise GitprovError(
            f"local changes would be overwritten: {', '.join(modified)}",
            "Track them first ('gitprov track PATH') to keep them, or pass --force to discard",
        )
    missing = [s.path for s in states if s.state != "unchanged" and not s.in_cache]
    if missing:
        raise GitprovError(
            f"not in the cache: {', '.join(missing)}",
            "Fetch them from an artifact remote, or re-create them and run 'gitprov track'",
        )
    results = []
    # Exclusive: the temp files a restore finds in its folders are then those of a dead
    # process (see _restore_tree), never of a concurrent checkout.
    with ws.worktree_lock():
        for item, state in zip(tracked, states, strict=True):
            if state.state == "unchanged":
                results.append(CheckoutResult(state.path, "unchanged", 0))
                continue
            restore = _restore_tree if item.pointer.is_tree else _restore_file
            results.append(CheckoutResult(state.path, "restored", restore(ws, item)))
    return results


def _clear(target: Path) -> None:
    """Remove whatever is at ``target`` that is not what the pointer names (--force):
    a symlink itself (never what it points to), a folder, a special file."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)


def _restore_file(ws: Workspace, item: Tracked) -> int:
    target = item.artifact
    if target.is_symlink() or target.is_dir() or (target.exists() and not target.is_file()):
        _clear(target)
    # This file's temp names (temp_name_for), left by a restore killed mid-write.
    for stale in target.parent.glob(f".{glob.escape(target.name[:40])}{TEMP_INFIX}*"):
        stale.unlink(missing_ok=True)
    ws.cache.materialize(item.pointer.digest, target, ws.link_mode, executable=False)
    return 1


def _restore_tree(ws: Workspace, item: Tracked) -> int:
    root = item.artifact
    wanted_dirs: list[str] = []
    wanted = snapshot.flatten(ws.cache, item.pointer.digest, dirs=wanted_dirs)
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        _clear(root)
    root.mkdir(parents=True, exist_ok=True)
    for rel in ["", *wanted_dirs]:
        (root / rel).mkdir(parents=True, exist_ok=True)
        # Temp files of a restore that was killed mid-write (the snapshot skips them).
        remove_stale_temp_files(root / rel)
    with ws.stats() as stats:
        current = snapshot.snapshot_directory(root, stats=stats, cache=None, mode="auto").records
    for rel in sorted(set(current) - set(wanted), reverse=True):
        (root / rel).unlink()  # only reached with --force: extra files are local changes
    written = 0
    for rel, record in wanted.items():
        if current.get(rel) == record:
            continue
        dest = root / rel
        if dest.is_symlink() or dest.is_dir():
            _clear(dest)
        if record.type == "link" and record.target is not None:
            temp = temp_name_for(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(record.target, temp)
            os.replace(temp, dest)
        else:
            ws.cache.materialize(record.digest, dest, ws.link_mode, executable=record.exec)
        written += 1
    return written
