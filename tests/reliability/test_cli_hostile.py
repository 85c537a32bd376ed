"""Hostile input (issue 9, point 4) through the command line.

Hostile files where the commands read them (pointers, cards, decisions, config,
checklist, owners, scores, notes) and hostile arguments: every command answers with
exit 1 or 2 and one line on stderr, quickly; never a traceback or an internal error.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Result, gen, git

pytestmark = pytest.mark.reliability

Gitprov = Callable[..., Result]
HUNDRED_MB = 100 * 1024 * 1024


@contextlib.contextmanager
def case(name: str) -> Iterator[None]:
    """Name the case of a loop in its failure (one repository serves many cases: fast)."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"case {name!r}: {exc}") from None


def refused(result: Result, *, codes: tuple[int, ...] = (1, 2)) -> str:
    """A clean refusal: an expected exit code, one line on stderr, no traceback."""
    assert result.exit_code in codes, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "internal error" not in result.stderr
    return lines[0]


def timed(gitprov: Gitprov, *args: str, seconds: float = 20) -> Result:
    start = time.perf_counter()
    result = gitprov(*args)
    assert time.perf_counter() - start < seconds, f"gitprov {' '.join(args)} was too slow"
    return result


def sparse(path: Path, head: bytes, size: int) -> None:
    """A file of ``size`` bytes starting with ``head`` (sparse: no disk space used)."""
    path.write_bytes(head)
    os.truncate(path, size)


@pytest.fixture
def project(git_repo: Path, gitprov: Gitprov) -> Path:
    """An initialised repository with a tracked checkpoint ``m.pt`` and its card."""
    assert gitprov("init").exit_code == 0
    gen(git_repo, {"m.pt": b"\x00weights", "data/test.csv": "1\n"})
    assert gitprov("track", "m.pt").exit_code == 0
    assert gitprov("track", "data").exit_code == 0
    assert gitprov("card", "new", "m.pt").exit_code == 0
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "project")
    return git_repo


# --- hostile files ----------------------------------------------------------------------


def test_a_100_mb_pointer_is_refused_quickly_by_status_and_checkout(
    project: Path, gitprov: Gitprov
) -> None:
    sparse(project / "m.pt.gitprov", b'kind = "checkpoint"\n#', HUNDRED_MB)
    for command in (["status"], ["checkout", "m.pt"], ["verify"]):
        line = refused(timed(gitprov, *command, seconds=10))
        assert "m.pt.gitprov" in line
        assert "more than the 64 KiB" in line


def test_a_100_mb_card_is_refused_quickly(project: Path, gitprov: Gitprov) -> None:
    sparse(project / "m.card.md", b"---\nlicense: mit\n---\n", HUNDRED_MB)
    line = refused(timed(gitprov, "card", "validate", "m.pt", seconds=10))
    assert "MiB" in line


POINTERS = {
    "binary": b"\xff\xfe\x00garbage",
    "not TOML": b"kind = \n",
    "nested 100000 deep": b"x = " + b"[" * 100_000,
    "integer of 5000 digits": b'kind = "checkpoint"\nsize = 1' + b"0" * 5000,
    "newline in a key": b'"a\\nb" = 1\n',
    "huge kind": b'kind = "' + b"x" * 100_000 + b'"\n',
}


def test_a_hostile_pointer_is_one_line_error(project: Path, gitprov: Gitprov) -> None:
    for name, text in POINTERS.items():
        (project / "m.pt.gitprov").write_bytes(text)
        for command in (["status"], ["checkout", "m.pt"]):
            with case(name):
                line = refused(timed(gitprov, *command))
                assert len(line) < 1000, line[:200]
    (project / "m.pt.gitprov").unlink()
    (project / "m.pt.gitprov").symlink_to("/dev/zero")  # committed symlinks are possible
    with case("symlink to /dev/zero"):
        refused(timed(gitprov, "status"))


CARDS = {
    "nested 100000 deep": "---\na: " + "[" * 100_000 + "\n---\n",
    "alias bomb": "---\na: &a [x,x,x,x,x,x,x,x,x,x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9)
    )
    + "---\n",
    "python tag": "---\na: !!python/object/apply:os.system ['touch /tmp/gitprov-pwned']\n---\n",
    "not a mapping": "---\n- a\n---\n",
    "unclosed": "---\nlicense: mit\n",
}


def test_a_hostile_card_is_one_line_error(project: Path, gitprov: Gitprov) -> None:
    for name, text in CARDS.items():
        (project / "m.card.md").write_text(text)
        for command in (["card", "validate", "m.pt"], ["card", "sync", "m.pt"]):
            with case(name):
                refused(timed(gitprov, *command))
    assert not Path("/tmp/gitprov-pwned").exists()
    (project / "m.card.md").unlink()
    (project / "m.card.md").symlink_to("/dev/zero")
    with case("symlink to /dev/zero"):
        refused(timed(gitprov, "card", "validate", "m.pt"))


def test_hostile_project_config_is_one_line_error(project: Path, gitprov: Gitprov) -> None:
    config = project / ".gitprov" / "config.toml"
    for text in (
        "schema = 1\n" + "x = " + "[" * 100_000,
        'schema = 1\n[remotes."evil\\nname"]\nurl = 5\n',
        'schema = 1\n[remotes.origin]\nurl = "/x"\njobs = 1' + "0" * 5000 + "\n",
    ):
        config.write_text(text)
        line = refused(timed(gitprov, "remote", "list"))
        assert len(line) < 1000, line[:200]


def test_hostile_checklist_is_one_line_error(project: Path, gitprov: Gitprov) -> None:
    checklist = project / ".gitprov" / "checklist.toml"
    for text in (
        '[[secrets.pii]]\nname = "p"\nregex = "a{4294967296}"\n',
        "x = " + "[" * 100_000,
        "[evaluation]\nmin_sample_size = 1" + "0" * 5000 + "\n",
        '[checks]\n"evil\\ncheck" = "error"\n',
    ):
        checklist.write_text(text)
        refused(timed(gitprov, "check", "m.pt"))


def test_hostile_owners_is_one_line_error(project: Path, gitprov: Gitprov) -> None:
    owners = project / ".gitprov" / "owners.toml"
    for text in ("roles = " + "[" * 100_000, "[roles]\nx = 1" + "0" * 5000 + "\n"):
        owners.write_text(text)
        git(project, "add", str(owners))
        git(project, "commit", "-q", "-m", "hostile owners")  # read as committed at HEAD
        refused(timed(gitprov, "approve", "m.pt", "--role", "reviewer"))


DECISIONS = {
    "metrics is a number": '+++\nid = "7K2M9Q"\ntitle = "t"\nstatus = "proposed"\n'
    'created = "2026-11-23"\nmetrics = 5\n+++\n',
    "nested": "+++\nx = " + "[" * 100_000 + "\n+++\n",
    "binary": "\udcff",
}


def test_a_hostile_decision_is_one_line_error(project: Path, gitprov: Gitprov) -> None:
    (project / "decisions").mkdir(exist_ok=True)
    path = project / "decisions" / "7K2M9Q-t.md"
    for name, text in DECISIONS.items():
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        with case(name):
            refused(timed(gitprov, "decision", "accept", "7K2M9Q"))


SCORES = {
    "s.jsonl": '{"id": 1, "correct": 1' + "0" * 400 + "}\n",
    "t.jsonl": '{"id": 1, "correct": ' + "[" * 100_000 + "\n",
    "u.csv": 'id,correct\n1,"' + "x" * 200_000 + '"\n',
    "v.jsonl": "\x00" * 1000,
}


def test_a_hostile_scores_file_is_one_line_error(project: Path, gitprov: Gitprov) -> None:
    for name, text in SCORES.items():
        (project / name).write_text(text)
        with case(name):
            refused(timed(gitprov, "eval", "record", "m.pt", "--dataset", "data", "--scores", name))


def test_hostile_metrics_file_is_one_line_error(project: Path, gitprov: Gitprov) -> None:
    (project / "m.json").write_text('{"acc": {"value": 1' + "0" * 400 + "}}")
    result = timed(gitprov, "eval", "record", "m.pt", "--dataset", "data", "--metrics", "m.json")
    refused(result)


def test_hostile_note_lines_are_skipped_not_fatal(project: Path, gitprov: Gitprov) -> None:
    """A note line nested 100,000 deep (or of a foreign shape) made json raise
    RecursionError in every reader of the notes; now it is skipped like other foreign
    lines, and the commands that read notes still work."""
    head = git(project, "rev-parse", "HEAD").strip()
    lines = [
        "[" * 100_000,
        '{"type":"eval","metrics":{"a":{"value":1' + "0" * 400 + "}}}",
        '{"type":"release","statement":5,"checklist":[]}',
        '{"type":"deprecation","digest":"sha256:' + "0" * 64 + '","superseded_by":7}',
        '{"type":"commit","commit":"' + head + '","artifacts":5}',
    ]
    git(project, "notes", "--ref=gitprov", "add", "-f", "-m", "\n".join(lines), head)
    for command in (["log"], ["eval", "list"], ["deprecations"], ["lineage", "m.pt"]):
        result = timed(gitprov, *command)
        assert result.exit_code in (0, 1), (command, result.exit_code, result.stderr)
        assert "internal error" not in result.stderr, (command, result.stderr)
        for line in result.stderr.strip().splitlines():  # a warning a skipped line
            assert line.startswith("gitprov: "), (command, result.stderr)


# --- hostile arguments -------------------------------------------------------------------

ARGUMENTS = [
    ["track", "no\nsuch\nfile"],
    ["track", ""],
    ["track", "/"],
    ["track", "../.."],
    ["track", "m.pt/.."],
    ["track", ".git/config"],
    ["checkout", "../../etc/passwd"],
    ["checkout", "\x7f\x1b[31mred"],
    ["status", "x" * 5000],
    ["remote", "add", "evil\nname", "/tmp/x"],
    ["remote", "add", "ok", ""],
    ["card", "validate", "../../etc/passwd"],
    ["decision", "accept", "\x1b]0;title\x07"],
    ["eval", "record", "m.pt", "--dataset", "data", "--scores", "/dev/zero"],
    ["eval", "record", "m.pt", "--dataset", "data", "--scores", "/nonexistent.jsonl"],
    ["eval", "record", "m.pt", "--dataset", "data", "--ci", "nan", "--scores", "x.jsonl"],
    ["pull", "no-such-remote"],
    ["deprecate", "m.pt", "--reason", "r", "--sunset", "9" * 50],
]


def test_hostile_arguments_are_one_line_errors(project: Path, gitprov: Gitprov) -> None:
    for args in ARGUMENTS:
        result = timed(gitprov, *args)
        if result.exit_code == 2 and "Usage:" in result.stderr:
            continue  # typer's own usage error: a box, not a traceback, exit 2
        with case(" ".join(args)):
            line = refused(result)
            assert "\x1b" not in line, "terminal escape sequences are shown escaped"
