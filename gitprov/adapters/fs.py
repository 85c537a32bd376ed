"""Crash-safe file writes: a reader sees the old bytes or the new bytes, never a mix.

Each write goes to a temp file in the destination's directory (same file system, so the
rename is atomic), is flushed and fsync'ed, then renamed over the destination, and the
directory is fsync'ed so the rename itself survives a power cut. A kill leaves at most a
temp file named ``.<name>.gitprov-tmp-<random>``, which the git-ignore rules hide and
``remove_stale_temp_files`` deletes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from pathlib import Path

from gitprov.errors import GitprovError

TEMP_INFIX = ".gitprov-tmp-"


def temp_name_for(path: Path) -> Path:
    """A fresh temp path beside ``path`` matching the ``.*.gitprov-tmp-*`` ignore rule.

    The name keeps at most 40 characters of the original, so that a long (but legal)
    name never makes its temp name too long for the file system.
    """
    return path.with_name(f".{path.name[:40]}{TEMP_INFIX}{secrets.token_hex(6)}")


def fsync_dir(directory: Path) -> None:
    """Persist a directory entry change (a rename or create) on POSIX file systems."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_filesystem(path: Path) -> None:
    """Make every write on the file system holding ``path`` durable, in one call.

    Linux ``syncfs(2)``: one flush for thousands of freshly written small files costs a
    fraction of one fsync each. Elsewhere ``sync(2)``, which POSIX allows to return
    before the writes are done, so there each file is fsync'ed instead (see callers).
    """
    import ctypes  # noqa: PLC0415 - only the bulk-write paths need it

    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.syncfs(fd) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code), str(path))
    finally:
        os.close(fd)


def can_sync_filesystem() -> bool:
    """Whether ``sync_filesystem`` is a real barrier here (Linux ``syncfs``)."""
    return sys.platform.startswith("linux")


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically; ``mode`` sets permission bits.

    Without ``mode`` an existing file keeps its permissions and a new one gets 0o666
    minus the umask, as an ordinary write would.
    """
    try:
        _atomic_write(path, data, mode)
    except OSError as exc:
        raise GitprovError(
            f"cannot write {path}: {exc.strerror or exc}",
            "Check the free space and permissions there, then run the command again",
        ) from None


def _atomic_write(path: Path, data: bytes, mode: int | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    tmp = temp_name_for(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def atomic_rename(src: Path, dst: Path) -> None:
    """Rename ``src`` to ``dst`` (same file system) and persist the change."""
    os.replace(src, dst)
    fsync_dir(dst.parent)
    if src.parent != dst.parent:
        fsync_dir(src.parent)


def remove_stale_temp_files(directory: Path) -> list[Path]:
    """Delete temp files left in ``directory`` by interrupted writes; return them."""
    removed = []
    with contextlib.suppress(FileNotFoundError):
        for entry in directory.iterdir():
            if entry.name.startswith(".") and TEMP_INFIX in entry.name and entry.is_file():
                entry.unlink()
                removed.append(entry)
    return removed
