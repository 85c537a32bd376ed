"""The one exception root and the exit codes, shared by every layer.

Every message a user sees says what is wrong and ends with how to fix it, on one line:
``GitprovError(problem, fix)`` keeps the two apart so that the CLI can render them and
``--json`` output can carry them separately.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (docs/errors.md)."""

    OK = 0
    FAILED = 1  # a gitprov error or a failed check
    USAGE = 2  # the command line was wrong
    BUG = 3  # an internal error: a bug in gitprov, please report it
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


class GitprovError(Exception):
    """Root of every error gitprov expects and explains.

    ``problem`` says what is wrong, ``fix`` what to do about it. Neither may contain
    a credential: callers pass redacted values.
    """

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem, fix)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem.rstrip('.')}. {self.fix}"


class UsageError(GitprovError):
    """The command line itself is wrong (exit 2)."""

    exit_code = ExitCode.USAGE


class NotARepositoryError(GitprovError):
    """gitprov was run outside a git work tree."""


class GitCommandError(GitprovError):
    """A git command failed in a way gitprov cannot explain better."""


class HooksPathManagedError(GitprovError):
    """``core.hooksPath`` points at hooks owned by another tool or by the repository."""


class ConfigError(GitprovError):
    """A gitprov configuration file is malformed or of an unknown schema."""
