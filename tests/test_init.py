"""``gitprov init``: what it writes, what it leaves alone, and that it is idempotent."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.errors import ExitCode
from gitprov.model.gitignore import BEGIN, END, TEMP_FILE_RULE
from gitprov.model.hookshim import HOOK_NAMES, LEGACY_SUFFIX
from tests.conftest import Result, gen, git, run_gitprov


def snapshot(repo: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and mode of every file gitprov may touch: work tree, .git/config, hooks."""
    files: dict[str, tuple[bytes, int]] = {}
    for path in sorted(repo.rglob("*")):
        rel = path.relative_to(repo).as_posix()
        if path.is_file() and (
            not rel.startswith(".git/") or rel == ".git/config" or rel.startswith(".git/hooks/")
        ):
            files[rel] = (path.read_bytes(), stat.S_IMODE(path.lstat().st_mode))
    return files


def config_values(repo: Path, key: str) -> list[str]:
    return git(repo, "config", "--local", "--get-all", key, check=False).splitlines()


def test_fresh_repo_without_commits(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    result = gitprov("init")
    assert result.exit_code == 0, result.stderr
    config = (git_repo / ".gitprov" / "config.toml").read_text()
    assert "schema = 1" in config
    assert "Never put" in config  # the template's comments are written too
    for hook in HOOK_NAMES:
        shim = git_repo / ".git" / "hooks" / hook
        assert os.access(shim, os.X_OK), hook
        assert "gitprov.hookrun" in shim.read_text()
    assert "hook pre-push" in result.stdout
    assert "Commit .gitprov/config.toml" in result.stdout


def test_notes_settings(committed_repo: Path, gitprov: Callable[..., Result]) -> None:
    git(committed_repo, "remote", "add", "origin", "https://example.invalid/a.git")
    git(committed_repo, "remote", "add", "upstream", "https://example.invalid/b.git")
    assert gitprov("init").exit_code == 0
    assert config_values(committed_repo, "notes.rewriteRef") == ["refs/notes/gitprov"]
    assert config_values(committed_repo, "notes.rewriteMode") == ["cat_sort_uniq"]
    assert config_values(committed_repo, "notes.gitprov.mergeStrategy") == ["cat_sort_uniq"]
    for remote in ("origin", "upstream"):
        assert config_values(committed_repo, f"remote.{remote}.fetch") == [
            f"+refs/heads/*:refs/remotes/{remote}/*",
            f"+refs/notes/gitprov:refs/notes/remotes/{remote}/gitprov",
        ]
        # A push refspec would change what a bare 'git push' pushes.
        assert config_values(committed_repo, f"remote.{remote}.push") == []
    # Never fetched straight into the local notes ref, which would overwrite local notes.
    all_config = git(committed_repo, "config", "--local", "--list")
    assert ":refs/notes/gitprov" not in all_config


def test_existing_rewrite_refs_are_kept(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    git(git_repo, "config", "--add", "notes.rewriteRef", "refs/notes/commits")
    assert gitprov("init").exit_code == 0
    assert config_values(git_repo, "notes.rewriteRef") == [
        "refs/notes/commits",
        "refs/notes/gitprov",
    ]


def test_running_init_twice_changes_nothing(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    git(committed_repo, "remote", "add", "origin", "https://example.invalid/a.git")
    assert gitprov("init").exit_code == 0
    before = snapshot(committed_repo)
    second = gitprov("init")
    assert second.exit_code == 0
    assert "nothing to change" in second.stdout
    assert snapshot(committed_repo) == before


def test_linked_worktree(committed_repo: Path, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    git(committed_repo, "worktree", "add", "-q", str(worktree), "-b", "feature")
    result = run_gitprov(worktree, "init")
    assert result.exit_code == 0, result.stderr
    # Hooks live in the common git dir, where git runs them for every worktree.
    assert (committed_repo / ".git" / "hooks" / "pre-commit").is_file()
    assert not (committed_repo / ".git" / "worktrees" / "wt" / "hooks").exists()
    assert (worktree / ".gitprov" / "config.toml").is_file()
    assert (committed_repo / ".git" / "gitprov" / "install.json").is_file()
    # The hooks run in the worktree.
    gen(worktree, {"x.txt": "x"})
    git(worktree, "add", "x.txt")
    trace = tmp_path / "trace.jsonl"
    env = {**os.environ, "GITPROV_TRACE": str(trace)}
    subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=worktree, env=env, check=True)
    assert '"hook": "pre-commit"' in trace.read_text()


def test_user_gitignore_is_kept_byte_for_byte(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    original = b"# mine\r\n*.log\r\n/build"  # CRLF, no final newline
    (git_repo / ".gitignore").write_bytes(original)
    assert gitprov("init").exit_code == 0
    text = (git_repo / ".gitignore").read_bytes()
    assert text.startswith(original + b"\r\n")
    assert f"{BEGIN}\r\n{TEMP_FILE_RULE}\r\n{END}\r\n".encode() in text


def test_temp_files_of_interrupted_writes_are_ignored(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    gen(committed_repo, {".gitprov/.config.toml.gitprov-tmp-0a1b2c": "half"})
    assert git(committed_repo, "status", "--porcelain", "--untracked-files=all", ".gitprov") == (
        "?? .gitprov/checklist.toml\n?? .gitprov/config.toml\n"
    )


def test_stale_temp_files_are_cleaned_by_the_next_run(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    stale = git_repo / ".gitprov" / ".config.toml.gitprov-tmp-deadbeef"
    stale.write_text("half-written")
    assert gitprov("init").exit_code == 0
    assert not stale.exists()


def test_config_comments_survive_later_edits(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(git_repo, {".gitprov/config.toml": "# our team's notes\n\n[extra]  # keep me\nx = 1\n"})
    result = gitprov("init")
    assert result.exit_code == 0
    text = (git_repo / ".gitprov" / "config.toml").read_text()
    assert text == "# our team's notes\nschema = 1\n\n[extra]  # keep me\nx = 1\n"
    # An annotated, valid config is never rewritten.
    before = text
    assert gitprov("init").exit_code == 0
    assert (git_repo / ".gitprov" / "config.toml").read_text() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("schema = \n", "not valid TOML at line 1"),
        ("schema = 99\n", "newer than this gitprov understands"),
        ('schema = "one"\n', "must be a whole number"),
    ],
)
def test_broken_config_refuses_and_changes_nothing(
    git_repo: Path, gitprov: Callable[..., Result], content: str, message: str
) -> None:
    gen(git_repo, {".gitprov/config.toml": content})
    before = snapshot(git_repo)
    result = gitprov("init")
    assert result.exit_code == ExitCode.FAILED
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(git_repo) == before


def test_bare_repository_is_refused(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare", "b.git")
    result = run_gitprov(tmp_path / "b.git", "init")
    assert result.exit_code == ExitCode.FAILED
    assert "not inside a git work tree" in result.stderr


def test_legacy_hook_is_kept_when_a_shim_was_lost(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    """A kill between 'move the foreign hook aside' and 'write the shim' is completed."""
    hooks = git_repo / ".git" / "hooks"
    legacy = hooks / f"pre-commit{LEGACY_SUFFIX}"
    legacy.write_text("#!/bin/sh\nexit 0\n")
    legacy.chmod(0o755)
    assert gitprov("init").exit_code == 0
    assert legacy.read_text() == "#!/bin/sh\nexit 0\n"
    assert "gitprov.hookrun" in (hooks / "pre-commit").read_text()


def test_foreign_hook_over_a_legacy_one_is_refused(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    hooks = git_repo / ".git" / "hooks"
    (hooks / "pre-push").write_text("#!/bin/sh\necho new\n")
    (hooks / f"pre-push{LEGACY_SUFFIX}").write_text("#!/bin/sh\necho old\n")
    before = snapshot(git_repo)
    result = gitprov("init")
    assert result.exit_code == ExitCode.FAILED
    assert "Merge them into pre-push" in result.stderr
    assert snapshot(git_repo) == before
