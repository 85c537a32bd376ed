"""Per-commit lineage records, written by the real installed hooks as git runs them.

Every commit made through git gets exactly one record that names it; amend, rebase and
cherry-pick keep that true; commits made without hooks are found by ``verify --range``
and repaired by ``notes rebuild``; squash and rebase merges by ``notes reattach``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitprov.adapters import notes_light
from gitprov.adapters.git_notes import NOTES_REF
from gitprov.model import commit_record, runrecord
from gitprov.model.notes import parse_lines
from gitprov.services import commit_facts
from tests.conftest import Result, gen, git


def records(repo: Path, rev: str = "HEAD") -> list[dict[str, Any]]:
    proc = git(repo, "notes", f"--ref={NOTES_REF}", "show", rev, check=False)
    return parse_lines(proc)


def own(repo: Path, rev: str = "HEAD") -> dict[str, Any]:
    """The one record that describes ``rev``; fails the test unless there is exactly one."""
    commit = git(repo, "rev-parse", rev).strip()
    mine = [r for r in records(repo, rev) if r.get("type") == "commit" and r["commit"] == commit]
    assert len(mine) == 1, f"{rev} has {len(mine)} records of its own: {mine}"
    return mine[0]


@pytest.fixture
def repo(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    assert gitprov("init").exit_code == 0
    git(committed_repo, "add", "-A")
    git(committed_repo, "commit", "-q", "-m", "gitprov init")
    return committed_repo


def commit_file(repo: Path, name: str, *extra: str) -> str:
    gen(repo, {name: name})
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}", *extra)
    return git(repo, "rev-parse", "HEAD").strip()


def test_a_commit_gets_a_record_of_artifacts_decisions_and_checklist(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    gen(repo, {"data/a.csv": "1\n", "model.pt": b"w"})
    assert gitprov("track", "data", "model.pt").exit_code == 0
    git(repo, "commit", "-q", "-m", "data and model\n\nDecision: 0007\nDecision: 0009")
    record = own(repo)
    assert record["checklist"] == "passed"
    assert record["decisions"] == ["0007", "0009"]
    assert record["source"] == "post-commit"
    by_path = {a["path"]: a for a in record["artifacts"]}
    assert by_path["data"]["kind"] == "dataset"
    assert by_path["data"]["change"] == "added"
    assert by_path["model.pt"]["kind"] == "checkpoint"
    assert by_path["model.pt"]["digest"].startswith("sha256:")

    (repo / "model.pt").unlink()
    assert gitprov("untrack", "model.pt").exit_code == 0
    git(repo, "commit", "-q", "-m", "drop the model")
    (change,) = own(repo)["artifacts"]
    assert change == {"change": "deleted", "digest": None, "kind": "checkpoint", "path": "model.pt"}


def test_no_verify_is_recorded_as_skipped(repo: Path) -> None:
    commit_file(repo, "a.txt")
    assert own(repo)["checklist"] == "passed"
    commit_file(repo, "b.txt", "--no-verify")
    assert own(repo)["checklist"] == "skipped"


def test_amend_and_rebase_keep_exactly_one_record_per_commit(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    commit_file(repo, "a.txt")
    commit_file(repo, "b.txt")
    git(repo, "commit", "-q", "--amend", "-m", "b, amended")
    assert own(repo)["source"] == "post-commit"
    # The amended commit carries the old one's record too (notes.rewriteRef), ignored:
    assert len([r for r in records(repo) if r.get("type") == "commit"]) == 2

    git(repo, "checkout", "-q", "-b", "other", base)
    commit_file(repo, "c.txt")
    git(repo, "checkout", "-q", "main")
    old_tip = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "rebase", "-q", "other")
    for rev in ("HEAD", "HEAD~1"):
        record = own(repo, rev)
        assert record["source"] == "post-rewrite"
        assert (
            record["origin"]["rewritten_from"] in git(repo, "rev-list", old_tip, "-n", "2").split()
        )
        assert record["checklist"] == "passed"  # same artifacts as before the rebase
    assert own(repo, "HEAD~2")["source"] == "post-commit"  # c.txt, not rewritten


def test_a_cherry_pick_names_its_origin(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "side")
    picked = commit_file(repo, "a.txt")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "b.txt")
    git(repo, "cherry-pick", picked)
    record = own(repo)
    assert record["origin"] == {"cherry_picked_from": picked}
    assert record["checklist"] == "skipped"  # cherry-pick does not run pre-commit
    assert git(repo, "rev-parse", "HEAD~2").strip() == base


def test_a_commit_git_recreates_identically_is_not_recorded_twice(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fixed dates: the cherry-pick onto the same parent yields the very same commit.
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-11-23T10:00:00Z")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2026-11-23T10:00:00Z")
    git(repo, "checkout", "-q", "-b", "side")
    picked = commit_file(repo, "a.txt")
    git(repo, "checkout", "-q", "main")
    git(repo, "cherry-pick", picked)
    assert git(repo, "rev-parse", "HEAD").strip() == picked
    assert "origin" not in own(repo)  # exactly one record, and not "picked from itself"


def test_without_hooks_there_is_no_record_and_verify_range_fails_until_rebuilt(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    start = git(repo, "rev-parse", "HEAD").strip()
    commit_file(repo, "a.txt")
    git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "--allow-empty", "-m", "bare")
    assert records(repo) == []
    result = gitprov("verify", "--range", f"{start}..HEAD")
    assert result.exit_code == 1
    assert "1 of 2 commit(s) have no lineage record" in result.stdout
    assert git(repo, "rev-parse", "--short=12", "HEAD").strip() in result.stdout

    assert gitprov("notes", "rebuild", f"{start}..HEAD").exit_code == 0
    record = own(repo)
    assert (record["source"], record["checklist"]) == ("rebuild", "unknown")
    assert gitprov("verify", "--range", f"{start}..HEAD").exit_code == 0
    again = gitprov("notes", "rebuild", "--json", f"{start}..HEAD")
    assert json.loads(again.stdout) == {"recorded": [], "already": 2}


def test_verify_range_with_a_bad_range_is_a_one_line_usage_error(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("verify", "--range", "nope..HEAD")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "not a revision range" in result.stderr


def _run_record(repo: Path, run_id: str) -> None:
    record = runrecord.RunRecord(
        id=run_id,
        argv=("python", "train.py"),
        cwd=".",
        started_at="2026-11-23T10:00:00.000Z",
        ended_at="2026-11-23T10:01:00.000Z",
        exit_code=0,
        head=None,
        dirty=False,
        diff_digest=None,
    )
    gen(repo, {record.path: runrecord.dumps(record)})


def test_reattach_after_a_squash_merge_and_a_rebase_merge(
    repo: Path, gitprov: Callable[..., Result]
) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    # A feature branch with two run commits, merged as a squash (as a forge would).
    git(repo, "checkout", "-q", "-b", "feature")
    run_ids = ["01JD3Q0000000000000000000A", "01JD3Q0000000000000000000B"]
    for run_id in run_ids:
        _run_record(repo, run_id)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"run {run_id}\n\nGitprov-Run: {run_id}")
    feature_tips = git(repo, "rev-list", f"{base}..feature").split()
    eval_note = notes_light.append(feature_tips[0], ['{"type":"eval","id":"E1","at":"x"}'])
    assert eval_note is not None
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--squash", "feature")
    message = (
        "Feature (#1)\n\n* run A\n\nGitprov-Run: "
        + run_ids[0]
        + "\n\n* run B\n\nGitprov-Run: "
        + run_ids[1]
    )
    git(repo, "-c", "core.hooksPath=/dev/null", "commit", "-q", "-m", message)
    # A rebase merge of another branch: same patches, new commits, no hooks (a forge).
    git(repo, "checkout", "-q", "-b", "fix", base)
    fix = commit_file(repo, "fix.txt")
    git(repo, "checkout", "-q", "main")
    git(repo, "-c", "core.hooksPath=/dev/null", "cherry-pick", fix)
    assert gitprov("verify", "--range", f"{base}..main").exit_code == 1

    result = gitprov("notes", "reattach", "--json", f"{base}..main")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["unmatched"] == []
    how = {r["commit"]: (set(r["origins"]), r["how"]) for r in report["reattached"]}
    squash, rebased = git(repo, "rev-list", f"{base}..main").split()[::-1]
    assert how[squash] == (set(feature_tips), "runs")
    assert how[rebased] == ({fix}, "patch-id")
    assert own(repo, squash)["runs"] == sorted(run_ids)
    assert any(r.get("type") == "eval" for r in records(repo, squash))  # post-hoc facts follow
    assert gitprov("verify", "--range", f"{base}..main").exit_code == 0


def test_the_light_writer_and_commit_facts_agree_with_the_git_notes_names() -> None:
    assert notes_light.NOTES_REF == NOTES_REF
    assert commit_facts.RUNS_DIR == runrecord.RUNS_DIR


def test_concurrent_light_appends_lose_nothing(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    lines = [f'{{"type":"eval","id":"{i:026d}","at":"x"}}' for i in range(12)]

    def write(chunk: list[str]) -> None:
        for line in chunk:
            notes_light.append(head, [line], cwd=str(repo))

    threads = [threading.Thread(target=write, args=(lines[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = {r["id"] for r in records(repo) if r.get("type") == "eval"}
    assert ids == {f"{i:026d}" for i in range(12)}
    # One notes commit per append, each on top of the last: nothing was overwritten.
    assert len(git(repo, "rev-list", NOTES_REF).split()) >= 12


def test_current_ignores_copied_and_retracted_records() -> None:
    mine = {"type": "commit", "commit": "c2", "id": "B", "at": "2", "source": "post-commit"}
    copied = {"type": "commit", "commit": "c1", "id": "A", "at": "1", "source": "post-commit"}
    rebuilt = {"type": "commit", "commit": "c2", "id": "C", "at": "3", "source": "rebuild"}
    assert commit_record.current([copied, mine, rebuilt], "c2") == mine
    assert commit_record.current([copied], "c2") is None
    tomb = {"type": "tombstone", "retracts": "B", "id": "D", "at": "4"}
    assert commit_record.current([mine, rebuilt, tomb], "c2") == rebuilt


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("subject\n\nDecision: 0001\nDecision: 0002\n", ["0001", "0002"]),
        ("subject\n\nbody text\n\nSigned-off-by: A <a@b>\ndecision: 7", ["7"]),
        ("Decision: 0001", []),  # a subject is never a trailer
        ("subject\n\nDecision: 1\nnot a trailer line", []),
    ],
)
def test_decision_trailers(message: str, expected: list[str]) -> None:
    assert commit_record.trailer_values(message, "Decision") == expected


def test_a_failing_record_write_never_fails_the_commit_and_says_how_to_repair(repo: Path) -> None:
    # The notes ref made to point at a tree, not a commit: every append must fail.
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    git(repo, "update-ref", NOTES_REF, tree)
    gen(repo, {"x.txt": "x"})
    git(repo, "add", "x.txt")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "x"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert git(repo, "log", "-1", "--format=%s").strip() == "x"
    lines = [line for line in proc.stderr.splitlines() if line.startswith("gitprov:")]
    assert len(lines) == 2, proc.stderr
    assert "could not record lineage for the commit" in lines[0]
    assert "gitprov notes rebuild" in lines[1]
    assert "Traceback" not in proc.stderr


def test_a_commit_aborted_after_pre_commit_does_not_make_no_verify_look_checked(
    repo: Path,
) -> None:
    gen(repo, {"a.txt": "a"})
    git(repo, "add", "a.txt")
    # pre-commit runs and marks the tree; the empty message then aborts the commit.
    aborted = subprocess.run(
        ["git", "-c", "core.editor=true", "commit", "--cleanup=strip", "-m", ""],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    assert aborted.returncode != 0
    git(repo, "commit", "-q", "--no-verify", "-m", "same tree, hooks skipped")
    assert own(repo)["checklist"] == "skipped"


def test_a_marker_that_cannot_be_written_never_blocks_the_commit(repo: Path) -> None:
    (repo / ".git" / "gitprov" / "checklist-passed").mkdir(parents=True)
    gen(repo, {"b.txt": "b"})
    git(repo, "add", "b.txt")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "b"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert own(repo)["checklist"] == "skipped"


def test_a_merge_commit_made_by_git_merge_gets_its_record(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature")
    commit_file(repo, "f.txt")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "m.txt")
    git(repo, "merge", "-q", "--no-edit", "feature")
    assert len(git(repo, "rev-list", "--parents", "-n1", "HEAD").split()) == 3
    assert own(repo)["source"] == "post-commit"
    assert (
        subprocess.run(
            ["git", "merge", "-q", "--ff-only", "feature"], cwd=repo, check=False
        ).returncode
        == 0
    )  # already merged: nothing new, nothing added
    assert own(repo)["source"] == "post-commit"
    result = subprocess.run(
        [sys.executable, "-m", "gitprov", "verify", "--range", f"{base}..HEAD"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_a_conflicted_cherry_pick_committed_by_hand_still_names_its_origin(repo: Path) -> None:
    gen(repo, {"c.txt": "base\n"})
    git(repo, "add", "c.txt")
    git(repo, "commit", "-q", "-m", "c")
    git(repo, "checkout", "-q", "-b", "side")
    gen(repo, {"c.txt": "side\n"})
    picked = commit_file(repo, "c.txt")
    git(repo, "checkout", "-q", "main")
    gen(repo, {"c.txt": "main\n"})
    git(repo, "commit", "-q", "-am", "main changes c")
    git(repo, "cherry-pick", picked, check=False)  # stops on the conflict in c.txt
    assert (repo / ".git" / "CHERRY_PICK_HEAD").is_file()
    gen(repo, {"c.txt": "resolved\n"})
    git(repo, "add", "c.txt")
    git(repo, "commit", "-q", "--no-edit")
    assert own(repo)["origin"] == {"cherry_picked_from": picked}


def test_commits_made_at_a_rebase_edit_stop_get_records(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    commit_file(repo, "x.txt")
    commit_file(repo, "y.txt")
    env = {**os.environ, "GIT_SEQUENCE_EDITOR": "sed -i 1s/^pick/edit/"}
    subprocess.run(["git", "rebase", "-q", "-i", base], cwd=repo, env=env, check=True)
    git(repo, "reset", "-q", "HEAD^")
    git(repo, "add", "x.txt")
    git(repo, "commit", "-q", "-m", "x, part 1")
    git(repo, "commit", "-q", "--allow-empty", "-m", "x, part 2")
    subprocess.run(
        ["git", "rebase", "--continue"], cwd=repo, env=env, check=True, capture_output=True
    )
    for rev in ("HEAD", "HEAD~1", "HEAD~2"):
        own(repo, rev)  # exactly one record each


def test_a_stale_notes_lock_is_reported_at_once_with_its_fix(repo: Path) -> None:
    (repo / ".git" / "refs" / "notes").mkdir(parents=True, exist_ok=True)
    (repo / ".git" / "refs" / "notes" / "gitprov.lock").touch()
    gen(repo, {"l.txt": "l"})
    git(repo, "add", "l.txt")
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "l"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert "a stale refs/notes/gitprov.lock" in proc.stderr
    assert "gitprov notes rebuild" in proc.stderr


def test_cherry_pick_x_names_the_origin_when_nothing_else_does(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "side")
    picked = commit_file(repo, "p.txt")
    git(repo, "checkout", "-q", "main")
    commit_file(repo, "q.txt")
    # The pick made with hooks off; then the hook runs alone and has only the message.
    git(repo, "-c", "core.hooksPath=/dev/null", "cherry-pick", "-x", picked)
    code = "import sys; from gitprov.hookrun import main; sys.exit(main())"
    subprocess.run([sys.executable, "-c", code, "post-commit"], cwd=repo, check=True)
    assert own(repo)["origin"] == {"cherry_picked_from": picked}
