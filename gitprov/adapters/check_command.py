"""Running a ``[[custom]]`` release check: a command whose exit status is the verdict.

The command runs at the work tree top with its output captured (the checklist's report
is what the user sees, not the command's chatter), under a timeout, with
``GITPROV_CHECKPOINT``, ``GITPROV_DIGEST`` and ``GITPROV_CARD`` in its environment.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    code: int | None  # None: it could not be started or timed out (``detail`` says which)
    detail: str  # the last non-empty line of its output, or why it did not finish


def run(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float) -> Outcome:
    try:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return Outcome(None, f"command not found: {argv[0]}")
    except PermissionError:
        return Outcome(None, f"{argv[0]} is not executable")
    except subprocess.TimeoutExpired:
        return Outcome(None, f"timed out after {timeout:g} s")
    except OSError as exc:
        return Outcome(None, f"could not start {argv[0]}: {exc.strerror or exc}")
    output = (proc.stdout + proc.stderr).decode("utf-8", errors="replace")
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return Outcome(proc.returncode, lines[-1][:300] if lines else "")
