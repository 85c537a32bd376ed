"""The command line's contract: version, help, one-line errors and documented exit codes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov import __version__
from gitprov.errors import ExitCode
from gitprov.services import setup
from tests.conftest import Result, run_gitprov

COMMANDS = [
    *("init", "doctor", "uninstall", "track", "status", "checkout", "verify", "untrack", "gc"),
    *("run", "rerun", "log", "lineage"),
    *("push", "fetch", "pull", "approve", "approvals", "deprecate", "deprecations"),
    *("check", "release", "releases", "review", "report"),
    *("remote", "notes", "decision", "card", "eval", "ci"),
]
SUBCOMMANDS = [
    *("remote add", "remote list", "remote remove"),
    *("notes sync", "notes rebuild", "notes reattach"),
    *("decision new", "decision accept", "decision reject", "decision deprecate"),
    *("decision supersede", "decision list", "decision link", "decision outcome"),
    *("decision show", "decision graph"),
    *("card new", "card sync", "card validate", "card render"),
    *("eval record", "eval run", "eval list", "eval compare"),
    "ci init",
]


def test_version(gitprov: Callable[..., Result]) -> None:
    result = gitprov("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"gitprov {__version__}"


def test_help_lists_every_command_and_only_working_ones(gitprov: Callable[..., Result]) -> None:
    result = gitprov("--help")
    assert result.exit_code == 0
    panel = result.stdout.split("Commands", 1)[1].splitlines()
    # A command's row starts "│ name   description"; wrapped description lines are indented.
    commands = [line.split()[1] for line in panel if line.startswith("│ ") and line[2] != " "]
    assert commands == COMMANDS


@pytest.mark.parametrize("command", COMMANDS + SUBCOMMANDS)
def test_every_command_has_help(gitprov: Callable[..., Result], command: str) -> None:
    result = gitprov(*command.split(), "--help")
    assert result.exit_code == 0
    assert f"gitprov {command}" in result.stdout


def test_unknown_option_is_a_usage_error(gitprov: Callable[..., Result]) -> None:
    result = gitprov("init", "--no-such-option")
    assert result.exit_code == ExitCode.USAGE


def test_outside_a_repository_is_one_line_exit_1(tmp_path: Path) -> None:
    result = run_gitprov(tmp_path, "init")
    assert result.exit_code == ExitCode.FAILED
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gitprov: error: ")
    assert "not inside a git repository" in lines[0]
    assert "git init" in lines[0]  # the message ends with the fix
    assert "Traceback" not in result.stderr


def test_internal_bug_exits_3_with_a_crash_log(
    git_repo: Path, gitprov: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(setup, "init", broken)
    result = gitprov("init")
    assert result.exit_code == ExitCode.BUG
    assert "Traceback" not in result.stderr
    assert "this is a bug in gitprov" in result.stderr
    log = Path(result.stderr.rsplit("attach ", 1)[1].strip())
    assert "ZeroDivisionError: boom" in log.read_text()
    log.unlink()


def test_ctrl_c_exits_130(
    git_repo: Path, gitprov: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(setup, "init", interrupted)
    result = gitprov("init")
    assert result.exit_code == ExitCode.INTERRUPTED
    assert result.stderr.strip() == "gitprov: interrupted"


def test_python_dash_m_gitprov_runs_the_cli(tmp_path: Path) -> None:
    result = run_gitprov(tmp_path, "--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"gitprov {__version__}"
