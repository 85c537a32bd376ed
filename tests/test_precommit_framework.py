"""gitprov's hooks work under the pre-commit framework (https://pre-commit.com).

Teams whose hooks are managed by pre-commit use the hook ids in ``.pre-commit-hooks.yaml``
instead of ``gitprov init``'s shims (docs/hooks.md). These tests run the real ``pre-commit``
tool against a copy of this repository: pre-commit builds its own virtualenv and
pip-installs gitprov and its dependencies into it, so a broken manifest, a missing
console script or a package that does not install shows up here. That takes tens of
seconds, hence ``slow``.

Each run sets ``GITPROV_TRACE``, so the tests see that gitprov's entry point itself ran (for
which hook, in an initialised repository), not just that pre-commit printed "Passed".
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from gitprov.model.hookshim import HOOK_NAMES
from tests.conftest import REPO_ROOT, gen, git, run_gitprov

# What pre-commit needs to build and install gitprov from a repository.
SOURCE = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "gitprov", "hooks", "templates")

# Hook id -> the name pre-commit prints for it.
HOOK_IDS = {
    "gitprov-pre-commit": "gitprov (pre-commit)",
    "gitprov-post-commit": "gitprov (post-commit)",
    "gitprov-post-rewrite": "gitprov (post-rewrite)",
    "gitprov-pre-push": "gitprov (pre-push)",
}

# Generous: the first run creates a virtualenv and installs gitprov from PyPI.
TIMEOUT = 900


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str  # stdout and stderr, as a user would see them in a terminal


def run(cwd: Path, *argv: str) -> Run:
    proc = subprocess.run(
        list(argv),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )
    return Run(proc.returncode, proc.stdout)


def pre_commit(cwd: Path, *args: str) -> Run:
    return run(cwd, sys.executable, "-m", "pre_commit", *args)


def passed(output: str, hook_id: str) -> bool:
    """Whether pre-commit's report says the hook ran and passed."""
    line = rf"^{re.escape(HOOK_IDS[hook_id])}\.+Passed$"
    return re.search(line, output, re.MULTILINE) is not None


def traced(trace: Path) -> list[dict[str, object]]:
    """The hook runs gitprov's entry point recorded (GITPROV_TRACE)."""
    if not trace.exists():
        return []
    return [json.loads(line) for line in trace.read_text().splitlines()]


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """A git repository holding a copy of gitprov's source, committed, to source hooks from.

    A copy, not the working tree: pre-commit clones a committed revision, and the working
    tree may hold uncommitted edits (which try-repo would commit into a shadow repo).
    """
    root = tmp_path_factory.mktemp("gitprov-src")
    for name in SOURCE:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.py[cod]")
            )
        else:
            shutil.copy2(source, root / name)
    # Module-scoped fixtures run before conftest's per-test git isolation: isolate here too.
    home = tmp_path_factory.mktemp("src-home")
    (home / ".gitconfig").write_text("[user]\n\tname = Test User\n\temail = test@example.com\n")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(home))
        env.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "gitprov source")
        rev = git(root, "rev-parse", "HEAD").strip()
    return HookRepo(root, rev)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pre-commit's store, shared by the module so a hook environment is built only once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def trace(tmp_path: Path, pre_commit_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every process of the test (git, pre-commit, gitprov-hook) traces to this file."""
    path = tmp_path / "trace.jsonl"
    monkeypatch.setenv("GITPROV_TRACE", str(path))
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    monkeypatch.setenv("PRE_COMMIT_COLOR", "never")
    # pip inside pre-commit's virtualenv keeps whatever PIP_* settings and /etc/pip.conf
    # this machine has (index, proxy, certificates): os.environ is passed through.
    return path


@pytest.fixture
def consumer(git_repo: Path) -> Path:
    """A repository where gitprov is initialised, with one commit."""
    gen(git_repo, {".gitprov/config.toml": "schema = 1\n", "README.md": "consumer\n"})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "initial")
    return git_repo


def test_manifest_is_valid_and_each_hook_runs_gitprov_for_its_own_stage() -> None:
    """pre-commit accepts .pre-commit-hooks.yaml; each id runs ``gitprov-hook <its stage>``."""
    check = pre_commit(REPO_ROOT, "validate-manifest", ".pre-commit-hooks.yaml")
    assert check.returncode == 0, check.output

    manifest = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {hook["id"]: hook["name"] for hook in manifest} == HOOK_IDS
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in manifest:
        (stage,) = hook["stages"]
        assert stage in HOOK_NAMES, hook
        assert hook["entry"] == f"gitprov-hook {stage}", hook
        assert hook["entry"].split()[0] in scripts, hook
        # gitprov finds what a commit touches itself; passing file names would make pre-commit
        # split a long list and run the hook once per batch.
        assert hook["pass_filenames"] is False, hook
        assert hook["always_run"] is True, hook


# Each try-repo run builds a throwaway store and virtualenv (~20 s; try-repo ignores
# PRE_COMMIT_HOME). gitprov-post-commit is left to the real-commit test below, which covers it.
@pytest.mark.slow
@pytest.mark.parametrize("hook_id", ["gitprov-pre-commit", "gitprov-pre-push"])
def test_try_repo_runs_the_hook_id_at_its_stage(
    hook_repo: HookRepo, consumer: Path, trace: Path, hook_id: str
) -> None:
    """``pre-commit try-repo <gitprov> <id> --hook-stage <stage>`` installs gitprov into a
    fresh virtualenv and runs ``gitprov-hook <stage>`` in the repository, which passes."""
    stage = hook_id.removeprefix("gitprov-")
    args = ["--hook-stage", stage, "--all-files"]
    if stage == "pre-push":
        # The range being pushed, as pre-commit's own pre-push hook would pass it.
        head = git(consumer, "rev-parse", "HEAD").strip()
        args += ["--from-ref", head, "--to-ref", head]

    result = pre_commit(consumer, "try-repo", str(hook_repo.path), hook_id, *args)

    assert result.returncode == 0, result.output
    assert passed(result.output, hook_id), result.output
    assert [(r["hook"], r["initialised"], r["exit"]) for r in traced(trace)] == [(stage, True, 0)]


@pytest.mark.slow
def test_hooks_installed_by_pre_commit_run_on_real_commit_and_push(
    hook_repo: HookRepo, consumer: Path, bare_remote: Path, trace: Path
) -> None:
    """With the four ids in .pre-commit-config.yaml and ``pre-commit install`` (the command
    docs/hooks.md gives), ``git commit`` runs gitprov's pre-commit and post-commit hooks and
    ``git push`` its pre-push hook, each exactly once, and none of them blocks. The pre-push
    hook gets no stdin from the framework, yet uploads the pushed commit's artifact."""
    config = {
        "repos": [
            {
                "repo": str(hook_repo.path),
                "rev": hook_repo.rev,
                "hooks": [{"id": hook_id} for hook_id in HOOK_IDS],
            }
        ]
    }
    gen(consumer, {".pre-commit-config.yaml": yaml.safe_dump(config)})
    install = pre_commit(
        consumer,
        "install",
        "--hook-type",
        "pre-commit",
        "--hook-type",
        "post-commit",
        "--hook-type",
        "post-rewrite",
        "--hook-type",
        "pre-push",
    )
    assert install.returncode == 0, install.output
    git(consumer, "remote", "add", "origin", str(bare_remote))

    store = consumer.parent / "artifact-store"
    config_toml = consumer / ".gitprov/config.toml"
    config_toml.write_text(config_toml.read_text() + f'[remotes.origin]\nurl = "{store}"\n')
    gen(consumer, {"models/m.pt": b"weights pushed through the pre-commit framework"})
    tracked = run_gitprov(consumer, "track", "models/m.pt")
    assert tracked.exit_code == 0, tracked.stderr

    git(consumer, "add", ".pre-commit-config.yaml", ".gitprov/config.toml", ".gitignore")
    commit = run(consumer, "git", "commit", "-m", "Manage hooks with pre-commit")
    assert commit.returncode == 0, commit.output
    assert passed(commit.output, "gitprov-pre-commit"), commit.output
    assert passed(commit.output, "gitprov-post-commit"), commit.output
    # The post-commit hook wrote the commit's lineage record, checklist passed.
    note = git(consumer, "notes", "--ref=refs/notes/gitprov", "show", "HEAD")
    head = git(consumer, "rev-parse", "HEAD").strip()
    (record,) = [r for r in map(json.loads, note.splitlines()) if r.get("commit") == head]
    assert record["checklist"] == "passed"
    assert [a["path"] for a in record["artifacts"]] == ["models/m.pt"]

    push = run(consumer, "git", "push", "origin", "main")
    assert push.returncode == 0, push.output
    assert passed(push.output, "gitprov-pre-push"), push.output
    assert git(bare_remote, "rev-parse", "main") == git(consumer, "rev-parse", "main")
    # pre-commit hides a passing hook's output: the store itself shows the upload.
    assert len(list((store / "sha256").rglob("*"))) == 2  # one folder, one object

    records = traced(trace)
    assert [r["hook"] for r in records] == ["pre-commit", "post-commit", "pre-push"]
    assert all(r["initialised"] is True and r["exit"] == 0 for r in records), records
