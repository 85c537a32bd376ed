"""A SIGKILL at any moment of ``gitprov track`` leaves the cache and the repo consistent.

Seeded and reproducible: set GITPROV_KILL_SEED / GITPROV_KILL_TRIALS to explore more.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gitprov.adapters.objects import ObjectCache
from gitprov.errors import GitprovError
from gitprov.model import pointer as pointers
from tests.conftest import Result, gen, git

SEED = int(os.environ.get("GITPROV_KILL_SEED", "20261123"))
TRIALS = int(os.environ.get("GITPROV_KILL_TRIALS", "8"))


def make_dataset(root: Path, rnd: random.Random) -> None:
    files: dict[str, bytes] = {
        f"data/d/part{i // 50}/f{i}.bin": rnd.randbytes(rnd.randint(0, 20_000)) for i in range(300)
    }
    files["data/big.bin"] = rnd.randbytes(12 * 1024 * 1024)
    gen(root, files)


def track_cmd(*paths: str) -> list[str]:
    return [sys.executable, "-m", "gitprov", "track", *paths]


def assert_consistent(repo: Path) -> None:
    """Every cache object matches its name; every pointer parses; no final partial file."""
    cache = ObjectCache(repo / ".git" / "gitprov" / "objects")
    bad = [digest for digest in cache.iter_digests() if not cache.verify(digest)]
    assert bad == [], f"corrupt cache objects after a kill: {bad}"
    for name in ("data/d.gitprov", "data/big.bin.gitprov"):
        pointer_file = repo / name
        if pointer_file.exists():
            try:
                pointer, _ = pointers.parse(pointer_file.read_text(), source=name)
            except GitprovError as exc:  # pragma: no cover - the failure we are hunting
                raise AssertionError(f"torn pointer {name}: {exc}") from None
            # A pointer is written only after everything it names is in the cache.
            assert cache.has(pointer.digest), name


def test_sigkill_during_track_never_corrupts(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    rnd = random.Random(SEED)
    assert gitprov("init").exit_code == 0
    make_dataset(committed_repo, rnd)
    started = time.perf_counter()
    subprocess.run(
        track_cmd("data/d", "data/big.bin"), cwd=committed_repo, check=True, capture_output=True
    )
    full = time.perf_counter() - started
    killed = 0
    for trial in range(TRIALS):
        # Start each trial from scratch: empty cache, no pointers, fresh content.
        subprocess.run(
            ["rm", "-rf", ".git/gitprov/objects", ".git/gitprov/statcache.sqlite3"],
            cwd=committed_repo,
            check=True,
        )
        for name in ("data/d.gitprov", "data/big.bin.gitprov"):
            (committed_repo / name).unlink(missing_ok=True)
        git(committed_repo, "reset", "-q")
        gen(committed_repo, {f"data/d/part0/f{trial}.bin": rnd.randbytes(100)})
        proc = subprocess.Popen(
            track_cmd("data/d", "data/big.bin"),
            cwd=committed_repo,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rnd.uniform(0, full))
        proc.send_signal(signal.SIGKILL)
        killed += proc.wait() == -signal.SIGKILL
        assert_consistent(committed_repo)
        # The interrupted command completes when run again, and leaves no temp files.
        rerun = subprocess.run(
            track_cmd("data/d", "data/big.bin"),
            cwd=committed_repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert rerun.returncode == 0, rerun.stderr
        assert_consistent(committed_repo)
        assert gitprov("verify").exit_code == 0
        leftovers = list((committed_repo / ".git/gitprov/objects/tmp").rglob("*.part"))
        assert leftovers == []
    assert killed >= TRIALS // 2, "too few runs were actually killed mid-way: raise the sizes"
