"""What gitprov's own hooks do and say: the hook-side counterpart of ``cli/``.

``hookrun`` imports a function from here only when a hook has work to do. Like ``cli/``
this layer calls one service and renders its result, on standard error (git shows a
hook's output to the user). No typer or rich: hooks must start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitprov.errors import ExitCode, GitprovError
from gitprov.model.progress import ProgressLine, human_size
from gitprov.model.pushrefs import pushed_updates
from gitprov.services import push_check

if TYPE_CHECKING:
    from gitprov.services.push import PushReport


def _say(message: str) -> None:
    sys.stderr.write(f"gitprov: {message}\n")


def _tty_progress() -> Callable[[int, int, int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    line = ProgressLine("gitprov: uploading")

    def show(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        text = line(done, total, done_bytes, total_bytes)
        if text is not None:
            sys.stderr.write(text)
            sys.stderr.flush()

    return show


def pre_push(args: Sequence[str], stdin: bytes) -> int:
    """Upload the artifacts the pushed commits name, sync notes; non-zero aborts the push."""
    text = stdin.decode(errors="replace")
    updates = pushed_updates(text, os.environ)
    if not updates:
        return 0  # only deletions or notes refs: nothing new can name an artifact
    git_remote = args[0] if args else os.environ.get("PRE_COMMIT_REMOTE_NAME")
    release_tags = push_check.release_tags(updates)
    if release_tags:
        from gitprov.services import release_verify  # noqa: PLC0415 - only for release tags

        try:
            release_verify.guard_pushed_tags(cwd=Path.cwd(), tags=release_tags)
        except GitprovError as exc:
            _say(f"error: {exc}")
            _say("the push was aborted: no remote ref was moved")
            return int(exc.exit_code)
    if os.environ.get("GITPROV_SKIP_PUSH") != "1" and not push_check.needs_work(
        updates, git_remote
    ):
        if os.environ.get("GITPROV_VERBOSE") == "1":
            _say("nothing to upload and notes in sync: 0 storage request(s)")
        return 0  # no artifact, no DVC file, notes in sync: not one storage request
    from gitprov.services import push  # noqa: PLC0415 - only with work to do

    progress = _tty_progress()
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
    _report(report)
    return 0


def _report(report: PushReport) -> None:
    if report.skipped:
        _say("GITPROV_SKIP_PUSH=1: artifacts were not uploaded; the skip is recorded in notes")
    for upload in report.uploads:
        if upload.transferred:
            _say(
                f"uploaded {upload.transferred} object(s), {human_size(upload.bytes)}, to artifact "
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
