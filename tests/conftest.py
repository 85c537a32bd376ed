"""Fixtures that build real repositories with the real git CLI.

Every test runs with an isolated git identity and configuration (no user or system
config leaks in), and with the gitprov CLI invoked in-process through typer's CliRunner
or as a real subprocess, whichever the test needs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gitprov.cli.main import app

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean, deterministic git environment for every test."""
    home = tmp_path_factory.mktemp("home")
    global_config = home / ".gitconfig"
    global_config.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GITPROV_TRACE"):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path, *args: str, stdin: str | None = None, check: bool = True) -> str:
    """Run real git; return stdout. Fails the test with git's stderr when ``check``."""
    proc = subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def gen(root: Path, files: Mapping[str, str | bytes]) -> None:
    """Create files under ``root`` (parents included) from ``{relative path: content}``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh repository with no commits, as the current directory."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    monkeypatch.chdir(repo)
    return repo


@pytest.fixture
def committed_repo(git_repo: Path) -> Path:
    """A repository with one commit on main."""
    gen(git_repo, {"README.md": "hello\n"})
    git(git_repo, "add", "README.md")
    git(git_repo, "commit", "-q", "-m", "initial")
    return git_repo


@dataclass(frozen=True)
class Result:
    """What a gitprov invocation did."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def gitprov() -> Callable[..., Result]:
    """Run the gitprov CLI in-process (CliRunner) in the current directory."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


def run_gitprov(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> Result:
    """Run ``python -m gitprov`` as a real subprocess, as a user's shell would."""
    proc = subprocess.run(
        [sys.executable, "-m", "gitprov", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def bare_remote(tmp_path: Path) -> Path:
    """An empty bare repository to push to."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    return remote


def ml_project(repo: Path, gitprov: Callable[..., Result], train_script: str) -> Path:
    """``repo`` made a small ML project: gitprov set up, ``train.py`` and a one-file
    dataset ``data/`` (not tracked yet), ``metrics.json`` ignored, all committed but data."""
    assert gitprov("init").exit_code == 0
    gen(repo, {"train.py": train_script, "data/a.csv": "1,2\n"})
    (repo / ".gitignore").write_text((repo / ".gitignore").read_text() + "metrics.json\n")
    git(repo, "add", ".gitignore", ".gitprov", "train.py")
    git(repo, "commit", "-q", "-m", "project")
    return repo
