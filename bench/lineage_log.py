"""How fast ``gitprov log --lineage`` reads a long history, against ``git log --notes``.

Run from the repository root with the interpreter gitprov is installed in::

    .venv/bin/python bench/lineage_log.py [--commits N] [--runs N] [--json FILE]

It builds one repository with ``git fast-import`` (commits and notes both, in two
streams, seconds for 10,000 commits): every commit changes ``train.py`` and carries a
``commit`` lineage record in ``refs/notes/gitprov`` (git's notes fan-out included, as
fast-import writes it); every tenth commit is a training run: it adds a run record
``.gitprov/runs/<id>.json`` (made with ``gitprov.model.runrecord.dumps``), changes the
checkpoint's pointer, names the one environment snapshot, and its record lists the run,
the changed pointer and a decision. Then ``git gc`` packs it as a repository in use is
packed (one pack, deltas, a commit-graph file, which both git and libgit2 use). Before
timing, the script checks that ``gitprov log --json`` finds every record and every run
record and prints no warning.

Timed, interleaved with the order rotating each round, after untimed warm-up rounds:

- ``gitprov log --lineage``: the whole history, full output to ``/dev/null``;
- ``git log --notes=gitprov``: the same commits and notes, as git prints them;
- ``gitprov log -n 1``: the log's fixed cost (start-up, the notes map, the walk's
  topological sort of the whole history) with one commit shown;
- ``gitprov --version``: gitprov's start-up alone (the floor of any gitprov command).

Every sample is the wall time of one child process (start-up included), with its CPU
time (user + system, from ``wait4``) beside it, which a busy machine disturbs less.
Medians, min and max; ratios are quotients of medians. Targets (issue 5): the
10,000-commit log under 1 s, and within 3x of ``git log --notes``. ``--gitprov-rev REV``
measures gitprov as committed at REV (``git archive`` + ``PYTHONPATH``) rather than the
working tree. Standard library plus gitprov; not part of the test run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    REPO_ROOT,
    VERDICTS,
    BenchError,
    Stats,
    Target,
    bench_env,
    call,
    git_version,
    gitprov_command,
    gitprov_version,
    log,
    machine,
    output_of,
    rotated,
    write_json,
)

from gitprov.model import commit_record, runrecord
from gitprov.model import digest as digests
from gitprov.model.notes import make_record, new_ulid

LOG_LIMIT_S = 1.0  # issue 5: a 10,000-commit lineage log in under a second
RATIO_LIMIT = 3.0  # ... and within 3x of git log --notes
RUN_EVERY = 10
SOURCE_PARTS = ("gitprov", "hooks", "templates", "pyproject.toml")  # for --gitprov-rev
T0 = 1_700_000_000  # commit times: one second apart from here


@dataclass
class Series:
    key: str
    label: str
    argv: list[str]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


# -- the repository -------------------------------------------------------------------------


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def build_repo(repo: Path, commits: int, env: Mapping[str, str]) -> dict[str, int]:
    """The benchmark repository; counts of what it holds."""
    call(["git", "init", "-q", "-b", "main", str(repo)], repo.parent, env)
    env_json = (
        json.dumps(
            {
                "container": None,
                "cpu": {"cores": 8, "memory_gib": 32, "model": "Bench CPU"},
                "env": {},
                "gpu": None,
                "packages": [f"pkg{i}==1.0" for i in range(150)],
                "platform": {
                    "libc": "glibc 2.36",
                    "machine": "x86_64",
                    "os": "Debian GNU/Linux 12",
                    "release": "6.1.0",
                    "system": "Linux",
                },
                "python": {"implementation": "CPython", "version": "3.11.7"},
                "schema": 1,
            },
            sort_keys=True,
            indent=2,
        ).encode()
        + b"\n"
    )
    env_digest = digests.from_hex(hashlib.sha256(env_json).hexdigest())
    dataset = digests.from_hex("d" * 64)
    stream: list[bytes] = []
    runs_of: dict[int, str] = {}
    checkpoints: dict[int, str] = {}
    for i in range(1, commits + 1):
        files = [(b"train.py", b"print(%d)\n" % i)]
        if i % RUN_EVERY == 0:
            checkpoint = digests.from_hex(f"{i:064x}")
            run = runrecord.RunRecord(
                id=new_ulid((T0 + i) * 1000),
                argv=("python", "train.py", "--lr", "3e-4", "--seed", str(i)),
                cwd=".",
                started_at="2024-01-01T00:00:00.000Z",
                ended_at="2024-01-01T00:10:00.000Z",
                exit_code=0,
                head=None,
                dirty=False,
                diff_digest=None,
                params={"lr": "3e-4", "epochs": "3"},
                seeds=(str(i),),
                inputs=(runrecord.ArtifactRef("data/train", "dataset", dataset),),
                outputs=(runrecord.ArtifactRef("models/m.pt", "checkpoint", checkpoint),),
                env=env_digest,
                user="Bench",
            )
            pointer = (
                f'kind = "checkpoint"\npath = "m.pt"\ndigest = "{checkpoint}"\nsize = 1000\n'
                f'files = 1\ntype = "file"\naccess = "internal"\nproduced_by = "{run.ref}"\n'
            )
            files += [
                (run.path.encode(), runrecord.dumps(run)),
                (b"models/m.pt.gitprov", pointer.encode()),
            ]
            if i == RUN_EVERY:
                files.append((f".gitprov/envs/{env_digest[7:]}.json".encode(), env_json))
            runs_of[i], checkpoints[i] = run.id, checkpoint
        stream.append(b"commit refs/heads/main\nmark :%d\n" % i)
        stream.append(b"committer Bench <bench@example.com> %d +0000\n" % (T0 + i))
        stream.append(_data(b"Commit %d" % i))
        if i > 1:
            stream.append(b"from :%d\n" % (i - 1))
        for path, content in files:
            stream.append(b"M 100644 inline " + path + b"\n" + _data(content))
    marks_file = repo / ".git" / "bench-marks"
    _fast_import(repo, b"".join(stream), env, f"--export-marks={marks_file}")
    marks = dict(line.split() for line in marks_file.read_text().splitlines())
    marks_file.unlink()

    notes = [
        b"commit refs/notes/gitprov\n",
        b"committer Bench <bench@example.com> %d +0000\n" % (T0 + commits + 1),
        _data(b"Lineage records"),
    ]
    for i in range(1, commits + 1):
        sha = marks[f":{i}"]
        run = runs_of.get(i)
        changes = (
            [commit_record.ArtifactChange("models/m.pt", "checkpoint", checkpoints[i], "modified")]
            if run
            else []
        )
        fields = commit_record.commit_fields(
            commit=sha,
            artifacts=changes,
            runs=[run] if run else [],
            decisions=["0001-adamw"] if run else [],
            checklist="passed",
            env=env_digest if run else None,
            source="post-commit",
        )
        line = make_record("commit", fields).encode() + b"\n"
        notes.append(b"N inline " + sha.encode() + b"\n" + _data(line))
    _fast_import(repo, b"".join(notes), env)
    call(["git", "gc", "--quiet"], repo, env)
    return {"commits": commits, "notes": commits, "run records": len(runs_of)}


def _fast_import(repo: Path, stream: bytes, env: Mapping[str, str], *args: str) -> None:
    proc = subprocess.run(
        ["git", "fast-import", "--quiet", *args],
        cwd=repo,
        input=stream,
        env=dict(env),
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise BenchError(f"git fast-import failed: {proc.stderr.decode(errors='replace')}")


def check_repo(
    repo: Path, env: Mapping[str, str], gitprov: list[str], counts: dict[str, int]
) -> None:
    """The log sees every record and run, and warns about nothing; git sees every note."""
    proc = subprocess.run(
        [*gitprov, "log", "--json"],
        cwd=repo,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or proc.stderr:
        raise BenchError(f"gitprov log --json failed or warned:\n{proc.stderr[-3000:]}")
    entries = json.loads(proc.stdout)
    if len(entries) != counts["commits"] or any(e["record"] is None for e in entries):
        raise BenchError("gitprov log did not find a record for every commit")
    runs = [r for e in entries for r in e["runs"]]
    if len(runs) != counts["run records"] or not all(r["found"] and r["env_summary"] for r in runs):
        raise BenchError("gitprov log did not read every run record and its environment")
    notes = call(["git", "log", "--notes=gitprov", "--format=%N"], repo, env)
    if notes.count('"type":"commit"') != counts["commits"]:
        raise BenchError("git log --notes did not show every note")


# -- timing ---------------------------------------------------------------------------------


def timed(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process, output to /dev/null."""
    with open(os.devnull, "wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0 or stderr:
        raise BenchError(f"{' '.join(argv)} failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def run_rounds(
    series: list[Series], repo: Path, env: Mapping[str, str], rounds: int, warmup: int
) -> None:
    for round_no in range(warmup + rounds):
        for row in rotated(series, round_no):
            wall, cpu = timed(row.argv, repo, env)
            if round_no >= warmup:
                row.wall.append(wall)
                row.cpu.append(cpu)
        if round_no >= warmup:
            log(f"  round {round_no - warmup + 1}/{rounds} done")


# -- report ---------------------------------------------------------------------------------


def targets(series: dict[str, Series], commits: int) -> list[Target]:
    gp, git = Stats.of(series["gitprov"].wall), Stats.of(series["git"].wall)
    scale = f" ({commits:,} commits: scaled to 10,000 commits)" if commits != 10_000 else ""
    per_10k = gp.median * 10_000 / commits
    ratio = gp.median / git.median
    return [
        Target(
            f"gitprov log --lineage over 10,000 commits under {LOG_LIMIT_S:g} s{scale}",
            f"median {per_10k:.3f} s",
            per_10k < LOG_LIMIT_S,
        ),
        Target(
            f"within {RATIO_LIMIT:g}x of git log --notes=gitprov",
            f"{ratio:.2f}x (median / median)",
            ratio <= RATIO_LIMIT,
        ),
    ]


def render(series: list[Series], found: list[Target]) -> str:
    head = f"   {'variant':<30} {'median':>9} {'min':>9} {'max':>9} {'cpu med':>9} {'ratio':>12}"
    lines = [head]
    git = Stats.of(next(s for s in series if s.key == "git").wall)
    for row in series:
        wall, cpu = Stats.of(row.wall), Stats.of(row.cpu)
        ratio = f"{wall.median / git.median:.2f}x git" if row.key != "git" else ""
        lines.append(
            f"   {row.label:<30} {wall.median:8.3f}s {wall.minimum:8.3f}s {wall.maximum:8.3f}s "
            f"{cpu.median:8.3f}s {ratio:>12}"
        )
    lines.append("   (wall times; cpu med = median user+system CPU of the child; ratio of medians)")
    lines += ["", "targets"]
    lines += [f"   {VERDICTS[t.met]:<6} {t.text}: {t.measured}" for t in found]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--commits", type=int, default=10_000, help="history length (10,000)")
    parser.add_argument("--runs", type=int, default=10, help="timed rounds (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (2)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument("--workdir", type=Path, help="where the temp directory goes")
    parser.add_argument("--gitprov-rev", metavar="REV", help="measure gitprov as committed at REV")
    args = parser.parse_args(argv)
    if args.commits < RUN_EVERY or args.runs < 1 or args.warmup < 0:
        parser.error(f"--commits must be at least {RUN_EVERY}, --runs at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gitprov-bench-log-", dir=args.workdir))
    started = time.perf_counter()
    notes: list[str] = []
    try:
        env = bench_env(work)
        if args.gitprov_rev:
            src = work / "gitprov-src"
            src.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO_ROOT), "archive", args.gitprov_rev, *SOURCE_PARTS],
                capture_output=True,
                check=True,
            )
            subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
            env["PYTHONPATH"] = str(src)
            rev = call(["git", "rev-parse", "--short", args.gitprov_rev], REPO_ROOT, os.environ)
            notes.append(f"gitprov: {args.gitprov_rev} = {rev.strip()}, first on PYTHONPATH")
        gitprov = gitprov_command()
        repo = work / "repo"
        log(f"building {args.commits:,} commits with git fast-import...")
        build_started = time.perf_counter()
        counts = build_repo(repo, args.commits, env)
        build_s = time.perf_counter() - build_started
        check_repo(repo, env, gitprov, counts)
        pygit2 = "import pygit2; print(pygit2.__version__, 'libgit2', pygit2.LIBGIT2_VERSION)"
        versions = {
            "gitprov": gitprov_version(env),
            "git": git_version(env),
            "pygit2": output_of([sys.executable, "-c", pygit2]),
        }
        info = machine(work)
        series = [
            Series("gitprov", "gitprov log --lineage", [*gitprov, "log", "--lineage"]),
            Series("git", "git log --notes=gitprov", ["git", "log", "--notes=gitprov"]),
            Series("first", "gitprov log -n 1", [*gitprov, "log", "-n", "1"]),
            Series("startup", "gitprov --version", [*gitprov, "--version"]),
        ]
        log(f"timing {args.runs} rounds after {args.warmup} warm-up rounds...")
        run_rounds(series, repo, env, args.runs, args.warmup)
        elapsed = time.perf_counter() - started
    finally:
        log(f"removing {work}...")
        shutil.rmtree(work, ignore_errors=True)

    found = targets({s.key: s for s in series}, args.commits)
    settings = {
        "commits": f"{counts['commits']:,} (run records: {counts['run records']:,})",
        "rounds": f"{args.runs} (+{args.warmup} warm-up)",
        "build": f"{build_s:.1f} s (fast-import + git gc)",
        "elapsed": f"{elapsed:.0f} s",
    }
    lines = ["gitprov lineage log benchmark", "", "  versions"]
    lines += [f"    {k:<20} {v or 'not available'}" for k, v in versions.items()]
    lines += ["  machine"] + [f"    {k:<20} {v}" for k, v in info.items()]
    lines += ["  settings"] + [f"    {k:<20} {v}" for k, v in settings.items()]
    lines += [f"    {note}" for note in notes]
    print("\n".join(lines))
    print()
    print(render(series, found))
    if args.json is not None:
        result: dict[str, Any] = {
            "benchmark": "lineage_log",
            "settings": settings,
            "versions": versions,
            "machine": info,
            "notes": notes,
            "series": {
                s.key: {
                    "label": s.label,
                    "wall": vars(Stats.of(s.wall)),
                    "cpu": vars(Stats.of(s.cpu)),
                    "wall_samples": s.wall,
                    "cpu_samples": s.cpu,
                }
                for s in series
            },
            "targets": [vars(t) for t in found],
        }
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
