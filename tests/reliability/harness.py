"""Shared helpers of the reliability suite: run, time and SIGKILL gitprov; check invariants.

The API is small on purpose (other suites import it):

- ``run(cmd, cwd)``: a subprocess under a timeout, in its own process group; a hang
  fails the test (the whole group is killed) instead of blocking the suite.
- ``duration(cmd, cwd)``: how long a complete, successful run takes (seconds).
- ``kill_points(rnd, seconds, n)``: ``n`` seeded delays spread over ``seconds``, one in
  each of ``n`` equal slices, so every phase of the command gets hit and a seed replays
  the same schedule.
- ``ok(proc)`` asserts success; ``git_out(cwd, *args)`` is git's stdout;
  ``cache_of(repo)`` the repository's ObjectCache; ``kill_group(proc)`` SIGKILLs a group.
- ``run_killed(cmd, cwd, delay)``: start ``cmd``, SIGKILL its whole process group (git
  and the hook it runs included) after ``delay`` seconds; True if it was still running.
- Invariants, each returning a list of problems (empty means fine), so a test asserts
  ``== []`` and a failure prints what is wrong:
  ``cache_problems(repo)`` (every cache object hashes to its name),
  ``store_problems(fs, url)`` (every remote object hashes to its name),
  ``dangling_refs(origin, fs, url)`` (every artifact a ref of the bare git remote names,
  subtrees included, is in the store), ``temp_leftovers(repo)`` (no temp file of a dead
  process in the cache or the work tree), and ``note_lines(repo, ref)`` (every record of
  a notes ref, to compare before and after: nothing may disappear).
- ``remove_git_locks(repo)``: deletes the ``*.lock`` files a killed git command left in
  ``.git`` (what git itself tells the user to do); returns how many.
- ``tally(scenario, **counts)``: adds counts (trials, kills that landed mid-run...) to
  the JSON file named by ``GITPROV_RELIABILITY_TALLY``, if set: the report's figures.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from gitprov.model import pointer as pointers
from gitprov.model import tree

# No single command of the suite takes near this long; reaching it means a hang.
TIMEOUT_S = 120.0
NOTES_REF = "refs/notes/gitprov"


def _environ(env: Mapping[str, str] | None) -> dict[str, str]:
    return {**os.environ, **(env or {})}


def run(
    cmd: Sequence[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to completion under ``timeout``; a hang kills its group and fails."""
    proc = subprocess.Popen(
        list(cmd),
        cwd=cwd,
        env=_environ(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} hung for {timeout} s (deadlock?)\n{err[-2000:]}")
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """``proc``, asserted successful (its output in the failure message)."""
    assert proc.returncode == 0, f"{' '.join(proc.args)} -> {proc.returncode}\n{proc.stderr}"
    return proc


def duration(cmd: Sequence[str], cwd: Path, *, env: Mapping[str, str] | None = None) -> float:
    """Seconds one complete run of ``cmd`` takes (it must succeed)."""
    started = time.perf_counter()
    ok(run(cmd, cwd, env=env))
    return time.perf_counter() - started


def kill_points(rnd: random.Random, seconds: float, n: int) -> list[float]:
    """``n`` delays in ``[0, seconds)``: one uniformly in each of ``n`` equal slices."""
    return [(i + rnd.random()) * seconds / n for i in range(n)]


def kill_group(proc: subprocess.Popen[Any]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def run_killed(
    cmd: Sequence[str], cwd: Path, delay: float, *, env: Mapping[str, str] | None = None
) -> bool:
    """Start ``cmd``, SIGKILL its process group after ``delay`` s; True if it was running.

    The whole group dies at once (``git push`` and the pre-push hook it started, a
    ``gitprov run`` and the user's command), as in a power cut or an OOM kill.
    """
    proc = subprocess.Popen(
        list(cmd),
        cwd=cwd,
        env=_environ(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=delay)
        finished = True
    except subprocess.TimeoutExpired:
        finished = False
    kill_group(proc)  # also reaps children a finished leader may have left
    proc.wait(timeout=TIMEOUT_S)
    return not finished


def git_out(cwd: Path, *args: str) -> str:
    """git's stdout (the command must succeed)."""
    return ok(run(["git", *args], cwd)).stdout


# -- invariants -----------------------------------------------------------------------------
def _digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def cache_problems(repo: Path) -> list[str]:
    """Cache objects (``.git/gitprov/objects/sha256/..``) whose bytes do not match their name."""
    cache = cache_of(repo)
    return [f"corrupt cache object {d}" for d in cache.iter_digests() if not cache.verify(d)]


def cache_of(repo: Path) -> Any:
    """The object cache of ``repo`` (its common git dir: worktrees share it)."""
    from gitprov.adapters.objects import ObjectCache  # noqa: PLC0415

    common = Path(git_out(repo, "rev-parse", "--git-common-dir").strip())
    common = common if common.is_absolute() else repo / common
    return ObjectCache(common / "gitprov" / "objects")


def _store_key(url: str, digest: str) -> str:
    hexdigest = digest.removeprefix("sha256:")
    return f"{url.rstrip('/')}/sha256/{hexdigest[:2]}/{hexdigest[2:]}"


def store_problems(fs: Any, url: str) -> list[str]:
    """Remote objects under ``url`` (an fsspec file system and root) not matching their name."""
    root = url.rstrip("/") + "/sha256"
    try:
        names = fs.find(root)
    except FileNotFoundError:
        return []
    problems = []
    for name in names:
        prefix, _, rest = name.rpartition("/")
        digest = "sha256:" + prefix.rpartition("/")[2] + rest
        if _digest_of(fs.cat_file(name)) != digest:
            problems.append(f"corrupt remote object {name}")
    return problems


def store_temp(fs: Any, url: str) -> list[str]:
    """Upload temp files under ``<url>/tmp`` (a directory store's staging area)."""
    try:
        return sorted(fs.find(url.rstrip("/") + "/tmp"))
    except FileNotFoundError:
        return []


def dangling_refs(origin: Path, fs: Any, url: str) -> list[str]:
    """Artifacts named by a commit reachable from a ref of ``origin`` but absent from the store.

    Walks every pointer of every such commit, and for a snapshot every node and file
    below its root, reading the nodes from the store itself (verified).
    """
    commits = git_out(origin, "rev-list", "--all").split()
    problems: list[str] = []
    seen: set[str] = set()
    for commit in commits:
        names = git_out(origin, "ls-tree", "-r", "--name-only", commit).split("\n")
        for name in (n for n in names if n.endswith(".gitprov") and not n.startswith(".")):
            text = git_out(origin, "show", f"{commit}:{name}")
            pointer, _ = pointers.parse(text, source=name)
            stack = [(pointer.digest, pointer.is_tree)]
            while stack:
                digest, is_node = stack.pop()
                if digest in seen:
                    continue
                seen.add(digest)
                key = _store_key(url, digest)
                if not fs.exists(key):
                    problems.append(f"{commit[:12]}:{name} names {digest[:19]}, not in the store")
                    continue
                if is_node:
                    data = fs.cat_file(key)
                    if _digest_of(data) != digest:
                        problems.append(f"corrupt node {digest[:19]}")
                        continue
                    stack += [(e.digest, e.type == "dir") for e in tree.decode(data) if e.digest]
    return problems


def temp_leftovers(repo: Path) -> list[str]:
    """Temp files of dead writers: cache ``*.part`` files and work-tree ``.*.gitprov-tmp-*``."""
    cache_tmp = Path(cache_of(repo).root) / "tmp"
    found = [str(p) for p in cache_tmp.rglob("*.part")] if cache_tmp.is_dir() else []
    found += [
        str(p) for p in repo.rglob(".*.gitprov-tmp-*") if ".git" not in p.relative_to(repo).parts
    ]
    return sorted(found)


def note_lines(repo: Path, ref: str = NOTES_REF) -> set[str]:
    """Every record line in ``ref`` (all annotated commits); empty when the ref is absent."""
    if run(["git", "rev-parse", "-q", "--verify", ref], repo).returncode != 0:
        return set()
    lines: set[str] = set()
    for row in git_out(repo, "notes", f"--ref={ref}", "list").splitlines():
        blob = row.split()[0]
        lines.update(x for x in git_out(repo, "cat-file", "blob", blob).splitlines() if x)
    return lines


def tally(scenario: str, **counts: int) -> None:
    """Add ``counts`` under ``scenario`` in $GITPROV_RELIABILITY_TALLY (JSON), if set."""
    target = os.environ.get("GITPROV_RELIABILITY_TALLY")
    if not target:
        return
    path = Path(target)
    totals = json.loads(path.read_text()) if path.exists() else {}
    entry = totals.setdefault(scenario, {})
    for key, value in counts.items():
        entry[key] = entry.get(key, 0) + value
    path.write_text(json.dumps(totals, indent=1, sort_keys=True) + "\n")


def remove_git_locks(repo: Path) -> int:
    """Delete the ``*.lock`` files of killed git commands in ``repo``'s git directory.

    SIGKILL gives git no chance to remove ``index.lock`` or a ref's lock; git then
    refuses to work until the user deletes it ("Another git process seems to be running
    ... remove the file manually"), and so does gitprov, which runs git. Not gitprov's to
    remove: only the user knows no git process is running. Returns how many were found.
    """
    git_dir = repo / ".git"
    locks = [p for p in git_dir.rglob("*.lock") if "gitprov" not in p.relative_to(git_dir).parts]
    for lock in locks:
        lock.unlink()
    return len(locks)
