"""DVC sync on push, against real dvc and real git (DESIGN §5, issue 4 part 6).

One DVC project is built once per module with dvc's own CLI (``dvc init``, ``dvc remote
add -d``, ``dvc add``; each run costs ~1 s of dvc import) and copied for every test. Its
DVC remote is a local directory next to the repository, named by a relative path, so
every copy pushes to its own store. Some failure cases edit ``.dvc/config`` (INI) directly
instead of paying for another dvc run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitprov.adapters import dvc_api
from gitprov.errors import GitprovError
from gitprov.services import dvc_sync
from gitprov.services.dvc_sync import dvc_files_in_commits, push_dvc_outputs
from tests.conftest import gen, git

DATA = "id,value\n1,0.5\n2,0.7\n"
UNPUSHED = ["HEAD", "--not", "--remotes=origin"]


def dvc_env(root: Path) -> dict[str, str]:
    """dvc without analytics, Studio, or user/system config, its caches under ``root``."""
    return {
        "DVC_NO_ANALYTICS": "1",
        "DVC_STUDIO_OFFLINE": "1",
        "DVC_SITE_CACHE_DIR": str(root / "dvc-site-cache"),
        "DVC_GLOBAL_CONFIG_DIR": str(root / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(root / "dvc-system"),
    }


def dvc(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
    """Run dvc's CLI with this interpreter; fail the test with its output on error."""
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        pytest.fail(f"dvc {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")


def md5_path(store: Path, content: str) -> Path:
    """Where dvc 3 keeps a file's content in a local remote: files/md5/xx/yyyy."""
    digest = hashlib.md5(content.encode()).hexdigest()  # noqa: S324 - DVC's content address
    return store / "files" / "md5" / digest[:2] / digest[2:]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with a DVC project whose ``data.csv`` is tracked and committed."""
    root = tmp_path_factory.mktemp("dvc-template")
    home = root / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    env = {
        **dvc_env(root),
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    repo = root / "repo"
    repo.mkdir()

    def git_here(*args: str) -> None:
        subprocess.run(
            ["git", *args], cwd=repo, env={**os.environ, **env}, check=True, capture_output=True
        )

    git_here("init", "-q")
    gen(repo, {"README.md": "hello\n", "data.csv": DATA})
    dvc(repo, "init", "-q", env=env)
    # Relative to the repository, stored relative to .dvc/: each copy gets its own store.
    dvc(repo, "remote", "add", "-d", "storage", "../dvc-store", env=env)
    dvc(repo, "add", "-q", "data.csv", env=env)
    git_here("add", "-A")
    git_here("commit", "-q", "-m", "track data.csv with dvc")
    return repo


@dataclass(frozen=True)
class Project:
    repo: Path
    store: Path  # the DVC remote's directory


@pytest.fixture
def project(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A fresh copy of the template project, as the current directory."""
    repo = tmp_path / "repo"
    shutil.copytree(template, repo, ignore=lambda d, _: ["tmp"] if Path(d).name == ".dvc" else [])
    for name, value in dvc_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(repo)
    return Project(repo=repo, store=tmp_path / "dvc-store")


def with_origin(project: Project, bare_remote: Path) -> None:
    git(project.repo, "remote", "add", "origin", str(bare_remote))
    git(project.repo, "push", "-q", "origin", "main")


def write_dvc_config(repo: Path, text: str) -> None:
    (repo / ".dvc" / "config").write_text(text)


def test_finds_dvc_files_of_unpushed_commits_only(project: Project, bare_remote: Path) -> None:
    repo = project.repo
    assert dvc_files_in_commits(cwd=repo, rev_args=["HEAD"]) == ["data.csv.dvc"]

    with_origin(project, bare_remote)
    assert dvc_files_in_commits(cwd=repo, rev_args=UNPUSHED) == []

    gen(repo, {"README.md": "changed\n"})
    git(repo, "commit", "-q", "-am", "docs only")
    assert dvc_files_in_commits(cwd=repo, rev_args=UNPUSHED) == []

    # A new version of data.csv: its .dvc file changes (no dvc run needed to say so).
    gen(repo, {"data.csv.dvc": (repo / "data.csv.dvc").read_text() + "# v2\n"})
    git(repo, "commit", "-q", "-am", "data v2")
    assert dvc_files_in_commits(cwd=repo, rev_args=UNPUSHED) == ["data.csv.dvc"]


def test_a_merge_counts_with_what_it_brings_to_main(project: Project, bare_remote: Path) -> None:
    repo = project.repo
    with_origin(project, bare_remote)
    git(repo, "switch", "-q", "-c", "feature")
    gen(repo, {"data.csv.dvc": (repo / "data.csv.dvc").read_text() + "# v2\n"})
    git(repo, "commit", "-q", "-am", "data v2")
    git(repo, "push", "-q", "origin", "feature")
    git(repo, "switch", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge feature", "feature")

    # The feature commit is on origin already; the merge commit alone changes main.
    assert git(repo, "rev-list", "--count", *UNPUSHED).strip() == "1"
    assert dvc_files_in_commits(cwd=repo, rev_args=UNPUSHED) == ["data.csv.dvc"]


def test_finds_nested_and_lock_files_but_not_deleted_ones(project: Project) -> None:
    repo = project.repo
    gen(repo, {"sub/a.csv.dvc": "outs: []\n", "sub/dvc.lock": "schema: '2.0'\n"})
    gen(repo, {"gone.dvc": "outs: []\n", "notes.txt": "dvc.lock\n"})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "nested")
    git(repo, "rm", "-q", "gone.dvc")
    git(repo, "commit", "-q", "-m", "remove gone.dvc")

    found = dvc_files_in_commits(cwd=repo, rev_args=["HEAD"])

    assert found == ["data.csv.dvc", "sub/a.csv.dvc", "sub/dvc.lock"]
    # Paths are from the top of the work tree, whatever the current directory.
    assert dvc_files_in_commits(cwd=repo / "sub", rev_args=["HEAD~1"]) == found


def test_push_puts_outputs_in_the_dvc_remote(
    project: Project, capfd: pytest.CaptureFixture[str]
) -> None:
    result = push_dvc_outputs(cwd=project.repo, dvc_files=["data.csv.dvc"])

    assert result == dvc_sync.DvcSyncResult(pushed=1, dvc_files=("data.csv.dvc",))
    assert md5_path(project.store, DATA).read_text() == DATA
    # Already there: nothing to upload.
    assert push_dvc_outputs(cwd=project.repo, dvc_files=["data.csv.dvc"]).pushed == 0
    # dvc's console handlers were kept quiet: a service never prints.
    assert capfd.readouterr() == ("", "")


def test_push_of_a_pipeline_lock_pushes_its_stage_outputs(project: Project) -> None:
    repo = project.repo
    dvc(repo, "stage", "add", "-q", "-n", "gen", "-o", "out.txt", "echo hi > out.txt")
    dvc(repo, "repro", "-q")

    result = push_dvc_outputs(cwd=repo, dvc_files=["dvc.lock"])

    assert result.pushed == 1
    assert md5_path(project.store, "hi\n").is_file()


def test_no_dvc_remote_says_how_to_add_one(project: Project) -> None:
    write_dvc_config(project.repo, "")

    with pytest.raises(GitprovError) as error:
        push_dvc_outputs(cwd=project.repo, dvc_files=["data.csv.dvc"])

    assert "has no default remote" in error.value.problem
    assert "dvc remote add -d <name> <url>" in error.value.fix
    assert not project.store.exists()


def test_unknown_dvc_remote_name(project: Project) -> None:
    with pytest.raises(dvc_api.DvcPushError, match="DVC remote 'nope' does not exist"):
        push_dvc_outputs(cwd=project.repo, dvc_files=["data.csv.dvc"], remote="nope")


def test_output_missing_from_cache_is_an_error_not_a_warning(
    project: Project, capfd: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(project.repo / ".dvc" / "cache")

    with pytest.raises(dvc_api.DvcPushError) as error:
        push_dvc_outputs(cwd=project.repo, dvc_files=["data.csv.dvc"])

    digest = hashlib.md5(DATA.encode()).hexdigest()  # noqa: S324
    assert f"data.csv (md5 {digest})" in error.value.problem
    assert "dvc status --cloud" in error.value.fix
    assert capfd.readouterr() == ("", "")  # dvc's own warning was captured, not printed


def test_unwritable_remote(project: Project) -> None:
    (project.repo.parent / "a-file").write_text("not a folder\n")
    write_dvc_config(
        project.repo, "[core]\n    remote = bad\n['remote \"bad\"']\n    url = ../../a-file/store\n"
    )

    with pytest.raises(dvc_api.DvcPushError, match="cannot write to the default DVC remote"):
        push_dvc_outputs(cwd=project.repo, dvc_files=["data.csv.dvc"])


def test_unreachable_remote_error_hides_credentials(project: Project) -> None:
    # Port 1 on the loopback refuses connections at once: no network, no waiting.
    url = "https://user:s3cret@127.0.0.1:1/store?token=t0ken"
    write_dvc_config(project.repo, f"['remote \"web\"']\n    url = {url}\n")

    with pytest.raises(dvc_api.DvcPushError) as error:
        push_dvc_outputs(cwd=project.repo, dvc_files=["data.csv.dvc"], remote="web")

    message = str(error.value)
    assert "1 DVC-tracked file(s) failed to upload to DVC remote 'web'" in message
    assert "s3cret" not in message
    assert "t0ken" not in message


def test_redact_removes_userinfo_and_query() -> None:
    text = "failed: s3://AKIA:secret@bucket/key?X-Amz-Signature=abc and more\nsecond line"
    assert dvc_api._redact(text) == "failed: s3://***@bucket/key?*** and more"


def test_without_dvc_says_what_was_skipped(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dvc_sync.dvc_api, "is_available", lambda: False)

    result = push_dvc_outputs(cwd=project.repo, dvc_files=["data.csv.dvc", "dvc.lock"])

    assert result.pushed == 0
    assert result.dvc_files == ("data.csv.dvc", "dvc.lock")
    assert result.skipped_reason == (
        "dvc is not installed: 2 .dvc file(s) not pushed (pip install 'gitprov[dvc]')"
    )
    assert not project.store.exists()


def test_dvc_is_available_in_the_dev_environment() -> None:
    assert dvc_api.is_available()


# Imports the service, finds nothing to push and pushes nothing, then reports whether
# dvc was imported (a fresh interpreter: this test module itself imported dvc long ago).
NOTHING_TO_DO = """
import json, sys
from pathlib import Path
from gitprov.services import dvc_sync
files = dvc_sync.dvc_files_in_commits(cwd=Path.cwd(), rev_args=["HEAD", "--not", "HEAD"])
result = dvc_sync.push_dvc_outputs(cwd=Path.cwd(), dvc_files=files)
print(json.dumps({"files": files, "pushed": result.pushed,
                  "dvc": sorted(m for m in sys.modules if m.partition(".")[0] == "dvc")}))
"""


def test_nothing_to_push_never_imports_dvc(project: Project) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", NOTHING_TO_DO],
        cwd=project.repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout) == {"files": [], "pushed": 0, "dvc": []}
