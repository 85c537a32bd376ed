"""A journal of ``gitprov run``s between their command's end and their commit.

A run writes its record and environment snapshot, stages them and commits. A kill in
between leaves those files behind, and the next run would refuse the now dirty tree. So
a run first writes ``<git-dir>/gitprov/runs-pending/<run-id>`` (its process ID and the
files it is about to write) and removes it once committed. A later run rolls back the
files of any pending run whose process is gone: an unfinished transaction, like a
database's, not data (the run's outputs are tracked artifacts and stay).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters.fs import atomic_write

FOLDER = "runs-pending"


@dataclass(frozen=True)
class Pending:
    run_id: str
    pid: int
    paths: tuple[str, ...]  # relative to the work tree top


def _folder(gitprov_dir: Path) -> Path:
    return gitprov_dir / FOLDER


def begin(gitprov_dir: Path, run_id: str, paths: list[str]) -> None:
    """Note that this process is about to write ``paths`` for run ``run_id``."""
    _folder(gitprov_dir).mkdir(parents=True, exist_ok=True)
    data = json.dumps({"pid": os.getpid(), "paths": paths}).encode()
    atomic_write(_folder(gitprov_dir) / run_id, data)


def end(gitprov_dir: Path, run_id: str) -> None:
    """The run is committed (or deliberately left staged): nothing to roll back."""
    with contextlib.suppress(FileNotFoundError):
        (_folder(gitprov_dir) / run_id).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def dead(gitprov_dir: Path) -> list[Pending]:
    """Pending runs whose process no longer exists (a reused PID counts as alive: the
    next run then refuses the dirty tree, the safe side)."""
    folder = _folder(gitprov_dir)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue  # a temp file of atomic_write
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
            pid, paths = int(data["pid"]), [str(p) for p in data["paths"]]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # unreadable: leave it, and the tree stays dirty (safe)
        if not _alive(pid):
            found.append(Pending(entry.name, pid, tuple(paths)))
    return found
