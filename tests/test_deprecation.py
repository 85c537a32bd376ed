"""``gitprov deprecate``: a checkpoint retired, its card marked, its users warned.

Checkpoints come from real ``gitprov run`` commits: ``model.pt`` is trained on ``data``,
``tuned.pt`` is made from ``model.pt`` (a descendant), and ``model2.pt`` is tracked by
hand to stand in as the successor. Deprecations are real note records on HEAD.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gitprov.adapters import note_lines
from gitprov.adapters.git import GitConfig
from gitprov.cli.main import app
from gitprov.errors import ExitCode
from gitprov.model import card as cards
from gitprov.model import commit_record
from gitprov.model import deprecation as model
from gitprov.model import digest as digests
from gitprov.model.lineage_graph import ArtifactNode, Edge, LineageGraph, RunNode
from gitprov.model.notes import make_record, parse_lines
from gitprov.services import deprecation_scan, notes_setup
from gitprov.services.notes_sync import sync
from tests.conftest import Result, gen, git, ml_project, run_gitprov

TRAIN = """\
import pathlib
data = "".join(p.read_text() for p in sorted(pathlib.Path("data").glob("*.csv")))
pathlib.Path("model.pt").write_text("weights of " + data)
"""
TUNE = (
    "import pathlib; pathlib.Path('tuned.pt').write_text("
    "pathlib.Path('model.pt').read_text() + 'tuned')"
)
PROSE = "\r\nOur own words: it works well on cats.\r\nNot on dogs.\r\n"
REASON = "trained on a split that leaks the test set"


@dataclass(frozen=True)
class Chain:
    repo: Path
    train_run: str
    tune_run: str
    model: str  # model.pt's digest
    tuned: str
    model2: str


def _last_run(repo: Path) -> str:
    message = git(repo, "log", "-1", "--format=%B")
    (run_id,) = [line.split(": ")[1] for line in message.splitlines() if "Gitprov-Run" in line]
    return run_id


def _run(repo: Path, *args: str) -> str:
    result = run_gitprov(repo, "run", *args)
    assert result.exit_code == 0, result.stderr
    return _last_run(repo)


def _digest(repo: Path, name: str) -> str:
    text = (repo / f"{name}.gitprov").read_text()
    return next(ln for ln in text.splitlines() if ln.startswith("digest")).split('"')[1]


def _isolate(mp: pytest.MonkeyPatch, home: Path) -> None:
    """The identity and config isolation of conftest's ``isolated_git``, for a fixture
    built once for the module (that one is per test)."""
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    mp.setenv("HOME", str(home))
    mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GITPROV_TRACE"):
        mp.delenv(name, raising=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """The project, built once (real runs cost seconds); each test gets a copy."""
    runner = CliRunner()

    def gitprov(*args: str) -> Result:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, tmp_path_factory.mktemp("home"))
        repo = tmp_path_factory.mktemp("template") / "repo"
        repo.mkdir()
        git(repo, "init", "-q")
        gen(repo, {"README.md": "hello\n"})
        git(repo, "add", "README.md")
        git(repo, "commit", "-q", "-m", "initial")
        mp.chdir(repo)
        ml_project(repo, gitprov, TRAIN)
        train_run = _run(repo, "-i", "data", "-o", "model.pt", "--", sys.executable, "train.py")
        tune_run = _run(repo, "-i", "model.pt", "-o", "tuned.pt", "--", sys.executable, "-c", TUNE)
        gen(repo, {"model2.pt": "better weights"})
        assert gitprov("track", "model2.pt", "--kind", "checkpoint").exit_code == 0
        git(repo, "add", "model2.pt.gitprov", ".gitignore")
        git(repo, "commit", "-q", "-m", "model2")
    return Chain(
        repo,
        train_run,
        tune_run,
        _digest(repo, "model.pt"),
        _digest(repo, "tuned.pt"),
        _digest(repo, "model2.pt"),
    )


@pytest.fixture
def chain(template: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Chain:
    repo = tmp_path / "repo"
    shutil.copytree(template.repo, repo, symlinks=True)
    monkeypatch.chdir(repo)
    return replace(template, repo=repo)


def _head_records(repo: Path, kind: str) -> list[dict[str, object]]:
    note = git(repo, "notes", "--ref=gitprov", "show", "HEAD", check=False)
    return [r for r in parse_lines(note) if r.get("type") == kind]


def _front(path: Path) -> dict[str, object]:
    data, _ = cards.parse(path.read_bytes().decode(), source=path.name)
    return data


# --- recording ---------------------------------------------------------------------------


def test_deprecate_records_a_note_on_head(chain: Chain, gitprov: Callable[..., Result]) -> None:
    result = gitprov("deprecate", "model.pt", "--reason", REASON)
    assert result.exit_code == 0, result.stderr
    head = git(chain.repo, "rev-parse", "HEAD").strip()
    assert result.stdout.startswith(f"deprecated model.pt ({digests.short(chain.model)})")
    assert f"recorded on {head[:12]}" in result.stdout
    (record,) = _head_records(chain.repo, "deprecation")
    assert record["checkpoint"] == "model.pt"
    assert record["digest"] == chain.model
    assert record["reason"] == REASON
    assert record["by"] == "Test User <test@example.com>"
    assert record["superseded_by"] is None
    assert record["sunset"] is None

    listed = gitprov("deprecations")
    assert listed.exit_code == 0
    today = datetime.now(UTC).date().isoformat()
    assert f"model.pt  {digests.short(chain.model)}  {today}  Test User" in listed.stdout
    assert REASON in listed.stdout


def test_deprecate_with_successor_and_sunset_marks_the_card_and_keeps_its_body(
    chain: Chain, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("card", "new", "model.pt").exit_code == 0
    card = chain.repo / "model.card.md"
    # A team's card: CRLF line ends and prose of its own.
    card.write_bytes(card.read_bytes().replace(b"\n", b"\r\n") + PROSE.encode())
    before = card.read_bytes()
    body = before.split(b"---\r\n", 2)[2]

    result = gitprov(
        *("deprecate", "model.pt", "--reason", REASON),
        *("--superseded-by", "model2.pt", "--sunset", "2099-01-31"),
    )
    assert result.exit_code == 0, result.stderr
    assert "superseded by model2.pt" in result.stdout
    assert "sunset 2099-01-31 (ahead)" in result.stdout
    assert "marked model.card.md" in result.stdout
    (record,) = _head_records(chain.repo, "deprecation")
    assert record["superseded_by"] == {"path": "model2.pt", "digest": chain.model2}
    assert record["sunset"] == "2099-01-31"

    after = card.read_bytes()
    assert after.split(b"---\r\n", 2)[2] == body  # the body keeps its bytes
    front = _front(card)
    assert front["new_version"] == "model2.pt"
    assert front["deprecated"] == {
        "reason": REASON,
        "sunset": "2099-01-31",
        "at": record["at"],
        "superseded_by": "model2.pt",
    }
    # 'card sync' recomputes the gitprov block: the deprecation marks are not its own.
    assert gitprov("card", "sync", "model.pt").exit_code == 0
    synced = _front(card)
    assert synced["new_version"] == "model2.pt"
    assert synced["deprecated"] == front["deprecated"]
    assert card.read_bytes().split(b"---\r\n", 2)[2] == body


def test_new_version_names_the_successor_card_model(
    chain: Chain, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("card", "new", "model.pt").exit_code == 0
    assert gitprov("card", "new", "model2.pt").exit_code == 0
    successor = chain.repo / "model2.card.md"
    successor.write_text(successor.read_text().replace("- name: model2", "- name: acme/model-v2"))
    args = ("deprecate", "model.pt", "--reason", REASON, "--superseded-by", "model2.pt")
    assert gitprov(*args).exit_code == 0
    assert _front(chain.repo / "model.card.md")["new_version"] == "acme/model-v2"


def test_a_past_sunset_is_allowed_and_said(chain: Chain, gitprov: Callable[..., Result]) -> None:
    result = gitprov("deprecate", "model.pt", "--reason", REASON, "--sunset", "2001-01-01")
    assert result.exit_code == 0, result.stderr
    assert "sunset 2001-01-01 (already past)" in result.stdout
    log = gitprov("lineage", "tuned.pt")
    assert "sunset was 2001-01-01" in log.stderr


@pytest.mark.parametrize("bad", ["2026-02-30", "31/01/2027", "20270131", "next year", ""])
def test_a_malformed_sunset_is_refused_before_anything_is_written(
    chain: Chain, gitprov: Callable[..., Result], bad: str
) -> None:
    result = gitprov("deprecate", "model.pt", "--reason", REASON, "--sunset", bad)
    assert result.exit_code == ExitCode.USAGE
    assert "is not a date" in result.stderr
    assert "YYYY-MM-DD" in result.stderr
    assert _head_records(chain.repo, "deprecation") == []


def test_only_tracked_checkpoints_can_be_deprecated_or_succeed(
    chain: Chain, gitprov: Callable[..., Result]
) -> None:
    dataset = gitprov("deprecate", "data", "--reason", REASON)
    assert dataset.exit_code == ExitCode.USAGE
    assert "data is a dataset, not a checkpoint" in dataset.stderr
    untracked = gitprov("deprecate", "train.py", "--reason", REASON)
    assert untracked.exit_code == ExitCode.FAILED
    assert "train.py is not tracked by gitprov" in untracked.stderr
    itself = gitprov("deprecate", "model.pt", "--reason", REASON, "--superseded-by", "model.pt")
    assert itself.exit_code == ExitCode.USAGE
    assert "the same version" in itself.stderr
    no_reason = gitprov("deprecate", "model.pt")
    assert no_reason.exit_code == ExitCode.USAGE
    assert "--reason is required" in no_reason.stderr
    blank = gitprov("deprecate", "model.pt", "--reason", "  ")
    assert blank.exit_code == ExitCode.USAGE
    assert _head_records(chain.repo, "deprecation") == []


# --- warnings ------------------------------------------------------------------------------


def test_lineage_of_a_descendant_warns(chain: Chain, gitprov: Callable[..., Result]) -> None:
    quiet = gitprov("lineage", "tuned.pt")
    assert quiet.exit_code == 0
    assert "deprecated" not in quiet.stderr

    args = ("deprecate", "model.pt", "--reason", REASON, "--superseded-by", "model2.pt")
    assert gitprov(*args).exit_code == 0
    today = datetime.now(UTC).date().isoformat()
    result = gitprov("lineage", "tuned.pt")
    assert result.exit_code == 0
    assert result.stdout == quiet.stdout  # the graph itself is unchanged
    tail = f"deprecated on {today}: {REASON}; superseded by model2.pt"
    model_ref = f"model.pt ({digests.short(chain.model)})"
    lines = result.stderr.splitlines()
    assert f"gitprov: warning: run:{chain.tune_run} read {model_ref}, {tail}" in lines
    made = f"tuned.pt ({digests.short(chain.tuned)}) is made from {model_ref}, {tail}"
    assert f"gitprov: warning: {made}" in lines
    # The training run only made the deprecated checkpoint: it does not use it.
    assert chain.train_run not in result.stderr

    down = gitprov("lineage", "model.pt", "--downstream")
    assert f"gitprov: warning: {model_ref}, {tail}" in down.stderr.splitlines()
    assert f"run:{chain.tune_run} read" in down.stderr
    # The JSON document keeps its schema; the warnings still go to stderr.
    as_json = gitprov("lineage", "tuned.pt", "--json")
    assert json.loads(as_json.stdout)["kind"] == "gitprov.lineage"
    assert f"run:{chain.tune_run} read" in as_json.stderr


def test_log_warns_on_the_run_that_used_it(chain: Chain, gitprov: Callable[..., Result]) -> None:
    assert "deprecated" not in gitprov("log").stderr
    assert gitprov("deprecate", "model.pt", "--reason", REASON).exit_code == 0
    result = gitprov("log", "--lineage")
    assert result.exit_code == 0
    (warning,) = [line for line in result.stderr.splitlines() if "deprecated" in line]
    assert warning.startswith(f"gitprov: warning: run:{chain.tune_run} read model.pt (")
    assert warning.endswith(f": {REASON}")

    entries = json.loads(gitprov("log", "--json").stdout)
    used = [e for e in entries if e["deprecations"]]
    (entry,) = used
    assert [r["id"] for r in entry["runs"]] == [chain.tune_run]
    (use,) = entry["deprecations"]
    assert use["kind"] == "read"
    assert use["run"] == chain.tune_run
    assert use["digest"] == chain.model
    assert use["deprecation"]["reason"] == REASON
    assert all(e["deprecations"] == [] for e in entries if e is not entry)


def test_undo_removes_the_warnings_and_the_card_marks(
    chain: Chain, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("card", "new", "model.pt").exit_code == 0
    card = chain.repo / "model.card.md"
    plain = _front(card)
    args = ("deprecate", "model.pt", "--reason", REASON, "--superseded-by", "model2.pt")
    assert gitprov(*args).exit_code == 0
    assert gitprov(*args[:2], "--reason", "again").exit_code == 0  # two records

    result = gitprov("deprecate", "--undo", "model.pt")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("retracted the deprecation of model.pt") == 2
    assert "unmarked model.card.md" in result.stdout
    assert len(_head_records(chain.repo, "tombstone")) == 2
    assert _front(card) == plain
    assert "deprecated" not in gitprov("lineage", "tuned.pt").stderr
    assert "deprecated" not in gitprov("log").stderr
    assert gitprov("deprecations").stdout == "no deprecated checkpoints\n"

    again = gitprov("deprecate", "--undo", "model.pt")
    assert again.exit_code == ExitCode.FAILED
    assert "model.pt is not deprecated" in again.stderr
    mixed = gitprov("deprecate", "--undo", "model.pt", "--reason", "x")
    assert mixed.exit_code == ExitCode.USAGE


def test_json_output(chain: Chain, gitprov: Callable[..., Result]) -> None:
    done = gitprov(
        *("deprecate", "model.pt", "--reason", REASON, "--json"),
        *("--superseded-by", "model2.pt", "--sunset", "2001-02-03"),
    )
    assert done.exit_code == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["sunset_passed"] is True
    assert payload["card"] is None
    dep = payload["deprecation"]
    assert dep["digest"] == chain.model
    assert dep["superseded_by"] == {"path": "model2.pt", "digest": chain.model2}
    assert dep["commit"] == git(chain.repo, "rev-parse", "HEAD").strip()

    (listed,) = json.loads(gitprov("deprecations", "--json").stdout)
    assert listed == dep
    undone = json.loads(gitprov("deprecate", "--undo", "model.pt", "--json").stdout)
    assert [d["id"] for d in undone["retracted"]] == [dep["id"]]
    assert json.loads(gitprov("deprecations", "--json").stdout) == []


# --- sharing -------------------------------------------------------------------------------


def _clone(remote: Path, dest: Path) -> Path:
    git(remote.parent, "clone", "-q", str(remote), str(dest))
    notes_setup.apply(GitConfig(dest), notes_setup.required_settings(["origin"]))
    return dest


def test_the_deprecation_survives_a_notes_sync_between_two_clones(
    chain: Chain, bare_remote: Path, gitprov: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    git(chain.repo, "remote", "add", "origin", str(bare_remote))
    with monkeypatch.context() as env:
        env.setenv("GITPROV_SKIP_PUSH", "1")  # no artifact remote: notes are the point here
        git(chain.repo, "push", "-q", "origin", "main")
    other = _clone(bare_remote, chain.repo.parent / "other")
    # Both clones record at once: one deprecates model.pt, the other tuned.pt.
    assert gitprov("deprecate", "model.pt", "--reason", REASON).exit_code == 0
    monkeypatch.chdir(other)
    assert gitprov("init").exit_code == 0
    assert gitprov("deprecate", "tuned.pt", "--reason", "made from model.pt").exit_code == 0
    sync(cwd=other, remote="origin")
    sync(cwd=chain.repo, remote="origin")
    sync(cwd=other, remote="origin")
    for clone in (chain.repo, other):
        monkeypatch.chdir(clone)
        listed = json.loads(gitprov("deprecations", "--json").stdout)
        assert sorted(d["checkpoint"] for d in listed) == ["model.pt", "tuned.pt"]
    # The clone that did not record it warns all the same.
    warned = gitprov("log").stderr
    assert f"run:{chain.tune_run} read model.pt" in warned


# --- model ---------------------------------------------------------------------------------


def _digest_of(name: str) -> str:
    return digests.from_hex(name.encode().hex().ljust(64, "0")[:64])


def test_uses_follow_the_graph_through_any_number_of_runs() -> None:
    a, b, c, d = (_digest_of(n) for n in "abcd")
    graph = LineageGraph(focus=c, direction="upstream")
    for digest, path in ((a, "a.pt"), (b, "b.pt"), (c, "c.pt"), (d, "d.csv")):
        graph.artifacts[digest] = ArtifactNode(digest, "checkpoint", path)
    graph.runs = {r: RunNode(r, ("x",)) for r in ("R1", "R2")}
    graph.edges = [
        Edge("R1", a, "input"),
        Edge("R1", d, "input"),
        Edge("R1", b, "output"),
        Edge("R2", b, "input"),
        Edge("R2", c, "output"),
    ]
    record = make_record("deprecation", {"checkpoint": "a.pt", "digest": a, "reason": "old"})
    dep = model.fold([(parse_lines(record)[0], "c0mmit")])[0]
    found = model.uses(graph, {a: dep})
    assert [(u.kind, u.run, u.path) for u in found] == [
        ("read", "R1", None),
        ("descendant", None, "b.pt"),
        ("descendant", None, "c.pt"),
    ]
    assert model.uses(graph, {}) == []
    graph.focus = a
    assert model.uses(graph, {a: dep})[0].kind == "target"


def test_fold_drops_retracted_and_duplicate_records() -> None:
    digest = _digest_of("m")
    line = make_record("deprecation", {"checkpoint": "m.pt", "digest": digest, "reason": "r"})
    (record,) = parse_lines(line)
    other = parse_lines(make_record("deprecation", {"digest": "not-a-digest", "reason": "r"}))[0]
    # A rewritten commit's note is copied: the same record on two commits counts once.
    assert len(model.fold([(record, "c1"), (record, "c2"), (other, "c1")])) == 1
    tomb = parse_lines(make_record("tombstone", {"retracts": record["id"]}))[0]
    assert model.fold([(record, "c1"), (tomb, "c3")]) == []


def test_the_scan_looks_for_the_record_types_of_the_model() -> None:
    assert (
        tuple(f'"type":"{kind}"'.encode() for kind in (model.TYPE, model.TOMBSTONE_TYPE))
        == deprecation_scan.MARKERS
    )
    assert model.TOMBSTONE_TYPE == commit_record.TOMBSTONE_TYPE


def test_parse_sunset() -> None:
    today = date(2026, 11, 23)
    assert model.parse_sunset("2026-11-23", today=today) == ("2026-11-23", False)
    assert model.parse_sunset(" 2026-11-22 ", today=today) == ("2026-11-22", True)


# --- the cache of marked note lines ------------------------------------------------------


def test_the_note_cache_follows_every_change_of_the_notes(
    chain: Chain, gitprov: Callable[..., Result]
) -> None:
    """The cache is keyed by the notes tree: a new note, a removed note, a damaged or
    stale cache file all give the same answer as reading every note."""

    def listed() -> list[str]:
        return [d.checkpoint for d in deprecation_scan.read(chain.repo)]

    assert listed() == []
    cache = chain.repo / ".git" / "gitprov" / note_lines.CACHE_NAME
    assert cache.is_file()
    assert gitprov("deprecate", "model.pt", "--reason", REASON).exit_code == 0
    assert listed() == ["model.pt"]  # read from the changed note only
    git(chain.repo, "commit", "-q", "--allow-empty", "-m", "later")
    assert gitprov("deprecate", "tuned.pt", "--reason", "made from model.pt").exit_code == 0
    assert listed() == ["model.pt", "tuned.pt"]
    git(chain.repo, "notes", "--ref=gitprov", "remove", "HEAD~1")
    assert listed() == ["tuned.pt"]  # the note that held it is gone
    cache.write_text("{not json")
    assert listed() == ["tuned.pt"]
    markers = [m.decode() for m in deprecation_scan.MARKERS]
    stale = {"version": 1, "markers": markers, "tree": "0" * 40, "notes": {"x": ["y"]}}
    cache.write_text(json.dumps(stale))  # a tree this repository does not have
    assert listed() == ["tuned.pt"]
