"""Running the user's command for ``gitprov run``: output streams through, Ctrl-C reaches it.

The child inherits the terminal (stdin, stdout, stderr), so progress bars and prompts
work as if it had been started directly. While it runs gitprov keeps waiting through Ctrl-C:
the terminal sends Ctrl-C to the whole foreground process group, the child decides what
to do with it, and gitprov waits and reports the child's exit status (130 when the child
was killed by SIGINT, like a shell).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from gitprov.errors import GitprovError, UsageError


def resolve_program(argv0: str, cwd: Path) -> str:
    """The executable ``argv0`` names, or a usage error saying it cannot be found."""
    if os.sep in argv0:
        candidate = Path(cwd, argv0)
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise UsageError(
            f"{argv0} is not an executable file",
            "Check the path, or make it executable with 'chmod +x'",
        )
    found = shutil.which(argv0)
    if found is None:
        raise UsageError(
            f"command not found: {argv0}",
            "Check the spelling, or install it / activate the environment that has it",
        )
    return found


def run_command(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> int:
    """Run ``argv`` in ``cwd`` with the terminal; return its exit status (128+N if killed)."""
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env) if env is not None else None)
    except OSError as exc:
        raise GitprovError(
            f"could not start {argv[0]}: {exc.strerror}",
            "Check that the command exists and is executable",
        ) from None
    while True:
        try:
            code = proc.wait()
            break
        except KeyboardInterrupt:
            # Ctrl-C went to the whole foreground group, the child included: it decides
            # whether to stop, and its exit status is what gitprov reports.
            continue
    return 128 - code if code < 0 else code


def edit(editor: str, path: Path, *, cwd: Path) -> int:
    """Open ``path`` in ``editor`` (a shell command line, as git runs it); its exit status."""
    # As git does: the editor value may carry arguments ("code --wait"), so the shell splits
    # it, and the file name is passed as a separate argument, never interpolated.
    return run_command(["/bin/sh", "-c", f'{editor} "$@"', editor, str(path)], cwd=cwd)
