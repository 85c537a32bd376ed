"""Concurrent writers lose nothing, corrupt nothing and never deadlock.

- four ``gitprov track`` processes into one cache at once, overlapping content (one
  path twice);
- several clones pushing commits with overlapping artifacts to one store at once (a
  directory and the S3 API), through ``git push`` and the pre-push hook;
- four clones syncing lineage notes with one git remote at once.

Every process runs under a timeout (harness.run / wait_all): a deadlock fails the test.
Rounds per scenario: tests/reliability/budget.py.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import gen
from tests.reliability import harness
from tests.reliability.budget import FULL, SEED, trials
from tests.reliability.harness import ok, run
from tests.reliability.test_crash import RECORD, dataset, git, gitprov, new_store, project
from tests.test_remote_sync import (  # noqa: F401 - fixtures: moto's server, fake credentials
    fake_aws_credentials,
    s3_server,
)

pytestmark = pytest.mark.reliability


def run_all(
    commands: Sequence[tuple[Sequence[str], Path]], timeout: float = harness.TIMEOUT_S
) -> list[subprocess.CompletedProcess[str]]:
    """Start every (command, cwd) at once; wait for all under one deadline."""
    procs = [
        subprocess.Popen(
            list(cmd),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for cmd, cwd in commands
    ]
    deadline = time.monotonic() + timeout
    results = []
    for proc, (cmd, _) in zip(procs, commands, strict=True):
        try:
            out, err = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs:
                harness.kill_group(other)
            pytest.fail(f"{' '.join(cmd)} still running after {timeout} s: deadlock?")
        results.append(subprocess.CompletedProcess(list(cmd), proc.returncode, out, err))
    return results


def test_concurrent_tracks_into_one_cache(tmp_path: Path) -> None:
    rnd = random.Random(SEED + 10)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    ok(run(gitprov("init"), repo))
    for round_ in range(trials(ci=1, full=10)):
        shared = {f"s{i}.bin": rnd.randbytes(rnd.randint(0, 20_000)) for i in range(100)}
        for name in ("a", "b"):
            # Mostly the same files (the same objects), some of each folder's own.
            gen(repo, {f"data/{name}/{k}": v for k, v in shared.items()})
            gen(repo, {f"data/{name}/own{round_}.bin": rnd.randbytes(5_000)})
        gen(repo, {"models/m.bin": rnd.randbytes(4 << 20)})
        names = ["data/a", "data/b", "models/m.bin", "data/a"]  # data/a twice at once

        results = run_all([(gitprov("track", name), repo) for name in names])

        for result in results:
            ok(result)
        assert harness.cache_problems(repo) == []
        assert harness.temp_leftovers(repo) == []
        staged = git(repo, "diff", "--cached", "--name-only").split()
        assert {"data/a.gitprov", "data/b.gitprov", "models/m.bin.gitprov"} <= set(staged)
        rules = (repo / ".gitignore").read_text().splitlines()
        assert {"/data/a", "/data/b", "/models/m.bin"} <= set(rules), rules
        ok(run(gitprov("verify"), repo))
        git(repo, "commit", "-q", "-m", f"round {round_}")
        harness.tally("concurrent tracks", rounds=1, processes=len(names))


@pytest.mark.parametrize("kind", ["dir", "s3"])
def test_overlapping_pushes_to_one_store(
    tmp_path: Path,
    s3_server: ThreadedMotoServer,  # noqa: F811 - the imported fixture
    kind: str,
) -> None:
    rnd = random.Random(SEED + 11)
    store = new_store(kind, tmp_path, s3_server)
    a = project(tmp_path, store, rnd, files=10, big_mb=1)
    origin = tmp_path / "origin.git"
    ok(run(["git", "push", "-q", "origin", "main"], a))
    clones = []
    for i in range(3 if kind == "dir" or FULL else 2):  # moto is slow: 2 S3 pushers in CI
        clone = tmp_path / f"c{i}"
        git(tmp_path, "clone", "-q", str(origin), str(clone))
        ok(run(gitprov("init"), clone))
        clones.append(clone)
    fs = store.filesystem()
    for round_ in range(trials(ci=1, full=5)):
        shared_seed = rnd.getrandbits(32)
        for i, clone in enumerate(clones):
            # The same new dataset files and checkpoint in every clone (the same objects,
            # uploaded by all at once), plus one file of each clone's own.
            files = 120 if kind == "dir" else 30  # moto answers slowly
            dataset(clone, random.Random(shared_seed), files=files, big_mb=2)
            gen(clone, {f"data/d/own/c{i}-{round_}.bin": rnd.randbytes(3_000)})
            ok(run(gitprov("track", "data/d", "models/m.bin"), clone))
            git(clone, "commit", "-q", "-m", f"clone {i} round {round_}")
        records = set().union(*(harness.note_lines(c) for c in clones))

        results = run_all(
            [
                (["git", "push", "-q", "origin", f"HEAD:refs/heads/c{i}-{round_}"], clone)
                for i, clone in enumerate(clones)
            ]
        )

        for result in results:
            ok(result)
        assert harness.store_problems(fs, store.url) == []
        assert harness.dangling_refs(origin, fs, store.url) == []
        assert harness.store_temp(fs, store.url) == []
        for clone in clones:
            assert harness.cache_problems(clone) == []
        assert records <= harness.note_lines(origin), "a pushed record is missing"
        harness.tally(f"overlapping pushes ({kind} store)", rounds=1, processes=len(clones))


def test_four_clones_sync_notes_at_once(tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(origin), str(seed))
    for name in ("x", "y", "z"):
        gen(seed, {f"{name}.txt": name})
        git(seed, "add", f"{name}.txt")
        git(seed, "commit", "-q", "-m", name)
    git(seed, "push", "-q", "origin", "main")
    commits = git(seed, "rev-list", "HEAD").split()
    clones = []
    for i in range(4):
        clone = tmp_path / f"c{i}"
        git(tmp_path, "clone", "-q", str(origin), str(clone))
        ok(run(gitprov("init"), clone))
        clones.append(clone)
    rnd = random.Random(SEED + 12)
    counter = 0
    for _ in range(trials(ci=2, full=15)):
        for clone in clones:
            for _ in range(5):  # on the same and on different commits
                counter += 1
                line = RECORD.format(s=counter % 60, id=f"n{counter:06d}", n=counter)
                commit = rnd.choice(commits)
                git(clone, "notes", "--ref=gitprov", "append", "-m", line, commit)
        written = set().union(*(harness.note_lines(c) for c in clones))

        results = run_all([(gitprov("notes", "sync"), clone) for clone in clones])

        for result in results:
            ok(result)
        remote = harness.note_lines(origin)
        assert written <= remote, f"lost: {sorted(written - remote)[:5]}"
        assert len(remote) == len(written | remote)
        harness.tally("four clones syncing notes", rounds=1, processes=4, records=4 * 5)
    # One more round, one clone at a time: everyone ends with the union.
    for clone in clones:
        ok(run(gitprov("notes", "sync"), clone))
    union = harness.note_lines(origin)
    assert counter <= len(union)
    for clone in clones:
        assert harness.note_lines(clone) == union


def test_cache_cleaners_racing_skip_what_the_other_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: two tracks cleaning the cache's temp folders at once; the one that
    lost the race opened a lock file the other had just removed and crashed (exit 3)."""
    from gitprov.adapters.objects import ObjectCache  # noqa: PLC0415

    cache = ObjectCache(tmp_path / "objects")
    (tmp_path / "objects/tmp").mkdir(parents=True)
    gone = tmp_path / "objects/tmp/0123456789abcdef.lock"  # listed, then removed
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter([gone]))
    assert cache.clean_temp() == 0


def test_cache_cleaner_leaves_a_lock_just_created_by_a_live_writer(tmp_path: Path) -> None:
    """A lock file without its folder may belong to a process that has not locked it
    yet: removing it would orphan the folder that process is about to create."""
    import os  # noqa: PLC0415

    from gitprov.adapters.objects import ObjectCache  # noqa: PLC0415

    cache = ObjectCache(tmp_path / "objects")
    base = tmp_path / "objects/tmp"
    base.mkdir(parents=True)
    young, old = base / "aaaaaaaaaaaaaaaa.lock", base / "bbbbbbbbbbbbbbbb.lock"
    young.touch()
    old.touch()
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    (base / "cccccccccccccccc").mkdir()  # a dead writer's folder, with its lock
    (base / "cccccccccccccccc/ab").mkdir()
    (base / "cccccccccccccccc/ab/x.part").write_bytes(b"partial")
    (base / "cccccccccccccccc.lock").touch()

    assert cache.clean_temp() == 1

    assert young.exists()
    assert not old.exists()
    assert sorted(p.name for p in base.iterdir()) == [young.name]
