"""The artifact store against the tools it replaces: hashing, snapshots, status, memory.

Run from the repository root with the interpreter gitprov is installed in::

    .venv/bin/python bench/artifacts.py [--quick] [--runs N] [--json FILE] [--workdir DIR]

It installs what it compares against, so anyone can rerun it: DVC from PyPI into a venv
of its own under ``bench/results/tools/dvc-venv`` (reused when present; git-ignored), and
git-lfs from Debian (``apt-get install -y git-lfs``) when ``git lfs version`` fails and
apt-get can be run as root; otherwise those rows are skipped and the report says why.
``--no-install`` installs nothing.

Scenarios (the targets are issue 3's):

1. one 1 GiB file of random bytes: bare ``hashlib.sha256`` (a child Python, ``readinto``
   loop, 1 MiB buffer), ``gitprov track`` in its default link mode (``auto``: reflink,
   else copy) and with ``[cache] link = "hardlink"``, ``dvc add``, ``git lfs track`` +
   ``git add``, coreutils ``sha256sum``. Target: gitprov within 1.5x of hashlib;
2. 20,000 files of 4 KiB (20 x 10 x 100 folders), cold (fresh repository, empty cache
   and stat cache): ``gitprov track DIR`` (default and hardlink), ``dvc add DIR``, and
   ``git add DIR`` + ``git commit`` for scale. Target: at least 3x faster than dvc add;
3. re-status of that directory, unchanged: ``gitprov status`` against ``dvc status``.
   Targets: under 0.3 s, and at least 3x faster than dvc status;
4. peak memory while tracking a 4 GiB file of random bytes. Target: under 150 MB.

Every variant is timed as whole commands in child processes (wall clock around them,
``time.perf_counter``; process start included), the variants interleaved round by round
with the order rotating, after one untimed warm-up round; medians over the runs, min and
max beside them. Peak memory is GNU time's ``%M`` (the child's ``ru_maxrss``). Nothing is
dropped from the page cache: every file is read once before timing, so all variants see a
warm cache; ``os.sync()`` runs before each timed run so that no run pays for the previous
one's writeback. Each gitprov, DVC and git run uses a fresh repository. Data lives in a
temp directory (under ``--workdir`` if given) that is removed at the end. Standard library
plus gitprov; not part of the test run. bench/README.md explains the output.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from _common import (
    DEFAULT_TOOLS,
    GIB,
    MB,
    MIB,
    VERDICTS,
    BenchError,
    Stats,
    Target,
    bench_env,
    call,
    ensure_dvc,
    git_version,
    gitprov_command,
    gitprov_version,
    human,
    log,
    machine,
    output_of,
    read_tree,
    rotated,
    write_json,
    write_random_file,
    write_tree,
)

RACY_PAUSE_S = 1.2  # > gitprov's 1 s racy-mtime window (adapters/statcache.py)

# Issue 3's targets.
TRACK_VS_HASHLIB = 1.5
SNAPSHOT_VS_DVC = 3.0
STATUS_LIMIT_S = 0.3
STATUS_VS_DVC = 3.0
MEMORY_LIMIT_MB = 150.0

HASHLIB_CODE = (
    "import hashlib, sys\n"
    "h = hashlib.sha256(); buf = bytearray(1 << 20); view = memoryview(buf)\n"
    "with open(sys.argv[1], 'rb', buffering=0) as f:\n"
    "    while n := f.readinto(buf):\n"
    "        h.update(view[:n])\n"
    "print(h.hexdigest())\n"
)


@dataclass(frozen=True)
class Sizes:
    """How big and how many: full run or ``--quick``."""

    big: int  # scenario 1 file
    huge: int  # scenario 4 file
    tree: tuple[int, int, int]  # top folders, sub-folders each, files each
    file_size: int
    runs: int
    memory_runs: int

    @property
    def tree_files(self) -> int:
        top, sub, files = self.tree
        return top * sub * files


FULL = Sizes(big=GIB, huge=4 * GIB, tree=(20, 10, 100), file_size=4096, runs=5, memory_runs=3)
QUICK = Sizes(big=64 * MIB, huge=256 * MIB, tree=(4, 5, 50), file_size=4096, runs=3, memory_runs=2)


# -- running commands -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One timed run: wall time of all its commands, their peak RSS, their output."""

    seconds: float
    max_rss_kib: int
    stdout: str


def run_timed(commands: Sequence[Sequence[str]], cwd: Path, env: Mapping[str, str]) -> Outcome:
    """Run ``commands`` one after the other under GNU time; wall time around all of them.

    Output goes to temp files opened beforehand and read after the clock stops. Peak RSS
    is the largest ``%M`` (the command's ``ru_maxrss``, children it waited for included)
    that GNU time reports for the commands.
    """
    with ExitStack() as stack:
        files: list[tuple[IO[bytes], IO[bytes], IO[bytes]]] = [
            (
                stack.enter_context(tempfile.TemporaryFile()),
                stack.enter_context(tempfile.TemporaryFile()),
                stack.enter_context(tempfile.NamedTemporaryFile()),
            )
            for _ in commands
        ]
        started = time.perf_counter()
        for argv, (out, err, peak) in zip(commands, files, strict=True):
            code = subprocess.call(
                [GNU_TIME, "-f", "%M", "-o", peak.name, *argv],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
            if code != 0:
                out.seek(0)
                err.seek(0)
                raise BenchError(
                    f"'{' '.join(argv)}' failed in {cwd} (exit {code}):\n"
                    f"{out.read().decode(errors='replace')}{err.read().decode(errors='replace')}"
                )
        elapsed = time.perf_counter() - started
        stdout, rss = "", 0
        for out, _, peak in files:
            out.seek(0)
            stdout += out.read().decode(errors="replace")
            rss = max(rss, int(peak.read().decode().split()[-1]))
    return Outcome(elapsed, rss, stdout)


# -- the tools compared -----------------------------------------------------------------

GNU_TIME = "/usr/bin/time"


@dataclass
class Tools:
    """How to run each tool, and which are missing (with the reason)."""

    gitprov: list[str]
    dvc: list[str] | None = None
    lfs: bool = False
    notes: list[str] = field(default_factory=list)


def apt_install(package: str) -> str | None:
    """``apt-get update`` + ``apt-get install -y package``; None, or why it failed."""
    if shutil.which("apt-get") is None:
        return "apt-get is unavailable"
    if os.geteuid() != 0:
        return "installing it needs root"
    log(f"installing {package} with apt-get (apt-get update; apt-get install -y {package})...")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", package]):
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            return f"'{' '.join(argv)}' failed ({' '.join(tail)})"
    return None


def ensure_git_lfs(*, install: bool) -> tuple[bool, str]:
    """git-lfs on PATH, from Debian's package when missing and we may install it."""
    if output_of(["git", "lfs", "version"]) is not None:
        return True, "found on PATH"
    if not install:
        return False, "git-lfs is not installed and --no-install was given: git-lfs rows skipped"
    failure = apt_install("git-lfs")
    if failure is not None:
        return False, f"git-lfs is missing and {failure}: git-lfs rows skipped"
    if output_of(["git", "lfs", "version"]) is None:
        return False, "git-lfs installed but 'git lfs version' fails: git-lfs rows skipped"
    return True, "installed with apt-get"


def setup_tools(args: argparse.Namespace) -> Tools:
    for tool in ("git", "sha256sum"):
        if shutil.which(tool) is None:
            raise SystemExit(f"artifacts: {tool} is not on PATH")
    if not os.access(GNU_TIME, os.X_OK):
        failure = "--no-install was given" if args.no_install else apt_install("time")
        if failure is not None:
            raise SystemExit(f"artifacts: GNU time ({GNU_TIME}) is missing and {failure}")
    tools = Tools(gitprov_command())
    tools.dvc, dvc_note = ensure_dvc(args.tools_dir, args.dvc_spec, install=not args.no_install)
    tools.lfs, lfs_note = ensure_git_lfs(install=not args.no_install)
    tools.notes += [f"dvc: {dvc_note}", f"git-lfs: {lfs_note}"]
    return tools


def versions(tools: Tools, env: Mapping[str, str]) -> dict[str, str | None]:
    """Versions of the tools compared; for gitprov, also which copy was measured."""
    return {
        "gitprov": gitprov_version(env),
        "dvc": output_of([*tools.dvc, "--version"], env) if tools.dvc else None,
        "git": git_version(env),
        "git-lfs": output_of(["git", "lfs", "version"], env) if tools.lfs else None,
        "sha256sum": output_of(["sha256sum", "--version"]),
    }


# -- data -------------------------------------------------------------------------------


def read_through(path: Path) -> float:
    """Read a file once (the warm-up read that puts it in the page cache); seconds."""
    started = time.perf_counter()
    buf = bytearray(MIB)
    with open(path, "rb", buffering=0) as handle:
        while handle.readinto(buf):
            pass
    return time.perf_counter() - started


# -- results ----------------------------------------------------------------------------


@dataclass
class Series:
    """The timed runs of one variant."""

    key: str
    label: str
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.seconds.append(outcome.seconds)
        self.rss_kib.append(outcome.max_rss_kib)

    @property
    def stats(self) -> Stats:
        return Stats.of(self.seconds)

    @property
    def median(self) -> float:
        return self.stats.median

    @property
    def peak_mb(self) -> float:
        return max(self.rss_kib) * 1024 / MB

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            **{f"{key}_s": value for key, value in vars(self.stats).items() if key != "runs"},
            "runs": len(self.seconds),
            "peak_rss_mb": self.peak_mb,
            "samples_s": self.seconds,
            "samples_rss_kib": self.rss_kib,
        }


@dataclass
class Scenario:
    """One table of the report."""

    key: str
    title: str
    notes: list[str]
    series: list[Series]
    reference: str | None  # key of the row the ratios are against
    ratio_label: str = "ratio"
    throughput_bytes: int | None = None  # adds a MB/s column
    targets: list[Target] = field(default_factory=list)

    def get(self, key: str | None) -> Series | None:
        return next((s for s in self.series if s.key == key and s.seconds), None)

    def speed_target(self, key: str, text: str, *, at_least: float) -> None:
        """Target: the reference's median is at least ``at_least`` times ``key``'s."""
        row, ref = self.get(key), self.get(self.reference)
        if row is None:
            return
        if ref is None:
            self.targets.append(Target(text, "n/a (reference tool missing)", None))
            return
        speedup = ref.median / row.median
        self.targets.append(Target(text, f"{speedup:.2f}x faster", speedup >= at_least))


# -- repositories and runs --------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    work: Path
    env: dict[str, str]
    tools: Tools
    sizes: Sizes


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    needs: str | None = None  # "dvc" | "lfs" | None


DEFAULT_LINK_LABEL = 'link "auto" (default)'


def available(ctx: Ctx, variant: Variant) -> bool:
    return (
        variant.needs is None
        or (variant.needs == "dvc" and ctx.tools.dvc is not None)
        or (variant.needs == "lfs" and ctx.tools.lfs)
    )


def git_repo(ctx: Ctx, repo: Path) -> None:
    repo.mkdir(parents=True)
    call(["git", "init", "-q"], repo, ctx.env)


def gitprov_repo(ctx: Ctx, repo: Path, variant_key: str) -> None:
    """A repository after ``gitprov init``; ``gitprov-hardlink`` also sets the link mode,
    ``gitprov-auto`` leaves gitprov's default."""
    git_repo(ctx, repo)
    call([*ctx.tools.gitprov, "init"], repo, ctx.env)
    config = repo / ".gitprov" / "config.toml"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if "cache" in tomllib.loads(text):
        raise BenchError(f"{config} already has a [cache] table; the benchmark sets its own")
    if variant_key == "gitprov-hardlink":
        config.write_text(text + '\n[cache]\nlink = "hardlink"\n', encoding="utf-8")


def dvc_repo(ctx: Ctx, repo: Path) -> None:
    git_repo(ctx, repo)
    call([*(ctx.tools.dvc or []), "init", "-q"], repo, ctx.env)


def pointer(repo: Path, name: str) -> dict[str, Any]:
    return tomllib.loads((repo / f"{name}.gitprov").read_text(encoding="utf-8"))


def cache_object(repo: Path, digest: str) -> Path:
    hexdigest = digest.removeprefix("sha256:")
    return repo / ".git" / "gitprov" / "objects" / "sha256" / hexdigest[:2] / hexdigest[2:]


def tracking_repo(ctx: Ctx, variant: Variant, repo: Path, target: str) -> list[list[str]] | None:
    """For a gitprov or DVC variant: create its fresh repository and return the command
    that tracks ``target`` in it. None for the other variants."""
    if variant.key.startswith("gitprov"):
        gitprov_repo(ctx, repo, variant.key)
        return [[*ctx.tools.gitprov, "track", target]]
    if variant.key == "dvc":
        dvc_repo(ctx, repo)
        return [[*(ctx.tools.dvc or []), "add", "-q", target]]
    return None


@contextmanager
def moved_in(source: Path, dest: Path) -> Iterator[Path]:
    """Move ``source`` to ``dest`` (a rename: same inode, pages stay cached) and back."""
    os.rename(source, dest)
    try:
        yield dest
    finally:
        os.rename(dest, source)


def interleave(
    ctx: Ctx, tag: str, variants: Sequence[Variant], runs: int, run: Callable[[Variant], Outcome]
) -> list[Series]:
    """One untimed warm-up round, then ``runs`` timed rounds, rotating the order."""
    chosen = [v for v in variants if available(ctx, v)]
    series = {v.key: Series(v.key, v.label) for v in chosen}
    for round_no in range(runs + 1):
        for variant in rotated(chosen, round_no):
            outcome = run(variant)
            label = "warm-up" if round_no == 0 else f"run {round_no}/{runs}"
            log(
                f"[{tag}] {label:<9} {variant.key:<17} {outcome.seconds:8.3f} s "
                f"{outcome.max_rss_kib / 1024:7.1f} MiB"
            )
            if round_no:
                series[variant.key].add(outcome)
    return list(series.values())


# -- scenarios 1 and 4: one big file ------------------------------------------------------

FILE_VARIANTS = (
    Variant("hashlib", "hashlib.sha256 (child python, readinto, 1 MiB)"),
    Variant("gitprov-auto", f"gitprov track, {DEFAULT_LINK_LABEL}"),
    Variant("gitprov-hardlink", 'gitprov track, link "hardlink"'),
    Variant("dvc", "dvc add (default cache.type reflink,copy)", "dvc"),
    Variant("lfs", "git lfs track + git add (clean filter)", "lfs"),
    Variant("sha256sum", "sha256sum (coreutils)"),
)
NAME = "model.bin"


def file_run(ctx: Ctx, variant: Variant, master: Path, hexdigest: str, run_dir: Path) -> Outcome:
    """Set up a fresh repository, move the file in, time the variant, check, move it out."""
    repo = run_dir / "repo"
    commands = tracking_repo(ctx, variant, repo, NAME)
    if variant.key == "lfs":
        git_repo(ctx, repo)
        commands = [["git", "lfs", "track", "*.bin"], ["git", "add", ".gitattributes", NAME]]
    elif commands is None:  # a bare hash: no repository
        repo.mkdir(parents=True)
        hasher = (
            ["sha256sum"] if variant.key == "sha256sum" else [sys.executable, "-c", HASHLIB_CODE]
        )
        commands = [[*hasher, NAME]]
    with moved_in(master, repo / NAME) as file:
        os.sync()  # nobody pays for the setup's (or the previous run's) writeback
        try:
            outcome = run_timed(commands, repo, ctx.env)
            check_file_run(ctx, variant, repo, file=file, hexdigest=hexdigest, outcome=outcome)
        finally:
            os.chmod(file, 0o644)  # hardlink mode made it read-only
    return outcome


def check_file_run(
    ctx: Ctx, variant: Variant, repo: Path, *, file: Path, hexdigest: str, outcome: Outcome
) -> None:
    """Fail loudly unless the variant did what its name says."""
    if variant.key.startswith("gitprov"):
        digest = pointer(repo, NAME)["digest"]
        if digest != f"sha256:{hexdigest}":
            raise BenchError(f"gitprov recorded {digest}, expected sha256:{hexdigest}")
        shared = os.stat(cache_object(repo, digest)).st_ino == os.stat(file).st_ino
        if shared != (variant.key == "gitprov-hardlink"):
            raise BenchError(f"{variant.key}: cache object shares the inode: {shared}")
    elif variant.key == "dvc":
        if "md5:" not in (repo / f"{NAME}.dvc").read_text(encoding="utf-8"):
            raise BenchError("dvc add wrote no md5")
    elif variant.key == "lfs":
        blob = call(["git", "cat-file", "-p", f":{NAME}"], repo, ctx.env)
        if f"oid sha256:{hexdigest}" not in blob:
            raise BenchError(f"git-lfs did not store {NAME} as an LFS pointer:\n{blob}")
    elif outcome.stdout.split()[:1] != [hexdigest]:
        raise BenchError(f"{variant.key} printed {outcome.stdout!r}, expected {hexdigest}")


def big_file_scenario(
    ctx: Ctx, key: str, title: str, *, size: int, runs: int, variants: Sequence[Variant]
) -> Scenario:
    """Generate the file, read it once (warm page cache), then interleave the variants."""
    data = ctx.work / f"s{key}-data"
    data.mkdir()
    master = data / NAME
    log(f"[s{key}] writing {human(size)} of random bytes (os.urandom)...")
    hexdigest = write_random_file(master, size)
    os.sync()
    warm = read_through(master)

    def run(variant: Variant) -> Outcome:
        run_dir = ctx.work / f"s{key}-run"
        try:
            return file_run(ctx, variant, master, hexdigest, run_dir)
        finally:
            shutil.rmtree(run_dir, ignore_errors=True)  # a few inodes and the copy

    series = interleave(ctx, f"s{key}", variants, runs, run)
    shutil.rmtree(data)
    os.sync()
    notes = [
        f"{runs} runs per variant after one warm-up round, interleaved",
        "warm page cache: nothing dropped; the file was read once before timing "
        f"({size / MB / warm:.0f} MB/s from the page cache)",
        "each gitprov/DVC/git run in a fresh repository with an empty cache",
        "time = wall clock of the whole command(s), process start included",
        'link "auto" (the default) is reflink, else copy: a copy on a file system without '
        "reflinks; hardlink shares the inode (checked after each run)",
    ]
    return Scenario(
        key, title, notes, series, "hashlib", ratio_label="vs hashlib", throughput_bytes=size
    )


def scenario_one(ctx: Ctx) -> Scenario:
    size = ctx.sizes.big
    scenario = big_file_scenario(
        ctx,
        "1",
        f"Hash / track one {human(size)} file of random bytes",
        size=size,
        runs=ctx.sizes.runs,
        variants=FILE_VARIANTS,
    )
    hashlib_row = scenario.get("hashlib")
    for key, mode in (("gitprov-auto", "default link mode"), ("gitprov-hardlink", "hardlink")):
        row = scenario.get(key)
        if hashlib_row and row:
            ratio = row.median / hashlib_row.median
            scenario.targets.append(
                Target(
                    f"gitprov track ({mode}) within {TRACK_VS_HASHLIB}x of bare hashlib sha256",
                    f"{ratio:.2f}x",
                    ratio <= TRACK_VS_HASHLIB,
                )
            )
    return scenario


def scenario_four(ctx: Ctx) -> Scenario:
    size = ctx.sizes.huge
    keys = ("hashlib", "gitprov-auto", "gitprov-hardlink", "dvc")
    scenario = big_file_scenario(
        ctx,
        "4",
        f"Peak memory: track one {human(size)} file of random bytes",
        size=size,
        runs=ctx.sizes.memory_runs,
        variants=[v for v in FILE_VARIANTS if v.key in keys],
    )
    scenario.notes.insert(1, "peak RSS: GNU time %M (the command's ru_maxrss)")
    for row in scenario.series:
        if row.key.startswith("gitprov"):
            scenario.targets.append(
                Target(
                    f"{row.label}: peak RSS under {MEMORY_LIMIT_MB:g} MB",
                    f"{row.peak_mb:.1f} MB",
                    row.peak_mb < MEMORY_LIMIT_MB,
                )
            )
    return scenario


# -- scenario 2: many small files, cold ---------------------------------------------------

TREE_VARIANTS = (
    Variant("gitprov-auto", f"gitprov track DIR, {DEFAULT_LINK_LABEL}"),
    Variant("gitprov-hardlink", 'gitprov track DIR, link "hardlink"'),
    Variant("dvc", "dvc add DIR", "dvc"),
    Variant("git", "git add DIR && git commit (for scale)"),
)
DATA = "data"


def tree_run(ctx: Ctx, variant: Variant, dataset: Path, run_dir: Path) -> Outcome:
    repo = run_dir / "repo"
    commands = tracking_repo(ctx, variant, repo, DATA)
    if commands is None:
        git_repo(ctx, repo)
        commands = [["git", "add", DATA], ["git", "commit", "-q", "-m", "add data"]]
    with moved_in(dataset, repo / DATA):
        os.sync()
        try:
            outcome = run_timed(commands, repo, ctx.env)
            if variant.key.startswith("gitprov"):
                recorded = pointer(repo, DATA)["files"]
            elif variant.key == "dvc":
                text = (repo / f"{DATA}.dvc").read_text(encoding="utf-8")
                recorded = int(text.split("nfiles:")[1].split()[0])
            else:
                recorded = len(call(["git", "ls-files", DATA], repo, ctx.env).splitlines())
            if recorded != ctx.sizes.tree_files:
                raise BenchError(
                    f"{variant.key} recorded {recorded} files, expected {ctx.sizes.tree_files}"
                )
        finally:
            if variant.key == "gitprov-hardlink":  # it made every file read-only
                for folder, _, names in os.walk(repo / DATA):
                    for name in names:
                        os.chmod(Path(folder, name), 0o644)
    return outcome


def scenario_two(ctx: Ctx, dataset: Path) -> Scenario:
    sizes = ctx.sizes
    count = 0

    def run(variant: Variant) -> Outcome:
        # Run directories are kept until the end, so that no timed run overlaps the
        # deletion of an earlier run's 20,000 files (or 40,000 with the cache).
        nonlocal count
        count += 1
        return tree_run(ctx, variant, dataset, ctx.work / f"s2-run{count:02d}-{variant.key}")

    series = interleave(ctx, "s2", TREE_VARIANTS, sizes.runs, run)
    top, sub, files = sizes.tree
    scenario = Scenario(
        "2",
        f"Cold snapshot of {sizes.tree_files:,} files of {sizes.file_size // 1024} KiB "
        f"({top} x {sub} folders x {files} files)",
        [
            f"{sizes.runs} runs per variant after one warm-up round, interleaved",
            "cold = fresh repository, empty object cache and stat cache; warm page cache",
            'link "auto" (the default) is reflink, else copy: a copy on a file system '
            "without reflinks",
            "the same dataset directory is moved (renamed) into each run's repository",
        ],
        series,
        reference="dvc",
        ratio_label="vs dvc add",
    )
    for key, mode in (("gitprov-auto", "default link mode"), ("gitprov-hardlink", "hardlink")):
        scenario.speed_target(
            key,
            f"gitprov track DIR ({mode}) at least {SNAPSHOT_VS_DVC:g}x faster than dvc add",
            at_least=SNAPSHOT_VS_DVC,
        )
    return scenario


# -- scenario 3: unchanged re-status ------------------------------------------------------


def scenario_three(ctx: Ctx, dataset: Path) -> Scenario:
    """gitprov status against dvc status on the same, unchanged copy of the dataset,
    tracked once beforehand (untimed); each tool's bare start-up for scale."""
    repos = {
        "gitprov": ctx.work / "s3-gitprov" / "repo",
        "gitprov-10": ctx.work / "s3-gitprov-10" / "repo",
    }
    for key in ("gitprov", "gitprov-10"):
        gitprov_repo(ctx, repos[key], "gitprov-auto")
    if ctx.tools.dvc is not None:
        repos["dvc"] = ctx.work / "s3-dvc" / "repo"
        repos["dvc-10"] = ctx.work / "s3-dvc-10" / "repo"
        for key in ("dvc", "dvc-10"):
            dvc_repo(ctx, repos[key])
    for repo in repos.values():
        shutil.copytree(dataset, repo / DATA)  # copy2: mtimes kept
    time.sleep(RACY_PAUSE_S)  # the copies are older than gitprov's racy-mtime window
    log("[s3] tracking the dataset in every repository (untimed)...")
    for key, repo in repos.items():
        tool = ctx.tools.gitprov if key.startswith("gitprov") else (ctx.tools.dvc or [])
        call([*tool, "track" if key.startswith("gitprov") else "add", DATA], repo, ctx.env)
    # "After changing 10 files": the same 10 files rewritten in both "-10" copies.
    changed = sorted(p for p in (dataset).rglob("*") if p.is_file())[
        :: max(1, ctx.sizes.tree_files // 10)
    ][:10]
    for key in ("gitprov-10", "dvc-10"):
        if key in repos:
            for source in changed:
                target = repos[key] / DATA / source.relative_to(dataset)
                target.write_bytes(b"changed " + source.read_bytes()[8:])
    time.sleep(RACY_PAUSE_S)
    os.sync()

    commands = {
        "gitprov": [*ctx.tools.gitprov, "status"],
        "dvc": [*(ctx.tools.dvc or []), "status"],
        "gitprov-10": [*ctx.tools.gitprov, "status"],
        "dvc-10": [*(ctx.tools.dvc or []), "status"],
        "gitprov-start": [*ctx.tools.gitprov, "--version"],
        "dvc-start": [*(ctx.tools.dvc or []), "--version"],
    }
    variants = [
        Variant("gitprov", "gitprov status (unchanged)"),
        Variant("dvc", "dvc status (unchanged)", "dvc"),
        Variant("gitprov-10", "gitprov status (10 files changed)"),
        Variant("dvc-10", "dvc status (10 files changed)", "dvc"),
        Variant("gitprov-start", "reference: gitprov --version (start-up only)"),
        Variant("dvc-start", "reference: dvc --version (start-up only)", "dvc"),
    ]

    def run(variant: Variant) -> Outcome:
        repo = repos[variant.key.removesuffix("-start")]
        outcome = run_timed([commands[variant.key]], repo, ctx.env)
        ok = {
            "gitprov": outcome.stdout.startswith("unchanged") and outcome.stdout.count("\n") == 1,
            "dvc": "up to date" in outcome.stdout,
            "gitprov-10": outcome.stdout.startswith("modified")
            and outcome.stdout.count("changed:") == 10,
            "dvc-10": "modified" in outcome.stdout,
        }.get(variant.key, True)
        if not ok:
            raise BenchError(f"unexpected output of {variant.label}:\n{outcome.stdout}")
        return outcome

    series = interleave(ctx, "s3", variants, ctx.sizes.runs, run)
    scenario = Scenario(
        "3",
        f"Re-status of the {ctx.sizes.tree_files:,}-file directory, unchanged and after "
        "changing 10 files",
        [
            f"{ctx.sizes.runs} runs each after one warm-up round, interleaved; warm page cache",
            "both repositories hold the same copy of the dataset, tracked once (untimed)",
        ],
        series,
        reference="dvc",
        ratio_label="vs dvc status",
    )
    row = scenario.get("gitprov")
    if row is not None:
        scenario.targets.append(
            Target(
                f"gitprov status (unchanged) under {STATUS_LIMIT_S} s",
                f"{row.median:.3f} s",
                row.median < STATUS_LIMIT_S,
            )
        )
    scenario.speed_target(
        "gitprov",
        f"gitprov status (unchanged) at least {STATUS_VS_DVC:g}x faster than dvc status",
        at_least=STATUS_VS_DVC,
    )
    return scenario


# -- report -----------------------------------------------------------------------------


def render(scenario: Scenario) -> list[str]:
    lines = ["", f"{scenario.key}. {scenario.title}"]
    lines += [f"   - {note}" for note in scenario.notes]
    ref = scenario.get(scenario.reference)
    head = f"   {'variant':<52} {'median':>9} {'min':>9} {'max':>9} {scenario.ratio_label:>14}"
    if scenario.throughput_bytes:
        head += f" {'MB/s':>7}"
    lines.append(head + f" {'peak RSS':>9}")
    for row in scenario.series:
        if not row.seconds:
            continue
        stats = row.stats
        ratio = f"{stats.median / ref.median:.2f}x" if ref else "-"
        line = (
            f"   {row.label:<52} {stats.median:8.3f}s {stats.minimum:8.3f}s "
            f"{stats.maximum:8.3f}s {ratio:>14}"
        )
        if scenario.throughput_bytes:
            line += f" {scenario.throughput_bytes / MB / stats.median:7.0f}"
        lines.append(line + f" {row.peak_mb:6.1f} MB")
    if ref is not None:
        lines.append(f"   (ratio = median / median of '{ref.label}')")
    for target in scenario.targets:
        lines.append(f"   target: {target.text}: {target.measured} -> {VERDICTS[target.met]}")
    return lines


def header(info: Mapping[str, Any], tool_versions: Mapping[str, str | None], tools: Tools) -> str:
    lines = ["gitprov artifact store benchmark", "", "  versions"]
    lines += [f"    {key:<20} {value or 'not available'}" for key, value in tool_versions.items()]
    lines += ["  machine"] + [f"    {key:<20} {value}" for key, value in info.items()]
    lines += ["  tools"] + [f"    {note}" for note in tools.notes]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="64 MiB / 256 MiB files, 1,000 small files, 3 runs (a smoke test, not figures)",
    )
    parser.add_argument(
        "--runs", type=int, help="timed runs per variant, every scenario (default 5/3/3; quick 3/2)"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument(
        "--workdir", type=Path, help="where the temp directory goes (default: the system temp)"
    )
    parser.add_argument(
        "--tools-dir",
        type=Path,
        default=DEFAULT_TOOLS,
        help="where the DVC venv is created or reused (default bench/results/tools)",
    )
    parser.add_argument("--dvc-spec", default="dvc", help="pip requirement for DVC (default dvc)")
    parser.add_argument(
        "--no-install", action="store_true", help="install nothing; skip missing tools"
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=("1", "2", "3", "4"),
        help="run only these scenarios (repeatable; 3 uses 2's dataset, not its runs)",
    )
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def run_scenarios(ctx: Ctx, wanted: set[str]) -> dict[str, Scenario]:
    """Small files first (their run directories stay until the end), then the big files."""
    scenarios: dict[str, Scenario] = {}
    if wanted & {"2", "3"}:
        dataset = ctx.work / "s2-data" / DATA
        log(f"[s2] writing {ctx.sizes.tree_files:,} files of {ctx.sizes.file_size} bytes...")
        write_tree(dataset, ctx.sizes.tree, ctx.sizes.file_size)
        time.sleep(RACY_PAUSE_S)  # older than gitprov's racy-mtime window
        os.sync()
        read_tree(dataset)
        if "2" in wanted:
            scenarios["2"] = scenario_two(ctx, dataset)
        if "3" in wanted:
            scenarios["3"] = scenario_three(ctx, dataset)
    if "1" in wanted:
        scenarios["1"] = scenario_one(ctx)
    if "4" in wanted:
        scenarios["4"] = scenario_four(ctx)
    return {key: scenarios[key] for key in sorted(scenarios)}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.runs is not None:
        sizes = dataclasses.replace(sizes, runs=args.runs, memory_runs=args.runs)
    tools = setup_tools(args)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gitprov-bench-artifacts-", dir=args.workdir))
    started = time.perf_counter()
    try:
        env = bench_env(work)
        if tools.lfs:
            call(["git", "lfs", "install", "--skip-repo"], work, env)  # the private config
        info, tool_versions = machine(work), versions(tools, env)
        print(header(info, tool_versions, tools), flush=True)
        ctx = Ctx(work, env, tools, sizes)
        scenarios = run_scenarios(ctx, set(args.scenario or ("1", "2", "3", "4")))
        elapsed = time.perf_counter() - started
    finally:
        log(f"removing {work}...")
        shutil.rmtree(work, ignore_errors=True)

    settings = {
        "mode": "quick" if args.quick else "full",
        "runs": sizes.runs,
        "memory runs": sizes.memory_runs,
        "workdir": str(work),
        "elapsed": f"{elapsed:.0f} s",
    }
    lines = ["  settings"] + [f"    {key:<20} {value}" for key, value in settings.items()]
    for scenario in scenarios.values():
        lines += render(scenario)
    lines += ["", "targets"]
    lines += [
        f"   {VERDICTS[t.met]:<6} {t.text}: {t.measured}"
        for scenario in scenarios.values()
        for t in scenario.targets
    ]
    print("\n".join(lines))
    if args.json is not None:
        result = {
            "benchmark": "artifacts",
            "settings": settings,
            "sizes": dataclasses.asdict(sizes),
            "versions": tool_versions,
            "machine": info,
            "tools": tools.notes,
            "scenarios": {
                key: {
                    "title": s.title,
                    "notes": s.notes,
                    "reference": s.reference,
                    "series": {row.key: row.summary() for row in s.series if row.seconds},
                    "targets": [vars(t) for t in s.targets],
                }
                for key, s in scenarios.items()
            },
        }
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
