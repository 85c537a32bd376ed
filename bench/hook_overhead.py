"""How much time gitprov's installed hooks add to ``git commit``.

Run from the repository root with the interpreter gitprov is installed in::

    .venv/bin/python bench/hook_overhead.py [--runs N] [--warmup N] [--json FILE]

It creates throw-away repositories with a real ``git init`` and an isolated git config
(``GIT_CONFIG_GLOBAL`` pointing at a temp file, ``GIT_CONFIG_NOSYSTEM=1``), then times
``git commit --allow-empty -q -m x`` in each of them:

- ``no hooks``: a plain repository (git's ``*.sample`` hooks only, which never run);
- ``foreign hook only``: only a trivial ``#!/bin/sh`` pre-commit hook, no gitprov (the
  cost of the foreign hook itself, to read the next variant against);
- ``gitprov``: after ``python -m gitprov init`` run with this interpreter, so the shims
  exec it;
- ``gitprov + chained hook``: the trivial pre-commit hook was there before ``init``,
  which kept it as ``pre-commit.gitprov-legacy``; gitprov's entry point runs it.

For reference it also times a bare interpreter start (``python -c pass``), and the
post-commit hook alone as the shim runs it (``python -c "...hookrun main()" post-commit``)
right after a commit made with hooks switched off (untimed), so that every timed run
records a new commit: issue 5's target is under 50 ms median for that.

Variants are interleaved run by run (the order rotates each round) after a few warm-up
rounds, so machine noise spreads over all of them. Every sample is a wall-clock time
measured around the child process, so the cost of starting it is included. Python's
bytecode cache is on (in the temp directory) unless ``--no-bytecode-cache``; ``--json``
also writes the statistics and every raw sample. Standard library plus gitprov only;
not part of the test run. bench/README.md explains the output.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import Stats, git_version, rotated, write_json
from _common import isolated_env as git_env
from _common import machine as machine_info

import gitprov

COMMIT = ("git", "commit", "--allow-empty", "-q", "-m", "x")
FOREIGN_HOOK = "#!/bin/sh\nexit 0\n"

NO_HOOKS = "no hooks"
FOREIGN_ONLY = "foreign hook only"
GITPROV = "gitprov"
GITPROV_CHAINED = "gitprov + chained hook"
BARE_PYTHON = "python -c pass"
HOOKRUN = "post-commit hook alone, on a new commit"
# A new commit made with hooks switched off, so the timed post-commit run records it.
NEW_COMMIT_NO_HOOKS = (
    "git",
    "-c",
    "core.hooksPath=/dev/null",
    "commit",
    "--allow-empty",
    "-q",
    "-m",
    "y",
)
POST_COMMIT_TARGET_MS = 50.0
SHIM_CODE = "import sys; from gitprov.hookrun import main; sys.exit(main())"

DEFAULT_RUNS = 80
DEFAULT_WARMUP = 5


@dataclass(frozen=True)
class Variant:
    """One thing to time: a command run in a directory."""

    name: str
    argv: tuple[str, ...]
    cwd: Path
    before: tuple[str, ...] | None = None  # run untimed before each timed run


def _run(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(
            f"hook_overhead: '{' '.join(argv)}' failed in {cwd} (exit {proc.returncode}):\n"
            f"{proc.stdout}{proc.stderr}"
        )


def isolated_env(work: Path, *, bytecode_cache: bool) -> dict[str, str]:
    """The environment every timed command runs in: the caller's, minus anything that
    would point git or gitprov elsewhere, plus a private git config.

    With ``bytecode_cache`` (the default), Python may cache compiled modules, in a
    directory under ``work`` (``PYTHONPYCACHEPREFIX``) so that nothing is written into
    the source tree; after the warm-up rounds every module loads from its cache, as in an
    installed gitprov (pip compiles the bytecode at install). Without it, Python compiles
    gitprov's modules from source on every hook (``PYTHONDONTWRITEBYTECODE=1``, as some
    containers set, with an editable install that has no ``__pycache__``).
    """
    env = git_env(work)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def make_repo(
    work: Path, name: str, env: Mapping[str, str], *, foreign_hook: bool, gitprov_init: bool
) -> Path:
    """A fresh repository, optionally with a foreign pre-commit hook and/or gitprov."""
    repo = work / name
    repo.mkdir()
    _run(["git", "init", "-q"], repo, env)
    if foreign_hook:
        hook = repo / ".git" / "hooks" / "pre-commit"
        hook.write_text(FOREIGN_HOOK, encoding="utf-8")
        hook.chmod(0o755)
    if gitprov_init:
        _run([sys.executable, "-m", "gitprov", "init"], repo, env)
    return repo


def check_setup(repos: Mapping[str, Path], env: Mapping[str, str], work: Path) -> None:
    """Fail loudly, before timing anything, if the hooks are not what the names claim."""
    hooks = repos[GITPROV_CHAINED] / ".git" / "hooks"
    if (hooks / "pre-commit.gitprov-legacy").read_text(encoding="utf-8") != FOREIGN_HOOK:
        raise SystemExit("hook_overhead: gitprov init did not keep the foreign pre-commit hook")
    for name in (GITPROV, GITPROV_CHAINED):
        shim = (repos[name] / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
        if "gitprov-hook-shim" not in shim or sys.executable not in shim:
            raise SystemExit(
                f"hook_overhead: the {name} repository has no shim for {sys.executable}"
            )
        trace = work / f"trace-{name.replace(' ', '')}.jsonl"
        _run(COMMIT, repos[name], {**env, "GITPROV_TRACE": str(trace)})
        runs = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
        seen = [(run["hook"], run["initialised"], run["exit"]) for run in runs]
        if seen != [("pre-commit", True, 0), ("post-commit", True, 0)]:
            raise SystemExit(f"hook_overhead: unexpected hook runs in {name}: {seen}")


def time_once(variant: Variant, env: Mapping[str, str]) -> float:
    """Wall time of one run of ``variant``, in milliseconds (``before`` untimed)."""
    if variant.before is not None:
        _run(variant.before, variant.cwd, env)
    started = time.perf_counter()
    proc = subprocess.run(
        variant.argv,
        cwd=variant.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if proc.returncode != 0:
        raise SystemExit(
            f"hook_overhead: {variant.name} failed (exit {proc.returncode}): "
            f"{proc.stderr.decode(errors='replace')}"
        )
    return elapsed


def measure(
    variants: Sequence[Variant], env: Mapping[str, str], *, runs: int, warmup: int
) -> dict[str, list[float]]:
    """Interleave the variants round by round, rotating the order; drop the warm-ups."""
    samples: dict[str, list[float]] = {variant.name: [] for variant in variants}
    for round_no in range(warmup + runs):
        for variant in rotated(variants, round_no):
            elapsed = time_once(variant, env)
            if round_no >= warmup:
                samples[variant.name].append(elapsed)
    return samples


def machine(env: Mapping[str, str]) -> dict[str, Any]:
    """What the figures were measured on."""
    return {**machine_info(), "git": git_version(env), "gitprov": gitprov.__version__}


def summarise(samples: Mapping[str, list[float]]) -> dict[str, Any]:
    """Per-variant statistics and the overheads against the plain commit."""
    stats = {name: Stats.of(values) for name, values in samples.items()}
    base = stats[NO_HOOKS].median
    overheads = {}
    for name in (FOREIGN_ONLY, GITPROV, GITPROV_CHAINED):
        median = stats[name].median
        overheads[name] = {
            "overhead_ms": median - base,
            "ratio": median / base,
        }
    # What gitprov adds on top of the foreign hook the user already had.
    overheads[GITPROV_CHAINED]["over_foreign_hook_only_ms"] = (
        stats[GITPROV_CHAINED].median - stats[FOREIGN_ONLY].median
    )
    return {
        "stats_ms": {name: vars(value) for name, value in stats.items()},
        "overheads_vs_no_hooks": overheads,
    }


def report(info: Mapping[str, Any], settings: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    """The human-readable report."""
    lines = [f"gitprov hook overhead on '{' '.join(COMMIT)}'", "", "  machine"]
    lines += [f"    {key:<22} {value}" for key, value in info.items()]
    lines += ["  settings"]
    lines += [f"    {key:<22} {value}" for key, value in settings.items()]
    lines += ["", f"  {'variant':<44} {'median':>8} {'p10':>8} {'p90':>8}   (ms)"]
    for name, stats in summary["stats_ms"].items():
        lines.append(f"  {name:<44} {stats['median']:8.1f} {stats['p10']:8.1f} {stats['p90']:8.1f}")
    lines += ["", f"  {'overhead vs no hooks (medians)':<44} {'+ms':>8} {'ratio':>8}"]
    for name, overhead in summary["overheads_vs_no_hooks"].items():
        lines.append(f"  {name:<44} {overhead['overhead_ms']:+8.1f} {overhead['ratio']:7.2f}x")
    extra = summary["overheads_vs_no_hooks"][GITPROV_CHAINED]["over_foreign_hook_only_ms"]
    lines.append(f"  {'gitprov + chained hook vs foreign hook only':<44} {extra:+8.1f}")
    post = summary["stats_ms"][HOOKRUN]["median"]
    verdict = "MET" if post < POST_COMMIT_TARGET_MS else "MISSED"
    lines += [
        "",
        f"  target: post-commit hook (as the shim runs it, recording a new "
        f"commit) under {POST_COMMIT_TARGET_MS:.0f} ms median: {post:.1f} ms -> {verdict}",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--runs",
        type=int,
        default=DEFAULT_RUNS,
        help=f"timed runs per variant (default {DEFAULT_RUNS})",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=DEFAULT_WARMUP,
        help=f"untimed rounds first (default {DEFAULT_WARMUP})",
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="compile Python modules from source on every run (PYTHONDONTWRITEBYTECODE=1)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    args = parser.parse_args(argv)
    if args.runs < 2:
        parser.error("--runs must be at least 2")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("git") is None:
        raise SystemExit("hook_overhead: git is not on PATH")
    work = Path(tempfile.mkdtemp(prefix="gitprov-bench-"))
    try:
        env = isolated_env(work, bytecode_cache=not args.no_bytecode_cache)
        repos = {
            NO_HOOKS: make_repo(work, "plain", env, foreign_hook=False, gitprov_init=False),
            FOREIGN_ONLY: make_repo(work, "foreign", env, foreign_hook=True, gitprov_init=False),
            GITPROV: make_repo(work, "gitprov", env, foreign_hook=False, gitprov_init=True),
            GITPROV_CHAINED: make_repo(work, "chained", env, foreign_hook=True, gitprov_init=True),
        }
        check_setup(repos, env, work)
        variants = [Variant(name, COMMIT, repo) for name, repo in repos.items()]
        variants += [
            Variant(BARE_PYTHON, (sys.executable, "-c", "pass"), work),
            Variant(
                HOOKRUN,
                # Exactly what the installed shim execs (hooks/shim.sh).
                (sys.executable, "-c", SHIM_CODE, "post-commit"),
                repos[GITPROV],
                before=NEW_COMMIT_NO_HOOKS,
            ),
        ]
        info = machine(env)
        started = time.perf_counter()
        samples = measure(variants, env, runs=args.runs, warmup=args.warmup)
        elapsed = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)

    settings = {
        "runs": f"{args.runs} per variant, interleaved (order rotates each round)",
        "warm-up rounds": args.warmup,
        "bytecode cache": "off (PYTHONDONTWRITEBYTECODE=1)"
        if args.no_bytecode_cache
        else "on (PYTHONPYCACHEPREFIX in the temp dir)",
        "timing loop": f"{elapsed:.1f} s",
    }
    summary = summarise(samples)
    print(report(info, settings, summary))
    if args.json is not None:
        result = {
            "benchmark": "hook_overhead",
            "command": " ".join(COMMIT),
            "runs": args.runs,
            "warmup": args.warmup,
            "bytecode_cache": not args.no_bytecode_cache,
            "elapsed_s": round(elapsed, 3),
            "machine": info,
            **summary,
            "samples_ms": samples,
        }
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
