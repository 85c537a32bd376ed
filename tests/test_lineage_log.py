"""``gitprov log --lineage``: every commit with its lineage, read in one pass.

Histories are built with real ``git commit``; run records are committed files written with
``runrecord.dumps``; ``commit`` records are appended to lineage notes with
``notes_sync.append_record``, as the post-commit hook does.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitprov.errors import ExitCode
from gitprov.model import commit_record, runrecord
from gitprov.model import digest as digests
from gitprov.model.commit_record import ArtifactChange
from gitprov.model.notes import make_record, new_ulid
from gitprov.model.pointer import Pointer, render
from gitprov.model.runrecord import ArtifactRef, RunRecord
from gitprov.services import lineage_log
from gitprov.services.notes_sync import append_record
from tests.conftest import Result, gen, git

DATASET = digests.from_hex("d" * 64)
CKPT_A = digests.from_hex("a" * 64)
CKPT_B = digests.from_hex("b" * 64)
# An environment snapshot as gitprov writes it (.gitprov/envs/<hex>.json, schema 1).
ENV = {
    "container": None,
    "cpu": {"cores": 8, "memory_gib": 32, "model": "Example CPU"},
    "env": {},
    "gpu": None,
    "packages": ["numpy==2.0.0", "torch==2.3.0"],
    "platform": {
        "libc": "glibc 2.36",
        "machine": "x86_64",
        "os": "Debian GNU/Linux 12",
        "release": "6.1.0",
        "system": "Linux",
    },
    "python": {"implementation": "CPython", "version": "3.11.7"},
    "schema": 1,
}


def env_file() -> tuple[str, str, bytes]:
    """(digest, path, bytes) of a canonical environment snapshot."""
    data = (json.dumps(ENV, sort_keys=True, indent=2) + "\n").encode()
    hexdigest = hashlib.sha256(data).hexdigest()
    return digests.from_hex(hexdigest), f".gitprov/envs/{hexdigest}.json", data


def make_run(
    argv: Sequence[str],
    inputs: Sequence[ArtifactRef],
    outputs: Sequence[ArtifactRef],
    *,
    params: dict[str, str] | None = None,
    seeds: Sequence[str] = (),
    env: str | None = None,
) -> RunRecord:
    return RunRecord(
        id=new_ulid(),
        argv=tuple(argv),
        cwd=".",
        started_at="2026-01-01T00:00:00.000Z",
        ended_at="2026-01-01T00:10:00.000Z",
        exit_code=0,
        head=None,
        dirty=False,
        diff_digest=None,
        params=params or {},
        seeds=tuple(seeds),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        env=env,
        user="Test User",
    )


def pointer(kind: str, path: str, digest: str, run: RunRecord | None = None) -> str:
    name = path.rsplit("/", 1)[-1]
    produced_by = run.ref if run else None
    return render(Pointer(kind, name, digest, 1000, produced_by=produced_by))  # type: ignore[arg-type]


def commit(repo: Path, files: dict[str, str | bytes], message: str) -> str:
    gen(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def record(
    repo: Path,
    sha: str,
    *,
    runs: Sequence[RunRecord] = (),
    artifacts: Sequence[ArtifactChange] = (),
    decisions: Sequence[str] = (),
    env: str | None = None,
) -> str:
    fields = commit_record.commit_fields(
        commit=sha,
        artifacts=artifacts,
        runs=[r.id for r in runs],
        decisions=decisions,
        checklist="passed",
        env=env,
        source="post-commit",
    )
    return append_record(cwd=repo, commit=sha, type="commit", fields=fields)


@dataclass
class Lineage:
    """A three-generation history: dataset -> checkpoint A (run 1) -> checkpoint B (run 2)."""

    repo: Path
    commits: dict[str, str]
    run1: RunRecord
    run2: RunRecord


def three_generations(repo: Path) -> Lineage:
    """c1 tracks the dataset; c2 trains A on it (run 1); c3 changes code without a record
    (hooks skipped); c4 fine-tunes A into B on the same dataset (run 2); c5 edits a README."""
    env_digest, env_path, env_bytes = env_file()
    data = ArtifactRef("data/train", "dataset", DATASET)
    a = ArtifactRef("models/a.pt", "checkpoint", CKPT_A)
    b = ArtifactRef("models/b.pt", "checkpoint", CKPT_B)
    run1 = make_run(
        ["python", "train.py", "--lr", "3e-4", "--seed", "7"],
        [data],
        [a],
        params={"lr": "3e-4"},
        seeds=["7"],
        env=env_digest,
    )
    run2 = make_run(
        ["python", "finetune.py", "--from", "models/a.pt"],
        [a, data],
        [b],
        params={"lr": "1e-5", "epochs": "2"},
        seeds=["11"],
        env=env_digest,
    )
    commits = {}
    commits["c1"] = commit(
        repo, {"data/train.gitprov": pointer("dataset", "data/train", DATASET)}, "Track data"
    )
    record(
        repo, commits["c1"], artifacts=[ArtifactChange("data/train", "dataset", DATASET, "added")]
    )
    commits["c2"] = commit(
        repo,
        {
            "train.py": "print('train')\n",
            run1.path: runrecord.dumps(run1),
            env_path: env_bytes,
            "models/a.pt.gitprov": pointer("checkpoint", "models/a.pt", CKPT_A, run1),
        },
        "Train A\n\nDecision: 0001-adamw",
    )
    record(
        repo,
        commits["c2"],
        runs=[run1],
        artifacts=[ArtifactChange("models/a.pt", "checkpoint", CKPT_A, "added")],
        decisions=["0001-adamw"],
        env=env_digest,
    )
    commits["c3"] = commit(repo, {"train.py": "print('train v2')\n"}, "Refactor training")
    commits["c4"] = commit(
        repo,
        {
            "finetune.py": "print('ft')\n",
            run2.path: runrecord.dumps(run2),
            "models/b.pt.gitprov": pointer("checkpoint", "models/b.pt", CKPT_B, run2),
        },
        "Fine-tune A into B",
    )
    record(
        repo,
        commits["c4"],
        runs=[run2],
        artifacts=[ArtifactChange("models/b.pt", "checkpoint", CKPT_B, "added")],
        env=env_digest,
    )
    commits["c5"] = commit(repo, {"README.md": "models\n"}, "Docs")
    record(repo, commits["c5"])
    return Lineage(repo, commits, run1, run2)


@pytest.fixture
def lineage_repo(git_repo: Path) -> Lineage:
    return three_generations(git_repo)


def entries_of(result: Result) -> list[str]:
    """The text log split into one chunk per commit."""
    return ["commit " + chunk for chunk in result.stdout.split("commit ")[1:]]


# --- the text log -----------------------------------------------------------------------


def test_log_shows_each_commit_with_its_lineage(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("log", "--lineage")

    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    chunks = entries_of(result)
    shas = [chunk.split()[1] for chunk in chunks]
    c = lineage_repo.commits
    assert shas == [c["c5"], c["c4"], c["c3"], c["c2"], c["c1"]]  # newest first, like git log
    by_sha = dict(zip(shas, chunks, strict=True))

    trained = by_sha[c["c2"]]
    assert f"run {lineage_repo.run1.id}  python train.py --lr 3e-4 --seed 7" in trained
    assert "params   lr=3e-4" in trained
    assert "seeds    7" in trained
    assert f"input    data/train  dataset  {digests.snapshot_id(DATASET)}" in trained
    assert f"output   models/a.pt  checkpoint  {digests.short(CKPT_A)}" in trained
    assert "env      Python 3.11.7" in trained  # the environment summary
    assert "decisions 0001-adamw" in trained
    assert "checklist passed" in trained
    assert "artifact + models/a.pt  checkpoint" in trained

    tuned = by_sha[c["c4"]]
    assert "python finetune.py --from models/a.pt" in tuned
    assert f"input    models/a.pt  checkpoint  {digests.short(CKPT_A)}" in tuned
    assert "seeds    11" in tuned

    assert "(no lineage record)" in by_sha[c["c3"]]
    assert "Refactor training" in by_sha[c["c3"]]
    assert "no lineage record" not in by_sha[c["c2"]]
    assert "artifact + data/train  dataset  ds:" in by_sha[c["c1"]]


def test_log_json_parses_and_carries_the_same_facts(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("log", "--json")

    assert result.exit_code == 0, result.stderr
    entries = json.loads(result.stdout)
    assert [e["commit"] for e in entries][::-1] == list(lineage_repo.commits.values())
    tuned = entries[1]
    assert tuned["record"] is not None
    [run] = tuned["runs"]
    assert run["id"] == lineage_repo.run2.id
    assert run["argv"] == ["python", "finetune.py", "--from", "models/a.pt"]
    assert run["params"] == {"epochs": "2", "lr": "1e-5"}
    assert run["seeds"] == ["11"]
    assert [i["digest"] for i in run["inputs"]] == [CKPT_A, DATASET]
    assert run["outputs"][0]["path"] == "models/b.pt"
    assert "3.11.7" in run["env_summary"]
    assert tuned["checklist"] == "passed"
    bare = entries[2]
    assert bare["record"] is None
    assert bare["runs"] == []
    assert bare["warnings"] == []


def test_a_commit_without_record_shows_the_runs_its_tree_added(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    """Hooks skipped (--no-verify, CI): the record is missing, the run record is not."""
    run = make_run(["python", "t.py"], [], [ArtifactRef("m.pt", "checkpoint", CKPT_A)])
    commit(git_repo, {"README.md": "x\n"}, "first")
    commit(git_repo, {run.path: runrecord.dumps(run)}, "ran without hooks")

    result = gitprov("log", "-n", "1")

    assert result.exit_code == 0, result.stderr
    assert "(no lineage record; runs read from the tree)" in result.stdout
    assert f"run {run.id}  python t.py" in result.stdout


def test_max_count_and_ranges(lineage_repo: Lineage, gitprov: Callable[..., Result]) -> None:
    c = lineage_repo.commits
    assert [e.split()[1] for e in entries_of(gitprov("log", "-n", "2"))] == [c["c5"], c["c4"]]
    shown = [e.split()[1] for e in entries_of(gitprov("log", f"{c['c2']}..{c['c4']}"))]
    assert shown == [c["c4"], c["c3"]]
    shown = [e.split()[1] for e in entries_of(gitprov("log", "HEAD~1"))]
    assert shown == [c["c4"], c["c3"], c["c2"], c["c1"]]


def test_symmetric_range(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    base = commit(git_repo, {"a": "1"}, "base")
    git(git_repo, "checkout", "-q", "-b", "side")
    side = commit(git_repo, {"b": "1"}, "side")
    git(git_repo, "checkout", "-q", "main")
    main = commit(git_repo, {"c": "1"}, "main")

    shown = {e.split()[1] for e in entries_of(gitprov("log", "main...side"))}

    assert shown == {side, main}
    assert base not in shown


def test_paths_select_commits_that_change_them_or_their_pointers(
    lineage_repo: Lineage, gitprov: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    c = lineage_repo.commits
    assert [e.split()[1] for e in entries_of(gitprov("log", "models/a.pt"))] == [c["c2"]]
    shown = [e.split()[1] for e in entries_of(gitprov("log", "HEAD", "--", "train.py"))]
    assert shown == [c["c3"], c["c2"]]
    # A path given from a sub-folder is relative to it, as in git.
    monkeypatch.chdir(lineage_repo.repo / "models")
    result = gitprov("log", "b.pt")
    assert [e.split()[1] for e in entries_of(result)] == [c["c4"]]


# --- rewritten commits ------------------------------------------------------------------


def test_a_record_copied_from_a_rewritten_commit_is_not_shown_twice(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    """git copies notes across an amend (notes.rewriteRef); the copy names the old commit."""
    git(git_repo, "config", "notes.rewriteRef", "refs/notes/gitprov")
    run = make_run(["python", "t.py"], [], [ArtifactRef("m.pt", "checkpoint", CKPT_A)])
    commit(git_repo, {"README.md": "x\n"}, "first")
    old = commit(git_repo, {run.path: runrecord.dumps(run)}, "train")
    record(git_repo, old, runs=[run])
    git(git_repo, "commit", "-q", "--amend", "-m", "train (amended)")
    new = git(git_repo, "rev-parse", "HEAD").strip()
    assert old in git(git_repo, "notes", "--ref=gitprov", "show", new)  # git copied it

    copied_only = gitprov("log", "-n", "1")
    assert copied_only.exit_code == 0, copied_only.stderr
    assert f"ignored the record copied from rewritten commit {old[:12]}" in copied_only.stdout
    assert "runs read from the tree" in copied_only.stdout  # the tree still says which run

    line = record(git_repo, new, runs=[run])  # what post-rewrite appends
    result = gitprov("log", "-n", "1", "--json")
    [entry] = json.loads(result.stdout)
    assert entry["record"] == json.loads(line)["id"]
    assert [r["id"] for r in entry["runs"]] == [run.id]  # once, not once per record
    assert entry["copied_from"] == [old]
    assert gitprov("log", "-n", "1").stdout.count(f"run {run.id}") == 1


# --- bad input --------------------------------------------------------------------------


def test_a_malformed_note_line_warns_and_the_rest_prints(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    c2 = lineage_repo.commits["c2"]
    repo = lineage_repo.repo
    note = git(repo, "notes", "--ref=gitprov", "show", c2)
    git(repo, "notes", "--ref=gitprov", "add", "-f", "-F", "-", c2, stdin=note + "{not json\n")

    result = gitprov("log")

    assert result.exit_code == 0
    warnings = result.stderr.splitlines()
    assert warnings == [
        f"gitprov: warning: commit {c2[:12]}: note line 2 is not valid JSON; skipped"
    ]
    assert len(entries_of(result)) == 5
    assert f"run {lineage_repo.run1.id}" in result.stdout  # the good line still counts


def test_a_malformed_run_record_warns_and_the_log_goes_on(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    run_id = new_ulid()
    commit(git_repo, {"README.md": "x\n"}, "first")
    sha = commit(git_repo, {runrecord.record_path(run_id): "{broken"}, "bad record")
    fields = commit_record.commit_fields(
        commit=sha,
        artifacts=[],
        runs=[run_id],
        decisions=[],
        checklist="passed",
        env=None,
        source="post-commit",
    )
    append_record(cwd=git_repo, commit=sha, type="commit", fields=fields)

    result = gitprov("log")

    assert result.exit_code == 0
    [warning] = result.stderr.splitlines()
    assert warning.startswith(f"gitprov: warning: commit {sha[:12]}: ")
    assert "is not valid JSON" in warning
    assert f"run {run_id}  (record not readable in this commit)" in result.stdout
    assert len(entries_of(result)) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["no-such-branch"], "unknown revision or path not in the work tree: 'no-such-branch'"),
        (["HEAD~1..no-such-branch"], "unknown revision 'no-such-branch'"),
        (["HEAD~99"], "unknown revision"),
    ],
)
def test_an_unknown_revision_is_a_one_line_usage_error(
    lineage_repo: Lineage, gitprov: Callable[..., Result], args: list[str], expected: str
) -> None:
    result = gitprov("log", *args)

    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("gitprov: error: ")
    assert expected in line


def test_a_name_that_is_both_a_branch_and_a_path_is_refused(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    git(lineage_repo.repo, "branch", "train.py")

    result = gitprov("log", "train.py")

    assert result.exit_code == ExitCode.USAGE
    assert "both a revision and a path" in result.stderr
    assert "./train.py" in result.stderr
    assert len(entries_of(gitprov("log", "./train.py"))) == 2


def test_a_repository_without_commits(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    result = gitprov("log")
    assert result.exit_code == ExitCode.USAGE
    assert "no commits yet" in result.stderr


def test_a_repository_without_notes_marks_every_commit(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    commit(git_repo, {"a": "1"}, "one")
    commit(git_repo, {"a": "2"}, "two")
    result = gitprov("log")
    assert result.exit_code == 0
    assert result.stdout.count("(no lineage record)") == 2


# --- one pass -------------------------------------------------------------------------


def test_the_log_starts_no_process_per_commit(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 commits with records and runs: the whole log starts a small constant number of
    processes (none, today: everything is read through libgit2)."""
    shas = []
    for i in range(50):
        run = make_run(["python", "t.py", str(i)], [], [ArtifactRef("m.pt", "checkpoint", CKPT_A)])
        sha = commit(git_repo, {run.path: runrecord.dumps(run), "n": str(i)}, f"c{i}")
        fields = commit_record.commit_fields(
            commit=sha,
            artifacts=[],
            runs=[run.id],
            decisions=[],
            checklist="passed",
            env=None,
            source="post-commit",
        )
        # One git call per note (append_record makes several): the setup is not measured.
        git(git_repo, "notes", "--ref=gitprov", "add", "-m", make_record("commit", fields), sha)
        shas.append(sha)

    spawned: list[object] = []
    real_popen = subprocess.Popen

    class CountingPopen(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            spawned.append(args[0] if args else kwargs.get("args"))
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(subprocess, "Popen", CountingPopen)
    entries = list(lineage_log.log(cwd=git_repo))

    assert [e.commit for e in entries] == shas[::-1]
    assert all(e.record is not None and len(e.runs) == 1 and e.runs[0].found for e in entries)
    assert len(spawned) <= 2, spawned
