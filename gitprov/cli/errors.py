"""The one place where exceptions become messages and exit codes.

- GitprovError: one line ``gitprov: error: <problem>. <fix>`` on stderr, its exit code.
- Ctrl-C: exit 130.
- Anything else is a bug: a short message pointing at a crash log with the traceback,
  exit 3. Users never see a traceback for their own mistakes.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer

from gitprov import __version__
from gitprov.errors import ExitCode, GitprovError

P = ParamSpec("P")
R = TypeVar("R")


# Line breaks and other control characters (C0, DEL, C1, U+2028/9).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def error_line(exc: GitprovError) -> str:
    """The one-line rendering of a gitprov error.

    A message may quote a key or value of a hostile file (a TOML key may hold a newline):
    control characters are shown escaped, so such a file cannot print lines that look
    like gitprov's own, and the error stays on one line.
    """
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(exc))
    return f"gitprov: error: {text}"


def write_crash_log(exc: BaseException) -> Path:
    """Save the traceback of an unexpected error for a bug report; return the file."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"gitprov-crash-{stamp}-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as log:
        log.write(f"gitprov {__version__}\n")
        log.write("".join(traceback.format_exception(exc)))
    return Path(name)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command so that every failure ends in one line and a documented code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GitprovError as exc:
            typer.echo(error_line(exc), err=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            typer.echo("gitprov: interrupted", err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except Exception as exc:  # noqa: BLE001 - the last resort that turns a bug into exit 3
            log = write_crash_log(exc)
            typer.echo(
                f"gitprov: internal error ({type(exc).__name__}): this is a bug in gitprov. "
                f"Please report it to the gitprov maintainers and attach {log}",
                err=True,
            )
            raise typer.Exit(int(ExitCode.BUG)) from None

    return wrapper
