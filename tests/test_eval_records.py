"""Evaluation records: record, list, compare, run, slices, bad files, notes sync.

Real git repositories, the CLI in-process; the statistics themselves are tested in
tests/test_eval_stats.py. Simulated scores are seeded, so the truth is known.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitprov.adapters.git import GitConfig
from gitprov.errors import ExitCode
from gitprov.model import eval_scoring, eval_stats
from gitprov.model import scores as scores_model
from gitprov.model.eval_record import EvalRecord
from gitprov.services import eval_comparison, evals, notes_setup, notes_sync
from tests.conftest import Result, gen, git


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def simulated(seed: int, n: int, accuracy: float, *, fix: float = 0.0) -> list[dict[str, object]]:
    """n examples: a 0/1 ``correct`` at ``accuracy`` and a continuous ``f1``. With the same
    seed and ``fix`` > 0 it is the same model with that share of its errors fixed."""
    rng = random.Random(seed)
    fixer = random.Random(seed + 1)
    rows: list[dict[str, object]] = []
    for i in range(n):
        correct = rng.random() < accuracy
        if not correct and fixer.random() < fix:
            correct = True
        f1 = min(1.0, max(0.0, rng.gauss(0.6, 0.2) + (0.3 if correct else 0.0)))
        rows.append({"id": f"q{i}", "correct": int(correct), "f1": round(f1, 4)})
    return rows


@pytest.fixture
def project(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    """gitprov set up; models/m.pt (checkpoint) and data/test (dataset) committed."""
    repo = committed_repo
    assert gitprov("init").exit_code == 0
    gen(repo, {"models/m.pt": "weights v1", "data/test/a.txt": "example\n"})
    assert gitprov("track", "models/m.pt", "--kind", "checkpoint").exit_code == 0
    assert gitprov("track", "data/test", "--kind", "dataset").exit_code == 0
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "model v1")
    return repo


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def new_version(repo: Path, gitprov: Callable[..., Result], content: str) -> str:
    (repo / "models/m.pt").write_text(content)
    assert gitprov("track", "models/m.pt", "--kind", "checkpoint").exit_code == 0
    git(repo, "add", "models/m.pt.gitprov")
    git(repo, "commit", "-q", "-m", f"model {content}")
    return head(repo)


def pointer_digest(repo: Path) -> str:
    text = (repo / "models/m.pt.gitprov").read_text()
    return next(line.split('"')[1] for line in text.splitlines() if line.startswith("digest"))


# --- record and list ----------------------------------------------------------------------


def test_record_and_list_an_evaluation_with_intervals(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    model_commit = head(project)
    gen(project, {"notes.txt": "later work\n"})
    git(project, "add", "notes.txt")
    git(project, "commit", "-q", "-m", "unrelated later commit")
    rows = simulated(1, 400, 0.8)
    scores = write_jsonl(tmp_path / "scores.jsonl", rows)

    result = gitprov(
        "eval", "record", "models/m.pt", "--dataset", "data/test", "--split", "test",
        "--scores", str(scores), "--seed", "5", "--by", "python eval.py",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert "correct" in result.stdout
    assert "wilson" in result.stdout
    assert "bootstrap-percentile" in result.stdout
    # The note sits on the commit that set the pointer, not on HEAD.
    assert f"on commit {model_commit[:12]}" in result.stdout
    note = git(project, "notes", "--ref=gitprov", "show", model_commit)
    record = next(json.loads(line) for line in note.splitlines() if '"type":"eval"' in line)
    correct = record["metrics"]["correct"]
    k = sum(int(r["correct"]) for r in rows)  # type: ignore[call-overload]
    assert correct["value"] == k / 400
    assert (correct["ci_low"], correct["ci_high"]) == pytest.approx(
        eval_stats.wilson_interval(k, 400, 0.95)
    )
    assert correct["n"] == 400
    assert correct["method"] == "wilson"
    f1 = record["metrics"]["f1"]
    assert f1["method"] == "bootstrap-percentile"
    assert f1["seed"] == 5
    assert f1["resamples"] == 1000
    assert f1["ci_low"] < f1["value"] < f1["ci_high"]
    assert record["dataset"]["split"] == "test"
    assert record["dataset"]["path"] == "data/test"
    assert record["dataset"]["snapshot"].startswith("sha256:")
    assert record["checkpoint"] == {"path": "models/m.pt", "digest": pointer_digest(project)}
    assert record["code"]["commit"] == head(project)
    assert record["by"] == "python eval.py"
    secret = gitprov("eval", "record", "models/m.pt", "--dataset", "data/test", "--scores",
                     str(scores), "--by", "python eval.py --hf-token hf_abcdef")  # fmt: skip
    assert "credentials in --by were masked" in secret.stderr
    assert "hf_abcdef" not in git(project, "notes", "--ref=gitprov", "show", model_commit)
    assert record["who"] == "Test User <test@example.com>"

    listed = gitprov("eval", "list", "models/m.pt", "--json")
    assert listed.exit_code == 0
    only, masked = json.loads(listed.stdout)
    assert masked["by"] == "python eval.py --hf-token '***'"
    assert only["id"] == record["id"]
    assert only["metrics"]["f1"]["ci_low"] == f1["ci_low"]
    text = gitprov("eval", "list")
    assert record["id"] in text.stdout
    assert "ds:" in text.stdout


def test_records_for_gives_every_evaluation_of_a_digest_oldest_first(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    scores = write_jsonl(tmp_path / "s.jsonl", simulated(2, 50, 0.7))
    digest = pointer_digest(project)
    for split in ("validation", "test"):
        assert gitprov(
            "eval", "record", "models/m.pt", "--dataset", "data/test", "--split", split,
            "--scores", str(scores),
        ).exit_code == 0  # fmt: skip
    new_version(project, gitprov, "weights v2")
    assert gitprov("eval", "record", "models/m.pt", "--dataset", "data/test",
                   "--scores", str(scores)).exit_code == 0  # fmt: skip

    found = evals.records_for(cwd=project, digest=digest)

    assert [r.split for r in found] == ["validation", "test"]
    assert all(isinstance(r, EvalRecord) for r in found)
    first = found[0]
    assert first.digest == digest
    assert first.metrics["correct"].method == "wilson"
    assert first.metrics["correct"].n == 50
    assert first.snapshot_id.startswith("ds:")
    assert first.env is None
    # The current digest's list has only the new version's evaluation.
    assert len(evals.list_evals(cwd=project, checkpoint="models/m.pt")) == 1
    assert evals.records_for(cwd=project, digest="sha256:" + "0" * 64) == []


def test_aggregated_metrics_with_and_without_intervals(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text(
        json.dumps(
            {"accuracy": {"value": 0.9, "ci_low": 0.88, "ci_high": 0.92, "n": 1000}, "loss": 0.3}
        )
    )
    result = gitprov(
        "eval", "record", "models/m.pt", "--dataset", "data/test", "--metrics", str(metrics)
    )
    assert result.exit_code == 0, result.stderr
    assert "recorded without a confidence interval: loss" in result.stderr
    assert "0.3000 (no CI)" in result.stdout
    (rec,) = evals.list_evals(cwd=project, checkpoint="models/m.pt")
    assert rec.metrics["accuracy"].method == "reported"
    assert rec.metrics["accuracy"].ci_level == 0.95
    assert rec.metrics["loss"].method == "none"
    assert rec.metrics["loss"].ci_low is None
    assert rec.scores is None


def test_slices_give_per_value_metrics(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    rows = simulated(3, 300, 0.75)
    for i, row in enumerate(rows):
        row["lang"] = "en" if i % 3 else "de"
    scores = write_jsonl(tmp_path / "s.jsonl", rows)
    result = gitprov(
        "eval", "record", "models/m.pt", "--dataset", "data/test", "--scores", str(scores),
        "--slice", "lang", "--metric", "correct",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (rec,) = evals.list_evals(cwd=project)
    assert list(rec.metrics) == ["correct"]  # --metric selects; lang is not a metric
    assert rec.slice_column == "lang"
    assert sorted(rec.slices) == ["de", "en"]
    de = [r for i, r in enumerate(rows) if i % 3 == 0]
    assert rec.slices["de"]["correct"].n == len(de) == 100
    assert rec.slices["de"]["correct"].value == sum(int(r["correct"]) for r in de) / 100  # type: ignore[call-overload]
    assert rec.slices["en"]["correct"].n == 200
    assert "lang=de" in result.stdout


def test_dataset_by_digest_or_snapshot_id_and_a_csv_scores_file(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    text = (project / "data/test.gitprov").read_text()
    snapshot = next(line.split('"')[1] for line in text.splitlines() if line.startswith("digest"))
    scores = tmp_path / "scores.csv"
    scores.write_text("id,acc,loss\na,true,0.5\nb,false,1.5\nc,true,0.25\n")
    for dataset in (snapshot, "ds:" + snapshot[7:19], "ds:" + snapshot[7:13]):
        result = gitprov("eval", "record", "models/m.pt", "--dataset", dataset,
                         "--scores", str(scores))  # fmt: skip
        assert result.exit_code == 0, result.stderr
    found = evals.list_evals(cwd=project)
    assert [r.dataset for r in found] == ["", "data/test", "data/test"]
    assert {r.dataset_snapshot for r in found} == {snapshot}
    assert found[0].metrics["acc"].value == pytest.approx(2 / 3)
    assert found[0].metrics["loss"].method == "bootstrap-percentile"
    assert found[0].scores is not None
    assert found[0].scores.format == "csv"
    unknown = gitprov("eval", "record", "models/m.pt", "--dataset", "ds:ffffffffffff",
                      "--scores", str(scores))  # fmt: skip
    assert unknown.exit_code == ExitCode.USAGE
    assert "names no tracked dataset" in unknown.stderr


def test_an_evaluation_follows_its_commit_through_an_amend_and_is_listed_once(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    _record(gitprov, write_jsonl(tmp_path / "s.jsonl", simulated(5, 30, 0.5)))
    (before,) = evals.list_evals(cwd=project)
    git(project, "commit", "-q", "--amend", "-m", "model v1, reworded")
    (after,) = evals.list_evals(cwd=project)
    assert after.id == before.id
    assert after.commit == head(project) != before.commit
    # The same line on a second commit of the history (a copied note) is one evaluation.
    line = next(
        entry
        for entry in git(project, "notes", "--ref=gitprov", "show", "HEAD").splitlines()
        if '"type":"eval"' in entry
    )
    gen(project, {"later.txt": "x"})
    git(project, "add", "later.txt")
    git(project, "commit", "-q", "-m", "later")
    git(project, "notes", "--ref=gitprov", "append", "-m", line, "HEAD")
    assert [r.id for r in evals.list_evals(cwd=project)] == [before.id]


def test_compare_two_evaluations_by_id(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    _record(gitprov, write_jsonl(tmp_path / "a.jsonl", simulated(6, 300, 0.6)))
    _record(gitprov, write_jsonl(tmp_path / "b.jsonl", simulated(6, 300, 0.6, fix=0.3)))
    first, second = evals.list_evals(cwd=project)
    result = gitprov("eval", "compare", first.id[:10], second.id, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["a"]["id"], data["b"]["id"]) == (first.id, second.id)
    same = gitprov("eval", "compare", first.id, first.id)
    assert same.exit_code == ExitCode.USAGE
    assert "name the same evaluation" in same.stderr


# --- bad input ----------------------------------------------------------------------------


ROW_A = '{"id": "a", "acc": 1}\n'
BAD_FILES = [
    ("s.jsonl", ROW_A + '{"id": "b", "acc": 0}\n{"id": "c", "acc": \n', 3, "not valid JSON"),
    ("s.jsonl", ROW_A + '{"id": "b", "acc": "yes"}\n', 2, "'acc' is 'yes', not a number"),
    ("s.jsonl", ROW_A + '\n{"id": "b"}\n', 3, "the metric 'acc' is missing"),
    ("s.jsonl", ROW_A + '{"id": "a", "acc": 0}\n', 2, "repeats line 1"),
    ("s.jsonl", ROW_A + '[1, 2]\n', 2, "not a JSON object"),
    ("s.jsonl", ROW_A + '{"id": "b", "acc": NaN}\n', 2, "not a finite number"),
    ("s.csv", "id,acc\na,1\nb,0,7\n", 3, "3 fields, but the header has 2"),
    ("s.csv", "id,acc\na,1\nb,inf\n", 3, "not a finite number"),
    ("s.csv", 'id,acc\na,1\n"b\nc",zero\n', 3, "'acc' is 'zero', not a number"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "line", "problem"), BAD_FILES)
def test_a_bad_row_is_a_clear_error_naming_the_line(
    name: str, text: str, line: int, problem: str
) -> None:
    with pytest.raises(scores_model.ScoresError) as caught:
        scores_model.parse(text, source=name, fmt=scores_model.format_of(name), metrics=["acc"])
    message = str(caught.value)
    assert message.startswith(f"{name} line {line}: ")
    assert problem in message


def test_a_bad_scores_file_through_the_cli_is_one_line_and_records_nothing(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    scores = tmp_path / "scores.jsonl"
    scores.write_text('{"id": "a", "acc": 1}\n{"id": "b", "acc": 0.5}\n{"id": "c", "acc": null}\n')
    result = gitprov("eval", "record", "models/m.pt", "--dataset", "data/test",
                     "--scores", str(scores))  # fmt: skip
    assert result.exit_code == ExitCode.FAILED
    (line,) = result.stderr.splitlines()
    assert "scores.jsonl line 3: the metric 'acc' is missing" in line
    assert "Traceback" not in result.stderr
    assert evals.list_evals(cwd=project) == []


def test_scores_file_limits_and_formats() -> None:
    with pytest.raises(scores_model.ScoresError, match=r"\*\.jsonl"):
        scores_model.format_of("scores.txt")
    with pytest.raises(scores_model.ScoresError, match="has no rows"):
        scores_model.parse("\n\n", source="s.jsonl", fmt="jsonl")
    long_row = '{"acc": 1, "text": "' + "x" * scores_model.MAX_LINE_CHARS + '"}\n'
    with pytest.raises(scores_model.ScoresError, match="line 1: the row is longer"):
        scores_model.parse(long_row, source="s.jsonl", fmt="jsonl")
    many = "{" + ", ".join(f'"m{i}": 1' for i in range(scores_model.MAX_METRICS + 1)) + "}\n"
    with pytest.raises(scores_model.ScoresError, match="metric columns"):
        scores_model.parse(many, source="s.jsonl", fmt="jsonl")
    table = scores_model.parse("id,acc,note\na,true,x\nb,false,y\n", source="s.csv", fmt="csv")
    assert table.metrics == {"acc": (1.0, 0.0)}  # "note" is not numeric: not a metric
    assert table.ids == ("a", "b")


def test_values_too_large_to_average_are_a_clear_error() -> None:
    table = scores_model.parse('{"x": 1e308}\n{"x": 1.5e308}\n', source="s.jsonl", fmt="jsonl")
    with pytest.raises(scores_model.ScoresError, match="'x' are too large to average"):
        eval_scoring.score_table(table)


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--scores", "s.jsonl", "--metrics", "m.json"], ExitCode.USAGE, "exactly one of"),
        (["--scores", "s.jsonl", "--ci", "95"], ExitCode.USAGE, "not a confidence level"),
        (["--scores", "s.jsonl", "--bootstrap", "5"], ExitCode.USAGE, "out of range"),
        (["--metrics", "m.json", "--slice", "lang"], ExitCode.USAGE, "--slice needs --scores"),
        (["--scores", "missing.jsonl"], ExitCode.FAILED, "missing.jsonl does not exist"),
    ],
)
def test_refusals_are_one_line(
    project: Path, gitprov: Callable[..., Result], args: list[str], code: int, expected: str
) -> None:
    write_jsonl(project / "s.jsonl", [{"id": "a", "acc": 1}])
    result = gitprov("eval", "record", "models/m.pt", "--dataset", "data/test", *args)
    assert result.exit_code == code
    assert expected in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_uncommitted_checkpoint_or_a_dataset_is_refused(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    scores = write_jsonl(tmp_path / "s.jsonl", [{"id": "a", "acc": 1}])
    result = gitprov("eval", "record", "data/test", "--dataset", "data/test",
                     "--scores", str(scores))  # fmt: skip
    assert result.exit_code == ExitCode.USAGE
    assert "not a checkpoint" in result.stderr
    (project / "models/m.pt").write_text("weights uncommitted")
    assert gitprov("track", "models/m.pt", "--kind", "checkpoint").exit_code == 0
    result = gitprov("eval", "record", "models/m.pt", "--dataset", "data/test",
                     "--scores", str(scores))  # fmt: skip
    assert result.exit_code == ExitCode.FAILED
    assert "is not in any commit" in result.stderr
    assert "git add models/m.pt.gitprov" in result.stderr


# --- compare ------------------------------------------------------------------------------


def _record(gitprov: Callable[..., Result], scores: Path) -> None:
    result = gitprov("eval", "record", "models/m.pt", "--dataset", "data/test",
                     "--split", "test", "--scores", str(scores))  # fmt: skip
    assert result.exit_code == 0, result.stderr


def test_compare_finds_a_real_difference_with_the_paired_bootstrap(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    _record(gitprov, write_jsonl(tmp_path / "a.jsonl", simulated(7, 2000, 0.7)))
    new_version(project, gitprov, "weights v2")
    _record(gitprov, write_jsonl(tmp_path / "b.jsonl", simulated(7, 2000, 0.7, fix=0.12)))

    result = gitprov("eval", "compare", "models/m.pt@HEAD~1", "models/m.pt", "--json")

    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    correct = next(m for m in data["metrics"] if m["metric"] == "correct")
    assert correct["method"] == "paired-bootstrap"
    assert correct["significant"] is True
    assert correct["delta"] > 0
    assert correct["paired"]["n"] == 2000
    assert correct["paired"]["ci_low"] > 0
    text = gitprov("eval", "compare", "models/m.pt@HEAD~1", "models/m.pt")
    assert "significant (paired-bootstrap: 2000 examples scored by both)" in text.stdout


def test_compare_does_not_flag_a_model_against_a_rerun_of_itself(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    """Same accuracy, independent errors: no difference exists, none is reported."""
    _record(gitprov, write_jsonl(tmp_path / "a.jsonl", simulated(8, 1500, 0.7)))
    new_version(project, gitprov, "weights v2")
    _record(gitprov, write_jsonl(tmp_path / "b.jsonl", simulated(9, 1500, 0.7)))
    result = eval_comparison.compare(cwd=project, a="models/m.pt@HEAD~1", b="models/m.pt")
    by_name = {m.metric: m for m in result.metrics}
    assert by_name["correct"].method == eval_stats.PAIRED
    assert by_name["correct"].significant is False
    assert by_name["f1"].significant is False


def test_compare_without_ids_falls_back_to_interval_overlap_and_says_so(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    def no_ids(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "id"} for r in rows]

    _record(gitprov, write_jsonl(tmp_path / "a.jsonl", no_ids(simulated(7, 2000, 0.5))))
    new_version(project, gitprov, "weights v2")
    _record(gitprov, write_jsonl(tmp_path / "b.jsonl", no_ids(simulated(7, 2000, 0.5, fix=0.5))))
    result = eval_comparison.compare(cwd=project, a="models/m.pt@HEAD~1", b="models/m.pt")
    correct = next(m for m in result.metrics if m.metric == "correct")
    assert correct.method == eval_stats.OVERLAP
    assert correct.significant is True  # 50% against 75%: far apart
    assert "no 'id' column" in correct.why


def test_compare_of_values_without_intervals_cannot_tell(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    metrics = tmp_path / "m.json"
    metrics.write_text('{"accuracy": 0.8}')
    args = ("--dataset", "data/test", "--metrics", str(metrics))
    assert gitprov("eval", "record", "models/m.pt", *args).exit_code == 0
    new_version(project, gitprov, "weights v2")
    metrics.write_text('{"accuracy": 0.85}')
    assert gitprov("eval", "record", "models/m.pt", *args).exit_code == 0
    result = gitprov("eval", "compare", "models/m.pt@HEAD~1", "models/m.pt")
    assert result.exit_code == 0
    assert "delta  +0.0500  unknown (none:" in result.stdout


def test_compare_names_what_is_missing(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    result = gitprov("eval", "compare", "models/m.pt", "models/m.pt@HEAD")
    assert result.exit_code == ExitCode.FAILED
    assert "no evaluation of models/m.pt" in result.stderr
    assert "gitprov eval record models/m.pt" in result.stderr
    result = gitprov("eval", "compare", "nonsense", "models/m.pt")
    assert result.exit_code == ExitCode.USAGE


def test_compare_warns_when_the_data_differ(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    scores = write_jsonl(tmp_path / "s.jsonl", simulated(4, 200, 0.6))
    _record(gitprov, scores)  # split "test"
    new_version(project, gitprov, "weights v2")
    other = ("--dataset", "data/test", "--split", "validation", "--scores", str(scores))
    assert gitprov("eval", "record", "models/m.pt", *other).exit_code == 0
    result = gitprov("eval", "compare", "models/m.pt@HEAD~1", "models/m.pt")
    assert result.exit_code == 0
    assert "gitprov: warning: A and B were evaluated on different data" in result.stderr
    assert "/test and ds:" in result.stderr
    assert "interval-overlap: the evaluations used different dataset snapshots" in result.stdout


# --- eval run -----------------------------------------------------------------------------

EVAL_SCRIPT = """\
import json, sys
with open(sys.argv[1], "w") as out:
    for i in range(40):
        out.write(json.dumps({"id": i, "correct": i % 4 != 0}) + "\\n")
"""


def test_eval_run_runs_the_command_and_records_code_command_and_environment(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    gen(project, {"eval.py": EVAL_SCRIPT})
    with (project / ".gitignore").open("a") as ignore:
        ignore.write("scores.jsonl\n")
    git(project, "add", "eval.py", ".gitignore")
    git(project, "commit", "-q", "-m", "eval script")
    python = sys.executable
    result = gitprov(
        "eval", "run", "models/m.pt", "--dataset", "data/test", "--scores", "scores.jsonl",
        "--", python, "eval.py", "scores.jsonl",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (rec,) = evals.list_evals(cwd=project)
    assert rec.metrics["correct"].value == 0.75
    assert rec.metrics["correct"].n == 40
    assert rec.by.endswith("eval.py scores.jsonl")
    assert rec.code_commit == head(project)
    assert rec.code_dirty is False
    assert rec.env is not None
    assert (project / ".gitprov/envs" / (rec.env.split(":")[1] + ".json")).is_file()
    assert "commit it so that other clones" in result.stderr

    # A second run is not refused for the first one's environment snapshot, but a code
    # change is, unless --allow-dirty, which records a digest of the diff.
    (project / "eval.py").write_text(EVAL_SCRIPT + "# tweak\n")
    args = ("eval", "run", "models/m.pt", "--dataset", "data/test", "--scores", "scores.jsonl")
    refused = gitprov(*args, "--", python, "eval.py", "scores.jsonl")
    assert refused.exit_code == ExitCode.FAILED
    assert "uncommitted changes (eval.py)" in refused.stderr
    allowed = gitprov(*args, "--allow-dirty", "--", python, "eval.py", "scores.jsonl")
    assert allowed.exit_code == 0, allowed.stderr
    dirty = evals.list_evals(cwd=project)[-1]
    assert dirty.code_dirty is True
    assert dirty.diff_digest is not None


def test_eval_run_records_nothing_when_the_command_fails_or_writes_no_scores(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    args = ("eval", "run", "models/m.pt", "--dataset", "data/test", "--scores", "out.jsonl")
    failed = gitprov(*args, "--", sys.executable, "-c", "raise SystemExit(4)")
    assert failed.exit_code == 4
    assert "nothing was recorded" in failed.stderr
    silent = gitprov(*args, "--", sys.executable, "-c", "pass")
    assert silent.exit_code == ExitCode.FAILED
    assert "did not write the scores file out.jsonl" in silent.stderr
    assert evals.list_evals(cwd=project) == []


# --- notes sync ---------------------------------------------------------------------------


def test_records_survive_notes_sync_between_clones(
    project: Path,
    gitprov: Callable[..., Result],
    tmp_path: Path,
    bare_remote: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITPROV_SKIP_PUSH", "1")  # no artifact remote: only notes travel
    git(project, "remote", "add", "origin", str(bare_remote))
    git(project, "push", "-q", "origin", "main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare_remote), str(other))
    notes_setup.apply(GitConfig(other), notes_setup.required_settings(["origin"]))
    digest = pointer_digest(project)

    _record(gitprov, write_jsonl(tmp_path / "a.jsonl", simulated(1, 100, 0.6)))
    metrics = tmp_path / "m.json"
    metrics.write_text('{"bleu": {"value": 31.2, "ci_low": 30.1, "ci_high": 32.4}}')
    assert (
        evals.record(
            cwd=other, checkpoint="models/m.pt", dataset="data/test", metrics_file=str(metrics)
        ).record.digest
        == digest
    )

    notes_sync.sync(cwd=project, remote="origin")
    notes_sync.sync(cwd=other, remote="origin")
    notes_sync.sync(cwd=project, remote="origin")

    for clone in (project, other):
        found = evals.records_for(cwd=clone, digest=digest)
        assert sorted(m for r in found for m in r.metrics) == ["bleu", "correct", "f1"]
    # The per-example scores stay in the clone that recorded them: compare says so.
    (a, b) = evals.records_for(cwd=other, digest=digest)
    assert a.scores is not None or b.scores is not None


# --- docs/evaluation.md -------------------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "evaluation.md"


def _blocks(section: str, kind: str) -> list[str]:
    text = DOC.read_text().split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [b.split("```", 1)[0] for b in text.split(f"```{kind}\n")[1:]]


def test_the_docs_examples_are_what_gitprov_prints(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    scores = project / "scores.jsonl"  # inside the work tree: shown by its relative path
    scores.write_text(_blocks("Scores files", "jsonl")[0])
    recorded = gitprov("eval", "record", "models/m.pt", "--dataset", "data/test",
                       "--scores", "scores.jsonl", "--slice", "lang")  # fmt: skip
    assert recorded.exit_code == 0, recorded.stderr
    shown = _blocks("Scores files", "text")[0].splitlines()
    assert shown[0].startswith("recorded evaluation ")
    for line in shown[1:]:
        assert line in recorded.stdout.splitlines()
    scores.write_text('{"id": 1, "correct": 1}\n{"id": 2, "correct": 0}\n{"id": 3}\n')
    failed = gitprov("eval", "record", "models/m.pt", "--dataset", "data/test",
                     "--scores", "scores.jsonl")  # fmt: skip
    assert failed.stderr.strip() == _blocks("Scores files", "text")[1].strip()

    # The compare example: the 'correct' column of the simulated evaluations above.
    _record(gitprov, write_jsonl(tmp_path / "a.jsonl", simulated(7, 2000, 0.7)))
    new_version(project, gitprov, "weights v2")
    _record(gitprov, write_jsonl(tmp_path / "b.jsonl", simulated(7, 2000, 0.7, fix=0.12)))
    compared = gitprov("eval", "compare", "models/m.pt@HEAD~1", "models/m.pt", "--dataset",
                       "data/test")  # fmt: skip
    assert compared.exit_code == 0, compared.stderr
    example = _blocks("gitprov eval compare", "text")[0].splitlines()
    assert [line[:3] for line in example[:2]] == ["A: ", "B: "]
    start = compared.stdout.splitlines().index("correct:")
    assert compared.stdout.splitlines()[start : start + 4] == example[2:6]


# --- properties ---------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
names = st.text("abcdefghij_", min_size=1, max_size=8).filter(lambda n: n != "id")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(names, min_size=1, max_size=4, unique=True),
    st.lists(st.lists(finite, min_size=4, max_size=4), min_size=1, max_size=20),
    st.booleans(),
)
def test_scores_files_read_back_exactly_in_both_formats(
    columns: list[str], rows: list[list[float]], with_ids: bool
) -> None:
    """Whatever numbers a JSONL or CSV file holds, the table has exactly those values."""
    records = [
        {**({"id": f"e{i}"} if with_ids else {}), **dict(zip(columns, row, strict=False))}
        for i, row in enumerate(rows)
    ]
    jsonl = "".join(json.dumps(r) + "\n" for r in records)
    header = (["id"] if with_ids else []) + columns
    csv_text = (
        ",".join(header)
        + "\n"
        + "".join(
            ",".join(repr(float(r[c])) if c != "id" else str(r[c]) for c in header) + "\n"
            for r in records
        )
    )
    for text, fmt in ((jsonl, "jsonl"), (csv_text, "csv")):
        table = scores_model.parse(text, source="s", fmt=fmt, metrics=columns)
        assert table.metrics == {c: tuple(float(r[c]) for r in records) for c in columns}  # type: ignore[arg-type]
        assert table.ids == (tuple(f"e{i}" for i in range(len(rows))) if with_ids else None)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0]), min_size=1, max_size=50), st.integers(0, 2**32))
def test_an_eval_record_reads_back_what_was_written(values: list[float], seed: int) -> None:
    from gitprov.model import eval_record  # noqa: PLC0415
    from gitprov.model.notes import make_record, parse_lines  # noqa: PLC0415

    estimate = eval_stats.estimate(values, seed=seed)
    fields = eval_record.to_fields(
        checkpoint="m.pt",
        digest="sha256:" + "a" * 64,
        dataset="data",
        dataset_snapshot="sha256:" + "b" * 64,
        split="test",
        metrics={"acc": estimate},
        slice_column="lang",
        slices={"en": {"acc": estimate}},
        code_commit="c" * 40,
        env=None,
    )
    line = make_record(eval_record.TYPE, fields)
    back = eval_record.from_record(parse_lines(line)[0], "d" * 40)
    assert back.metrics == {"acc": estimate}
    assert back.slices == {"en": {"acc": estimate}}
    assert (back.split, back.snapshot_id, back.commit) == ("test", "ds:bbbbbbbbbbbb", "d" * 40)
    (entry,) = eval_record.model_index_metrics(back)
    assert entry["value"] == estimate.value
    assert entry["args"] == {
        "method": "wilson",
        "ci_low": estimate.ci_low,
        "ci_high": estimate.ci_high,
        "ci_level": 0.95,
        "n": len(values),
    }


def test_a_paired_delta_is_over_the_shared_examples_and_inside_its_interval(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    rows_a = [{"id": i, "correct": 1 if i % 10 else 0} for i in range(1, 201)]  # 0.9
    rows_b = [{"id": i, "correct": 1 if i <= 200 else 0} for i in range(181, 401)]  # ~0.09
    _record(gitprov, write_jsonl(tmp_path / "a.jsonl", rows_a))
    new_version(project, gitprov, "weights v2")
    _record(gitprov, write_jsonl(tmp_path / "b.jsonl", rows_b))

    result = gitprov("eval", "compare", "models/m.pt@HEAD~1", "models/m.pt", "--json")

    assert result.exit_code == 0, result.stderr
    correct = next(m for m in json.loads(result.stdout)["metrics"] if m["metric"] == "correct")
    assert correct["paired"]["n"] == 20
    assert correct["paired"]["ci_low"] <= correct["delta"] <= correct["paired"]["ci_high"]
    assert correct["delta"] > 0  # on the 20 shared examples B is right more often than A
    assert "fewer than either evaluation scored" in correct["why"]
