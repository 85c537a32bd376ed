"""``status``, ``checkout``, ``verify`` and ``gc`` on real repositories."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.errors import ExitCode
from gitprov.services import snapshot
from tests.conftest import Result, gen, git
from tests.test_track import age, cache_objects, read_pointer


@pytest.fixture
def repo(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    assert gitprov("init").exit_code == 0
    gen(
        committed_repo,
        {
            "data/train/a.csv": "a\n",
            "data/train/b.csv": "b\n",
            "data/train/sub/c.csv": "c\n",
            "models/m.pt": b"weights-v1",
        },
    )
    age(committed_repo / "data", committed_repo / "models")
    assert gitprov("track", "data/train", "models/m.pt").exit_code == 0
    git(committed_repo, "commit", "-q", "-m", "track")
    return committed_repo


def status_json(gitprov: Callable[..., Result], *paths: str) -> dict[str, dict[str, object]]:
    result = gitprov("status", "--json", *paths)
    assert result.exit_code == 0, result.stderr
    return {item["path"]: item for item in json.loads(result.stdout)}


def test_status_reports_every_state(repo: Path, gitprov: Callable[..., Result]) -> None:
    assert {p: s["state"] for p, s in status_json(gitprov).items()} == {
        "data/train": "unchanged",
        "models/m.pt": "unchanged",
    }
    gen(repo, {"data/train/b.csv": "B\n", "data/train/new.csv": "n\n"})
    (repo / "data/train/sub/c.csv").unlink()
    (repo / "models/m.pt").unlink()
    states = status_json(gitprov)
    train = states["data/train"]
    assert train["state"] == "modified"
    assert (train["added"], train["removed"], train["changed"]) == (
        ["new.csv"],
        ["sub/c.csv"],
        ["b.csv"],
    )
    assert states["models/m.pt"]["state"] == "missing"
    assert states["models/m.pt"]["in_cache"] is True
    text = gitprov("status").stdout
    assert "added: new.csv" in text
    assert "removed: sub/c.csv" in text


def test_status_reports_missing_cache_objects(repo: Path, gitprov: Callable[..., Result]) -> None:
    digest = read_pointer(repo / "models/m.pt.gitprov").digest[7:]
    (repo / ".git/gitprov/objects/sha256" / digest[:2] / digest[2:]).unlink()
    assert status_json(gitprov)["models/m.pt"]["in_cache"] is False
    assert "models/m.pt  checkpoint  sha256:" in gitprov("status").stdout
    assert "[not in cache]" in gitprov("status", "models/m.pt").stdout


def test_status_of_unchanged_data_reads_no_file(
    repo: Path, gitprov: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stat cache answers for unchanged files: nothing is hashed."""

    def no_hashing(*_: object, **__: object) -> None:
        raise AssertionError("status re-hashed an unchanged file")

    monkeypatch.setattr(snapshot, "hash_file", no_hashing)
    assert {s["state"] for s in status_json(gitprov).values()} == {"unchanged"}


def test_checkout_restores_and_refuses_to_overwrite(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    shutil.rmtree(repo / "data/train")
    (repo / "models/m.pt").unlink()
    result = gitprov("checkout")
    assert result.exit_code == 0, result.stderr
    assert (repo / "data/train/sub/c.csv").read_text() == "c\n"
    assert (repo / "models/m.pt").read_bytes() == b"weights-v1"
    assert os.access(repo / "models/m.pt", os.W_OK)  # an independent copy by default

    gen(repo, {"models/m.pt": b"local edits", "data/train/extra.csv": "x"})
    refused = gitprov("checkout")
    assert refused.exit_code == ExitCode.FAILED
    assert "local changes would be overwritten: data/train, models/m.pt" in refused.stderr
    assert (repo / "models/m.pt").read_bytes() == b"local edits"  # nothing touched

    forced = gitprov("checkout", "--force", "models/m.pt", "data/train")
    assert forced.exit_code == 0
    assert (repo / "models/m.pt").read_bytes() == b"weights-v1"
    assert not (repo / "data/train/extra.csv").exists()
    assert gitprov("checkout").stdout.count("unchanged") == 2


def test_checkout_never_materialises_a_corrupt_object(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    digest = read_pointer(repo / "models/m.pt.gitprov").digest[7:]
    obj = repo / ".git/gitprov/objects/sha256" / digest[:2] / digest[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"weights-v2")  # same size, wrong bytes
    (repo / "models/m.pt").unlink()
    result = gitprov("checkout", "models/m.pt")
    assert result.exit_code == ExitCode.FAILED
    assert "is corrupt" in result.stderr
    assert not (repo / "models/m.pt").exists()


def test_verify_finds_every_mismatch(repo: Path, gitprov: Callable[..., Result]) -> None:
    assert gitprov("verify").exit_code == 0
    assert "all good" in gitprov("verify", "--all").stdout
    gen(repo, {"data/train/a.csv": "tampered\n"})
    digest = read_pointer(repo / "models/m.pt.gitprov").digest[7:]
    obj = repo / ".git/gitprov/objects/sha256" / digest[:2] / digest[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"rotten bits")
    result = gitprov("verify", "--all")
    assert result.exit_code == ExitCode.FAILED
    assert "FAIL  data/train/a.csv: work tree has sha256:" in result.stdout
    assert "FAIL  models/m.pt: cache object sha256:" in result.stdout
    assert "is corrupt" in result.stdout
    assert "corrupt: its bytes do not match its name" in result.stdout


def test_gc_keeps_what_history_names_and_removes_the_rest(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"models/m.pt": b"weights-v2"})
    assert gitprov("track", "models/m.pt").exit_code == 0
    git(repo, "commit", "-q", "-m", "v2")
    gen(repo, {"models/m.pt": b"weights-v3-never-committed"})
    assert gitprov("track", "models/m.pt").exit_code == 0
    gen(repo, {"models/m.pt": b"weights-v4"})
    assert gitprov("track", "models/m.pt").exit_code == 0  # v3 is now named by nothing
    before = len(cache_objects(repo))

    dry = gitprov("gc", "--dry-run")
    assert dry.exit_code == 0
    assert "would remove 1 objects (26 B)" in dry.stdout
    assert len(cache_objects(repo)) == before

    assert "removed 1 objects" in gitprov("gc").stdout
    assert len(cache_objects(repo)) == before - 1
    # v1 (first commit), v2 (second commit) and v4 (staged) all still check out.
    for version, rev in ((b"weights-v1", "HEAD~1"), (b"weights-v2", "HEAD")):
        git(repo, "checkout", "-q", rev, "--", "models/m.pt.gitprov")
        assert gitprov("checkout", "--force", "models/m.pt").exit_code == 0
        assert (repo / "models/m.pt").read_bytes() == version
    assert gitprov("verify", "data/train").exit_code == 0  # tree nodes kept too


def test_json_output_carries_the_snapshot_id(repo: Path, gitprov: Callable[..., Result]) -> None:
    train = status_json(gitprov)["data/train"]
    digest = read_pointer(repo / "data/train.gitprov").digest
    assert train["snapshot_id"] == f"ds:{digest[7:19]}"
    tracked = json.loads(gitprov("track", "--json", "data/train").stdout)
    assert tracked["results"][0]["snapshot_id"] == train["snapshot_id"]
    assert tracked["results"][0]["outcome"] == "unchanged"
