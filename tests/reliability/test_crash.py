"""A SIGKILL at any moment of a gitprov command loses nothing and corrupts nothing.

Each scenario measures how long the command takes when left alone, then, trial after
trial, starts it again from the same state and SIGKILLs its whole process group (git and
the pre-push hook, gitprov and the user's training script) at a seeded moment spread over
that duration (harness.kill_points). After each kill it checks the invariants:

- every cache object and every remote object hashes to its name;
- no ref of the git remote names an artifact the artifact store lacks;
- no lineage-note record that existed before is missing (locally or on the remote);
- running the interrupted command again completes, and then leaves no temp file behind.

Trials per scenario: tests/reliability/budget.py (``GITPROV_RELIABILITY=full`` for the
long run, ``GITPROV_RELIABILITY_SEED`` to replay a schedule). The report is
docs/reliability.md.
"""

from __future__ import annotations

import random
import shutil
import sys
import uuid
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from gitprov.model import pointer as pointers
from tests.conftest import gen
from tests.reliability import harness
from tests.reliability.budget import SEED, trials
from tests.reliability.harness import ok, run
from tests.test_remote_sync import (  # noqa: F401 - fixtures: moto's server, fake credentials
    Store,
    fake_aws_credentials,
    s3_server,
    s3_store,
)

pytestmark = pytest.mark.reliability

GITPROV = [sys.executable, "-m", "gitprov"]
RECORD = '{{"at":"2026-01-01T00:00:{s:02d}Z","id":"{id}","type":"eval","value":{n}}}'


def gitprov(*args: str) -> list[str]:
    return [*GITPROV, *args]


def git(cwd: Path, *args: str) -> str:
    return harness.git_out(cwd, *args)


def dataset(root: Path, rnd: random.Random, *, files: int, big_mb: int) -> None:
    """A folder of small files in a few sub-folders, and one big checkpoint."""
    gen(
        root,
        {
            f"data/d/part{i % 4}/f{i}.bin": rnd.randbytes(rnd.randint(0, 8_000))
            for i in range(files)
        },
    )
    if big_mb:
        gen(root, {"models/m.bin": rnd.randbytes(big_mb << 20)})


def new_store(kind: str, tmp_path: Path, server: ThreadedMotoServer) -> Store:
    if kind == "dir":
        return Store("dir", str(tmp_path / "store"), ())
    return s3_store(server, uuid.uuid4().hex[:12])


def wipe(store: Store) -> None:
    """Empty the artifact store (between trials)."""
    fs = store.filesystem()
    if fs.exists(store.url):
        fs.rm(store.url, recursive=True)


def project(tmp_path: Path, store: Store, rnd: random.Random, *, files: int, big_mb: int) -> Path:
    """Clone ``a`` of a bare ``origin``: gitprov set up with ``store``, data tracked, committed."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    a = tmp_path / "a"
    git(tmp_path, "clone", "-q", str(origin), str(a))
    # The remote's side of a push (receive-pack) in a session of its own, as on a real
    # server: killing the pusher's process group must not kill the server mid-update,
    # which would leave a ref lock in the bare repository that no client can remove.
    git(a, "config", "remote.origin.receivepack", "setsid git receive-pack")
    ok(run(gitprov("init"), a))
    options = [arg for opt in store.options for arg in ("--option", opt)]
    ok(run(gitprov("remote", "add", "origin", store.url, *options), a))
    dataset(a, rnd, files=files, big_mb=big_mb)
    ok(run(gitprov("track", "data/d", "models/m.bin"), a))
    git(a, "add", ".gitprov/config.toml", ".gitignore")
    git(a, "commit", "-q", "-m", "data and model")
    return a


def no_problems(*problems: list[str]) -> None:
    found = [p for group in problems for p in group]
    assert found == [], "\n".join(found[:20])


# -- track ----------------------------------------------------------------------------------
def pointers_consistent(repo: Path, names: list[str]) -> list[str]:
    """Each pointer present parses and names an object the cache has."""
    cache = harness.cache_of(repo)
    problems = []
    for name in names:
        path = repo / name
        if path.exists():
            try:
                pointer, _ = pointers.parse(path.read_text(), source=name)
            except Exception as exc:  # noqa: BLE001 - the failure being hunted
                problems.append(f"torn pointer {name}: {exc}")
                continue
            if not cache.has(pointer.digest):
                problems.append(f"{name} names {pointer.digest[:19]}, not in the cache")
    return problems


def test_sigkill_during_track(tmp_path: Path) -> None:
    rnd = random.Random(SEED)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    gen(repo, {"README.md": "hello\n"})
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "initial")
    ok(run(gitprov("init"), repo))
    dataset(repo, rnd, files=160, big_mb=6)
    cmd = gitprov("track", "data/d", "models/m.bin")
    names = ["data/d.gitprov", "models/m.bin.gitprov"]
    n = trials(ci=3, full=25)
    killed = locks = 0
    for trial, delay in enumerate(harness.kill_points(rnd, harness.duration(cmd, repo), n)):
        # From scratch each time: empty cache, no pointers, one new file.
        shutil.rmtree(repo / ".git/gitprov/objects")
        (repo / ".git/gitprov/statcache.sqlite3").unlink(missing_ok=True)
        for name in names:
            (repo / name).unlink(missing_ok=True)
        git(repo, "reset", "-q")
        gen(repo, {f"data/d/part0/new{trial}.bin": rnd.randbytes(100)})

        killed += harness.run_killed(cmd, repo, delay)
        locks += harness.remove_git_locks(repo)

        no_problems(harness.cache_problems(repo), pointers_consistent(repo, names))
        ok(run(cmd, repo))  # the interrupted command completes when run again
        no_problems(harness.cache_problems(repo), pointers_consistent(repo, names))
        no_problems(harness.temp_leftovers(repo))  # and it cleaned what the kill left
    ok(run(gitprov("verify"), repo))
    harness.tally("track", trials=n, killed_mid_run=killed, git_lock_left=locks)
    assert killed >= n // 2, "too few runs were killed mid-way: make the data bigger"


# -- run ------------------------------------------------------------------------------------
TRAIN = """\
import pathlib, random, sys
size = sum(p.stat().st_size for p in pathlib.Path("data").rglob("*") if p.is_file())
out = pathlib.Path("out")
out.mkdir(exist_ok=True)
rnd = random.Random(int(sys.argv[1]))
with open(out / "model.bin", "wb") as f:
    for _ in range(16):
        f.write(rnd.randbytes(1 << 19))
(out / "log.txt").write_text(f"trained on {size} bytes\\n")
"""


def test_sigkill_during_run(tmp_path: Path) -> None:
    rnd = random.Random(SEED + 1)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    ok(run(gitprov("init"), repo))
    gen(repo, {"train.py": TRAIN})
    dataset(repo, rnd, files=200, big_mb=0)
    git(repo, "add", "train.py", ".gitignore", ".gitprov")
    git(repo, "commit", "-q", "-m", "project")
    base = git(repo, "rev-parse", "HEAD").strip()
    cmd = gitprov("run", "-i", "data", "-o", "out", "--seed", "7", "--", sys.executable)
    cmd += ["train.py", "7"]

    def reset() -> None:
        git(repo, "reset", "-q", "--hard", base)
        shutil.rmtree(repo / "out", ignore_errors=True)

    # Measured on a second run: the first one also tracks the inputs from scratch and
    # probes the environment cold, and would put most kill points after the end.
    harness.duration(cmd, repo)
    reset()
    full = harness.duration(cmd, repo)
    records_before = harness.note_lines(repo)
    n = trials(ci=2, full=20)
    killed = dirty = locks = 0
    for delay in harness.kill_points(rnd, full, n):
        reset()
        killed += harness.run_killed(cmd, repo, delay)
        locks += harness.remove_git_locks(repo)

        head = git(repo, "rev-parse", "HEAD").strip()
        if head != base:  # the run got as far as its commit: it must be whole
            committed = git(repo, "show", "--name-only", "--format=", "HEAD").split()
            assert "out.gitprov" in committed
            assert any(name.startswith(".gitprov/runs/") for name in committed)
        no_problems(
            harness.cache_problems(repo),
            pointers_consistent(repo, ["out.gitprov", "data.gitprov"]),
        )
        assert records_before <= harness.note_lines(repo)
        git(repo, "fsck", "--no-progress")

        # Killed before its commit, the run left a record, an environment snapshot and
        # staged pointers: the rerun rolls the dead run's record back (its journal) and
        # completes as it is, without --allow-dirty.
        rerun = run(cmd, repo)
        ok(rerun)
        if "rolled back run:" in rerun.stderr:
            dirty += 1
        no_problems(harness.cache_problems(repo), harness.temp_leftovers(repo))
    ok(run(gitprov("verify"), repo))
    harness.tally("run", trials=n, killed_mid_run=killed, rolled_back=dirty, git_lock_left=locks)
    assert killed >= n // 2, "too few runs were killed mid-way"


# -- push -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "via"), [("dir", "git push"), ("dir", "gitprov push"), ("s3", "git push")]
)
def test_sigkill_during_push(
    tmp_path: Path,
    s3_server: ThreadedMotoServer,  # noqa: F811 - the imported fixture
    kind: str,
    via: str,
) -> None:
    # 'gitprov push' to a directory runs the same upload code as the hook: full run only.
    n = trials(ci=0 if (kind, via) == ("dir", "gitprov push") else 1, full=20)
    if n == 0:
        pytest.skip("GITPROV_RELIABILITY=full only (the hook's upload, tested here, is the same)")
    rnd = random.Random(SEED + 2)
    store = new_store(kind, tmp_path, s3_server)
    files, big = (160, 6) if kind == "dir" else (40, 3)  # moto answers slowly
    a = project(tmp_path, store, rnd, files=files, big_mb=big)
    origin = tmp_path / "origin.git"
    fs = store.filesystem()
    cmd = ["git", "push", "-q", "origin", "main"] if via == "git push" else gitprov("push", "--all")
    head = git(a, "rev-parse", "HEAD").strip()

    def reset() -> None:
        wipe(store)
        harness.run(["git", "update-ref", "-d", "refs/heads/main"], origin)
        harness.run(["git", "update-ref", "-d", harness.NOTES_REF], origin)
        # The hook trusts remote-tracking refs (the remote has those commits, their artifacts
        # and notes): a wiped remote must not look like one that has them.
        harness.run(["git", "update-ref", "-d", "refs/remotes/origin/main"], a)
        harness.run(["git", "update-ref", "-d", "refs/notes/remotes/origin/gitprov"], a)

    full = harness.duration(cmd, a)
    killed = locks = 0
    for delay in harness.kill_points(rnd, full, n):
        reset()
        killed += harness.run_killed(cmd, a, delay)
        locks += harness.remove_git_locks(a)

        # What the kill left: intact objects only, and no ref ahead of its artifacts.
        no_problems(
            harness.store_problems(fs, store.url), harness.dangling_refs(origin, fs, store.url)
        )
        no_problems(harness.cache_problems(a))

        ok(run(cmd, a))

        # The rerun finished the job: everything the commits name is on the remote.
        no_problems(
            harness.store_problems(fs, store.url),
            harness.dangling_refs(a, fs, store.url),
            harness.store_temp(fs, store.url),
        )
        if via == "git push":
            assert git(origin, "rev-parse", "refs/heads/main").strip() == head
            assert harness.note_lines(a) <= harness.note_lines(origin)
    harness.tally(
        f"push ({via}, {kind} store)", trials=n, killed_mid_run=killed, git_lock_left=locks
    )
    assert killed >= n // 2, "too few pushes were killed mid-way"


# -- pull -----------------------------------------------------------------------------------
def test_sigkill_during_pull(tmp_path: Path) -> None:
    rnd = random.Random(SEED + 3)
    store = Store("dir", str(tmp_path / "store"), ())
    a = project(tmp_path, store, rnd, files=100, big_mb=6)
    ok(run(["git", "push", "-q", "origin", "main"], a))
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(b))
    ok(run(gitprov("init"), b))
    cmd = gitprov("pull")
    expected = {
        path.relative_to(a): path.read_bytes()
        for path in [*(a / "data/d").rglob("*.bin"), a / "models/m.bin"]
    }

    def reset() -> None:
        shutil.rmtree(b / ".git/gitprov/objects", ignore_errors=True)
        shutil.rmtree(b / "data/d", ignore_errors=True)
        (b / "models/m.bin").unlink(missing_ok=True)

    reset()
    full = harness.duration(cmd, b)
    n = trials(ci=2, full=20)
    killed = locks = 0
    for delay in harness.kill_points(rnd, full, n):
        reset()
        killed += harness.run_killed(cmd, b, delay)
        locks += harness.remove_git_locks(b)

        no_problems(harness.cache_problems(b))
        for name, data in expected.items():
            # A work-tree file is absent or whole: never a prefix of the right bytes.
            if (b / name).exists():
                assert (b / name).read_bytes() == data, name

        ok(run(cmd, b))
        for name, data in expected.items():
            assert (b / name).read_bytes() == data, name
        no_problems(harness.cache_problems(b), harness.temp_leftovers(b))
    ok(run(gitprov("verify"), b))
    harness.tally("pull (dir store)", trials=n, killed_mid_run=killed, git_lock_left=locks)
    assert killed >= n // 2, "too few pulls were killed mid-way"


# -- notes sync -----------------------------------------------------------------------------
@pytest.mark.parametrize("via", ["gitprov notes sync", "git push"])
def test_sigkill_during_notes_sync(tmp_path: Path, via: str) -> None:
    rnd = random.Random(SEED + 4)
    store = Store("dir", str(tmp_path / "store"), ())
    a = project(tmp_path, store, rnd, files=20, big_mb=1)
    origin = tmp_path / "origin.git"
    ok(run(["git", "push", "-q", "origin", "main"], a))
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(origin), str(b))
    ok(run(gitprov("init"), b))
    n = trials(ci=1, full=20)
    counter = 0

    def add_records(repo: Path, count: int) -> None:
        nonlocal counter
        for _ in range(count):
            counter += 1
            line = RECORD.format(s=counter % 60, id=f"r{counter:06d}", n=counter)
            git(repo, "notes", "--ref=gitprov", "append", "-m", line, "HEAD")

    def step() -> list[str]:
        """New records on both sides (b's already on the remote), and a new commit for git."""
        add_records(b, 2)
        ok(run(gitprov("notes", "sync"), b))
        add_records(a, 12)
        if via == "git push":
            gen(a, {"models/m.bin": rnd.randbytes(1 << 20)})
            ok(run(gitprov("track", "models/m.bin"), a))
            git(a, "commit", "-q", "-m", "new model")  # the post-commit hook adds a record
            return ["git", "push", "-q", "origin", "main"]
        return gitprov("notes", "sync")

    full = harness.duration(step(), a)
    killed = locks = 0
    for delay in harness.kill_points(rnd, full, n):
        cmd = step()
        mine, theirs = harness.note_lines(a), harness.note_lines(origin)

        killed += harness.run_killed(cmd, a, delay)
        locks += harness.remove_git_locks(a)

        after_local, after_remote = harness.note_lines(a), harness.note_lines(origin)
        assert mine <= after_local, "a local record was lost"
        assert theirs <= after_remote, "a remote record was lost"
        assert after_remote <= mine | theirs, "the remote holds a record from nowhere"
        no_problems(harness.dangling_refs(origin, store.filesystem(), store.url))

        ok(run(cmd, a))

        assert mine | theirs <= harness.note_lines(a)
        assert mine <= harness.note_lines(origin), "the rerun did not push every record"
        git(a, "fsck", "--no-progress")
    ok(run(gitprov("notes", "sync"), b))
    assert harness.note_lines(a) <= harness.note_lines(b)
    harness.tally(f"notes sync ({via})", trials=n, killed_mid_run=killed, git_lock_left=locks)
    assert killed >= n // 2, "too few syncs were killed mid-way"


def test_a_pull_killed_mid_restore_completes_when_run_again(tmp_path: Path) -> None:
    """Regression: the state a kill leaves half-way through restoring a folder (some
    files placed, whole, others not yet; a temp file being written) made the rerun
    refuse with 'local changes would be overwritten' and kept the temp file."""
    rnd = random.Random(SEED + 5)
    store = Store("dir", str(tmp_path / "store"), ())
    a = project(tmp_path, store, rnd, files=12, big_mb=1)
    ok(run(["git", "push", "-q", "origin", "main"], a))
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(tmp_path / "origin.git"), str(b))
    ok(run(gitprov("init"), b))
    ok(run(gitprov("pull"), b))
    # What a kill between two files leaves: half the files, a partial temp file beside
    # the next one and beside the checkpoint.
    for path in sorted((b / "data/d").rglob("*.bin"))[::2]:
        path.unlink()
    (b / "data/d/part0/.f0.bin.gitprov-tmp-0123456789ab").write_bytes(b"partial")
    (b / "models/m.bin").unlink()
    (b / "models/.m.bin.gitprov-tmp-0123456789ab").write_bytes(b"partial")
    # and the download temp folder of the dead process (its lock free).
    gen(
        b / ".git/gitprov/objects/tmp",
        {"dead" * 4 + "/ab/0123.part": b"half", "dead" * 4 + ".lock": ""},
    )

    ok(run(gitprov("pull"), b))

    for path in (a / "data/d").rglob("*.bin"):
        assert (b / path.relative_to(a)).read_bytes() == path.read_bytes()
    assert (b / "models/m.bin").read_bytes() == (a / "models/m.bin").read_bytes()
    assert harness.temp_leftovers(b) == []
    # A real local change is still protected.
    (b / "data/d/part1/f1.bin").write_bytes(b"my edit")
    refused = run(gitprov("pull"), b)
    assert refused.returncode == 1
    assert "local changes would be overwritten: data/d" in refused.stderr


def test_staged_uploads_of_a_killed_push_are_removed_by_the_next_push(tmp_path: Path) -> None:
    """Regression: a push to a directory store killed mid-way left its staged files in
    <store>/tmp/ for ever. The next push removes a dead push's staging folder (its lock
    is free) and leaves a live one's (its lock is held) alone."""
    import fcntl  # noqa: PLC0415
    import os  # noqa: PLC0415

    rnd = random.Random(SEED + 6)
    store = Store("dir", str(tmp_path / "store"), ())
    a = project(tmp_path, store, rnd, files=3, big_mb=1)
    staging = Path(store.url) / "tmp"
    for name in ("dead" * 4, "live" * 4):
        gen(staging, {f"{name}/ab/0123456789abcdef.part": b"staged bytes", f"{name}.lock": ""})
    live = os.open(staging / ("live" * 4 + ".lock"), os.O_RDWR)
    try:
        fcntl.flock(live, fcntl.LOCK_EX)  # as the live push holds it

        ok(run(gitprov("push"), a))

        left = sorted(str(p.relative_to(staging)) for p in staging.rglob("*"))
        live_files = ["", ".lock", "/ab", "/ab/0123456789abcdef.part"]
        assert left == ["livelivelivelive" + suffix for suffix in live_files]
    finally:
        os.close(live)
    # Its process gone, the next push removes it too, even one with nothing to send
    # (a push killed after publishing its last objects leaves exactly that).
    ok(run(gitprov("push"), a))
    assert harness.store_temp(store.filesystem(), store.url) == []
