"""Which commits the pre-push hook uploads for: new branches, tags, force-pushes, ranges,
and DVC outputs, each with real git and a directory store (the S3 path is the same code,
covered by tests/test_remote_sync.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitprov.adapters.store import RemoteStore
from gitprov.model.remote_config import RemoteSpec
from tests.conftest import Result, gen, git, run_gitprov


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"{result.stdout}\n{result.stderr}"
    return result


def push(repo: Path, *args: str, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"GITPROV_STORAGE_LOG": str(log)} if log else {})}
    return subprocess.run(
        ["git", "push", "-q", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def stored(store: Path) -> set[str]:
    root = store / "sha256"
    return (
        {p.parent.name + p.name for p in root.rglob("*") if p.is_file()} if root.is_dir() else set()
    )


def digest_hex(repo: Path, pointer: str) -> str:
    for line in (repo / pointer).read_text().splitlines():
        if line.startswith("digest"):
            return line.split('"')[1].removeprefix("sha256:")
    raise AssertionError(f"no digest in {pointer}")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone with gitprov, a directory store and one pushed checkpoint."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    repo = tmp_path / "a"
    git(tmp_path, "clone", "-q", str(origin), str(repo))
    ok(run_gitprov(repo, "init"))
    ok(run_gitprov(repo, "remote", "add", "origin", "../store"))
    gen(repo, {"models/m.pt": b"v1"})
    ok(run_gitprov(repo, "track", "models/m.pt"))
    git(repo, "add", ".gitprov/config.toml", ".gitignore")
    git(repo, "commit", "-q", "-m", "v1")
    assert push(repo, "origin", "main").returncode == 0
    return repo


def new_version(repo: Path, content: bytes, message: str) -> str:
    gen(repo, {"models/m.pt": content})
    ok(run_gitprov(repo, "track", "models/m.pt"))
    git(repo, "commit", "-q", "-m", message)
    return digest_hex(repo, "models/m.pt.gitprov")


def test_a_new_branch_uploads_only_what_its_new_commits_name(clone: Path, tmp_path: Path) -> None:
    git(clone, "switch", "-q", "-c", "experiment")
    wanted = new_version(clone, b"v2 on a branch", "v2")
    log = tmp_path / "requests.log"

    result = push(clone, "origin", "experiment", log=log)

    assert result.returncode == 0, result.stderr
    assert wanted in stored(tmp_path / "store")
    # v1 is reachable from origin/main: not looked up again.
    assert log.read_text().count(" stat ") == 1


def test_a_tag_pushed_alone_uploads_its_commits_artifacts(clone: Path, tmp_path: Path) -> None:
    wanted = new_version(clone, b"v3 tagged", "v3")
    git(clone, "tag", "-a", "-m", "release", "v3")
    git(clone, "reset", "-q", "--hard", "HEAD~1")  # the tag is the only ref naming v3

    result = push(clone, "origin", "v3")

    assert result.returncode == 0, result.stderr
    assert wanted in stored(tmp_path / "store")


def test_a_force_push_uploads_the_rewritten_commits_artifacts(clone: Path, tmp_path: Path) -> None:
    gen(clone, {"models/m.pt": b"v1 fixed"})
    ok(run_gitprov(clone, "track", "models/m.pt"))
    git(clone, "commit", "-q", "--amend", "--no-edit")
    wanted = digest_hex(clone, "models/m.pt.gitprov")

    assert push(clone, "origin", "main").returncode != 0  # git refuses without --force
    result = push(clone, "--force", "origin", "main")

    assert result.returncode == 0, result.stderr
    assert wanted in stored(tmp_path / "store")


def test_gitprov_push_takes_a_revision_range(clone: Path, tmp_path: Path) -> None:
    first = new_version(clone, b"v4", "v4")
    second = new_version(clone, b"v5", "v5")

    ok(run_gitprov(clone, "push", "origin", "HEAD~1..HEAD"))

    assert second in stored(tmp_path / "store")
    assert first not in stored(tmp_path / "store")
    ok(run_gitprov(clone, "push", "--all"))
    assert first in stored(tmp_path / "store")


def test_pull_resumes_after_an_interrupted_fetch(clone: Path, tmp_path: Path) -> None:
    """Objects fetched before a failure are kept verified; the rerun fetches the rest."""
    gen(clone, {"data/a.csv": "a\n", "data/b.csv": "b\n"})
    ok(run_gitprov(clone, "track", "data"))
    git(clone, "commit", "-q", "-m", "data")
    assert push(clone, "origin", "main").returncode == 0
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(b))
    ok(run_gitprov(b, "init"))
    missing = tmp_path / "store/sha256" / digest_hex(clone, "models/m.pt.gitprov")[:2]
    hidden = tmp_path / "hidden"
    missing.rename(hidden)  # the store loses one folder for a while

    failed = run_gitprov(b, "pull")

    assert failed.exit_code == 1
    assert "not on artifact remote 'origin'" in failed.stderr
    assert not (b / "data").exists(), "nothing is materialised after a failed fetch"
    hidden.rename(missing)
    resumed = ok(run_gitprov(b, "pull"))
    assert "fetched 1 object(s)" in resumed.stdout
    assert (b / "data/b.csv").read_text() == "b\n"
    assert not list((b / ".git/gitprov/objects/tmp").rglob("*.part"))


# --- DVC -------------------------------------------------------------------------------


@pytest.fixture
def dvc_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """dvc writes nothing outside the test: no analytics, no site or global config."""
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(tmp_path / "dvc-site"))
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(tmp_path / "dvc-global"))
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "dvc-system"))


def dvc(repo: Path, *args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.usefixtures("dvc_env")
def test_git_push_also_pushes_dvc_tracked_outputs(clone: Path, tmp_path: Path) -> None:
    dvc_remote = tmp_path / "dvc-remote"
    dvc(clone, "init", "-q")
    dvc(clone, "remote", "add", "-d", "storage", str(dvc_remote))
    gen(clone, {"raw.csv": "id,label\n1,cat\n"})
    dvc(clone, "add", "-q", "raw.csv")
    git(clone, "add", ".dvc", "raw.csv.dvc", ".gitignore", ".dvcignore")
    git(clone, "commit", "-q", "-m", "Raw data in DVC")

    result = push(clone, "origin", "main")

    assert result.returncode == 0, result.stderr
    assert "pushed 1 DVC-tracked file(s)" in result.stderr
    assert [p for p in dvc_remote.rglob("*") if p.is_file()]


def test_store_requests_are_counted_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "log"
    monkeypatch.setenv("GITPROV_STORAGE_LOG", str(log))
    store = RemoteStore(RemoteSpec("s", str(tmp_path / "s"), "origin"), base=tmp_path)
    store.sizes({"sha256:" + "a" * 64: 1})
    assert store.requests == 1
    assert log.read_text() == f"s stat sha256:{'a' * 64}\n"
