"""Remote artifact stores through fsspec: a directory, S3 (s3fs), or any fsspec backend.

Layout is the local cache's: ``<root>/sha256/ab/cdef...``. Objects are immutable:

- an upload streams the local object while re-hashing it and makes the remote object
  visible only when the bytes proved to be what their name says. On object stores
  (S3, GCS, Azure) that is one PUT, or one completed multipart upload, which is atomic,
  sent with ``If-None-Match: *`` where the backend honours it so an existing object is
  never overwritten; a mismatch aborts the upload. On file systems the bytes go to
  ``<root>/tmp/`` and are hard-linked into place, which fails rather than overwrites;
- every download is hashed by the caller before anything uses it (services/transfer).

Every request goes through ``_call``, which retries transient failures with jittered
backoff, translates errors into one-line messages without credentials, and counts the
request (``GITPROV_STORAGE_LOG=FILE`` appends one line per request, for tests and for
users who want to see what a push costs).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar, cast

from gitprov.adapters.staging import StagingDir, remove_dead
from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model.remote_config import RemoteSpec

T = TypeVar("T")
CHUNK = 1 << 20
# Above this many objects to look up, listing the 2-hex folders is cheaper than one
# request per object (one listing covers ~1/256 of the store).
_LIST_THRESHOLD = 64
# Where uploads to file systems are written before they are linked into place.
_STAGING = "tmp"
# Backends whose buffered writer publishes an object only when it is closed, complete,
# and can abort (discard) an unfinished one.
_ATOMIC_PUT = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})
# Errors that retrying cannot fix.
_PERMANENT = (
    PermissionError,
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    GitprovError,
    ImportError,
    ValueError,
    TypeError,
)


class StoreError(GitprovError):
    """An artifact remote cannot be reached, read or written."""


class CorruptRemoteObject(StoreError):
    """A remote object's bytes do not match its name."""


class _Mismatch(Exception):
    pass


def _s3_options(options: Mapping[str, str]) -> dict[str, Any]:
    """s3fs constructor arguments from gitprov's flat, string-valued options."""
    kwargs: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
    client: dict[str, Any] = {}
    for key, value in options.items():
        if key == "endpoint_url":
            kwargs["endpoint_url"] = value
        elif key == "region":
            client["region_name"] = value
        elif key == "profile":
            kwargs["profile"] = value
        elif key == "anon":
            kwargs["anon"] = value.lower() in ("1", "true", "yes")
        else:
            kwargs[key] = value
    if client:
        kwargs["client_kwargs"] = client
    # gitprov retries with its own backoff (RemoteStore._call): botocore and s3fs each
    # retrying too would multiply into minutes before a dead endpoint is reported.
    # A CRC32 of every PUT body, checked by S3 before it accepts the object, whatever
    # AWS_REQUEST_CHECKSUM_CALCULATION says: uploads rely on it (RemoteStore.upload).
    kwargs.setdefault(
        "config_kwargs",
        {
            "retries": {"max_attempts": 1},
            "connect_timeout": 10,
            "request_checksum_calculation": "when_supported",
        },
    )
    return kwargs


class RemoteStore:
    """One artifact remote, opened lazily: no connection is made until a request."""

    def __init__(self, spec: RemoteSpec, *, base: Path, retries: int = 4) -> None:
        self.spec = spec
        self._retries = retries
        self._fs: Any = None
        self._lock = threading.Lock()
        self.requests = 0
        self._staged: list[tuple[Path, Path]] = []  # directory store: temp, final name
        # Directory store: this process's staging folder, flock'ed; a push killed mid-way
        # leaves its staged files there, and the next push removes them (adapters/staging).
        self._staging: StagingDir | None = None
        self._log = os.environ.get("GITPROV_STORAGE_LOG")
        url = spec.url
        if "://" not in url and not url.startswith("/"):
            url = str((base / url).resolve())  # relative to the work tree top
        self._url = url
        self.protocol = url.partition("://")[0] if "://" in url else "file"
        self.local = self.protocol == "file"
        self.root = url.removeprefix("file://").rstrip("/") if self.local else url.rstrip("/")

    # -- plumbing -------------------------------------------------------------------------
    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs = self._open()
        return self._fs

    def _open(self) -> Any:
        try:
            import fsspec  # type: ignore[import-untyped]  # noqa: PLC0415 - only on a request
        except ImportError:  # pragma: no cover - a core dependency
            raise StoreError("fsspec is not installed", "pip install gitprov") from None
        options: dict[str, Any] = dict(self.spec.options)
        if self.protocol in ("s3", "s3a"):
            options = _s3_options(self.spec.options)
        try:
            fs = fsspec.filesystem(self.protocol, **options)
            if self.protocol in ("s3", "s3a"):
                fs.retries = 1  # see _s3_options
            return fs
        except ImportError as exc:
            extra = "gitprov[s3]" if self.protocol in ("s3", "s3a") else exc.name or "its backend"
            raise StoreError(
                f"artifact remote '{self.spec.name}' needs a package that is not installed "
                f"({self.protocol}://)",
                f"Install it: pip install '{extra}'",
            ) from None
        except (ValueError, TypeError) as exc:
            raise StoreError(
                f"artifact remote '{self.spec.name}' has options its backend rejects: {exc}",
                "Fix them with 'gitprov remote add' (docs/remotes.md)",
            ) from None

    def key(self, digest: str) -> str:
        hexdigest = digests.hex_part(digest)
        return f"{self.root}/{digests.ALGORITHM}/{hexdigest[:2]}/{hexdigest[2:]}"

    def _count(self, op: str, target: str) -> None:
        with self._lock:
            self.requests += 1
            if self._log:
                with open(self._log, "a", encoding="utf-8") as log:
                    log.write(f"{self.spec.name} {op} {target}\n")

    def _call(self, op: str, target: str, fn: Callable[[], T]) -> T:
        """Run one request, retrying transient failures with jittered backoff."""
        for attempt in range(self._retries + 1):
            self._count(op, target)
            try:
                return fn()
            except _PERMANENT:
                raise
            except (_Mismatch, KeyboardInterrupt):
                raise
            except Exception as exc:  # noqa: BLE001 - backends raise anything; retry, then explain
                if attempt == self._retries:
                    raise self._unreachable(op, exc) from None
                time.sleep(0.05 * 2**attempt * random.uniform(0.5, 1.5))  # noqa: S311
        raise AssertionError("unreachable")  # pragma: no cover

    def _unreachable(self, op: str, exc: BaseException) -> StoreError:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return StoreError(
            f"artifact remote '{self.spec.name}' ({self.spec.display_url}) failed to {op}: "
            f"{detail[:200]}",
            "Check the URL, the network and your credentials, then run the command again "
            "(nothing partial is left behind)",
        )

    def _denied(self, op: str, exc: OSError) -> StoreError:
        return StoreError(
            f"artifact remote '{self.spec.name}' ({self.spec.display_url}) refused to {op}: "
            f"{exc.strerror or type(exc).__name__}",
            "Check your permissions on that store (and its free space), then retry",
        )

    # -- queries --------------------------------------------------------------------------
    def sizes(self, wanted: Mapping[str, int]) -> dict[str, int]:
        """The size of each of ``wanted``'s objects that the store has (absent: not in it).

        Few objects: one lookup each. Many: one listing per 2-hex folder they fall in.
        """
        if not wanted:
            return {}
        if self.local:
            return self._local_sizes(wanted)
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        with ThreadPoolExecutor(max_workers=self.spec.jobs) as pool:
            if len(wanted) <= _LIST_THRESHOLD:
                sizes = pool.map(self._remote_size, list(wanted))
                return {d: s for d, s in zip(wanted, sizes, strict=True) if s is not None}
            by_prefix: dict[str, list[str]] = {}
            for digest in wanted:
                by_prefix.setdefault(digests.hex_part(digest)[:2], []).append(digest)
            prefixes = sorted(by_prefix)
            folders = [f"{self.root}/{digests.ALGORITHM}/{prefix}" for prefix in prefixes]
            listings = list(pool.map(self._list, folders))  # concurrent requests
        found: dict[str, int] = {}
        for prefix, listing in zip(prefixes, listings, strict=True):
            for digest in by_prefix[prefix]:
                size = listing.get(self.key(digest).rpartition("/")[2])
                if size is not None:
                    found[digest] = size
        return found

    def _local_sizes(self, wanted: Mapping[str, int]) -> dict[str, int]:
        found = {}
        for digest in wanted:
            self._count("stat", digest)
            try:
                found[digest] = os.stat(self.key(digest)).st_size
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise self._denied("read", exc) from None
        return found

    def _remote_size(self, digest: str) -> int | None:
        def info() -> int | None:
            try:
                return int(self.fs.info(self.key(digest))["size"])
            except FileNotFoundError:
                return None

        try:
            return self._call("stat", digest, info)
        except PermissionError as exc:
            raise self._denied("read", exc) from None

    def _list(self, folder: str) -> dict[str, int]:
        def ls() -> dict[str, int]:
            try:
                entries = self.fs.ls(folder, detail=True)
            except FileNotFoundError:
                return {}
            return {str(e["name"]).rpartition("/")[2]: int(e["size"] or 0) for e in entries}

        try:
            return self._call("list", folder, ls)
        except PermissionError as exc:
            raise self._denied("list", exc) from None

    # -- transfers ------------------------------------------------------------------------
    def upload(self, digest: str, source: Path) -> bool:
        """Upload the local object ``source`` as ``digest``; False if it was already there.

        The bytes are hashed while they are sent: a local object that no longer matches
        its name is never published (CorruptLocalObject from the caller's point of view).
        """
        try:
            if self.local:
                return self._upload_local(digest, source)
            return self._call("put", digest, lambda: self._upload_stream(digest, source))
        except _Mismatch:
            raise GitprovError(
                f"the local cache object {digests.short(digest)} is corrupt, so it was not "
                "uploaded",
                "Run 'gitprov verify --all' and restore it before pushing again",
            ) from None
        except PermissionError as exc:
            raise self._denied("write", exc) from None

    def _upload_stream(self, digest: str, source: Path) -> bool:
        key = self.key(digest)
        if self.protocol in _ATOMIC_PUT:
            published = self._put_once(key, source, digest)
        else:
            published = self._put_then_move(key, source, digest)
        if published and self.protocol not in ("s3", "s3a"):
            size = int(self.fs.info(key)["size"])
            if size != source.stat().st_size:
                raise OSError(f"{digests.short(digest)} has {size} bytes on the remote")
        # On S3 no read-back: botocore sends a CRC32 of the body with every PUT (and each
        # part), which S3 checks before it accepts the object, a stronger check than the
        # size and one request fewer per object.
        return published

    def _put_once(self, key: str, source: Path, digest: str) -> bool:
        """Object stores: one PUT (or multipart upload), visible only once complete."""
        conditional = self.protocol in ("s3", "s3a")  # s3fs sends If-None-Match: * for "xb"
        if not conditional and self.fs.exists(key):
            return False
        try:
            handle = self.fs.open(key, "xb" if conditional else "wb")
        except FileExistsError:
            return False
        try:
            _copy_verified(source, handle, digest)
        except BaseException:
            # Abort: nothing was published (a multipart upload is cancelled).
            with contextlib.suppress(Exception):
                handle.discard()
            handle.closed = True
            raise
        try:
            handle.close()  # the object becomes visible here, complete
        except FileExistsError:
            return False  # another pusher won the race with the same bytes
        except OSError as exc:
            if "PreconditionFailed" in str(exc) or getattr(exc, "errno", None) == errno.EEXIST:
                return False
            raise
        return True

    def _put_then_move(self, key: str, source: Path, digest: str) -> bool:
        """Other file systems: write a temporary name, then move it into place."""
        staging = f"{self.root}/{_STAGING}/{secrets.token_hex(8)}.part"
        self.fs.makedirs(f"{self.root}/{_STAGING}", exist_ok=True)
        try:
            with self.fs.open(staging, "wb") as handle:
                _copy_verified(source, handle, digest)
            if self.fs.exists(key):
                return False
            self.fs.makedirs(key.rpartition("/")[0], exist_ok=True)
            self.fs.mv(staging, key)
        finally:
            with contextlib.suppress(Exception):
                if self.fs.exists(staging):
                    self.fs.rm_file(staging)
        return True

    def flush(self) -> None:
        """Publish a directory store's staged uploads, durably.

        Staged files are made durable with one file-system sync, hard-linked to their
        names (which fails rather than overwrites), and each folder that gained a name is
        fsync'ed once. Called after each level of an upload, so that a tree node is never
        published before the objects below it.
        """
        from gitprov.adapters.fs import can_sync_filesystem, fsync_dir, sync_filesystem  # noqa: PLC0415

        with self._lock:
            staged, self._staged = self._staged, []
        try:
            if staged and can_sync_filesystem():
                sync_filesystem(Path(self.root))
            folders = set()
            for temp, final in staged:
                if not can_sync_filesystem():
                    with open(temp, "rb") as written:
                        os.fsync(written.fileno())
                final.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(FileExistsError):  # same bytes, uploaded meanwhile
                    os.link(temp, final)
                folders.add(final.parent)
            for folder in sorted(folders):
                fsync_dir(folder)
        except OSError as exc:
            raise self._denied("write", exc) from None
        finally:
            for temp, _ in staged:
                temp.unlink(missing_ok=True)
            self._release_staging()

    def discard(self) -> None:
        """Drop staged, unpublished uploads (after a failure: nothing half-done stays)."""
        with self._lock:
            staged, self._staged = self._staged, []
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        self._release_staging()

    def _staging_dir(self) -> Path:
        with self._lock:
            if self._staging is None:
                self._staging = StagingDir(Path(self.root) / _STAGING)
            return self._staging.path()

    def remove_dead_staging(self) -> None:
        """Directory store: remove the staging folders of pushes that died (no request
        to any network; a no-op elsewhere). Uploading does it too, on its first object."""
        base = Path(self.root) / _STAGING
        if self.local and base.is_dir():
            try:
                remove_dead(base)
            except OSError as exc:
                raise self._denied("clean up", exc) from None

    def _release_staging(self) -> None:
        """Remove this process's (empty) staging folder: no upload is in flight."""
        with self._lock:
            staging, self._staging = self._staging, None
        if staging is not None:
            staging.release()

    def _upload_local(self, digest: str, source: Path) -> bool:
        """Stage a verified copy in ``<store>/tmp/``; ``flush()`` publishes it."""
        final = Path(self.key(digest))
        self._count("put", digest)
        if final.is_file():
            return False
        # Sharded like the objects: parallel uploads do not queue on one folder's lock.
        try:
            tmp_dir = self._staging_dir() / digests.hex_part(digest)[:2]
            tmp_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._denied("write", exc) from None
        temp = tmp_dir / f"{secrets.token_hex(8)}.part"
        try:
            with open(temp, "xb") as out:
                _copy_verified(source, out, digest)
            os.chmod(temp, 0o444)
        except BaseException as exc:
            temp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise self._denied("write", exc) from None
            raise
        with self._lock:
            self._staged.append((temp, final))
        return True

    @contextlib.contextmanager
    def open_object(self, digest: str, *, small: bool = False) -> Iterator[IO[bytes]]:
        """A reader for a remote object (the caller verifies what it reads).

        ``small``: fetched whole in one GET (an opened remote file first asks for the
        object's size, then reads it: two requests).
        """
        if self.local:
            self._count("get", digest)
            try:
                with open(self.key(digest), "rb") as handle:
                    yield handle
            except FileNotFoundError:
                raise self.missing(digest) from None
            return
        try:
            if small:
                data = self._call("get", digest, lambda: bytes(self.fs.cat_file(self.key(digest))))
                yield io.BytesIO(data)
                return
            handle = self._call("get", digest, lambda: self.fs.open(self.key(digest), "rb"))
        except FileNotFoundError:
            raise self.missing(digest) from None
        except PermissionError as exc:  # a 403 is the user's to fix: one line, not a crash
            raise self._denied("read", exc) from None
        reader = _ResumingReader(self, digest, handle)
        try:
            yield cast(IO[bytes], reader)  # what the caller uses of a file: read()
        finally:
            reader.close()

    def missing(self, digest: str) -> StoreError:
        return StoreError(
            f"object {digests.short(digest)} is not on artifact remote '{self.spec.name}'",
            "Whoever committed it must push it ('gitprov push --all' in their clone)",
        )

    def corrupt(self, digest: str) -> CorruptRemoteObject:
        return CorruptRemoteObject(
            f"object {digests.short(digest)} on artifact remote '{self.spec.name}' is corrupt "
            "(its bytes do not match its name); it was not used",
            f"Delete {self.key(digest)} from the store and push it again from a clone that "
            "has an intact copy ('gitprov push --all')",
        )


class _ResumingReader:
    """A streamed remote object whose reads are retried like every other request.

    Reading happens outside ``_call`` (the caller hashes as it reads), so without this a
    connection reset or a body cut short mid-stream escaped as the backend's own
    exception (aiohttp's ClientPayloadError: a crash, exit 3). A failed read reopens the
    object at the offset reached, with the same backoff as ``_call``, and after the last
    retry raises the one-line StoreError. Bytes are still verified by the caller.
    """

    def __init__(self, store: RemoteStore, digest: str, handle: Any) -> None:
        self._store = store
        self._digest = digest
        self._handle = handle
        self._offset = 0

    def read(self, size: int | None = -1) -> bytes:
        for attempt in range(self._store._retries + 1):
            try:
                data = bytes(self._handle.read(-1 if size is None else size))
            except PermissionError as exc:
                raise self._store._denied("read", exc) from None
            except _PERMANENT:
                raise
            except Exception as exc:  # noqa: BLE001 - backends raise anything; retry, then explain
                if attempt == self._store._retries:
                    raise self._store._unreachable("get", exc) from None
                time.sleep(0.05 * 2**attempt * random.uniform(0.5, 1.5))  # noqa: S311
                self._reopen()
                continue
            self._offset += len(data)
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def _reopen(self) -> None:
        with contextlib.suppress(Exception):
            self._handle.close()
        key = self._store.key(self._digest)

        def reopen() -> Any:
            handle = self._store.fs.open(key, "rb")
            handle.seek(self._offset)
            return handle

        try:
            self._handle = self._store._call("get", self._digest, reopen)
        except FileNotFoundError:
            raise self._store.missing(self._digest) from None
        except PermissionError as exc:
            raise self._store._denied("read", exc) from None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._handle.close()


def _copy_verified(source: Path, out: IO[bytes], digest: str) -> None:
    """Copy ``source`` to ``out`` while hashing it; raise _Mismatch on a wrong digest."""
    sha = hashlib.sha256()
    with open(source, "rb") as src:
        while chunk := src.read(CHUNK):
            sha.update(chunk)
            out.write(chunk)
    if digests.from_hex(sha.hexdigest()) != digest:
        raise _Mismatch
