"""Decision links, outcomes and queries, against real runs in a real repository."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitprov.model import decision as decisions
from tests.conftest import Result, git, ml_project, run_gitprov

TRAIN = """\
import json, pathlib, sys
acc, loss = float(sys.argv[1]), float(sys.argv[2])
pathlib.Path("model.pt").write_text(f"weights {acc}")
pathlib.Path("metrics.json").write_text(json.dumps({"eval": {"acc": acc}, "loss": loss}))
"""


@pytest.fixture
def project(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    return ml_project(committed_repo, gitprov, TRAIN)


def train(repo: Path, acc: float, loss: float, *extra: str) -> str:
    result = run_gitprov(
        repo,
        *("run", "-i", "data", "-o", "model.pt", "--metrics", "metrics.json", *extra),
        *("--", sys.executable, "train.py", str(acc), str(loss)),
    )
    assert result.exit_code == 0, result.stderr
    message = git(repo, "log", "-1", "--format=%B")
    (run_id,) = [line.split(": ")[1] for line in message.splitlines() if "Gitprov-Run" in line]
    return run_id


def new(gitprov: Callable[..., Result], title: str, *extra: str) -> str:
    result = gitprov("decision", "new", title, "--no-edit", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    return str(json.loads(result.stdout)["id"])


def record(repo: Path, ident: str) -> tuple[decisions.Decision, dict[str, object], str]:
    (path,) = (repo / "decisions").glob(f"{ident}-*.md")
    decision, doc, body = decisions.parse(path.read_bytes().decode(), source=path.name)
    return decision, doc.unwrap(), body


def test_link_a_commit_a_run_and_an_artifact(project: Path, gitprov: Callable[..., Result]) -> None:
    run_id = train(project, 0.8, 0.5)
    ident = new(gitprov, "Use AdamW")
    head = git(project, "rev-parse", "HEAD").strip()
    digest = (project / "model.pt.gitprov").read_text().split('digest = "')[1].split('"')[0]
    result = gitprov(
        "decision",
        "link",
        ident,
        *("--commit", "HEAD", "--run", f"run:{run_id[:10]}", "--artifact", "model.pt"),
        *("--artifact", "data"),
    )
    assert result.exit_code == 0, result.stderr
    assert f"{ident} -> run {run_id}" in result.stdout
    decision, _, _ = record(project, ident)
    assert decision.links["commits"] == (head,)
    assert decision.links["runs"] == (run_id,)
    assert decision.links["artifacts"][0] == f"model.pt@{digest}"
    assert decision.links["artifacts"][1].startswith("data@sha256:")
    # By digest (a prefix): the path it was tracked at is stored with it; twice is once.
    again = gitprov("decision", "link", ident, "--artifact", digest[:20], "--commit", head)
    assert again.exit_code == 0, again.stderr
    assert record(project, ident)[0].links["artifacts"][0] == f"model.pt@{digest}"
    assert len(record(project, ident)[0].links["artifacts"]) == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--commit", "-x"], 2, "is not a revision"),
        (["--commit", "nosuchbranch"], 1, "no such commit"),
        (["--run", "not a run!"], 2, "is not a run id"),
        (["--run", "run:01ZZZZZZZZ"], 1, "no run"),
        (["--artifact", "sha256:xyz"], 2, "is not a digest"),
        (["--artifact", "sha256:" + "0" * 64], 1, "sha256:000"),
        (["--artifact", "README.md"], 1, "is not tracked by gitprov"),
        ([], 2, "nothing to link"),
    ],
)
def test_bad_link_targets_are_one_line_errors(
    project: Path, gitprov: Callable[..., Result], args: list[str], code: int, message: str
) -> None:
    ident = new(gitprov, "Something")
    (path,) = (project / "decisions").glob(f"{ident}-*.md")
    before = path.read_bytes()
    result = gitprov("decision", "link", ident, *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert path.read_bytes() == before


def _metrics(repo: Path, ident: str) -> dict[str, dict[str, object]]:
    _, values, _ = record(repo, ident)
    outcome = values["outcome"]
    assert isinstance(outcome, dict)
    return {m["name"]: m for m in outcome["metrics"]}


def test_outcome_from_two_linked_runs(project: Path, gitprov: Callable[..., Result]) -> None:
    baseline = train(project, 0.8, 0.5)
    after = train(project, 0.9, 0.6)
    metric_args = ("--metric", "acc", "--expect", "increase")
    ident = new(gitprov, "Bigger model", *metric_args, "--metric", "loss", "--expect", "decrease")
    link = gitprov("decision", "link", ident, "--run", after, "--run", baseline)
    assert link.exit_code == 0, link.stderr
    result = gitprov("decision", "outcome", ident, "--actual", "Doubled the width.")
    assert result.exit_code == 0, result.stderr
    assert "acc: 0.8 -> 0.9 (+0.1; expected to increase: met)" in result.stdout
    assert "loss: 0.5 -> 0.6 (+0.1; expected to decrease: not met)" in result.stdout
    found = _metrics(project, ident)
    assert found["acc"] == {
        **found["acc"],
        "before": 0.8,
        "after": 0.9,
        "delta": 0.1,
        "met": True,
        "expect": "increase",
        "baseline_run": baseline,
        "source": after,
        "runs": [baseline, after],
    }
    assert (found["loss"]["met"], found["loss"]["delta"]) == (False, 0.1)
    _, _, body = record(project, ident)
    section = body.split("## Planned vs. actually changed")[1].split("##")[0]
    assert section.strip() == "Actually changed: Doubled the width."


def test_outcome_override_baseline_from_parent_and_no_baseline(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    first = train(project, 0.8, 0.5)
    ident = new(gitprov, "Tune", "--metric", "acc", "--expect", "increase")
    assert gitprov("decision", "link", ident, "--run", first).exit_code == 0
    # One linked run, nothing upstream of it: no baseline.
    alone = gitprov("decision", "outcome", ident)
    assert alone.exit_code == 0, alone.stderr
    assert "acc: 0.8 (expected to increase; no baseline)" in alone.stdout
    assert _metrics(project, ident)["acc"]["baseline"] == "none"
    # --metric wins for "after"; the linked run becomes the baseline.
    manual = gitprov("decision", "outcome", ident, "--metric", "acc=0.75")
    assert manual.exit_code == 0, manual.stderr
    acc = _metrics(project, ident)["acc"]
    assert (acc["before"], acc["after"], acc["met"], acc["source"]) == (0.8, 0.75, False, "manual")
    bad = gitprov("decision", "outcome", ident, "--metric", "f1=0.5")
    assert (bad.exit_code, "is not one of decision") == (2, bad.stderr.split("f1 ")[1][:22])


def test_outcome_never_overwrites_the_users_prose(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    ident = new(gitprov, "Prose", "--metric", "eval.acc", "--expect", "increase")
    (path,) = (project / "decisions").glob(f"{ident}-*.md")
    text = (
        path.read_bytes()
        .decode()
        .replace(
            "What was planned; what actually changed, and why they differ.",
            "We planned *two* changes.",
        )
    )
    text = text.replace("\n", "\r\n")
    path.write_bytes(text.encode())
    result = gitprov(
        "decision", "outcome", ident, "--metric", "eval.acc=0.9", "--why", "GPU budget"
    )
    assert result.exit_code == 0, result.stderr
    after = path.read_bytes().decode()
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    added = f"\r\nOutcome recorded on {today}:\r\n\r\nWhy it differs from the plan: GPU budget\r\n"
    prose = "We planned *two* changes.\r\n"
    expected = decisions.split(text, source="t")[1].replace(prose, prose + added)
    assert decisions.split(after, source="t")[1] == expected
    assert "\n" not in after.replace("\r\n", "")  # CRLF throughout, front matter too
