"""Advisory file locks (flock) between gitprov processes sharing one repository.

- ``objects.lock``: held shared by commands that add objects and then name them in
  pointers (``track``), exclusively by ``gc``, so gc never deletes an object that a
  running track has stored but not yet named.
- ``worktree.lock``: held exclusively around read-modify-write of shared files
  (``.gitignore``, pointers) and ``git add``, so concurrent tracks lose no rule.

Locks are released by the kernel when a process dies: a kill never leaves one behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def flock(path: Path, *, shared: bool) -> Iterator[None]:
    """Hold an flock on ``path`` (created if needed) for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
