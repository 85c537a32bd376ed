"""``gitprov track`` / ``untrack``: pointers in git, bytes in the cache, nothing lost."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.adapters import hashing
from gitprov.adapters.objects import ObjectCache
from gitprov.errors import ExitCode
from gitprov.model import pointer as pointers
from gitprov.model.gitignore import rule_for
from tests.conftest import Result, gen, git

CheckpointBytes = b"\x00weights\x01" * 1000


@pytest.fixture
def repo(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    assert gitprov("init").exit_code == 0
    return committed_repo


def cache_objects(repo: Path) -> list[Path]:
    base = repo / ".git" / "gitprov" / "objects" / "sha256"
    return sorted(p for p in base.rglob("*") if p.is_file()) if base.exists() else []


def age(*paths: Path) -> None:
    """Date files 10 s back: the stat cache skips files younger than its racy window."""
    for path in paths:
        for file in [path, *path.rglob("*")] if path.is_dir() else [path]:
            st = file.stat()
            os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns - 10_000_000_000))


def read_pointer(path: Path) -> pointers.Pointer:
    return pointers.parse(path.read_text(), source=str(path))[0]


def test_track_a_file(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {"models/m.pt": CheckpointBytes})
    result = gitprov("track", "models/m.pt")
    assert result.exit_code == 0, result.stderr
    ptr = read_pointer(repo / "models/m.pt.gitprov")
    assert ptr.kind == "checkpoint"
    assert ptr.path == "m.pt"
    assert ptr.size == len(CheckpointBytes)
    assert ptr.access == "internal"
    assert ptr.digest == "sha256:" + hashlib.sha256(CheckpointBytes).hexdigest()
    # The bytes are in the cache under their digest, the artifact ignored, the pointer staged.
    assert [p.read_bytes() for p in cache_objects(repo)] == [CheckpointBytes]
    assert git(repo, "check-ignore", "models/m.pt").strip() == "models/m.pt"
    staged = git(repo, "diff", "--cached", "--name-only").split()
    assert staged == [".gitignore", "models/m.pt.gitprov"]
    assert "staged models/m.pt.gitprov, .gitignore" in result.stdout
    # The work-tree file is still there and, in the default mode, still writable.
    assert (repo / "models/m.pt").read_bytes() == CheckpointBytes
    assert os.access(repo / "models/m.pt", os.W_OK)


def test_track_a_directory_prints_its_snapshot_id(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"data/train/a.csv": "1\n", "data/train/sub/b.csv": "2\n", "data/train/c": ""})
    result = gitprov("track", "data/train")
    assert result.exit_code == 0, result.stderr
    ptr = read_pointer(repo / "data/train.gitprov")
    assert ptr.kind == "dataset"
    assert ptr.files == 3
    assert ptr.size == 4
    assert f"ds:{ptr.digest[7:19]}" in result.stdout
    # 3 files (two share no content) + 2 tree nodes; the empty file is an object too.
    assert len(cache_objects(repo)) == 5


def test_retracking_unchanged_is_a_no_op_and_changed_updates(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"data/d/x.txt": "x", "data/d/y.txt": "y"})
    age(repo / "data/d")
    assert gitprov("track", "data/d").exit_code == 0
    pointer_file = repo / "data/d.gitprov"
    before = pointer_file.read_bytes()

    again = gitprov("track", "data/d")
    assert again.stdout.startswith("unchanged")
    assert pointer_file.read_bytes() == before

    gen(repo, {"data/d/y.txt": "changed"})
    update = gitprov("track", "data/d")
    assert update.stdout.startswith("updated")
    assert "(1 hashed)" in update.stdout  # only the changed file was read again
    assert (
        read_pointer(pointer_file).digest != pointers.parse(before.decode(), source="x")[0].digest
    )


def test_comments_and_meta_survive_an_update(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {"m.bin": b"1"})
    assert gitprov("track", "m.bin").exit_code == 0
    pointer_file = repo / "m.bin.gitprov"
    text = (
        pointer_file.read_text().replace("[meta]", "# our note about this artifact\n[meta]")
        + 'owner = "vision-team"  # who to ask\n'
    )
    pointer_file.write_text(text)
    gen(repo, {"m.bin": b"2"})
    assert gitprov("track", "m.bin", "--access", "restricted").exit_code == 0
    updated = pointer_file.read_text()
    assert "# our note about this artifact" in updated
    assert 'owner = "vision-team"  # who to ask' in updated
    assert read_pointer(pointer_file).access == "restricted"


@pytest.mark.parametrize(
    "name", ["with space.bin", "ünïcødé €.bin", "new\nline.bin", "[glob]*?.bin"]
)
def test_awkward_names_are_tracked_and_ignored_exactly(
    repo: Path, gitprov: Callable[..., Result], name: str
) -> None:
    gen(repo, {f"art/{name}": b"data"})
    result = gitprov("track", f"art/{name}")
    assert result.exit_code == 0, result.stderr
    assert (repo / "art" / f"{name}.gitprov").is_file()
    assert rule_for(f"art/{name}") in (repo / ".gitignore").read_text()
    untracked = git(repo, "status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    assert f"?? art/{name}" not in untracked  # ignored
    assert gitprov("status").stdout.startswith("unchanged")


def test_untrack(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {"m.bin": b"keep me"})
    assert gitprov("track", "m.bin").exit_code == 0
    git(repo, "commit", "-q", "-m", "track")
    result = gitprov("untrack", "m.bin")
    assert result.exit_code == 0, result.stderr
    assert not (repo / "m.bin.gitprov").exists()
    assert (repo / "m.bin").read_bytes() == b"keep me"
    assert "/m.bin" not in (repo / ".gitignore").read_text()
    assert git(repo, "diff", "--cached", "--name-status").split() == [
        "M",
        ".gitignore",
        "D",
        "m.bin.gitprov",
    ]


def test_hardlink_mode_shares_the_inode_and_protects_it(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {".gitprov/config.toml": 'schema = 1\n[cache]\nlink = "hardlink"\n'})
    gen(repo, {"m.bin": b"big", "run.sh": "#!/bin/sh\n"})
    (repo / "run.sh").chmod(0o755)
    assert gitprov("track", "m.bin", "run.sh").exit_code == 0
    objects = cache_objects(repo)
    assert {p.stat().st_ino for p in objects} == {
        (repo / "m.bin").stat().st_ino,
        (repo / "run.sh").stat().st_ino,
    }
    assert (repo / "m.bin").stat().st_mode & 0o222 == 0  # read-only
    assert (repo / "run.sh").stat().st_mode & 0o100  # the executable bit survives
    # untrack gives the file back its own writable inode.
    assert gitprov("untrack", "m.bin").exit_code == 0
    assert (repo / "m.bin").stat().st_ino not in {p.stat().st_ino for p in cache_objects(repo)}
    assert os.access(repo / "m.bin", os.W_OK) or os.geteuid() == 0


def test_an_invalid_link_mode_is_a_clear_error(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {".gitprov/config.toml": 'schema = 1\n[cache]\nlink = "symlink"\n', "m": "x"})
    result = gitprov("track", "m")
    assert result.exit_code == ExitCode.FAILED
    assert "'symlink' is not a link mode" in result.stderr


# Bad input: one clear line, nothing changed --------------------------------------------


def assert_refused(result: Result, repo: Path, message: str, code: int = ExitCode.FAILED) -> None:
    assert result.exit_code == code, result.stdout + result.stderr
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert cache_objects(repo) == []
    assert git(repo, "diff", "--cached", "--name-only") == ""


def test_path_outside_the_repo(repo: Path, tmp_path: Path, gitprov: Callable[..., Result]) -> None:
    outside = tmp_path / "elsewhere.bin"
    outside.write_bytes(b"x")
    assert_refused(gitprov("track", str(outside)), repo, "outside the repository", ExitCode.USAGE)
    assert_refused(
        gitprov("track", "../elsewhere.bin"), repo, "outside the repository", ExitCode.USAGE
    )


def test_symlink_leaving_the_tracked_folder(
    repo: Path, tmp_path: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"data/d/a.txt": "a"})
    os.symlink(tmp_path, repo / "data/d/escape")
    assert_refused(gitprov("track", "data/d"), repo, "outside the tracked folder")
    (repo / "data/d/escape").unlink()
    os.symlink("/etc/passwd", repo / "data/d/absolute")
    assert_refused(gitprov("track", "data/d"), repo, "outside the tracked folder")


def test_symlink_inside_the_folder_is_recorded(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {"data/d/a.txt": "a"})
    os.symlink("a.txt", repo / "data/d/alias")
    assert gitprov("track", "data/d").exit_code == 0
    (repo / "data/d/alias").unlink()
    assert gitprov("checkout", "--force", "data/d").exit_code == 0
    assert os.readlink(repo / "data/d/alias") == "a.txt"


def test_missing_path_and_pointer_file_and_git_tracked_file(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert_refused(gitprov("track", "nope.bin"), repo, "does not exist", ExitCode.USAGE)
    assert_refused(gitprov("track", "README.md"), repo, "git already tracks README.md")


def test_a_dvc_tracked_path_is_refused_and_shown_by_status(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(
        repo,
        {
            "data/raw.dvc": "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  size: 10\n"
            "  nfiles: 2\n  hash: md5\n  path: raw\n",
            "data/raw/a.csv": "a",
        },
    )
    git(repo, "add", "data/raw.dvc")
    git(repo, "commit", "-q", "-m", "dvc")
    assert_refused(gitprov("track", "data/raw"), repo, "is tracked by DVC (data/raw.dvc)")
    status = gitprov("status")
    assert "data/raw  dataset  dvc:md5:0123456789abcdef0123456789abcdef" in status.stdout


def test_malformed_pointer_names_file_and_line(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(
        repo,
        {
            "m.bin.gitprov": 'kind = "checkpoint"\npath = "../../etc/passwd"\n'
            'digest = "sha256:' + "a" * 64 + '"\nsize = 1\n'
        },
    )
    result = gitprov("status")
    assert result.exit_code == ExitCode.FAILED
    assert (
        "m.bin.gitprov:2: 'path' must be a relative path inside the repository (contains '..')"
        in result.stderr
    )
    gen(repo, {"m.bin.gitprov": 'kind = "checkpoint"\npath = "/abs"\ndigest = "x"\nsize = 1\n'})
    assert "m.bin.gitprov:2: 'path'" in gitprov("status").stderr
    gen(
        repo, {"m.bin.gitprov": 'kind = "checkpoint"\npath = "m.bin"\ndigest = "md5:1"\nsize = 1\n'}
    )
    assert "m.bin.gitprov:3: 'digest' must be 'sha256:'" in gitprov("status").stderr


def test_a_file_changing_while_hashed_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.bin"
    path.write_bytes(b"x" * 10)
    real_fstat = os.fstat
    calls = {"n": 0}

    def fstat_that_sees_a_write(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        calls["n"] += 1
        if calls["n"] == 2:  # the stat taken after reading: a writer got in between
            values = list(st)
            values[8] += 1  # st_mtime
            return os.stat_result(values, {"st_mtime_ns": st.st_mtime_ns + 1})
        return st

    monkeypatch.setattr(hashing.os, "fstat", fstat_that_sees_a_write)
    with pytest.raises(hashing.FileChangedError, match="changed while it was being hashed"):
        hashing.hash_file(path)


def test_disk_full_leaves_no_partial_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ObjectCache(tmp_path / "objects")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * hashing.CHUNK + 5))
    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("gitprov.adapters.objects.os.fsync", full_disk)
    with pytest.raises(Exception, match="no space left on the device"):
        cache.add_file(source, "copy")
    monkeypatch.setattr("gitprov.adapters.objects.os.fsync", real_fsync)
    assert [
        p for p in (tmp_path / "objects").rglob("*") if p.is_file() and not p.name.endswith(".lock")
    ] == []
    digest, _ = cache.add_file(source, "copy")  # and it works once there is space
    assert cache.verify(digest)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {"secret.bin": b"x"})
    (repo / "secret.bin").chmod(0)
    assert_refused(gitprov("track", "secret.bin"), repo, "cannot read")


def test_a_fifo_in_a_folder_is_refused(repo: Path, gitprov: Callable[..., Result]) -> None:
    gen(repo, {"data/d/a.txt": "a"})
    os.mkfifo(repo / "data/d/pipe")
    assert_refused(gitprov("track", "data/d"), repo, "is a FIFO, which cannot be tracked")
