"""``gitprov rerun``: real runs recorded with ``gitprov run``, re-executed in a real
temporary worktree, compared output by output and metric by metric.

The training script is deterministic unless the test asks otherwise through environment
variables (the rerun checks out the recorded commit, so the code cannot be changed in
between): NOISE is appended to the checkpoint, ACC_DELTA moves the accuracy, EXIT is the
exit status.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.adapters import process
from gitprov.errors import ConfigError, UsageError
from gitprov.model import runrecord
from gitprov.model.rerun_compare import (
    Tolerance,
    compare_metrics,
    compare_value,
    env_changes,
    flatten,
)
from gitprov.services import rerun
from tests.conftest import Result, gen, git, ml_project, run_gitprov

TRAIN = """\
import json, os, pathlib, sys
data = "".join(p.read_text() for p in sorted(pathlib.Path("data").glob("*.csv")))
pathlib.Path("model.pt").write_text("weights of " + data + os.environ.get("NOISE", ""))
out = pathlib.Path("out")
out.mkdir(exist_ok=True)
(out / "vocab.txt").write_text(data.upper())
acc = 0.91 + float(os.environ.get("ACC_DELTA", "0"))
metrics = {"acc": acc, "n": len(data), "eval": {"loss": [0.5, 0.25]}, "name": "m"}
pathlib.Path("metrics.json").write_text(json.dumps(metrics))
print("trained on", len(data), "bytes")
sys.exit(int(os.environ.get("EXIT", "0")))
"""


@pytest.fixture
def project(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    return ml_project(committed_repo, gitprov, TRAIN)


def record_run(repo: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    """``gitprov run`` the training script; return the run id."""
    result = run_gitprov(
        repo,
        "run",
        "-i",
        "data",
        "-o",
        "model.pt",
        "-o",
        "out",
        "--metrics",
        "metrics.json",
        *extra,
        "--json",
        "--",
        sys.executable,
        "train.py",
        env=env,
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    run_id: str = json.loads(out[out.index("\n{") + 1 :])["run"]["id"]
    return run_id


def worktrees(repo: Path) -> list[str]:
    listing = git(repo, "worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in listing.splitlines() if line.startswith("worktree ")]


def announced_cwd(stderr: str) -> Path:
    """The folder the command ran in, from 'gitprov: rerunning run:... at ... in <cwd>: <argv>'."""
    match = re.search(r"rerunning run:\S+ at \w+ in (.+?): ", stderr)
    assert match, stderr
    return Path(match.group(1))


def temp_folder(stderr: str) -> Path:
    """The temporary folder the worktree was created in."""
    cwd = announced_cwd(stderr)
    return next(p for p in (cwd, *cwd.parents) if p.name.startswith("gitprov-rerun-"))


def assert_cleaned_up(repo: Path, stderr: str) -> None:
    assert not temp_folder(stderr).exists()
    assert worktrees(repo) == [str(repo)]


def test_a_deterministic_run_reproduces(project: Path) -> None:
    run_id = record_run(project)
    before = git(project, "status", "--porcelain")

    result = run_gitprov(project, "rerun", run_id)

    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "trained on 4 bytes" in out  # the command's output streams through
    assert re.search(r"^identical  model\.pt  sha256:[0-9a-f]{12}$", out, re.M), out
    assert re.search(r"^identical  out  ds:[0-9a-f]{12}$", out, re.M), out
    assert "metric     metrics.json:acc  0.91 -> 0.91  identical" in out
    assert 'metric     metrics.json:name  "m" -> "m"  equal' in out
    assert "metric     metrics.json:eval.loss[1]  0.25 -> 0.25  identical" in out
    assert "environment  same as recorded  sha256:" in out
    assert out.rstrip().endswith("reproduced: 2 outputs identical, 5 metrics within tolerance")
    assert_cleaned_up(project, result.stderr)
    assert git(project, "status", "--porcelain") == before  # the user's tree is untouched

    # run:<id> and a lower-case prefix name the same run.
    for name in (f"run:{run_id}", run_id[:8].lower()):
        again = run_gitprov(project, "rerun", name)
        assert again.exit_code == 0, again.stderr
        assert f"rerunning run:{run_id}" in again.stderr


def test_a_nondeterministic_output_is_different_and_exit_1(project: Path) -> None:
    run_id = record_run(project)
    result = run_gitprov(project, "rerun", run_id, env={"NOISE": os.urandom(8).hex()})
    assert result.exit_code == 1
    assert re.search(
        r"^different  model\.pt  recorded sha256:[0-9a-f]{12} now sha256:[0-9a-f]{12}$",
        result.stdout,
        re.M,
    ), result.stdout
    assert "identical  out  ds:" in result.stdout
    assert result.stdout.rstrip().endswith("not reproduced: 1 output different")
    assert_cleaned_up(project, result.stderr)


def test_metrics_are_compared_within_the_tolerance(project: Path) -> None:
    run_id = record_run(project)
    slightly = {"ACC_DELTA": "0.001"}

    exact = run_gitprov(project, "rerun", run_id, env=slightly)
    assert exact.exit_code == 1
    assert "metric     metrics.json:acc  0.91 -> 0.911  outside tolerance 0" in exact.stdout
    assert exact.stdout.rstrip().endswith("not reproduced: 1 metric outside tolerance")

    absolute = run_gitprov(project, "rerun", run_id, "--tolerance", "0.01", env=slightly)
    assert absolute.exit_code == 0, absolute.stdout
    assert "metrics.json:acc  0.91 -> 0.911  within tolerance 0.01" in absolute.stdout

    too_far = run_gitprov(project, "rerun", run_id, "--tolerance", "0.01", env={"ACC_DELTA": "0.1"})
    assert too_far.exit_code == 1
    assert "outside tolerance 0.01" in too_far.stdout

    # From the config: relative to the recorded value, 1% of 0.91.
    config = project / ".gitprov" / "config.toml"
    config.write_text(config.read_text() + "\n[runs]\nmetric_rel_tol = 0.01\n")
    relative = run_gitprov(project, "rerun", run_id, env=slightly)
    assert relative.exit_code == 0, relative.stdout
    assert "within tolerance 0.0091" in relative.stdout

    # An allow-listed variable changes the environment: reported, not a failure.
    env_changed = run_gitprov(project, "rerun", run_id, env={"OMP_NUM_THREADS": "3"})
    assert env_changed.exit_code == 0
    line = next(x for x in env_changed.stdout.splitlines() if x.startswith("environment"))
    assert "differs from the recorded one: env.OMP_NUM_THREADS: " in line
    assert line.endswith("-> 3")


def test_an_input_missing_from_the_cache_names_it_and_how_to_pull_it(project: Path) -> None:
    run_id = record_run(project)
    hexdigest = hashlib.sha256(b"1,2\n").hexdigest()  # data/a.csv
    (project / ".git" / "gitprov" / "objects" / "sha256" / hexdigest[:2] / hexdigest[2:]).unlink()

    result = run_gitprov(project, "rerun", run_id)

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "the input data (sha256:" in result.stderr
    assert "is not in the local cache" in result.stderr
    assert "Run 'gitprov pull data'" in result.stderr
    assert worktrees(project) == [str(project)]


def test_a_failed_command_is_not_reproduced_and_the_worktree_is_removed(project: Path) -> None:
    run_id = record_run(project)
    result = run_gitprov(project, "rerun", run_id, env={"EXIT": "3"})
    assert result.exit_code == 1
    assert result.stdout.rstrip().endswith("not reproduced: the command failed (exit 3)")
    assert "identical" not in result.stdout  # nothing is compared after a failure
    assert_cleaned_up(project, result.stderr)


def test_no_compare_only_re_executes(project: Path) -> None:
    run_id = record_run(project)
    result = run_gitprov(project, "rerun", run_id, "--no-compare", env={"NOISE": "x"})
    assert result.exit_code == 0, result.stderr
    assert "(not compared)" in result.stdout
    failed = run_gitprov(project, "rerun", run_id, "--no-compare", env={"EXIT": "4"})
    assert failed.exit_code == 4  # the command's own status
    assert_cleaned_up(project, failed.stderr)


def test_keep_and_json(project: Path) -> None:
    run_id = record_run(project)
    result = run_gitprov(project, "rerun", run_id, "--keep", "--json")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    report = json.loads(out[out.index("\n{") + 1 :])  # after the command's own output
    assert report["run"] == f"run:{run_id}"
    assert report["reproduced"] is True
    assert [(o["path"], o["status"]) for o in report["outputs"]] == [
        ("model.pt", "identical"),
        ("out", "identical"),
    ]
    acc = next(m for m in report["metrics"] if m["key"] == "acc")
    assert acc == {
        **acc,
        "file": "metrics.json",
        "recorded": 0.91,
        "now": 0.91,
        "status": "identical",
        "ok": True,
    }
    assert report["environment"]["same"] is True
    kept = Path(report["worktree"])
    assert (kept / "model.pt").read_text() == "weights of 1,2\n"
    assert (kept / "data" / "a.csv").read_text() == "1,2\n"  # the input, placed
    assert "kept the worktree" in result.stderr
    assert str(kept) in worktrees(project)
    git(project, "worktree", "remove", "--force", str(kept))  # as the message says
    assert not kept.exists()


def test_run_ids_malformed_unknown_and_ambiguous(project: Path) -> None:
    malformed = run_gitprov(project, "rerun", "abc")
    assert malformed.exit_code == 2
    assert malformed.stderr.count("\n") == 1
    assert "'abc' is not a run id" in malformed.stderr

    unknown = run_gitprov(project, "rerun", "run:01ZZZZZZZZ")
    assert unknown.exit_code == 1
    assert unknown.stderr.count("\n") == 1
    assert "no run record matches 'run:01ZZZZZZZZ'" in unknown.stderr

    run_id = record_run(project)
    twin = f"{run_id[:-1]}{'0' if run_id[-1] != '0' else '1'}"
    runs_dir = project / runrecord.RUNS_DIR
    (runs_dir / f"{twin}.json").write_bytes((runs_dir / f"{run_id}.json").read_bytes())
    git(project, "add", runrecord.RUNS_DIR)
    git(project, "commit", "-q", "--no-verify", "-m", "a twin record")
    ambiguous = run_gitprov(project, "rerun", run_id[:20])
    assert ambiguous.exit_code == 2
    assert ambiguous.stderr.count("\n") == 1
    assert "matches 2 runs" in ambiguous.stderr


def test_a_record_on_another_branch_or_not_committed_is_found(project: Path) -> None:
    git(project, "switch", "-q", "-c", "exp")
    run_id = record_run(project)
    run_commit = git(project, "rev-parse", "HEAD").strip()
    git(project, "switch", "-q", "main")
    assert not (project / runrecord.record_path(run_id)).exists()

    result = run_gitprov(project, "rerun", run_id, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout[result.stdout.index("\n{") + 1 :])
    assert report["record_commit"] == run_commit

    staged = record_run(project, "--no-commit")  # only in the work tree (and the index)
    result = run_gitprov(project, "rerun", staged)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_a_run_from_a_subfolder_with_a_file_input(project: Path) -> None:
    record_run(project)  # model.pt, now a tracked checkpoint, is the next run's input
    gen(
        project,
        {
            "src/score.py": "import pathlib\n"
            "weights = pathlib.Path('../model.pt').read_text()\n"
            "pathlib.Path('../score.txt').write_text(str(len(weights)))\n"
        },
    )
    git(project, "add", "src")
    git(project, "commit", "-q", "-m", "scoring")
    scored = run_gitprov(
        project / "src",
        "run",
        "-i",
        "../model.pt",
        "-o",
        "../score.txt",
        "--json",
        "--",
        sys.executable,
        "score.py",
    )
    assert scored.exit_code == 0, scored.stderr
    record = json.loads(scored.stdout)["run"]
    assert record["cwd"] == "src"

    result = run_gitprov(project, "rerun", record["id"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert announced_cwd(result.stderr).name == "src"
    assert temp_folder(result.stderr) == announced_cwd(result.stderr).parent
    assert "identical  score.txt  sha256:" in result.stdout


def test_a_dirty_record_is_refused_unless_allowed(project: Path) -> None:
    (project / "train.py").write_text(TRAIN + "# an uncommitted comment\n")
    run_id = record_run(project, "--allow-dirty")

    refused = run_gitprov(project, "rerun", run_id)
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1
    assert "ran on uncommitted changes" in refused.stderr
    assert "--allow-dirty-record" in refused.stderr

    allowed = run_gitprov(project, "rerun", run_id, "--allow-dirty-record")
    assert allowed.exit_code == 0, allowed.stdout  # the change was only a comment
    assert "gitprov: warning: run:" in allowed.stderr
    assert "without them" in allowed.stderr


def test_the_worktree_is_removed_on_ctrl_c(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = record_run(project)
    seen: list[Path] = []

    def interrupted(*_: object, **__: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(process, "run_command", interrupted)
    with pytest.raises(KeyboardInterrupt):
        rerun.rerun(cwd=project, run_id=run_id, on_start=lambda plan: seen.append(plan.worktree))
    (worktree,) = seen
    assert worktree.parent == Path(tempfile.gettempdir())
    assert not worktree.exists()
    assert worktrees(project) == [str(project)]


# --- the comparison rules (model.rerun_compare) and the id and config parsers ---


def test_flatten_names_leaves_by_path() -> None:
    assert flatten({"a": {"b": [1, {"c": 2}]}, "d": {}, "e": None}) == {
        "a.b[0]": 1,
        "a.b[1].c": 2,
        "d": {},
        "e": None,
    }
    assert flatten(0.5) == {"": 0.5}


@pytest.mark.parametrize(
    ("old", "new", "tol", "status"),
    [
        (0.91, 0.91, Tolerance(), "identical"),
        (1, 1.0, Tolerance(), "identical"),
        (0.91, 0.911, Tolerance(), "outside"),
        (0.91, 0.911, Tolerance(abs=0.001 + 1e-12), "within"),
        (100.0, 101.0, Tolerance(rel=0.01), "within"),
        (100.0, 101.5, Tolerance(abs=1.0, rel=0.01), "outside"),
        (0.5, float("nan"), Tolerance(abs=1e9), "outside"),
        (float("inf"), float("inf"), Tolerance(), "identical"),
        ("adam", "adam", Tolerance(), "equal"),
        ("adam", "sgd", Tolerance(), "different"),
        (True, 1, Tolerance(abs=1.0), "different"),  # a boolean is not a number
        (None, None, Tolerance(), "equal"),
    ],
)
def test_compare_value(old: object, new: object, tol: Tolerance, status: str) -> None:
    assert compare_value("m.json", "k", old, new, tol).status == status


def test_missing_and_added_metrics() -> None:
    results = compare_metrics("m.json", {"a": 1, "b": 2}, {"a": 1, "c": 3}, Tolerance())
    assert [(r.key, r.status, r.ok) for r in results] == [
        ("a", "identical", True),
        ("b", "missing", False),
        ("c", "added", True),
    ]
    unwritten = compare_metrics("m.json", {"a": 1}, None, Tolerance())
    assert [(r.key, r.status) for r in unwritten] == [("a", "missing")]


def test_tolerance_configuration(tmp_path: Path) -> None:
    config = tmp_path / ".gitprov" / "config.toml"
    config.parent.mkdir()
    config.write_text("schema = 1\n[runs]\nmetric_abs_tol = 0.5\nmetric_rel_tol = 0.1\n")
    assert rerun.load_tolerance(tmp_path, abs_tol=None, rel_tol=None) == Tolerance(0.5, 0.1)
    assert rerun.load_tolerance(tmp_path, abs_tol=0.0, rel_tol=None) == Tolerance(0.0, 0.1)
    config.write_text('schema = 1\n[runs]\nmetric_abs_tol = "small"\n')
    with pytest.raises(ConfigError, match=r"metric_abs_tol = 'small' is not a non-negative"):
        rerun.load_tolerance(tmp_path, abs_tol=None, rel_tol=None)


def test_env_changes_lists_packages_by_name() -> None:
    old = {"packages": ["numpy==1.26.0", "torch==2.1.0", "gone==1"], "python": {"version": "3.11"}}
    new = {"packages": ["numpy==1.26.0", "torch==2.2.0", "new==2"], "python": {"version": "3.12"}}
    assert env_changes(old, new) == (
        "python.version: 3.11 -> 3.12",
        "-gone==1",
        "+new==2",
        "torch 2.1.0 -> 2.2.0",
    )


@pytest.mark.parametrize("raw", ["01JD3", "01JD3Q-", "run:", "01jd3qiu"])
def test_parse_run_id_refuses_what_is_no_ulid_prefix(raw: str) -> None:
    with pytest.raises(UsageError):
        rerun.parse_run_id(raw)
    assert rerun.parse_run_id(" run:01jd3q ") == "01JD3Q"
