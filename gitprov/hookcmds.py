"""What gitprov's own hooks do and say: the hook-side counterpart of ``cli/``.

``hookrun`` imports a function from here only when a hook has work to do. Like ``cli/``
this layer calls one service and renders its result, on standard error (git shows a
hook's output to the user). No typer or rich: hooks must start fast.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from gitprov.errors import ExitCode, GitprovError
from gitprov.model.pushrefs import pushed_updates


def _say(message: str) -> None:
    sys.stderr.write(f"gitprov: {message}\n")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


class _TtyProgress:
    """A one-line counter on a terminal, redrawn at most ten times a second."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        sys.stderr.write(
            f"\rgitprov: uploading {done}/{total} objects, {_size(done_bytes)}"
            f" of {_size(total_bytes)}" + ("\n" if done >= total else "")
        )
        sys.stderr.flush()


def pre_push(args: Sequence[str], stdin: bytes) -> int:
    """Upload the artifacts the pushed commits name, sync notes; non-zero aborts the push."""
    text = stdin.decode(errors="replace")
    if not pushed_updates(text, os.environ):
        return 0  # only deletions or notes refs: nothing new can name an artifact
    from gitprov.services import push  # noqa: PLC0415 - only with commits to look at

    git_remote = args[0] if args else None
    progress = _TtyProgress() if sys.stderr.isatty() else None
    try:
        report = push.pre_push(
            cwd=Path.cwd(),
            git_remote=git_remote,
            stdin=text,
            progress=progress,
        )
    except GitprovError as exc:
        _say(f"error: {exc}")
        _say("the push was aborted: no remote ref was moved")
        return int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug must still abort the push, in one line
        _say(
            f"internal error ({type(exc).__name__}: {str(exc)[:200]}): this is a bug in gitprov, "
            "please report it. The push was aborted; GITPROV_SKIP_PUSH=1 git push skips gitprov"
        )
        return int(ExitCode.BUG)
    if report.skipped:
        _say(f"{push.SKIP_ENV}=1: artifacts were not uploaded; the skip is recorded in notes")
    for upload in report.uploads:
        if upload.transferred:
            _say(
                f"uploaded {upload.transferred} object(s), {_size(upload.bytes)}, to artifact "
                f"remote '{upload.remote}' ({upload.already_there} already there)"
            )
    if report.dvc is not None:
        if report.dvc.skipped_reason:
            _say(report.dvc.skipped_reason)
        elif report.dvc.pushed:
            _say(f"pushed {report.dvc.pushed} DVC-tracked file(s) to the DVC remote")
    if report.notes is not None and report.notes.pushed:
        _say(f"lineage notes synced with '{report.git_remote}'")
    if os.environ.get("GITPROV_VERBOSE") == "1":
        _say(f"{report.requests} storage request(s)")
    return 0
