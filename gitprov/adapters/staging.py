"""Per-process staging folders that the next process cleans when their owner died.

A directory artifact store stages each upload under ``<store>/tmp/`` before linking it
into place. A push killed mid-way (SIGKILL, power cut) leaves its staged files there.
Each process stages in a folder ``tmp/<random>/`` of its own and holds an exclusive
``flock`` on ``tmp/<random>.lock`` for as long as it uses it; the kernel releases the lock
when the process dies. A new staging folder first removes every folder whose lock it can
take, i.e. whose process is gone, and never one that a live push still holds. (The same
scheme as the local object cache's temp folders, adapters/objects.py.)
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import time
from pathlib import Path

# A lock file without its folder, younger than this, may belong to a process that is
# between creating the two: left alone.
_YOUNG_S = 60.0


class StagingDir:
    """A lazily created, flock-guarded folder under ``base``; ``release()`` removes it."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._folder: Path | None = None
        self._fd: int | None = None

    def path(self) -> Path:
        """This process's folder (created, after cleaning dead ones, on first use)."""
        if self._folder is None:
            self.base.mkdir(parents=True, exist_ok=True)
            remove_dead(self.base)
            name = secrets.token_hex(8)
            fd = os.open(self.base / f"{name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            (self.base / name).mkdir()
            self._folder, self._fd = self.base / name, fd
        return self._folder

    def release(self) -> None:
        """Remove the folder and its lock (nothing staged may be left to publish)."""
        folder, fd = self._folder, self._fd
        self._folder = self._fd = None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
            folder.with_name(f"{folder.name}.lock").unlink(missing_ok=True)
        if fd is not None:
            os.close(fd)


def remove_dead(base: Path) -> int:
    """Remove the staging folders under ``base`` whose process died; return how many."""
    removed = 0
    for lock in base.glob("*.lock"):
        folder = lock.with_suffix("")
        try:
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            continue  # its owner finished meanwhile
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive and may be staging
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
            elif time.time() - os.fstat(fd).st_mtime < _YOUNG_S:
                continue
            lock.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return removed
