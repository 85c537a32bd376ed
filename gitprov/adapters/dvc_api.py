"""DVC through its Python API: the only module that imports dvc.

dvc is an optional extra and costs ~0.4-1 s to import, so it is imported inside the
functions that need it, never at module level: the commit path must not pay for it.
dvc's errors become gitprov errors here, at the boundary, with any credential in a URL
redacted. dvc's own console logging is captured while it runs, so that a service never
prints: its warnings and errors feed the messages raised here.
"""

from __future__ import annotations

import importlib.util
import logging
import posixpath
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gitprov.errors import GitprovError
from gitprov.model import dvcfile

# The loggers dvc.logger.setup() gives console handlers (INFO to stdout, WARNING to stderr).
_DVC_LOGGERS = ("dvc", "dvc_objects", "dvc_data")
_MISSING_CACHE = "Some of the cache files do not exist neither locally nor on remote"
_USERINFO = re.compile(r"(\b[a-zA-Z][\w+.-]*://)[^/@\s]+@")
_QUERY = re.compile(r"(://[^\s?'\"]*)\?[^\s'\"]*")
_PLUGIN = re.compile(r"requires '(dvc-[\w-]+)'")


class DvcPushError(GitprovError):
    """dvc could not push the outputs that ``.dvc`` files or ``dvc.lock`` name."""


def is_available() -> bool:
    """Whether dvc is installed, found without importing it."""
    return importlib.util.find_spec("dvc") is not None


def push_outputs(
    top: Path, dvc_files: Sequence[str], *, remote: str | None, jobs: int | None
) -> int:
    """Push the outputs of ``dvc_files`` (``.dvc`` files or ``dvc.lock``, relative to
    ``top``) to the DVC remote ``remote`` (DVC's default when None); the number of files
    uploaded (0 when the remote already has them all).

    Raises DvcPushError when dvc cannot push, including when an output is neither in the
    local DVC cache nor on the remote (``dvc push`` only warns about that, but a pushed
    commit would then name data nobody can pull).
    """
    if not dvc_files:
        return 0
    try:
        from dvc.repo import Repo  # type: ignore[import-untyped]  # noqa: PLC0415
    except ImportError as exc:
        raise DvcPushError(
            f"dvc is installed but cannot be imported: {_redact(str(exc))}",
            "Reinstall it with pip install --force-reinstall 'gitprov[dvc]'",
        ) from None
    targets = sorted({_target(name) for name in dvc_files})
    with _captured_logs() as records:
        try:
            with Repo(str(top)) as repo:
                pushed = repo.push(targets=targets, remote=remote, jobs=jobs)
        except Exception as exc:
            error = _translate(exc, top, targets, remote, records)
            if error is None:
                raise  # not dvc's doing: a bug, shown as one
            raise error from None
    missing = [r for r in records if str(r.msg).startswith(_MISSING_CACHE)]
    if missing:
        raise _missing_cache_error(top, dvc_files, missing, remote)
    return int(pushed)


def _target(name: str) -> str:
    """What dvc accepts as a push target: a ``dvc.lock`` is named by its ``dvc.yaml``."""
    if posixpath.basename(name) == "dvc.lock":
        return posixpath.join(posixpath.dirname(name), "dvc.yaml")
    return name


class _Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _captured_logs() -> Iterator[list[logging.LogRecord]]:
    """Keep dvc's warnings and errors instead of letting its handlers print them.

    (dvc's console handlers write INFO to stdout, which would corrupt ``--json`` output.)
    """
    records: list[logging.LogRecord] = []
    handler = _Collect(records)
    saved: list[tuple[logging.Logger, list[logging.Handler], bool]] = []
    for name in _DVC_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.propagate))
        logger.handlers = [handler]
        logger.propagate = False
    try:
        yield records
    finally:
        for logger, handlers, propagate in saved:
            logger.handlers = handlers
            logger.propagate = propagate


def _redact(text: str) -> str:
    """``text``'s first line, without ``user:password@`` or query strings in URLs."""
    first = (text.strip().splitlines() or [""])[0]
    return _QUERY.sub(r"\1?***", _USERINFO.sub(r"\1***@", first))


def _remote_name(remote: str | None) -> str:
    return f"DVC remote '{remote}'" if remote else "the default DVC remote"


# One return per kind of dvc failure reads better than a lookup table of builders.
def _translate(  # noqa: PLR0911
    exc: Exception,
    top: Path,
    targets: list[str],
    remote: str | None,
    records: list[logging.LogRecord],
) -> DvcPushError | None:
    """The gitprov error for what dvc raised; None when it is not dvc's doing."""
    from dvc.config import NoRemoteError, RemoteNotFoundError  # type: ignore[import-untyped]  # noqa: PLC0415
    from dvc.exceptions import DvcException, NotDvcRepoError, UploadError  # type: ignore[import-untyped]  # noqa: PLC0415

    where = _remote_name(remote)
    retry = f"then run 'git push' again (or 'dvc push {' '.join(targets)}' for DVC's report)"
    if isinstance(exc, RemoteNotFoundError):
        return DvcPushError(
            f"{where} does not exist in this DVC project",
            f"See the configured ones with 'dvc remote list' and fix the name, {retry}",
        )
    if isinstance(exc, NoRemoteError):
        return DvcPushError(
            f"DVC has no default remote to push {len(targets)} DVC-tracked target(s) to",
            "Add one with 'dvc remote add -d <name> <url>' and commit .dvc/config, "
            "then run 'git push' again",
        )
    if isinstance(exc, NotDvcRepoError):
        return DvcPushError(
            f"{top} is not a DVC project, yet {', '.join(targets)} look like DVC files",
            "Run 'dvc init' at the top of the work tree (or remove those files), "
            "then run 'git push' again",
        )
    if isinstance(exc, UploadError):
        failures = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
        reason = f" (first: {_redact(failures[0])})" if failures else ""
        return DvcPushError(
            f"{exc.amount} DVC-tracked file(s) failed to upload to {where}{reason}",
            f"Check that the remote is reachable and writable ('dvc remote list'), {retry}",
        )
    if isinstance(exc, OSError):
        return DvcPushError(
            f"cannot write to {where}: {_redact(str(exc))}",
            f"Check that the remote is reachable and writable ('dvc remote list'), {retry}",
        )
    if isinstance(exc, ImportError) and (plugin := _PLUGIN.search(str(exc))):
        return DvcPushError(
            f"{where} needs the {plugin[1]} plugin: {_redact(str(exc))}",
            f"Install it next to gitprov with pip install {plugin[1]}, then run 'git push' again",
        )
    if isinstance(exc, DvcException):
        return DvcPushError(
            f"dvc could not push {', '.join(targets)}: {_redact(str(exc))}",
            f"Fix what dvc names, {retry}",
        )
    return None


def _missing_cache_error(
    top: Path, dvc_files: Sequence[str], records: list[logging.LogRecord], remote: str | None
) -> DvcPushError:
    """Name the outputs whose data is neither in the local DVC cache nor on the remote."""
    hashes = []
    for record in records:
        # The record's argument lists one 'md5: <hex>' (or 'md5: <hex>.dir') per line.
        args: Any = record.args
        listing = str(args[0]) if isinstance(args, tuple) and args else ""
        hashes += [line.split(":", 1)[-1].strip() for line in listing.splitlines()]
    by_md5 = {}
    for name in dvc_files:
        try:
            outs = dvcfile.parse((top / name).read_text(encoding="utf-8"), dvc_file=name)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        by_md5.update({out.md5: out.path for out in outs if out.md5})
    shown = [f"{by_md5[h]} (md5 {h})" if h in by_md5 else f"md5 {h}" for h in hashes]
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    return DvcPushError(
        f"{len(shown)} DVC-tracked file(s) are neither in the local DVC cache nor on "
        f"{_remote_name(remote)}: {', '.join(shown[:3])}{more}",
        "Restore them where they were produced ('dvc add' or 'dvc repro', then 'dvc push'), "
        "or see which with 'dvc status --cloud', then run 'git push' again",
    )
