"""The decision log: records created from the template, legal status changes only,
supersede links in both records, IDs that do not collide across branches, and the
user's Markdown and comments kept through every change."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitprov.model import decision as decisions
from gitprov.model import runrecord
from gitprov.services import decision_check
from gitprov.services import decisions as service
from tests.conftest import Result, gen, git


@pytest.fixture
def repo(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    assert gitprov("init").exit_code == 0
    git(committed_repo, "add", "-A")
    git(committed_repo, "commit", "-q", "-m", "gitprov init")
    return committed_repo


def new(gitprov: Callable[..., Result], title: str, *extra: str) -> str:
    result = gitprov("decision", "new", title, "--no-edit", "--json", *extra)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["trailer"] == f"Decision: {data['id']}"
    return str(data["id"])


def status_of(gitprov: Callable[..., Result]) -> dict[str, dict[str, object]]:
    listing = json.loads(gitprov("decision", "list", "--json").stdout)
    return {d["id"]: d for d in listing}


def test_new_writes_a_proposed_record_from_the_template(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    ident = new(
        gitprov,
        "Use AdamW (lr 3e-4)",
        "--hypothesis",
        "AdamW converges faster on this data",
        "--metric",
        "val_loss",
        "--expect",
        "decrease",
    )
    (path,) = (repo / "decisions").glob(f"{ident}-*.md")
    assert path.name == f"{ident}-use-adamw-lr-3e-4.md"
    record, _, body = decisions.parse(path.read_text(), source=path.name)
    assert record.status == "proposed"
    assert record.title == "Use AdamW (lr 3e-4)"
    assert record.metrics == (("val_loss", "decrease"),)
    assert record.authors == ("Test User <test@example.com>",)
    assert "AdamW converges faster on this data" in body
    assert "- `val_loss`: expected to decrease." in body
    for section in (
        "## Options considered",
        "## Planned vs. actually changed",
        "## Lessons learned",
    ):
        assert section in body


def test_only_legal_status_changes_and_final_states_stay_final(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    ident = new(gitprov, "Bigger batch")
    assert gitprov("decision", "accept", ident.lower()).exit_code == 0  # any case
    refused = gitprov("decision", "reject", ident)
    assert refused.exit_code == 2
    assert f"decision {ident} is accepted; it cannot become rejected" in refused.stderr
    assert "it can become: deprecated, superseded" in refused.stderr
    assert gitprov("decision", "deprecate", ident).exit_code == 0
    final = gitprov("decision", "accept", ident)
    assert final.exit_code == 2
    assert "It is final" in final.stderr
    assert final.stderr.count("\n") == 1
    assert status_of(gitprov)[ident]["status"] == "deprecated"


def test_a_supersede_chain_of_three_links_both_ways(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    a, b, c = (new(gitprov, title) for title in ("Plain SGD", "SGD with momentum", "AdamW"))
    assert gitprov("decision", "accept", a).exit_code == 0
    assert gitprov("decision", "supersede", a, "--by", b).exit_code == 0
    assert gitprov("decision", "accept", b).exit_code == 0
    assert gitprov("decision", "supersede", b, "--by", c).exit_code == 0
    found = status_of(gitprov)
    assert (found[a]["status"], found[a]["superseded_by"]) == ("superseded", [b])
    assert (found[b]["status"], found[b]["supersedes"], found[b]["superseded_by"]) == (
        "superseded",
        [a],
        [c],
    )
    assert (found[c]["status"], found[c]["supersedes"]) == ("proposed", [b])
    again = gitprov("decision", "supersede", a, "--by", c)
    assert again.exit_code == 2
    assert "superseded" in again.stderr


def test_status_changes_keep_the_users_markdown_and_comments(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    ident = new(gitprov, "Drop the noisy shard")
    (path,) = (repo / "decisions").glob(f"{ident}-*.md")
    text = path.read_bytes().decode()
    text = text.replace('status = "proposed"', 'status = "proposed"  # agreed in the 11/23 sync')
    text += "\nOur own notes, *kept* exactly.\r\n\n| a | b |\n"
    path.write_bytes(text.encode())
    assert gitprov("decision", "accept", ident).exit_code == 0
    after = path.read_bytes().decode()
    assert after == text.replace('status = "proposed"', 'status = "accepted"')


def test_ids_do_not_collide_with_an_id_on_another_branch(
    repo: Path, gitprov: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "checkout", "-q", "-b", "a")
    first = new(gitprov, "From branch a")
    git(repo, "add", "decisions")
    git(repo, "commit", "-q", "-m", "decision on a")
    git(repo, "checkout", "-q", "main")
    assert not (repo / "decisions").exists()
    # Branch main draws the very ID branch a took first: it must draw again.
    value = _value(first)
    draws: Iterator[bytes] = iter([value.to_bytes(4, "big"), (12345).to_bytes(4, "big")])
    monkeypatch.setattr(service.os, "urandom", lambda n: next(draws))
    second = service.new(cwd=repo, title="From main").decision.id
    assert second != first
    git(repo, "add", "decisions")
    git(repo, "commit", "-q", "-m", "decision on main")
    git(repo, "merge", "-q", "--no-edit", "a")
    assert set(status_of(gitprov)) == {first, second}


def _value(ident: str) -> int:
    value = 0
    for char in ident:
        value = (value << 5) | decisions.CROCKFORD.index(char)
    return value


def test_a_malformed_record_is_one_line_naming_file_and_field(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    ident = new(gitprov, "Something")
    (path,) = (repo / "decisions").glob(f"{ident}-*.md")
    path.write_text(path.read_text().replace('status = "proposed"', 'status = "maybe"'))
    result = gitprov("decision", "list")
    assert result.exit_code == 1
    assert f"decisions/{path.name}: 'status' must be one of proposed" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "X", "--metric", "acc", "--no-edit"], "1 --metric but 0 --expect"),
        (
            ["new", "X", "--metric", "acc", "--expect", "up", "--no-edit"],
            "must be increase or decrease",
        ),
        (["accept", "nope!"], "'nope!' is not a decision ID"),
        (["accept", "ZZZZZZ"], "there is no decision ZZZZZZ"),
        (["list", "--status", "done"], "--status 'done' is not a decision status"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(
    repo: Path, gitprov: Callable[..., Result], args: list[str], message: str
) -> None:
    result = gitprov("decision", *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_ids_read_back_the_way_people_retype_them() -> None:
    assert decisions.normalise_id("7k2m9q") == "7K2M9Q"
    assert decisions.normalise_id("IL0O12") == "110012"
    assert decisions.normalise_id("7K2M9") is None
    assert decisions.new_id(0, taken=[]) == "000000"
    assert decisions.new_id(0, taken=["000000"]) is None
    assert decisions.slug("Use AdamW (lr 3e-4)!") == "use-adamw-lr-3e-4"
    assert decisions.id_of_path("7K2M9Q-use-adamw.md") == "7K2M9Q"
    assert decisions.id_of_path("README.md") is None


def commit(repo: Path, message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_malformed_record_blocks_a_real_commit_and_the_fix_lets_it_through(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    ident = new(gitprov, "Label smoothing")
    (path,) = (repo / "decisions").glob(f"{ident}-*.md")
    good = path.read_bytes()
    path.write_bytes(good.replace(b'status = "proposed"', b'status = "done"'))
    git(repo, "add", "decisions")
    blocked = commit(repo, "decision")
    assert blocked.returncode == 1
    assert f"decisions/{path.name}: 'status' must be one of proposed" in blocked.stderr
    assert "the commit was blocked" in blocked.stderr
    assert "Traceback" not in blocked.stderr
    path.write_bytes(good)
    git(repo, "add", "decisions")
    assert commit(repo, "decision").returncode == 0


def test_the_hook_refuses_illegal_moves_dead_links_duplicate_ids_and_secrets(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    ident = new(gitprov, "Mixed precision")
    (path,) = (repo / "decisions").glob(f"{ident}-*.md")
    git(repo, "add", "decisions")
    assert commit(repo, "proposed").returncode == 0
    text = path.read_bytes().decode()
    bad = (
        text.replace('status = "proposed"', 'status = "deprecated"')
        .replace("commits = []", 'commits = ["' + "f" * 40 + '"]')
        .replace("runs = []", 'runs = ["01JD3Q0000000000000000000A"]')
        .replace("artifacts = []", 'artifacts = ["models/nothing.pt"]')
        + "\nOur key: hf_"
        + "x" * 34
        + "\n"
    )
    path.write_bytes(bad.encode())
    twin = path.with_name(f"{ident}-twin.md")
    twin.write_bytes(text.encode())
    git(repo, "add", "decisions")
    blocked = commit(repo, "bad")
    assert blocked.returncode == 1
    err = blocked.stderr
    assert "'status' went from proposed to deprecated, which is not a legal move" in err
    assert "'links.commits' names ffffffffffff" in err
    assert "'links.runs' names 01JD3Q0000000000000000000A" in err
    assert "'links.artifacts' names models/nothing.pt" in err
    assert "looks like it holds a credential" in err
    assert f"'id' {ident} is also the ID of" in err
    assert "hf_xxx" not in err  # the secret itself is never repeated


def test_a_commit_without_decision_records_has_nothing_to_check(repo: Path) -> None:
    assert decision_check.DECISIONS_DIR == decisions.DECISIONS_DIR
    assert decision_check.RUNS_DIR == runrecord.RUNS_DIR
    gen(repo, {"code.py": "x = 1\n"})
    git(repo, "add", "code.py")
    assert decision_check.staged_records() == []
    assert decision_check.check() == []


def test_a_new_record_must_start_proposed(repo: Path, gitprov: Callable[..., Result]) -> None:
    ident = new(gitprov, "Skip the warm-up")
    (path,) = (repo / "decisions").glob(f"{ident}-*.md")
    path.write_bytes(path.read_bytes().replace(b'status = "proposed"', b'status = "superseded"'))
    git(repo, "add", "decisions")
    blocked = commit(repo, "born superseded")
    assert blocked.returncode == 1
    assert "'status' of a new record is superseded: a record starts proposed" in blocked.stderr
