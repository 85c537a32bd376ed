"""The installed hooks, run by real git: chaining, blocking, uninstalling, core.hooksPath."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.errors import ExitCode
from gitprov.model.hookshim import HOOK_NAMES, LEGACY_SUFFIX
from tests.conftest import Result, gen, git
from tests.test_init import snapshot


def git_traced(repo: Path, trace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git with GITPROV_TRACE set, so the hook entry point logs every hook it runs."""
    env = {**os.environ, "GITPROV_TRACE": str(trace)}
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )


def traced_hooks(trace: Path) -> list[str]:
    if not trace.exists():
        return []
    return [json.loads(line)["hook"] for line in trace.read_text().splitlines()]


def write_hook(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_commit_push_checkout_merge_and_rebase_run_the_hooks(
    committed_repo: Path, bare_remote: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    git(committed_repo, "remote", "add", "origin", str(bare_remote))
    assert gitprov("init").exit_code == 0
    trace = tmp_path / "trace.jsonl"
    gen(committed_repo, {"a.txt": "a"})
    git(committed_repo, "add", "-A")
    assert git_traced(committed_repo, trace, "commit", "-q", "-m", "a").returncode == 0
    assert traced_hooks(trace) == ["pre-commit", "post-commit"]

    push = git_traced(committed_repo, trace, "push", "-q", "origin", "main")
    assert push.returncode == 0, push.stderr
    assert traced_hooks(trace)[-1] == "pre-push"
    assert git(bare_remote, "rev-parse", "main") == git(committed_repo, "rev-parse", "main")

    git_traced(committed_repo, trace, "checkout", "-q", "-b", "topic")
    assert traced_hooks(trace)[-1] == "post-checkout"
    git_traced(committed_repo, trace, "commit", "-q", "--amend", "-m", "amended")
    assert traced_hooks(trace)[-3:] == ["pre-commit", "post-commit", "post-rewrite"]
    git_traced(committed_repo, trace, "checkout", "-q", "main")
    merge = git_traced(committed_repo, trace, "merge", "-q", "--no-ff", "-m", "m", "topic")
    assert merge.returncode == 0, merge.stderr
    assert traced_hooks(trace)[-1] == "post-merge"


def test_pre_push_gets_git_stdin(
    committed_repo: Path, bare_remote: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    """The legacy pre-push hook still sees the refs git writes on stdin."""
    git(committed_repo, "remote", "add", "origin", str(bare_remote))
    seen = tmp_path / "seen.txt"
    write_hook(committed_repo / ".git/hooks/pre-push", f'echo "$1 $2" > {seen}\ncat >> {seen}\n')
    assert gitprov("init").exit_code == 0
    git(committed_repo, "push", "-q", "origin", "main")
    head = git(committed_repo, "rev-parse", "HEAD").strip()
    lines = seen.read_text().splitlines()
    assert lines[0] == f"origin {bare_remote}"
    assert lines[1] == f"refs/heads/main {head} refs/heads/main {'0' * 40}"


def test_foreign_pre_commit_hook_still_runs_and_blocks(
    committed_repo: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    marker = tmp_path / "ran"
    write_hook(committed_repo / ".git/hooks/pre-commit", f"touch {marker}\nexit 7\n")
    assert gitprov("init").exit_code == 0
    gen(committed_repo, {"b.txt": "b"})
    git(committed_repo, "add", "b.txt")
    commit = subprocess.run(
        ["git", "commit", "-q", "-m", "b"], cwd=committed_repo, capture_output=True, check=False
    )
    assert commit.returncode != 0
    assert marker.exists()
    assert git(committed_repo, "log", "--format=%s") == "initial\n"  # nothing committed


def test_foreign_pre_push_hook_still_blocks(
    committed_repo: Path, bare_remote: Path, gitprov: Callable[..., Result]
) -> None:
    git(committed_repo, "remote", "add", "origin", str(bare_remote))
    write_hook(committed_repo / ".git/hooks/pre-push", "echo 'no pushing on Fridays' >&2\nexit 1\n")
    assert gitprov("init").exit_code == 0
    push = subprocess.run(
        ["git", "push", "origin", "main"],
        cwd=committed_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert push.returncode != 0
    assert "no pushing on Fridays" in push.stderr
    assert git(bare_remote, "branch", "--list") == ""  # the ref did not move


def test_failing_post_commit_legacy_does_not_undo_the_commit(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    write_hook(committed_repo / ".git/hooks/post-commit", "exit 1\n")
    assert gitprov("init").exit_code == 0
    git(committed_repo, "commit", "-q", "--allow-empty", "-m", "second")
    assert git(committed_repo, "log", "-1", "--format=%s") == "second\n"


def test_uninstall_restores_hooks_and_config_byte_for_byte(
    committed_repo: Path, bare_remote: Path, gitprov: Callable[..., Result]
) -> None:
    git(committed_repo, "remote", "add", "origin", str(bare_remote))
    git(committed_repo, "config", "notes.rewriteMode", "concatenate")
    write_hook(committed_repo / ".git/hooks/pre-commit", "exit 0 # mine\n")
    (committed_repo / ".git/hooks/pre-push").write_bytes(b"#!/bin/sh\n\x00odd bytes\n")
    (committed_repo / ".git/hooks/pre-push").chmod(0o700)
    os.symlink("pre-commit", committed_repo / ".git/hooks/post-merge")
    hooks_before = {
        k: v for k, v in snapshot(committed_repo).items() if k.startswith(".git/hooks/")
    }
    links_before = os.readlink(committed_repo / ".git/hooks/post-merge")
    config_before = git(committed_repo, "config", "--local", "--list")

    assert gitprov("init").exit_code == 0
    assert git(committed_repo, "config", "notes.rewriteMode") == "cat_sort_uniq\n"
    result = gitprov("uninstall")
    assert result.exit_code == 0
    assert "restored" in result.stdout

    hooks_after = {k: v for k, v in snapshot(committed_repo).items() if k.startswith(".git/hooks/")}
    assert hooks_after == hooks_before
    assert os.readlink(committed_repo / ".git/hooks/post-merge") == links_before
    assert git(committed_repo, "config", "--local", "--list") == config_before
    assert not any(
        p.name.endswith(LEGACY_SUFFIX) for p in (committed_repo / ".git/hooks").iterdir()
    )
    # Committed files stay: they are shared with the team.
    assert (committed_repo / ".gitprov" / "config.toml").is_file()
    assert gitprov("uninstall").stdout.endswith("nothing to remove.\n")


def test_uninstall_leaves_a_hook_that_replaced_gitprovs(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    write_hook(git_repo / ".git/hooks/pre-commit", "echo theirs\n")
    assert gitprov("uninstall").exit_code == 0
    assert (git_repo / ".git/hooks/pre-commit").read_text() == "#!/bin/sh\necho theirs\n"


def test_hooks_do_nothing_where_gitprov_is_not_initialised(
    committed_repo: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    (committed_repo / ".gitprov" / "config.toml").unlink()
    trace = tmp_path / "trace.jsonl"
    commit = git_traced(committed_repo, trace, "commit", "-q", "--allow-empty", "-m", "x")
    assert commit.returncode == 0
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [r["initialised"] for r in records] == [False, False]
    assert all(r["exit"] == 0 for r in records)


def test_shim_whose_python_is_gone_fails_closed_with_a_clear_message(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    shim = committed_repo / ".git/hooks/pre-commit"
    text = shim.read_text()
    python_line = next(line for line in text.splitlines() if line.startswith("GITPROV_PYTHON="))
    shim.write_text(text.replace(python_line, "GITPROV_PYTHON=/gone/python"))
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env["PATH"] = "/usr/bin:/bin"  # no gitprov-hook to fall back on
    commit = subprocess.run(
        ["git", "commit", "--allow-empty", "-m", "x"],
        cwd=committed_repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert commit.returncode != 0
    assert "cannot find gitprov" in commit.stderr
    assert "gitprov uninstall" in commit.stderr


# core.hooksPath ------------------------------------------------------------------------


def test_hooks_path_outside_the_repo_gets_the_shims(
    committed_repo: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    shared = tmp_path / "my-hooks"
    write_hook(shared / "pre-commit", "exit 0\n")
    git(committed_repo, "config", "core.hooksPath", str(shared))
    assert gitprov("init").exit_code == 0
    assert "gitprov.hookrun" in (shared / "pre-commit").read_text()
    assert (shared / f"pre-commit{LEGACY_SUFFIX}").is_file()
    assert not (committed_repo / ".git/hooks/pre-commit").exists()
    trace = tmp_path / "trace.jsonl"
    git_traced(committed_repo, trace, "commit", "-q", "--allow-empty", "-m", "x")
    assert traced_hooks(trace) == ["pre-commit", "post-commit"]


@pytest.mark.parametrize(
    ("layout", "hooks_path", "owner", "fix"),
    [
        (
            {".husky/_/h": "#!/bin/sh\n", ".husky/pre-commit": "npm test\n"},
            ".husky/_",
            "husky",
            ".husky",
        ),
        ({".husky/_/husky.sh": "#!/bin/sh\n"}, ".husky", "husky", "gitprov-hook <hook>"),
        (
            {
                "hooks/pre-commit": "#!/bin/sh\n# File generated by pre-commit: https://pre-commit.com\n"
            },
            "hooks",
            "the pre-commit framework",
            ".pre-commit-config.yaml",
        ),
        (
            {".githooks/pre-commit": "#!/bin/sh\nexit 0\n"},
            ".githooks",
            "this repository",
            "gitprov-hook <hook>",
        ),
    ],
)
def test_hooks_path_managed_elsewhere_is_refused_with_instructions(  # noqa: PLR0917
    committed_repo: Path,
    gitprov: Callable[..., Result],
    layout: dict[str, str],
    hooks_path: str,
    owner: str,
    fix: str,
) -> None:
    gen(committed_repo, layout)
    git(committed_repo, "add", "-A")
    git(committed_repo, "commit", "-q", "-m", "hooks")
    git(committed_repo, "config", "core.hooksPath", hooks_path)
    before = snapshot(committed_repo)
    result = gitprov("init")
    assert result.exit_code == ExitCode.FAILED
    assert f"managed by {owner}" in result.stderr
    assert fix in result.stderr
    assert "gitprov doctor" in result.stderr
    assert snapshot(committed_repo) == before  # nothing written anywhere


def test_every_hook_is_offered(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    assert gitprov("init").exit_code == 0
    installed = sorted(p.name for p in (git_repo / ".git/hooks").iterdir() if "." not in p.name)
    assert installed == sorted(HOOK_NAMES)


def test_pre_push_run_by_hand_from_a_terminal_does_not_wait_for_stdin(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    """A person running the hook in a terminal must not see it hang reading stdin."""
    import pty  # noqa: PLC0415 - POSIX only, like git hooks

    assert gitprov("init").exit_code == 0
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gitprov.hookrun", "pre-push", "origin", "url"],
            cwd=git_repo,
            stdin=terminal,
            capture_output=True,
            timeout=20,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 0


def test_legacy_hook_without_shebang_runs_with_sh_like_git_does(
    committed_repo: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    marker = tmp_path / "ran"
    hook = committed_repo / ".git/hooks/pre-commit"
    hook.write_text(f"touch {marker}\nexit 0\n")  # no #! line
    hook.chmod(0o755)
    assert gitprov("init").exit_code == 0
    git(committed_repo, "commit", "-q", "--allow-empty", "-m", "x")
    assert marker.exists()


def test_legacy_hook_killed_by_a_signal_blocks(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    write_hook(committed_repo / ".git/hooks/pre-commit", "kill -TERM $$\n")
    assert gitprov("init").exit_code == 0
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitprov.hookrun",
            "--shim",
            str(committed_repo / ".git/hooks/pre-commit"),
            "pre-commit",
        ],
        cwd=committed_repo,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 128 + 15


def test_legacy_pre_push_that_ignores_a_large_stdin_does_not_hang(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    write_hook(committed_repo / ".git/hooks/pre-push", "exit 0\n")
    assert gitprov("init").exit_code == 0
    refs = "".join(f"refs/heads/b{i} {'1' * 40} refs/heads/b{i} {'0' * 40}\n" for i in range(5000))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitprov.hookrun",
            "--shim",
            str(committed_repo / ".git/hooks/pre-push"),
            "pre-push",
            "origin",
            "url",
        ],
        cwd=committed_repo,
        input=refs.encode(),
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert proc.returncode == 0
