"""``gitprov review BASE..HEAD`` on a scripted pull request, and ``gitprov ci init``.

One repository is built once for the module with real ``gitprov run`` commits and the
real hooks: a base branch (a model trained on one CSV, its card, a proposed decision) and
a pull request on top of it that adds a dataset file and retrains (metric ``acc`` up
significantly, ``f1`` up with overlapping intervals, ``loss`` without an interval), edits
the card (license field, the "Direct Use" prose), accepts the decision, and finally marks
the checkpoint for release in a commit made with hooks disabled (so it has no lineage
record, and the release checklist fails on the card's placeholders). An approval record
without its signature sits in the notes of the head. Both model versions are evaluated on
an unchanged held-out set with ``gitprov eval record`` (``top1`` up, inside the noise).

Golden files: ``tests/golden/review/*.md``. Dates and identities are fixed; commit hashes,
run ids and timings still vary, and are normalised before comparing. Regenerate them (and
the example report in docs/review.md) with
``GITPROV_UPDATE_GOLDEN=1 .venv/bin/pytest -p no:cacheprovider tests/test_review.py``,
then read the diff before committing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import typer.main
import yaml
from markdown_it import MarkdownIt

from gitprov.cli.main import app
from gitprov.errors import ExitCode
from gitprov.model import review_markdown
from gitprov.services import ci_templates, review
from tests.conftest import Result, git

GOLDEN = Path(__file__).parent / "golden" / "review"
UPDATE = os.environ.get("GITPROV_UPDATE_GOLDEN") == "1"
DATE = "2026-03-01T12:00:00+00:00"

TRAIN = """\
import json, pathlib
files = sorted(pathlib.Path("data").glob("*.csv"))
pathlib.Path("model.pt").write_text("weights of " + "".join(p.read_text() for p in files))
metrics = {
    1: {"acc": 0.80, "acc_ci_low": 0.78, "acc_ci_high": 0.82,
        "f1": 0.70, "f1_ci_low": 0.65, "f1_ci_high": 0.75, "loss": 0.5},
    2: {"acc": 0.86, "acc_ci_low": 0.83, "acc_ci_high": 0.89,
        "f1": 0.72, "f1_ci_low": 0.66, "f1_ci_high": 0.78, "loss": 0.45},
}[len(files)]
pathlib.Path("metrics.json").write_text(json.dumps(metrics))
"""

DECISION = """\
+++
id = "7K2M9Q"
title = "Train on more data"
status = "{status}"
created = "2026-03-01"
authors = ["Test User <test@example.com>"]
supersedes = []
superseded_by = []
metrics = [{{ name = "acc", expect = "increase" }}]

[links]
commits = []
runs = []
artifacts = []
+++

# Train on more data

## Context and problem

One CSV file is not enough.
"""


def _env(home: Path) -> dict[str, str]:
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GITPROV_TRACE")
    }
    env.update(
        HOME=str(home),
        GIT_CONFIG_GLOBAL=str(config),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_DATE=DATE,
        GIT_COMMITTER_DATE=DATE,
    )
    return env


class Script:
    """Runs git and gitprov in the scripted repository with a fixed environment."""

    def __init__(self, repo: Path, env: dict[str, str]) -> None:
        self.repo, self.env = repo, env

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.repo, env=self.env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"git {args}: {proc.stderr}"
        return proc.stdout

    def gitprov(self, *args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "gitprov", *args],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, f"gitprov {args}: {proc.stderr}"
        return proc.stdout

    def write(self, name: str, text: str) -> None:
        path = self.repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def edit(self, name: str, old: str, new: str) -> None:
        text = (self.repo / name).read_text()
        assert old in text, f"{old!r} not in {name}"
        self.write(name, text.replace(old, new, 1))

    def evaluate(self, value: float, low: float, high: float) -> None:
        """An evaluation of model.pt on the held-out set, recorded in the notes."""
        metrics = {"top1": {"value": value, "ci_low": low, "ci_high": high, "n": 400}}
        self.write("eval.json", json.dumps(metrics))
        self.gitprov(
            *("eval", "record", "model.pt", "--dataset", "heldout", "--split", "test"),
            *("--metrics", "eval.json"),
        )
        (self.repo / "eval.json").unlink()

    def train(self) -> None:
        self.gitprov(
            *("run", "-i", "data", "-o", "model.pt", "--metrics", "metrics.json"),
            *("-m", "Train the model", "--", sys.executable, "train.py"),
        )


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scripted repository, checked out at the pull request's head (branch 'feature')."""
    root = tmp_path_factory.mktemp("review")
    (root / "home").mkdir()
    repo = root / "repo"
    repo.mkdir()
    s = Script(repo, _env(root / "home"))
    s.git("init", "-q")
    s.write("README.md", "A model.\n")
    s.git("add", "README.md")
    s.git("commit", "-q", "-m", "Initial commit")
    s.gitprov("init")
    s.write("train.py", TRAIN)
    s.write("data/a.csv", "1,2\n")
    s.write(".gitignore", (repo / ".gitignore").read_text() + "metrics.json\n")
    s.git("add", ".gitignore", ".gitprov", "train.py")
    s.git("commit", "-q", "-m", "Project")
    s.train()
    s.gitprov("card", "new", "model.pt", "--license", "mit")
    s.edit(
        "model.card.md",
        "### Direct Use\n\n[More Information Needed]",
        "### Direct Use\n\nSorting pairs of numbers.",
    )
    s.write("decisions/7K2M9Q-train-on-more-data.md", DECISION.format(status="proposed"))
    s.write("heldout/x.csv", "5,6\n")
    s.gitprov("track", "heldout", "--kind", "dataset")
    s.git("add", "model.card.md", "model.pt.gitprov", "decisions", "heldout.gitprov")
    s.git("commit", "-q", "-m", "Model card, a held-out set and a proposed decision")
    s.evaluate(0.70, 0.66, 0.74)
    # The pull request.
    s.git("checkout", "-q", "-b", "feature")
    s.write("data/b.csv", "3,4\n")
    s.train()
    s.evaluate(0.73, 0.69, 0.77)  # up, inside the noise
    s.gitprov("card", "sync", "model.pt")
    s.edit("model.card.md", "license: mit", "license: apache-2.0")
    s.edit(
        "model.card.md",
        "Sorting pairs of numbers.",
        "Sorting pairs of numbers, now trained on two files.\nNot for triples.",
    )
    s.git("add", "model.card.md")
    s.git("commit", "-q", "-m", "Card: Apache-2.0 and what it is for")
    s.write("decisions/7K2M9Q-train-on-more-data.md", DECISION.format(status="accepted"))
    s.git("add", "decisions")
    s.git("commit", "-q", "-m", "Accept: train on more data\n\nDecision: 7K2M9Q")
    s.edit(
        "model.pt.gitprov", 'card = "model.card.md"', 'card = "model.card.md"\nstage = "release"'
    )
    s.git("add", "model.pt.gitprov")
    # Hooks skipped, as CI or '--no-verify' with a hook manager would: no lineage record.
    s.git("-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", "Mark for release")
    # An approval record whose signature is missing (as if stripped): shown as tampered.
    digest = re.search(r'digest = "(.*)"', (repo / "model.pt.gitprov").read_text())
    assert digest is not None
    approval = {
        "type": "approval",
        "at": "2026-03-01T12:00:00.000Z",
        "id": "01JN0000000000000000000000",
        "checkpoint": "model.pt",
        "digest": digest.group(1),
        "role": "reviewer",
        "approver": "Test User <test@example.com>",
        "comment": "",
        "commit": s.git("rev-parse", "HEAD").strip(),
    }
    line = json.dumps(approval, sort_keys=True, separators=(",", ":"))
    s.git("notes", "--ref=gitprov", "append", "-m", line, "HEAD")
    return repo


def normalised(text: str) -> str:
    """``text`` without what changes from one run to the next: commit hashes and the
    hashes of files that name them (cards, pointers), run ids, this interpreter's path,
    line numbers inside the model card."""
    text = text.replace(sys.executable, "python")
    # Where the card template puts its sections is the card's business, not the review's.
    text = re.sub(r"\bline \d+\b", "line <n>", text)
    text = re.sub(r"\b[0-9a-f]{40}\b", "<commit>", text)
    text = re.sub(r"\b[0-9A-HJKMNP-TV-Z]{26}\b", "<ULID>", text)
    return re.sub(r"\b[0-9a-f]{12}\b", "<hex12>", text)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(normalised(text))
        return
    assert path.is_file(), f"no golden file {path}: run with GITPROV_UPDATE_GOLDEN=1"
    assert normalised(text) == path.read_text(), (
        f"the report differs from {path.name}; if the change is meant, regenerate with "
        "GITPROV_UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.fixture(scope="module")
def report(pull_request: Path) -> review.ReviewReport:
    return review.review(cwd=pull_request, rev_range="main..feature")


def test_summary_counts_what_the_pull_request_changes(report: review.ReviewReport) -> None:
    assert report.commits == 4
    assert report.changed("checkpoint") == 1
    assert report.changed("dataset") == 1
    assert report.checks_failing > 0
    assert [c.subject for c in report.without_lineage] == ["Mark for release"]


DOCS = Path(__file__).parents[1] / "docs" / "review.md"


def test_markdown_report_matches_the_golden_file(report: review.ReviewReport) -> None:
    text = review_markdown.render(report)
    golden("pull-request.md", text)
    if UPDATE:  # the docs show the same report, real hashes and all
        before, rest = DOCS.read_text().split("````markdown\n", 1)
        after = rest.split("\n````", 1)[1]
        shown = text.replace(sys.executable, "python").rstrip("\n")
        DOCS.write_text(f"{before}````markdown\n{shown}\n````{after}")


def test_metrics_are_judged_by_their_confidence_intervals(report: review.ReviewReport) -> None:
    rows = {m.metric: m for m in report.metrics}
    assert rows["acc"].base == 0.80
    assert rows["acc"].head == 0.86
    assert rows["acc"].significance == "significant"  # [0.78, 0.82] vs [0.83, 0.89]
    assert rows["f1"].significance == "not significant"  # [0.65, 0.75] vs [0.66, 0.78]
    assert rows["loss"].significance == "no CI"
    assert rows["loss"].delta == pytest.approx(-0.05)
    assert {m.source for m in report.metrics} == {"card", "eval"}
    (top1,) = [m for m in report.metrics if m.source == "eval"]
    assert top1.dataset.startswith("heldout (test, ds:")  # same snapshot on both sides
    assert (top1.base, top1.head, top1.significance) == (0.70, 0.73, "not significant")


def test_card_fields_and_only_the_changed_prose_sections(report: review.ReviewReport) -> None:
    (card,) = report.cards
    assert card.path == "model.card.md"
    fields = {f.key: (f.old, f.new) for f in card.fields}
    assert fields["license"] == ("mit", "apache-2.0")
    assert "gitprov.checkpoint.digest" in fields
    assert not any(key.startswith("model-index") for key in fields)  # the metrics' job
    (section,) = card.sections
    assert section.heading == "Uses / Direct Use"
    assert section.change == "changed"
    assert "-Sorting pairs of numbers." in section.diff
    assert "+Not for triples." in section.diff


def test_artifacts_show_the_new_dataset_snapshot_and_checkpoint(
    report: review.ReviewReport,
) -> None:
    by_path = {a.path: a for a in report.artifacts}
    assert set(by_path) == {"data", "model.pt"}
    assert by_path["data"].kind == "dataset"
    assert (by_path["data"].old_size, by_path["data"].new_size) == (4, 8)
    assert by_path["model.pt"].release
    assert by_path["model.pt"].old_digest != by_path["model.pt"].new_digest


def test_decision_status_change_is_listed(report: review.ReviewReport) -> None:
    (decision,) = report.decisions
    assert (decision.id, decision.old_status, decision.status) == (
        "7K2M9Q",
        "proposed",
        "accepted",
    )


def test_release_marked_checkpoint_gets_its_checklist(report: review.ReviewReport) -> None:
    (checklist,) = report.checklists
    assert checklist.checkpoint == "model.pt"
    assert not checklist.passed
    assert "card-complete" in {f.check for f in checklist.failures}  # placeholders left


def test_approvals_of_the_release_checkpoint_show_their_signature_status(
    report: review.ReviewReport,
) -> None:
    (approval,) = report.approvals
    assert (approval.checkpoint, approval.role, approval.status) == (
        "model.pt",
        "reviewer",
        "tampered",
    )


def test_lineage_diagram_shows_the_checkpoints_upstream(report: review.ReviewReport) -> None:
    assert report.lineage is not None
    assert report.lineage.hidden == 0
    assert report.lineage.nodes == 3  # data -> run -> model.pt
    assert "train.py" in report.lineage.mermaid


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header first), read by a CommonMark parser
    with the GFM table extension."""
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    tables: list[list[list[str]]] = []
    row: list[str] = []
    for i, token in enumerate(tokens):
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type in ("th_open", "td_open"):
            row.append(tokens[i + 1].content)
        elif token.type == "tr_close":
            tables[-1].append(row)
    return tables


def test_markdown_parses_and_every_table_is_well_formed(report: review.ReviewReport) -> None:
    markdown = review_markdown.render(report)
    tables = _tables(markdown)
    # Each '|---' separator line in the source became a table, and no row lost a cell.
    assert len(tables) == markdown.count("\n|---")
    assert len(tables) >= 5
    for rows in tables:
        assert len({len(r) for r in rows}) == 1, rows
    headings = [
        t.content
        for t in MarkdownIt("commonmark").parse(markdown)
        if t.type == "inline" and t.map and markdown.splitlines()[t.map[0]].startswith("### ")
    ]
    assert headings[:3] == ["Release checklist", "Metrics", "Artifacts"]


_NODE = re.compile(r'    (?P<id>[ar]\d+|more)(\("[^"]*"\)|\["[^"]*"\])')
_EDGE = re.compile(r"    (?P<a>[ar]\d+) --> (?P<b>[ar]\d+)")
_STYLE = re.compile(r"    (classDef \w+ [\w:#,.-]+|class [ar\d,]+ \w+)")


def mermaid_is_sane(block: str) -> None:
    """Node and edge lines well formed, edges between declared nodes, labels quoted
    without a raw quote, bracket or line break inside (ids are generated, never user text)."""
    lines = block.strip("\n").split("\n")
    assert lines[0] == "flowchart LR"
    declared: set[str] = set()
    for line in lines[1:]:
        if node := _NODE.fullmatch(line):
            declared.add(node["id"])
        elif edge := _EDGE.fullmatch(line):
            assert {edge["a"], edge["b"]} <= declared, line
        else:
            assert _STYLE.fullmatch(line), line


def test_mermaid_block_is_syntactically_sane(report: review.ReviewReport) -> None:
    markdown = review_markdown.render(report)
    blocks = [
        t.content
        for t in MarkdownIt("commonmark").parse(markdown)
        if t.type == "fence" and t.info == "mermaid"
    ]
    assert len(blocks) == 1
    mermaid_is_sane(blocks[0])


def test_small_max_chars_keeps_the_summary_and_says_what_was_cut(
    report: review.ReviewReport,
) -> None:
    full = review_markdown.render(report)
    short = review_markdown.render(report, max_chars=2000)
    assert len(short) <= 2000 < len(full)
    summary = review_markdown.summary(report)
    assert short.startswith(summary)
    golden("pull-request-2000-chars.md", short)
    assert "Shortened to fit 2,000 characters: left out" in short
    assert "card section" in short  # the prose diffs go first
    assert "```mermaid" not in short  # then the diagram
    assert "### Release checklist" in short  # the checklist's table is never cut
    assert "### Metrics" in short  # the metrics table outlives the checks' details
    assert "Fix:" not in short
    _tables(short)  # still parses


def test_the_report_in_the_docs_is_the_golden_one() -> None:
    docs = DOCS.read_text()
    block = docs.split("````markdown\n", 1)[1].split("\n````", 1)[0] + "\n"
    assert normalised(block) == (GOLDEN / "pull-request.md").read_text(), (
        "docs/review.md shows an old report: paste a fresh one (see its 'An example')"
    )
    mermaid_is_sane(block.split("```mermaid\n", 1)[1].split("```", 1)[0])


# -- the command line --------------------------------------------------------------------


def test_cli_prints_the_report(
    pull_request: Path,
    report: review.ReviewReport,
    gitprov: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(pull_request)
    result = gitprov("review", "main..feature")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == review_markdown.render(report)
    short = gitprov("review", "main..feature", "--max-chars", "1200")
    assert short.exit_code == 0
    assert len(short.stdout) <= 1200


def test_cli_json_has_the_summary_and_every_section(
    pull_request: Path, gitprov: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pull_request)
    result = gitprov("review", "main..feature", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["summary"] == {
        "checkpoints_changed": 1,
        "datasets_changed": 1,
        "checks_failing": data["summary"]["checks_failing"],
        "commits_without_lineage": 1,
    }
    assert data["summary"]["checks_failing"] > 0
    significance = {m["metric"]: m["significance"] for m in data["metrics"]}
    assert significance == {
        "acc": "significant",
        "f1": "not significant",
        "loss": "no CI",
        "top1": "not significant",
    }
    assert data["without_lineage"][0]["subject"] == "Mark for release"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["main"], "is not a range"),
        (["main..nope"], "unknown revision 'nope'"),
        (["main..feature", "--max-chars", "10"], "too small"),
        (["main..feature", "--format", "html"], ""),
    ],
)
def test_cli_usage_errors_exit_2(
    pull_request: Path,
    gitprov: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(pull_request)
    result = gitprov("review", *args)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_range_says_nothing_changed(
    pull_request: Path, gitprov: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pull_request)
    result = gitprov("review", "feature..feature")
    assert result.exit_code == 0
    assert "**0 checkpoints changed · 0 datasets changed · 0 checks failing** (0 commits)" in (
        result.stdout
    )
    assert "Nothing in this range changes" in result.stdout


def test_a_repository_without_gitprov_gets_a_report_too(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    (committed_repo / "README.md").write_text("changed\n")
    git(committed_repo, "commit", "-q", "-am", "Edit the readme")
    result = gitprov("review", "HEAD~1..HEAD")
    assert result.exit_code == 0, result.stderr
    assert "**0 checkpoints changed" in result.stdout
    assert "(1 commit, 1 without a lineage record)" in result.stdout
    assert "Edit the readme" in result.stdout


# -- CI --------------------------------------------------------------------------------


def _commands(tree: object) -> list[str]:
    """Every shell line of a workflow: GitHub's 'run' values, GitLab's script lists."""
    found: list[str] = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            elif key in ("script", "before_script", "after_script"):
                found += [v for v in _flatten(value) if isinstance(v, str)]
            else:
                found += _commands(value)
    elif isinstance(tree, list):
        for item in tree:
            found += _commands(item)
    return found


def _flatten(value: object) -> list[object]:
    if isinstance(value, list):
        return [v for item in value for v in _flatten(item)]
    return [value]


def _invocations(shell: str) -> list[list[str]]:
    """The words after each 'gitprov' at the start of a shell command."""
    joined = shell.replace("\\\n", " ")
    out = []
    for part in re.split(r"\n|&&|\|\||;|\$\(", joined):
        words = part.split()
        if words and words[0] == "gitprov":
            out.append(words[1:])
    return out


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_workflow_parses_and_uses_only_commands_that_exist(provider: str) -> None:
    workflow = yaml.safe_load(ci_templates.template(provider))
    invocations = [i for shell in _commands(workflow) for i in _invocations(shell)]
    used = set()
    for words in invocations:
        command = typer.main.get_command(app)
        path = []
        for word in words:
            if word.startswith("-") or not hasattr(command, "commands"):
                break
            sub = command.commands.get(word)  # type: ignore[attr-defined]
            assert sub is not None, f"gitprov {' '.join([*path, word])} does not exist"
            path.append(word)
            command = sub
        options = {o for p in command.params for o in p.opts}
        for word in words:
            if word.startswith("--"):
                assert word.split("=")[0] in options, f"gitprov {' '.join(path)} has no {word}"
        used.add(" ".join(path))
    assert used == {"verify", "review", "report", "notes reattach", "notes sync"}


def test_github_workflow_updates_one_comment_by_its_marker() -> None:
    workflow = yaml.safe_load(ci_templates.template("github"))
    steps = workflow["jobs"]["review"]["steps"]
    shell = "\n".join(s.get("run", "") for s in steps)
    assert review_markdown.MARKER in shell
    assert "--method PATCH" in shell
    assert "fetch-depth" in json.dumps(steps)
    verify = next(s for s in steps if "verify --range" in s.get("run", ""))
    assert verify["continue-on-error"] is True
    assert steps[-1]["if"] == "steps.verify.outcome == 'failure'"  # the job still fails
    assert ci_templates.GITHUB_BRANCHES in ci_templates.template("github")  # ci init's hook
    merged = workflow["jobs"]["reattach-notes"]["steps"]
    assert any("gitprov notes reattach" in s.get("run", "") for s in merged)
    assert workflow["jobs"]["review"]["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
    }
    # Expressions reach scripts through env only: a branch name is never pasted into shell.
    assert not any("${{" in shell for shell in _commands(workflow))


def test_ci_init_writes_the_github_workflow(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("ci", "init", "github")
    assert result.exit_code == 0, result.stderr
    target = committed_repo / ".github/workflows/gitprov-review.yml"
    assert target.read_text() == ci_templates.template("github")
    assert "wrote .github/workflows/gitprov-review.yml" in result.stdout
    assert gitprov("ci", "init", "github").exit_code == 0  # unchanged: idempotent
    target.write_text(target.read_text() + "# mine\n")
    refused = gitprov("ci", "init", "github")
    assert refused.exit_code == ExitCode.FAILED
    assert "--force" in refused.stderr
    assert target.read_text().endswith("# mine\n")
    assert gitprov("ci", "init", "github", "--force").exit_code == 0
    assert target.read_text() == ci_templates.template("github")
    # The post-merge job follows the repository's own default branch.
    assert gitprov("ci", "init", "github", "--force", "--branch", "master").exit_code == 0
    workflow = yaml.safe_load(target.read_text())
    assert workflow[True]["push"]["branches"] == ["master"]  # YAML 1.1 reads 'on' as True
    bad = gitprov("ci", "init", "github", "--force", "--branch", "a]: x")
    assert bad.exit_code == ExitCode.USAGE


def test_ci_init_gitlab_includes_its_job(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("ci", "init", "gitlab")
    assert result.exit_code == 0, result.stderr
    main = yaml.safe_load((committed_repo / ".gitlab-ci.yml").read_text())
    assert main == {"include": [{"local": ".gitlab/gitprov-review.yml"}]}
    assert "GITPROV_TOKEN" in result.stdout
    # An existing .gitlab-ci.yml is the user's: not touched, the include line is suggested.
    (committed_repo / ".gitlab-ci.yml").write_text("test:\n  script: [make]\n")
    again = gitprov("ci", "init", "gitlab")
    assert again.exit_code == 0
    assert (committed_repo / ".gitlab-ci.yml").read_text() == "test:\n  script: [make]\n"
    assert "include" in again.stdout


def test_ci_init_unknown_provider_is_a_usage_error(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("ci", "init", "jenkins")
    assert result.exit_code == ExitCode.USAGE
