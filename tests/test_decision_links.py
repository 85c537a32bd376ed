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
from tests.test_exports import parse_dot

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


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "decisions")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def linked(project: Path, gitprov: Callable[..., Result]) -> dict[str, str]:
    """Two runs; decision A (accepted, superseded by B) links both runs, a commit and the
    checkpoint; B supersedes A; C is unrelated. Everything committed."""
    baseline = train(project, 0.8, 0.5)
    after = train(project, 0.9, 0.4)
    a = new(gitprov, "Wider layers", "--metric", "acc", "--expect", "increase")
    b = new(gitprov, 'Deeper "net" [v2]', "--hypothesis", "depth beats WIDTH")
    c = new(gitprov, "Clean the labels")
    commit(project, "new decisions")
    assert gitprov("decision", "accept", a).exit_code == 0
    head = git(project, "rev-parse", "HEAD").strip()
    args = ("--run", baseline, "--run", after, "--commit", head, "--artifact", "model.pt")
    assert gitprov("decision", "link", a, *args).exit_code == 0
    assert gitprov("decision", "link", b, "--artifact", "data").exit_code == 0
    commit(project, "accepted, linked")
    assert gitprov("decision", "supersede", a, "--by", b).exit_code == 0
    assert gitprov("decision", "outcome", a).exit_code == 0
    commit(project, "superseded, outcome")
    return {"a": a, "b": b, "c": c, "baseline": baseline, "after": after, "head": head}


def test_show_has_the_record_and_everything_linked(
    linked: dict[str, str], gitprov: Callable[..., Result]
) -> None:
    result = gitprov("decision", "show", linked["a"], "--json")
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    assert (view["id"], view["status"]) == (linked["a"], "superseded")
    assert view["chain"] == [linked["a"], linked["b"]]
    (commit,) = view["commits"]
    subject = git(Path.cwd(), "log", "-1", "--format=%s", linked["head"]).strip()
    assert commit == {"commit": linked["head"], "subject": subject, "found": True}
    runs = {r["id"]: r for r in view["runs"]}
    assert runs[linked["after"]]["metrics"] == {"metrics.json": {"eval": {"acc": 0.9}, "loss": 0.4}}
    assert runs[linked["after"]]["argv"][1:] == ["train.py", "0.9", "0.4"]
    (artifact,) = view["artifacts"]
    assert (artifact["path"], artifact["kind"]) == ("model.pt", "checkpoint")
    (acc,) = view["outcome"]["metrics"]
    assert (acc["before"], acc["after"], acc["met"]) == (0.8, 0.9, True)
    text = gitprov("decision", "show", linked["a"].lower())
    assert text.exit_code == 0, text.stderr
    assert f"chain      {linked['a']} -> {linked['b']}" in text.stdout
    assert "outcome    acc: 0.8 -> 0.9 (+0.1; expected to increase: met)" in text.stdout
    assert f"run        {linked['after']}  " in text.stdout


def test_list_filters(
    project: Path, linked: dict[str, str], gitprov: Callable[..., Result]
) -> None:
    def ids(*args: str) -> list[str]:
        result = gitprov("decision", "list", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return [d["id"] for d in json.loads(result.stdout)]

    a, b, c = linked["a"], linked["b"], linked["c"]
    assert set(ids("--grep", "wid")) == {a, b}  # a's title, b's body; any case
    assert ids("--grep", "LABELS") == [c]
    assert ids("--artifact", "model.pt") == [a]
    digest = (project / "model.pt.gitprov").read_text().split('digest = "')[1].split('"')[0]
    assert ids("--artifact", digest[:15]) == [a]
    assert ids("--artifact", "data") == [b]
    assert set(ids("--since", "2000-01-01")) == {a, b, c}
    assert ids("--since", "2999-01-01") == []
    assert ids("--status", "superseded", "--grep", "wider") == [a]
    bad = gitprov("decision", "list", "--since", "yesterday")
    assert (bad.exit_code, bad.stderr.count("\n")) == (2, 1)
    assert "is not a date" in bad.stderr


def test_graph_mermaid_and_dot(linked: dict[str, str], gitprov: Callable[..., Result]) -> None:
    mermaid = gitprov("decision", "graph", "--format", "mermaid")
    assert mermaid.exit_code == 0, mermaid.stderr
    lines = mermaid.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    # Node ids follow the records' order (date, then ID): find them by the decision ID.
    node = {line.split('["')[1][:6]: line.split("[")[0].strip() for line in lines if '["' in line}
    a, b = node[linked["a"]], node[linked["b"]]
    assert f'    {b}["{linked["b"]}<br/>Deeper #quot;net#quot; #91;v2#93;<br/>proposed"]' in lines
    assert f"    {b} -->|supersedes| {a}" in lines
    assert sum("-.->|run|" in line for line in lines) == 2
    assert sum("-.->|artifact|" in line for line in lines) == 2
    dot = gitprov("decision", "graph", "--format", "dot")
    assert dot.exit_code == 0, dot.stderr
    parsed = parse_dot(dot.stdout)  # pydot, its pyparsing deprecation warnings ignored
    labels = {n.get_name().strip('"'): n.get_label() for n in parsed.get_nodes()}
    assert labels[b] == f'"{linked["b"]}\\nDeeper \\"net\\" [v2]\\nproposed"'
    edges = {
        (e.get_source().strip('"'), e.get_destination().strip('"')) for e in parsed.get_edges()
    }
    assert (b, a) in edges
    assert len(edges) == 6  # supersedes, 2 runs, commit, 2 artifacts


def test_lineage_shows_decisions_from_trailers_and_links(
    project: Path, linked: dict[str, str], gitprov: Callable[..., Result]
) -> None:
    d = new(gitprov, "Trailer decision")
    commit(project, "add decision")
    run_id = train(project, 0.7, 0.3, "-m", f"retrain\n\nDecision: {d}")
    result = gitprov("lineage", "model.pt", "--json")
    assert result.exit_code == 0, result.stderr
    runs = {n["id"]: n for n in json.loads(result.stdout)["nodes"] if n["type"] == "run"}
    assert runs[run_id]["decisions"] == [d]  # from the trailer of the run's commit
    linked_by = gitprov("lineage", f"run:{linked['after']}", "--json")
    runs = {n["id"]: n for n in json.loads(linked_by.stdout)["nodes"] if n["type"] == "run"}
    assert runs[linked["after"]]["decisions"] == [linked["a"]]  # from [links] runs


def test_outcome_baseline_from_the_run_that_made_the_input_checkpoint(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    before = train(project, 0.8, 0.5)  # writes model.pt with acc 0.8
    tune = (
        "import json, pathlib; pathlib.Path('tuned.pt').write_text("
        "pathlib.Path('model.pt').read_text() + 'tuned'); "
        "pathlib.Path('metrics.json').write_text(json.dumps({'acc': 0.9, 'loss': 0.4}))"
    )
    result = run_gitprov(
        project,
        *("run", "-i", "model.pt", "-o", "tuned.pt", "--metrics", "metrics.json"),
        *("--", sys.executable, "-c", tune),
    )
    assert result.exit_code == 0, result.stderr
    message = git(project, "log", "-1", "--format=%B")
    (after,) = [line.split(": ")[1] for line in message.splitlines() if "Gitprov-Run" in line]
    ident = new(gitprov, "Fine-tune", "--metric", "acc", "--expect", "increase")
    # Only the fine-tuning run is linked: the baseline is the run that made its input.
    assert gitprov("decision", "link", ident, "--run", after).exit_code == 0
    outcome = gitprov("decision", "outcome", ident)
    assert outcome.exit_code == 0, outcome.stderr
    acc = _metrics(project, ident)["acc"]
    assert (acc["before"], acc["after"], acc["met"]) == (0.8, 0.9, True)
    assert acc["baseline_run"] == before
