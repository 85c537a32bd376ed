"""Regressions from reviewing the artifact store: hostile pointers, partial failures,
concurrency, and everything that once lost, corrupted or misreported data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.errors import ExitCode
from tests.conftest import Result, gen, git
from tests.test_track import age, cache_objects, read_pointer


@pytest.fixture
def repo(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    assert gitprov("init").exit_code == 0
    return committed_repo


def tracked_folder(repo: Path, gitprov: Callable[..., Result], name: str = "ds") -> str:
    gen(repo, {f"{name}/a.txt": "a", f"{name}/sub/b.txt": "b"})
    age(repo / name)
    assert gitprov("track", name).exit_code == 0
    git(repo, "commit", "-q", "-m", f"track {name}")
    return read_pointer(repo / f"{name}.gitprov").digest


# Hostile or inconsistent pointers -------------------------------------------------------


@pytest.mark.parametrize("target", [".", "..", ".git", ".git/hooks", "lnk/owned.pt", "/etc"])
def test_a_pointer_can_only_name_its_own_sibling(
    repo: Path, gitprov: Callable[..., Result], target: str
) -> None:
    digest = tracked_folder(repo, gitprov)
    gen(
        repo,
        {
            "evil.gitprov": f'kind = "dataset"\npath = "{target}"\ndigest = "{digest}"\n'
            'size = 2\nfiles = 2\ntype = "dir"\n'
        },
    )
    before = sorted(p.name for p in repo.iterdir())
    result = gitprov("checkout", "--force", "evil.gitprov")
    assert result.exit_code == ExitCode.FAILED
    assert "evil.gitprov:2: 'path'" in result.stderr or "this pointer's artifact" in result.stderr
    assert sorted(p.name for p in repo.iterdir()) == before
    assert (repo / ".git" / "HEAD").is_file()


def test_a_renamed_pointer_must_name_its_artifact(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    tracked_folder(repo, gitprov)
    shutil.copy(repo / "ds.gitprov", repo / "other.gitprov")
    result = gitprov("status")
    assert result.exit_code == ExitCode.FAILED
    assert "other.gitprov: 'path' is 'ds', but this pointer's artifact is 'other'" in result.stderr


def test_a_tracked_folder_replaced_by_a_symlink_is_never_followed(
    repo: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    tracked_folder(repo, gitprov)
    elsewhere = tmp_path / "elsewhere"
    gen(elsewhere, {"important.txt": "keep"})
    shutil.rmtree(repo / "ds")
    os.symlink(elsewhere, repo / "ds")
    assert "is now a symlink" in gitprov("status").stdout
    assert gitprov("checkout").exit_code == ExitCode.FAILED  # a local change
    assert gitprov("checkout", "--force").exit_code == 0
    assert (elsewhere / "important.txt").read_text() == "keep"
    assert sorted(os.listdir(elsewhere)) == ["important.txt"]
    assert not (repo / "ds").is_symlink()
    assert (repo / "ds/sub/b.txt").read_text() == "b"


def test_an_artifact_replaced_by_a_fifo_does_not_hang_status(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"m.bin": b"w"})
    assert gitprov("track", "m.bin").exit_code == 0
    (repo / "m.bin").unlink()
    os.mkfifo(repo / "m.bin")
    proc = subprocess.run(
        [sys.executable, "-m", "gitprov", "status"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "not a regular file or folder" in proc.stdout
    assert gitprov("checkout", "--force").exit_code == 0
    assert (repo / "m.bin").read_bytes() == b"w"


def test_a_folder_tracked_as_a_checkpoint_stays_a_folder(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"model/weights.bin": b"w"})
    assert gitprov("track", "model", "--kind", "checkpoint").exit_code == 0
    assert read_pointer(repo / "model.gitprov").type == "dir"
    assert gitprov("status").stdout.startswith("unchanged")
    assert gitprov("verify").exit_code == 0
    shutil.rmtree(repo / "model")
    assert gitprov("checkout").exit_code == 0
    assert (repo / "model/weights.bin").read_bytes() == b"w"


# track: all or nothing ------------------------------------------------------------------


def test_a_bad_later_path_leaves_no_pointer_for_an_earlier_one(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"a.bin": b"a", "bad/ok.txt": "x"})
    os.mkfifo(repo / "bad/pipe")
    assert gitprov("track", "a.bin", "bad").exit_code == ExitCode.FAILED
    assert not (repo / "a.bin.gitprov").exists()
    assert "/a.bin" not in (repo / ".gitignore").read_text()
    assert git(repo, "diff", "--cached", "--name-only") == ""


def test_nested_tracking_is_refused_with_the_way_out(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    tracked_folder(repo, gitprov)
    gen(repo, {"ds/new.txt": "n"})
    inner = gitprov("track", "ds/new.txt")
    assert inner.exit_code == ExitCode.USAGE
    assert "ds/new.txt is inside ds, which gitprov already tracks" in inner.stderr
    gen(repo, {"outer/m.bin": b"m"})
    assert gitprov("track", "outer/m.bin").exit_code == 0
    outer = gitprov("track", "outer")
    assert outer.exit_code == ExitCode.USAGE
    assert "outer contains artifacts gitprov tracks (outer/m.bin.gitprov" in outer.stderr


def test_dot_dot_names_the_folder_it_means(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {"a/b/x.txt": "x"})
    os.chdir(repo / "a/b")
    result = gitprov("track", "..")
    assert result.exit_code == 0, result.stderr
    assert read_pointer(repo / "a.gitprov").path == "a"
    assert "/a" in (repo / ".gitignore").read_text().splitlines()


def test_concurrent_tracks_lose_no_ignore_rule(repo: Path) -> None:
    gen(repo, {f"f{i}.bin": bytes([i]) * 1000 for i in range(8)})
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gitprov", "track", f"f{i}.bin"],
            cwd=repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(8)
    ]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    rules = (repo / ".gitignore").read_text().splitlines()
    assert all(f"/f{i}.bin" in rules for i in range(8))
    assert sorted(git(repo, "diff", "--cached", "--name-only").split()) == sorted(
        [".gitignore", *(f"f{i}.bin.gitprov" for i in range(8))]
    )


# Caches: nothing stale, nothing lost ----------------------------------------------------


def test_a_same_size_rewrite_that_restores_the_mtime_is_still_seen(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"m.bin": b"version-1"})
    age(repo / "m.bin")
    assert gitprov("track", "m.bin").exit_code == 0
    st = (repo / "m.bin").stat()
    (repo / "m.bin").write_bytes(b"version-2")
    os.utime(repo / "m.bin", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert gitprov("status").stdout.startswith("modified")


def test_gc_keeps_what_stash_and_reflog_name(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {"m.bin": b"v1"})
    assert gitprov("track", "m.bin").exit_code == 0
    git(repo, "commit", "-q", "-m", "v1")
    gen(repo, {"m.bin": b"v2-amended-away"})
    assert gitprov("track", "m.bin").exit_code == 0
    git(repo, "commit", "-q", "-m", "v2")
    gen(repo, {"m.bin": b"v3"})
    assert gitprov("track", "m.bin").exit_code == 0
    git(repo, "commit", "-q", "--amend", "-m", "v3")  # v2 now only in the reflog
    gen(repo, {"m.bin": b"v4-stashed"})
    assert gitprov("track", "m.bin").exit_code == 0
    git(repo, "stash", "-q")
    gen(repo, {"m.bin": b"v5-stashed"})
    assert gitprov("track", "m.bin").exit_code == 0
    git(repo, "stash", "-q")
    assert "would remove 0 objects" in gitprov("gc", "--dry-run").stdout


def test_gc_keeps_an_unstaged_pointer_in_another_worktree(
    repo: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), "-b", "side")
    gen(worktree, {".gitprov/config.toml": "schema = 1\n", "w.bin": b"only here"})
    os.chdir(worktree)
    assert gitprov("track", "w.bin").exit_code == 0
    git(worktree, "reset", "-q")
    os.chdir(repo)
    assert "would remove 0 objects" in gitprov("gc", "--dry-run").stdout


def test_gc_stops_when_a_snapshot_is_damaged(repo: Path, gitprov: Callable[..., Result]) -> None:
    tracked_folder(repo, gitprov)
    before = len(cache_objects(repo))
    node = next(
        p
        for p in cache_objects(repo)
        if p.read_bytes().startswith(b'{"entries":[{"digest"') and b'"b.txt"' in p.read_bytes()
    )
    node.chmod(0o644)
    node.write_bytes(node.read_bytes().replace(b'"b.txt"', b'"c.txt"'))
    result = gitprov("gc")
    assert result.exit_code == ExitCode.FAILED
    assert "is damaged in the cache" in result.stderr
    assert len(cache_objects(repo)) == before


# checkout and verify see everything -----------------------------------------------------


def test_checkout_recreates_empty_folders_and_verify_sees_modes(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"ds/run.sh": "#!/bin/sh\n"})
    (repo / "ds/run.sh").chmod(0o755)
    (repo / "ds/empty").mkdir()
    assert gitprov("track", "ds").exit_code == 0
    shutil.rmtree(repo / "ds")
    assert gitprov("checkout").exit_code == 0
    assert (repo / "ds/empty").is_dir()
    assert os.access(repo / "ds/run.sh", os.X_OK)
    assert gitprov("status").stdout.startswith("unchanged")
    (repo / "ds/run.sh").chmod(0o644)
    result = gitprov("verify")
    assert result.exit_code == ExitCode.FAILED
    assert "ds/run.sh: executable bit or link target differs" in result.stdout


def test_hardlink_checkout_keeps_executable_bits_apart(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {".gitprov/config.toml": 'schema = 1\n[cache]\nlink = "hardlink"\n'})
    gen(repo, {"ds/run.sh": "same\n", "ds/copy.txt": "same\n"})
    (repo / "ds/run.sh").chmod(0o755)
    assert gitprov("track", "ds").exit_code == 0
    shutil.rmtree(repo / "ds")
    assert gitprov("checkout").exit_code == 0
    assert os.access(repo / "ds/run.sh", os.X_OK)
    assert not (repo / "ds/copy.txt").stat().st_mode & 0o111
    assert gitprov("status").stdout.startswith("unchanged")


def test_long_names_round_trip(repo: Path, gitprov: Callable[..., Result]) -> None:
    long = "n" * 250
    gen(repo, {f"ds/{long}": "x"})
    assert gitprov("track", "ds").exit_code == 0
    shutil.rmtree(repo / "ds")
    assert gitprov("checkout").exit_code == 0
    assert (repo / "ds" / long).read_text() == "x"
    gen(repo, {"m" * 250: "y"})
    result = gitprov("track", "m" * 250)
    assert result.exit_code == ExitCode.USAGE
    assert "the name is too long for its pointer file" in result.stderr


def test_names_with_glob_characters_are_literal_to_git(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"x[1].bin": b"1", "x1.bin": b"2"})
    assert gitprov("track", "x[1].bin", "x1.bin").exit_code == 0
    git(repo, "commit", "-q", "-m", "both")
    assert gitprov("untrack", "x[1].bin").exit_code == 0
    assert git(repo, "diff", "--cached", "--name-only").split() == [
        ".gitignore",
        "x[1].bin.gitprov",
    ]
