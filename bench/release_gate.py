"""What the pre-commit hook's release gate costs, by what the commit stages.

Run from the repository root with the interpreter gitprov is installed in::

    .venv/bin/python bench/release_gate.py [--runs N]

It builds one throw-away project (real ``git init``, ``gitprov init``, a dataset, a
checkpoint trained through ``gitprov run``, its card filled in, the pointer marked
``stage = "release"``, all committed), then times the pre-commit hook alone, exactly as
the installed shim runs it, with three different things staged:

- ``unrelated file``: a source file: the gate's whole cost is the ``git diff --cached``
  it shares with the decision check;
- ``pointer, not for release``: a second checkpoint's pointer: one ``git cat-file`` to
  see it is not release-marked;
- ``release-marked card``: the released checkpoint's card: the whole checklist runs
  (lineage, approvals, stores, the secret scan), and passes.

The hook does not commit, so the same staged state is timed again and again; variants
are interleaved. Standard library plus gitprov; not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import (
    Stats,
    bench_env,
    call,
    cpu_model,
    git_version,
    gitprov_command,
    gitprov_version,
    rotated,
)

SHIM = ["-c", "import sys; from gitprov.hookrun import main; sys.exit(main())", "pre-commit"]
TRAIN = """\
import json, pathlib
pathlib.Path("model.pt").write_text("weights " + pathlib.Path("data/a.csv").read_text())
pathlib.Path("metrics.json").write_text(json.dumps(
    {"acc": 0.91, "acc_ci_low": 0.88, "acc_ci_high": 0.94, "acc_n": 500}))
"""


def build(work: Path, env: dict[str, str]) -> Path:
    repo = work / "project"
    repo.mkdir()
    gitprov = gitprov_command()
    call(["git", "init", "-q"], repo, env)
    call([*gitprov, "init"], repo, env)
    (repo / "train.py").write_text(TRAIN)
    (repo / "data").mkdir()
    (repo / "data/a.csv").write_text("1,2\n")
    (repo / ".gitignore").write_text((repo / ".gitignore").read_text() + "metrics.json\n")
    call(["git", "add", ".gitignore", ".gitprov", "train.py"], repo, env)
    call(["git", "commit", "-q", "-m", "project"], repo, env)
    run = ["run", "-i", "data", "-o", "model.pt", "--metrics", "metrics.json", "--"]
    call([*gitprov, *run, sys.executable, "train.py"], repo, env)
    call([*gitprov, "card", "new", "model.pt", "--license", "apache-2.0"], repo, env)
    card = repo / "model.card.md"
    card.write_text(card.read_text().replace("[More Information Needed]", "Written."))
    data = repo / "data.gitprov"
    data.write_text(data.read_text().rstrip("\n") + '\nlicense = "CC0-1.0"\n')
    pointer = repo / "model.pt.gitprov"
    pointer.write_text(pointer.read_text().replace("\n[meta]", '\nstage = "release"\n[meta]'))
    (repo / "other.pt").write_text("other weights")
    call([*gitprov, "track", "other.pt"], repo, env)
    call(["git", "add", "-A"], repo, env)
    call(["git", "commit", "-q", "-m", "release candidate"], repo, env)  # the gate passes
    return repo


def stage(repo: Path, env: dict[str, str], variant: str) -> None:
    call(["git", "reset", "-q"], repo, env)
    if variant == "unrelated file":
        (repo / "train.py").write_text(TRAIN + "# edited\n")
        call(["git", "add", "train.py"], repo, env)
    elif variant == "pointer, not for release":
        pointer = repo / "other.pt.gitprov"
        pointer.write_text(pointer.read_text() + "\n# edited\n")
        call(["git", "add", "other.pt.gitprov"], repo, env)
    else:
        card = repo / "model.card.md"
        card.write_text(card.read_text() + "\nMore words.\n")
        call(["git", "add", "model.card.md"], repo, env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    variants = ["unrelated file", "pointer, not for release", "release-marked card"]
    samples: dict[str, list[float]] = {v: [] for v in variants}
    with tempfile.TemporaryDirectory(prefix="gitprov-bench-") as tmp:
        work = Path(tmp)
        env = bench_env(work)
        repo = build(work, env)
        import subprocess  # noqa: PLC0415

        for round_no in range(args.runs + 1):  # round 0 warms the bytecode cache up
            for variant in rotated(variants, round_no):
                stage(repo, env, variant)
                start = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, *SHIM], cwd=repo, env=env, capture_output=True, check=False
                )
                elapsed = (time.perf_counter() - start) * 1000
                if proc.returncode != 0:
                    print(proc.stderr.decode(), file=sys.stderr)
                    return 1
                if round_no:
                    samples[variant].append(elapsed)
        print(f"machine: {cpu_model()}; git {git_version(env)}; gitprov {gitprov_version(env)}")
        print(f"pre-commit hook alone, {args.runs} runs each (ms):")
        print(f"{'staged':<28} {'median':>8} {'p10':>8} {'p90':>8}")
        for variant in variants:
            stats = Stats.of(samples[variant])
            print(f"{variant:<28} {stats.median:8.1f} {stats.p10:8.1f} {stats.p90:8.1f}")
        print(json.dumps({v: Stats.of(s).median for v, s in samples.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
