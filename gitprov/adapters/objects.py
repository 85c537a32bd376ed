"""The local object cache: ``<git-common-dir>/gitprov/objects/sha256/ab/cdef...``.

Objects are immutable and named by their digest. Every write goes to a temp name in the
cache, is fsync'ed and digest-checked, then renamed, so a final name never holds partial
or wrong bytes; a kill leaves at most a temp file that ``clean_temp`` removes. Every read
that hands bytes on (materialising, verifying) re-hashes them.

How an object relates to the work-tree file it came from is the link mode:
``reflink`` (copy-on-write clone: instant and independent; btrfs, XFS, APFS),
``copy`` (independent bytes; costs a write), ``hardlink`` (instant, but the work-tree
file *is* the object, so it is made read-only; an in-place write by root or a tool that
truncates the file would corrupt the cache). ``auto`` = reflink, else copy.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal, get_args

from gitprov.adapters.fs import can_sync_filesystem, fsync_dir, sync_filesystem, temp_name_for
from gitprov.adapters.hashing import FileStat, hash_file
from gitprov.errors import GitprovError
from gitprov.model import digest as digests

LinkMode = Literal["auto", "reflink", "hardlink", "copy"]
LINK_MODES: tuple[str, ...] = get_args(LinkMode)
_TMP_DIR = "tmp"
_CHUNK = 1 << 20
_FICLONE = 0x40049409  # Linux ioctl: clone a file's extents (reflink)
_YOUNG_LOCK_S = 60.0  # see clean_temp


class CacheError(GitprovError):
    """The object cache cannot be written or holds a corrupt object."""


def _disk_error(where: Path, exc: OSError) -> CacheError:
    if exc.errno == errno.ENOSPC:
        return CacheError(
            f"no space left on the device holding {where}",
            "Free some space (or run 'gitprov gc'), then run the command again; "
            "nothing partial was kept",
        )
    return CacheError(
        f"cannot write to the object cache at {where}: {exc.strerror or exc}",
        "Check the permissions and free space of that directory, then retry",
    )


def try_reflink(src: Path, dst: Path) -> bool:
    """Clone ``src`` to the new file ``dst`` copy-on-write; False when unsupported."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:  # pragma: no cover - Windows
        return False
    with open(src, "rb") as source, open(dst, "wb") as target:
        try:
            fcntl.ioctl(target.fileno(), _FICLONE, source.fileno())
        except OSError:
            return False
    return True


class ObjectCache:
    """Content-addressed objects under ``root`` (``.../gitprov/objects``).

    Temp files live in a per-process folder ``tmp/<random>/`` guarded by an exclusive
    ``flock`` on ``tmp/<random>.lock`` held for the life of the process. ``clean_temp``
    removes only folders whose lock it can take, i.e. those of processes that died, so
    two gitprov processes can share one cache safely.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._base = os.path.join(root, digests.ALGORITHM)
        self._tmp_dir: Path | None = None
        self._lock_fd: int | None = None
        # Folders whose new entries are not yet fsync'ed: see flush().
        self._dirty: set[Path] = set()
        # Written but not yet synced nor renamed (add_file(defer=True)): see flush().
        self._pending: list[tuple[Path, str]] = []
        self._pending_lock = threading.Lock()
        self._reflinks: bool | None = None  # None: not tried yet on this cache
        self._shards: set[str] = set()  # temp sub-folders created so far

    # -- naming ---------------------------------------------------------------------------
    def path(self, digest: str) -> Path:
        return Path(self._path_str(digest))

    def _path_str(self, digest: str) -> str:
        # Plain strings: status checks tens of thousands of objects, and pathlib
        # objects cost more than the stat itself.
        hexdigest = digest[len(digests.PREFIX) :]
        return f"{self._base}/{hexdigest[:2]}/{hexdigest[2:]}"

    def has(self, digest: str) -> bool:
        return os.path.isfile(self._path_str(digest))

    def _temp(self) -> Path:
        """A fresh temp path in this process's temp folder (safe from many threads)."""
        token = secrets.token_hex(8)
        with self._pending_lock:  # hashing threads all start at once: one folder, once
            if self._tmp_dir is None:
                import fcntl  # noqa: PLC0415 - POSIX only

                base = self.root / _TMP_DIR
                base.mkdir(parents=True, exist_ok=True)
                name = secrets.token_hex(8)
                self._lock_fd = os.open(base / f"{name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)  # released when this process exits
                (base / name).mkdir()
                self._tmp_dir = base / name
            # 256 sub-folders: threads creating thousands of temp files in one folder
            # queue on that folder's lock.
            shard = self._tmp_dir / token[:2]
            if token[:2] not in self._shards:
                shard.mkdir(exist_ok=True)
                self._shards.add(token[:2])
        return shard / f"{token}.part"

    def _reflink(self, src: Path, dst: Path) -> bool:
        """try_reflink, remembering a refusal: a file system that cannot clone one file
        cannot clone the next, and each attempt costs a file creation and an unlink."""
        if self._reflinks is False:
            return False
        cloned = try_reflink(src, dst)
        if not cloned:
            dst.unlink(missing_ok=True)
        self._reflinks = cloned
        return cloned

    def _commit(self, temp: Path, digest: str, *, shared_inode: bool = False) -> None:
        """Rename a verified temp file to its final name (a no-op if already present).

        ``shared_inode``: the temp file is a hard link to a work-tree file, whose mode
        (executable bit included) must not change.
        """
        final = self.path(digest)
        if final.is_file():
            temp.unlink(missing_ok=True)
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        if not shared_inode:
            with contextlib.suppress(OSError):
                os.chmod(temp, 0o444)  # objects are immutable; a read-only mode says so
        os.replace(temp, final)
        self._dirty.add(final.parent)

    def flush(self) -> None:
        """Make every object added since the last flush durable and visible.

        Deferred objects (``add_file(defer=True)``) are made durable with one
        file-system sync, then renamed to their names; then every folder that gained a
        name is fsync'ed once. Callers flush before anything (a pointer) names the
        objects, so a crash at any point leaves only unnamed temp files behind.
        """
        with self._pending_lock:
            pending, self._pending = self._pending, []
        if pending:
            try:
                sync_filesystem(self.root)
                for temp, digest in pending:
                    self._commit(temp, digest)
            except OSError as exc:
                for temp, _ in pending:
                    temp.unlink(missing_ok=True)
                raise _disk_error(self.root, exc) from None
        for folder in sorted(self._dirty):
            fsync_dir(folder)
        self._dirty.clear()

    # -- writing --------------------------------------------------------------------------
    def add_bytes(self, data: bytes) -> str:
        """Store ``data`` (a tree node); return its digest."""
        digest = digests.from_hex(hashlib.sha256(data).hexdigest())
        if self.has(digest):
            return digest
        temp = self._temp()
        try:
            with open(temp, "xb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            self._commit(temp, digest)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise _disk_error(self.root, exc) from None
        return digest

    def add_file(self, src: Path, mode: LinkMode, *, defer: bool = False) -> tuple[str, FileStat]:
        """Hash ``src`` and place its bytes in the cache; return digest and stat.

        ``copy`` (and ``auto`` without reflink support) hashes and copies in one read.
        ``reflink``/``hardlink`` hash first, then link, and check that the file did not
        change in between. ``defer``: a copied object is synced and named only by the
        next ``flush()``, in one batch (many small files: one sync instead of one each).
        """
        defer = defer and can_sync_filesystem()
        temp = self._temp()
        try:
            before = FileStat.of(os.stat(src))
            if mode in ("reflink", "auto") and self._reflink(src, temp):
                # Hash the clone, not the source: the clone's bytes are what we keep.
                digest, _ = hash_file(temp)
                stat = FileStat.of(os.stat(src))
                if not stat.same_content_as(before):
                    raise self._changed(src)
            elif mode == "hardlink":
                digest, stat = hash_file(src)
                os.link(src, temp)
                if not FileStat.of(os.stat(temp)).same_content_as(stat):
                    raise self._changed(src)
                # The work-tree file and the object are now one inode: read-only protects it.
                os.chmod(src, stat.mode & 0o7555)
                stat = FileStat.of(os.stat(src))  # chmod moved ctime: record the new one
            else:
                if mode == "reflink":
                    raise CacheError(
                        f"the file system holding {self.root} does not support reflinks",
                        'Set link = "auto" or "copy" under [cache] in .gitprov/config.toml',
                    )
                with open(temp, "xb") as out:  # a failed reflink removed its attempt
                    digest, stat = hash_file(src, copy_to=out)
                    if not defer:
                        out.flush()
                        os.fsync(out.fileno())
                if defer:
                    with self._pending_lock:
                        self._pending.append((temp, digest))
                    return digest, stat
            self._commit(temp, digest, shared_inode=mode == "hardlink")
        except GitprovError:
            temp.unlink(missing_ok=True)
            raise
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise _disk_error(self.root, exc) from None
        return digest, stat

    def receive(self, digest: str, reader: IO[bytes], *, defer: bool = False) -> bool:
        """Store the bytes ``reader`` yields as object ``digest``, if they hash to it.

        Streams to a temp file (constant memory), fsyncs, then renames: an interrupted or
        corrupt transfer never leaves anything under the object's name. Returns False,
        keeping nothing, when the bytes do not match ``digest``. ``defer``: synced and
        named by the next ``flush()``, in one batch.
        """
        if self.has(digest):
            return True
        defer = defer and can_sync_filesystem()
        temp = self._temp()
        sha = hashlib.sha256()
        try:
            with open(temp, "xb") as out:
                while chunk := reader.read(_CHUNK):
                    sha.update(chunk)
                    out.write(chunk)
                if not defer:
                    out.flush()
                    os.fsync(out.fileno())
            if digests.from_hex(sha.hexdigest()) != digest:
                temp.unlink()
                return False
            if defer:
                with self._pending_lock:
                    self._pending.append((temp, digest))
            else:
                self._commit(temp, digest)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise _disk_error(self.root, exc) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return True

    @staticmethod
    def _changed(src: Path) -> GitprovError:
        return GitprovError(
            f"{src} changed while it was being added to the cache",
            "Wait until whatever writes it has finished, then run the command again",
        )

    # -- reading --------------------------------------------------------------------------
    def verify(self, digest: str) -> bool:
        """Re-hash an object; False when it is missing or its bytes do not match."""
        try:
            actual, _ = hash_file(self.path(digest))
        except GitprovError:
            return False
        return actual == digest

    def read_verified(self, digest: str) -> bytes:
        """An object's bytes, checked against its digest (for tree nodes)."""
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise CacheError(
                f"object {digests.short(digest)} is not in the cache",
                "Run 'gitprov verify --all' to see what is missing, and restore it",
            ) from None
        if digests.from_hex(hashlib.sha256(data).hexdigest()) != digest:
            raise self.corrupt(digest)
        return data

    def corrupt(self, digest: str) -> CacheError:
        return CacheError(
            f"cache object {digests.short(digest)} is corrupt (its bytes do not match its name)",
            f"Delete {self.path(digest)} and restore it with 'gitprov track' from an intact "
            "copy; run 'gitprov verify --all' to check the rest",
        )

    def materialize(self, digest: str, dest: Path, mode: LinkMode, *, executable: bool) -> None:
        """Put object ``digest`` at ``dest`` atomically, after verifying its bytes."""
        source = self.path(digest)
        if not self.verify(digest):
            raise (
                self.corrupt(digest)
                if source.exists()
                else CacheError(
                    f"{dest} (object {digests.short(digest)}) is not in the cache",
                    "Fetch it from an artifact remote, or re-create it and run 'gitprov track'",
                )
            )
        dest.parent.mkdir(parents=True, exist_ok=True)
        temp = temp_name_for(dest)
        # A hard link shares the object's mode: only when its executable bit is right.
        link = mode == "hardlink" and bool(source.stat().st_mode & 0o100) == executable
        try:
            if link:
                os.link(source, temp)  # read-only, like the object it is
            else:
                if not (mode in ("reflink", "auto") and self._reflink(source, temp)):
                    shutil.copyfile(source, temp)
                os.chmod(temp, 0o755 if executable else 0o644)
                with open(temp, "rb") as written:
                    os.fsync(written.fileno())
            os.replace(temp, dest)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise _disk_error(dest.parent, exc) from None

    # -- housekeeping ---------------------------------------------------------------------
    def iter_digests(self) -> Iterator[str]:
        base = self.root / digests.ALGORITHM
        if not base.is_dir():
            return
        for prefix in sorted(base.iterdir()):
            for entry in sorted(prefix.iterdir()):
                yield digests.from_hex(prefix.name + entry.name)

    def remove(self, digest: str) -> int:
        """Delete an object; return the bytes freed."""
        path = self.path(digest)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    def clean_temp(self) -> int:
        """Remove temp folders of gitprov processes that died; return how many files."""
        import fcntl  # noqa: PLC0415 - POSIX only

        base = self.root / _TMP_DIR
        removed = 0
        if not base.is_dir():
            return 0
        for lock in base.glob("*.lock"):
            folder = lock.with_suffix("")
            if folder == self._tmp_dir:
                continue
            try:
                fd = os.open(lock, os.O_RDWR)
            except FileNotFoundError:
                continue  # another process cleaning at the same time removed it
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its process is alive and may be writing
                if folder.is_dir():
                    removed += sum(1 for p in folder.rglob("*.part") if p.is_file())
                    shutil.rmtree(folder, ignore_errors=True)
                elif time.time() - os.fstat(fd).st_mtime < _YOUNG_LOCK_S:
                    # Its process may be between creating the lock and locking it:
                    # removing the lock now would orphan the folder it is about to make.
                    continue
                lock.unlink(missing_ok=True)
            finally:
                os.close(fd)
        return removed
