"""Streaming sha256 of files, refusing files that change while they are read.

One pass, constant memory (a 1 MiB buffer reused with ``readinto``): the speed of
``hashlib.sha256`` over the file, which is the floor the benchmarks compare against.
Optionally the same bytes are written to a second file as they are hashed, so that
copying a file into the cache costs one read.
"""

from __future__ import annotations

import hashlib
import os
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

    @classmethod
    def of(cls, st: os.stat_result) -> FileStat:
        return cls(st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode)

    def same_content_as(self, other: FileStat) -> bool:
        return (self.inode, self.size, self.mtime_ns) == (other.inode, other.size, other.mtime_ns)

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o100)


class FileChangedError(GitprovError):
    """A file changed while gitprov was reading it."""


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
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise unreadable(path, exc) from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        before = FileStat.of(os.fstat(fd))
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
                        copy_to.write(view[:n])
                    total += n
        except OSError as exc:
            raise unreadable(path, exc) from None
        after = FileStat.of(os.fstat(fd))
    if not before.same_content_as(after) or total != after.size:
        raise FileChangedError(
            f"{path} changed while it was being hashed",
            "Wait until whatever writes it has finished, then run the command again",
        )
    return digests.from_hex(sha.hexdigest()), after
