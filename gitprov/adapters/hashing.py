"""Streaming sha256 of files, refusing files that change while they are read.

One pass, constant memory (a 1 MiB buffer reused with ``readinto``): the speed of
``hashlib.sha256`` over the file, which is the floor the benchmarks compare against.
Optionally the same bytes are written to a second file as they are hashed, so that
copying a file into the cache costs one read.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gitprov.errors import GitprovError
from gitprov.model import digest as digests

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileStat:
    """The stat fields that tell whether a file's bytes may have changed."""

    inode: int
    size: int
    mtime_ns: int
    mode: int
    # ctime cannot be set by utime(): a rewrite that restores size and mtime still moves it.
    ctime_ns: int = 0

    @classmethod
    def of(cls, st: os.stat_result) -> FileStat:
        return cls(st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode, st.st_ctime_ns)

    def same_content_as(self, other: FileStat) -> bool:
        """No write happened between the two stats (ctime is left out: linking or
        chmod-ing moves it without touching the bytes; the stat cache keys on it)."""
        return (self.inode, self.size, self.mtime_ns) == (other.inode, other.size, other.mtime_ns)

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o100)


class FileChangedError(GitprovError):
    """A file changed while gitprov was reading it."""


class _WriteFailed(Exception):
    """Carries an OSError of the copy target past the read-error handler."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def unreadable(path: Path, exc: OSError) -> GitprovError:
    """The error for a file gitprov cannot open or read."""
    reason = exc.strerror or exc.__class__.__name__
    return GitprovError(
        f"cannot read {path}: {reason}",
        "Fix its permissions (or remove it from the tracked path), then retry",
    )


def hash_file(path: Path, *, copy_to: BinaryIO | None = None) -> tuple[str, FileStat]:
    """The digest and stat of ``path``, read once; also written to ``copy_to`` if given.

    Raises FileChangedError when the file's size or mtime changed during the read, so a
    digest is never recorded for bytes that were not all from one version of the file.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: never hash
        # what a symlink points to in place of the file itself.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise unreadable(path, exc) from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        before = FileStat.of(os.fstat(fd))
        if not stat_module.S_ISREG(before.mode):
            raise GitprovError(
                f"{path} is not a regular file", "Replace it with a regular file, or remove it"
            )
        sha = hashlib.sha256()
        total = 0
        try:
            if before.size < CHUNK and copy_to is None:
                data = handle.read()  # small files: one read call, no buffer juggling
                sha.update(data)
                total = len(data)
            else:
                buf = bytearray(CHUNK)
                view = memoryview(buf)
                while n := handle.readinto(buf):
                    sha.update(view[:n])
                    if copy_to is not None:
                        try:
                            copy_to.write(view[:n])
                        except OSError as exc:
                            raise _WriteFailed(exc) from exc
                    total += n
        except _WriteFailed as failed:
            raise failed.error from None  # the caller reports it as a cache write error
        except OSError as exc:
            raise unreadable(path, exc) from None
        after = FileStat.of(os.fstat(fd))
    if not before.same_content_as(after) or total != after.size:
        raise FileChangedError(
            f"{path} changed while it was being hashed",
            "Wait until whatever writes it has finished, then run the command again",
        )
    return digests.from_hex(sha.hexdigest()), after
