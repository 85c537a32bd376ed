"""``gitprov doctor``: reports every part of the setup and repairs what init would set."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from gitprov.errors import ExitCode
from tests.conftest import Result, gen, git


def failing_subjects(result: Result) -> list[str]:
    return [line.split()[2] for line in result.stdout.splitlines() if line.startswith("FAIL")]


def test_healthy_repository(committed_repo: Path, gitprov: Callable[..., Result]) -> None:
    git(committed_repo, "remote", "add", "origin", "https://example.invalid/x.git")
    assert gitprov("init").exit_code == 0
    result = gitprov("doctor")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.rstrip().endswith("All good.")
    for subject in ("pre-push", "notes.rewriteRef", "remote.origin.fetch", "config.toml"):
        assert subject in result.stdout


def test_uninitialised_repository_fails_with_the_fix(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("doctor")
    assert result.exit_code == ExitCode.FAILED
    assert ".gitprov/config.toml" in failing_subjects(result)
    assert "pre-commit" in failing_subjects(result)
    assert "run 'gitprov init'" in result.stdout


def test_remote_added_after_init_is_reported_and_fixed(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    git(committed_repo, "remote", "add", "late", "https://example.invalid/late.git")
    result = gitprov("doctor")
    assert result.exit_code == ExitCode.FAILED
    assert failing_subjects(result) == ["remote.late.fetch"]
    assert "gitprov doctor --fix" in result.stdout

    fixed = gitprov("doctor", "--fix")
    assert fixed.exit_code == 0, fixed.stdout
    assert "Fixed:" in fixed.stdout
    assert "+refs/notes/gitprov:refs/notes/remotes/late/gitprov" in git(
        committed_repo, "config", "--get-all", "remote.late.fetch"
    )
    # ... and uninstall knows to remove it again.
    assert gitprov("uninstall").exit_code == 0
    assert "notes" not in git(committed_repo, "config", "--get-all", "remote.late.fetch")


def test_deleted_hook_is_reinstalled_by_fix(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    assert gitprov("init").exit_code == 0
    (git_repo / ".git/hooks/post-rewrite").unlink()
    assert failing_subjects(gitprov("doctor")) == ["post-rewrite"]
    assert gitprov("doctor", "--fix").exit_code == 0
    assert (git_repo / ".git/hooks/post-rewrite").is_file()


def test_broken_shim_is_reported(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    assert gitprov("init").exit_code == 0
    shim = git_repo / ".git/hooks/pre-commit"
    lines = shim.read_text().splitlines(keepends=True)
    shim.write_text(
        "".join(
            "GITPROV_PYTHON=/gone/python\n" if line.startswith("GITPROV_PYTHON=") else line
            for line in lines
        )
    )
    result = gitprov("doctor")
    assert failing_subjects(result) == ["pre-commit"]
    assert "/gone/python, which no longer exists" in result.stdout
    assert gitprov("doctor", "--fix").exit_code == 0  # rewritten for this Python


def test_invalid_config_is_reported_not_overwritten(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    gen(git_repo, {".gitprov/config.toml": "schema = [\n"})
    result = gitprov("doctor", "--fix")
    assert result.exit_code == ExitCode.FAILED
    assert "not valid TOML at line" in result.stdout
    assert (git_repo / ".gitprov/config.toml").read_text() == "schema = [\n"


def test_missing_schema_is_added_by_fix_keeping_comments(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    gen(git_repo, {".gitprov/config.toml": "# ours\n"})
    assert failing_subjects(gitprov("doctor")) == [".gitprov/config.toml"]
    assert gitprov("doctor", "--fix").exit_code == 0
    assert (git_repo / ".gitprov/config.toml").read_text() == "# ours\nschema = 1\n"


def test_hooks_managed_by_husky_are_checked_for_a_gitprov_call(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(committed_repo, {".husky/_/h": "#!/bin/sh\n", ".husky/pre-commit": "npm test\n"})
    git(committed_repo, "config", "core.hooksPath", ".husky/_")
    result = gitprov("doctor")
    assert "pre-commit" in failing_subjects(result)
    assert "does not call gitprov-hook" in result.stdout
    gen(committed_repo, {".husky/pre-commit": 'npm test\ngitprov-hook pre-commit "$@"\n'})
    assert "pre-commit" not in failing_subjects(gitprov("doctor"))


def test_json_output(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    assert gitprov("init").exit_code == 0
    result = gitprov("doctor", "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    assert {check["area"] for check in payload["checks"]} == {
        "config",
        "gitignore",
        "hooks",
        "notes",
    }
