"""``gitprov lineage``: the graph upstream and downstream of a path, digest or run.

The three-generation history of test_lineage_log (dataset -> checkpoint A by run 1 ->
checkpoint B by run 2 from A), real commits and notes; a real DVC project for dvc.lock.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.errors import ExitCode
from gitprov.model import digest as digests
from gitprov.model import runrecord
from gitprov.model.runrecord import ArtifactRef
from gitprov.services import lineage
from gitprov.services.lineage import LineageTargetError
from tests.conftest import Result, gen, git
from tests.test_lineage_log import (
    CKPT_A,
    CKPT_B,
    DATASET,
    Lineage,
    commit,
    make_run,
    pointer,
    record,
    three_generations,
)


@pytest.fixture
def lineage_repo(git_repo: Path) -> Lineage:
    return three_generations(git_repo)


def error_line(result: Result) -> str:
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("gitprov: error: ")
    return line


# --- upstream and downstream ------------------------------------------------------------


def test_upstream_of_b_reaches_the_dataset_and_both_runs(lineage_repo: Lineage) -> None:
    result = lineage.lineage(cwd=lineage_repo.repo, target="models/b.pt")

    graph = result.graph
    assert result.target == CKPT_B
    assert graph.focus == CKPT_B
    assert graph.direction == "upstream"
    assert set(graph.runs) == {lineage_repo.run1.id, lineage_repo.run2.id}
    assert set(graph.artifacts) == {CKPT_B, CKPT_A, DATASET}
    assert [r.id for r in graph.producers_of(CKPT_B)] == [lineage_repo.run2.id]
    assert {a.digest for a in graph.inputs_of(lineage_repo.run2.id)} == {CKPT_A, DATASET}
    assert [r.id for r in graph.producers_of(CKPT_A)] == [lineage_repo.run1.id]
    assert [a.digest for a in graph.inputs_of(lineage_repo.run1.id)] == [DATASET]
    # Across commits: each node remembers the commit it first appears in.
    c = lineage_repo.commits
    assert graph.artifacts[DATASET].commit == c["c1"]
    assert graph.runs[lineage_repo.run1.id].commit == c["c2"]
    assert graph.runs[lineage_repo.run2.id].commit == c["c4"]
    assert graph.runs[lineage_repo.run1.id].decisions == ("0001-adamw",)
    assert graph.artifacts[CKPT_B].path == "models/b.pt"
    assert graph.artifacts[CKPT_B].size == 1000  # from the pointer
    assert result.at == c["c5"]
    assert result.truncated == frozenset()


def test_downstream_of_the_dataset_reaches_a_and_b(lineage_repo: Lineage) -> None:
    result = lineage.lineage(cwd=lineage_repo.repo, target="data/train", direction="downstream")

    graph = result.graph
    assert graph.direction == "downstream"
    assert set(graph.runs) == {lineage_repo.run1.id, lineage_repo.run2.id}
    assert {CKPT_A, CKPT_B} <= set(graph.artifacts)
    assert {r.id for r in graph.consumers_of(DATASET)} == {
        lineage_repo.run1.id,
        lineage_repo.run2.id,
    }
    assert [a.digest for a in graph.outputs_of(lineage_repo.run2.id)] == [CKPT_B]


def test_text_tree_upstream_and_downstream(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    up = gitprov("lineage", "models/b.pt")
    assert up.exit_code == 0, up.stderr
    lines = up.stdout.splitlines()
    assert lines[0].startswith(f"checkpoint models/b.pt  {digests.short(CKPT_B)}")
    assert lines[1].startswith(f"└── run {lineage_repo.run2.id}  python finetune.py")
    assert any(line.strip().startswith("└── run " + lineage_repo.run1.id) for line in lines)
    ds = digests.snapshot_id(DATASET)
    assert sum(f"dataset data/train  {ds}" in line for line in lines) == 2
    assert lines[-1].endswith("(see above)")  # the dataset, met twice, is expanded once

    down = gitprov("lineage", "data/train", "--downstream")
    assert down.exit_code == 0, down.stderr
    assert down.stdout.splitlines()[0].startswith(f"dataset data/train  {ds}")
    assert "checkpoint models/a.pt" in down.stdout
    assert "checkpoint models/b.pt" in down.stdout


# --- targets -----------------------------------------------------------------------------


def test_path_at_rev_reads_the_pointer_of_that_commit(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    repo = lineage_repo.repo
    new = digests.from_hex("e" * 64)
    run3 = make_run(
        ["python", "train.py", "--lr", "1e-3"],
        [ArtifactRef("data/train", "dataset", DATASET)],
        [ArtifactRef("models/a.pt", "checkpoint", new)],
    )
    c6 = commit(
        repo,
        {
            run3.path: runrecord.dumps(run3),
            "models/a.pt.gitprov": pointer("checkpoint", "models/a.pt", new, run3),
        },
        "Retrain A",
    )
    record(repo, c6, runs=[run3])

    now = lineage.lineage(cwd=repo, target="models/a.pt")
    before = lineage.lineage(cwd=repo, target=f"models/a.pt@{lineage_repo.commits['c2']}")
    older = lineage.lineage(cwd=repo, target="models/a.pt@HEAD~1")

    assert now.target == new
    assert set(now.graph.runs) == {run3.id}
    assert before.target == CKPT_A
    assert set(before.graph.runs) == {lineage_repo.run1.id}
    assert older.target == CKPT_A
    # Downstream of the old A still finds B, made from it.
    down = lineage.lineage(cwd=repo, target="models/a.pt@HEAD~1", direction="downstream")
    assert CKPT_B in down.graph.artifacts


@pytest.mark.parametrize(
    "target",
    [
        CKPT_B,
        CKPT_B[:13],  # sha256: + 6 hex digits, unique
        "models/b.pt.gitprov",  # the pointer stands for its artifact
    ],
)
def test_digest_and_pointer_targets(lineage_repo: Lineage, target: str) -> None:
    assert lineage.lineage(cwd=lineage_repo.repo, target=target).target == CKPT_B


def test_dataset_snapshot_id_target(lineage_repo: Lineage) -> None:
    result = lineage.lineage(
        cwd=lineage_repo.repo, target=digests.snapshot_id(DATASET), direction="downstream"
    )
    assert result.target == DATASET


def test_run_targets(lineage_repo: Lineage, gitprov: Callable[..., Result]) -> None:
    run2 = lineage_repo.run2
    for target in (run2.ref, run2.id, run2.ref[:20], run2.id.lower()):
        result = lineage.lineage(cwd=lineage_repo.repo, target=target)
        assert result.target == run2.id, target
        # A run's graph names what it wrote as well as what it read.
        assert {a.digest for a in result.graph.outputs_of(run2.id)} == {CKPT_B}
        assert lineage_repo.run1.id in result.graph.runs

    text = gitprov("lineage", run2.ref)
    assert text.exit_code == 0, text.stderr
    assert text.stdout.splitlines()[0].startswith(f"run {run2.id}")
    assert text.stdout.splitlines()[1] == "    (wrote models/b.pt)"

    record_, added_in = lineage.find_run(cwd=lineage_repo.repo, run=run2.id[:16])
    assert record_ == run2
    assert added_in == lineage_repo.commits["c4"]


def test_depth_limits_the_walk(lineage_repo: Lineage, gitprov: Callable[..., Result]) -> None:
    result = lineage.lineage(cwd=lineage_repo.repo, target="models/b.pt", depth=1)

    assert set(result.graph.runs) == {lineage_repo.run2.id}
    assert set(result.graph.artifacts) == {CKPT_B, CKPT_A, DATASET}
    assert result.truncated == frozenset({CKPT_A})  # A has a producer beyond the limit

    two = lineage.lineage(cwd=lineage_repo.repo, target="models/b.pt", depth=2)
    assert set(two.graph.runs) == {lineage_repo.run1.id, lineage_repo.run2.id}
    assert two.truncated == frozenset()

    text = gitprov("lineage", "models/b.pt", "--depth", "1")
    assert "models/a.pt" in text.stdout
    assert "(more beyond --depth)" in text.stdout
    assert lineage_repo.run1.id not in text.stdout
    assert gitprov("lineage", "models/b.pt", "--depth", "0").exit_code == ExitCode.USAGE


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected", "fix"),
    [
        ("models/nope.pt", "models/nope.pt is not a tracked artifact", "gitprov status"),
        ("models/b.pt@HEAD~4", "models/b.pt is not a tracked artifact at HEAD~4", "@<rev>"),
        ("models/b.pt@no-such-rev", "unknown revision 'no-such-rev'", "git rev-parse"),
        (
            "run:01ZZZZZZZZZZZZZZZZZZZZZZZZ",
            "no run 'run:01ZZZZZZZZZZZZZZZZZZZZZZZZ'",
            "gitprov log",
        ),
        ("sha256:" + "9" * 64, "no artifact with digest", "name the path"),
        ("sha256:aa", "too short", "6 hex digits"),
    ],
)
def test_a_bad_target_is_one_line_with_a_fix(
    lineage_repo: Lineage, gitprov: Callable[..., Result], target: str, expected: str, fix: str
) -> None:
    result = gitprov("lineage", target)

    assert result.exit_code == ExitCode.USAGE
    line = error_line(result)
    assert expected in line
    assert fix in line


def test_an_ambiguous_short_digest_lists_the_candidates(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    twin = digests.from_hex("a" * 8 + "f" * 56)
    run = make_run(
        ["python", "copy.py"],
        [ArtifactRef("models/a.pt", "checkpoint", CKPT_A)],
        [ArtifactRef("models/twin.pt", "checkpoint", twin)],
    )
    sha = commit(lineage_repo.repo, {run.path: runrecord.dumps(run)}, "A twin")
    record(lineage_repo.repo, sha, runs=[run])

    result = gitprov("lineage", "sha256:aaaaaaaa")

    assert result.exit_code == ExitCode.USAGE
    line = error_line(result)
    assert "matches 2 artifacts" in line
    assert "models/a.pt" in line
    assert "models/twin.pt" in line
    assert "Give more digits" in line
    assert lineage.lineage(cwd=lineage_repo.repo, target="sha256:aaaaaaaaf").target == twin


def test_uncommitted_pointer_says_to_commit_it(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    gen(lineage_repo.repo, {"models/c.pt.gitprov": pointer("checkpoint", "models/c.pt", CKPT_A)})
    line = error_line(gitprov("lineage", "models/c.pt"))
    assert "tracked in the work tree but not in commit HEAD" in line
    assert "Commit models/c.pt.gitprov first" in line


def test_an_unknown_at_revision(lineage_repo: Lineage, gitprov: Callable[..., Result]) -> None:
    result = gitprov("lineage", "models/b.pt", "--at", "nope")
    assert result.exit_code == ExitCode.USAGE
    assert "unknown revision 'nope'" in error_line(result)


def test_a_service_error_is_typed(lineage_repo: Lineage) -> None:
    with pytest.raises(LineageTargetError) as caught:
        lineage.lineage(cwd=lineage_repo.repo, target="run:0000")
    assert caught.value.exit_code == ExitCode.USAGE


# --- cycles ------------------------------------------------------------------------------


def test_a_run_whose_output_is_its_input_ends_the_walk(
    git_repo: Path, gitprov: Callable[..., Result]
) -> None:
    same = ArtifactRef("data/clean", "dataset", DATASET)
    noop = make_run(["python", "dedupe.py"], [same], [same])
    sha = commit(
        git_repo,
        {
            noop.path: runrecord.dumps(noop),
            "data/clean.gitprov": pointer("dataset", "data/clean", DATASET, noop),
        },
        "dedupe (no change)",
    )
    record(git_repo, sha, runs=[noop])

    for direction in ("upstream", "downstream"):
        result = lineage.lineage(cwd=git_repo, target="data/clean", direction=direction)  # type: ignore[arg-type]
        assert set(result.graph.runs) == {noop.id}
        assert set(result.graph.artifacts) == {DATASET}
        assert {(e.run, e.role) for e in result.graph.edges} == {
            (noop.id, "input"),
            (noop.id, "output"),
        }

    text = gitprov("lineage", "data/clean")
    assert text.exit_code == 0, text.stderr
    assert text.stdout.splitlines()[-1].endswith("(see above)")


# --- formats -----------------------------------------------------------------------------


def test_json_output_parses(lineage_repo: Lineage, gitprov: Callable[..., Result]) -> None:
    for args in (["--json"], ["--format", "json"]):
        result = gitprov("lineage", "models/b.pt", *args)
        assert result.exit_code == 0, result.stderr
        doc = json.loads(result.stdout)
        assert doc["focus"] == CKPT_B
        assert doc["direction"] == "upstream"
        assert doc["export"]["commit"] == lineage_repo.commits["c5"]
        runs = {n["id"] for n in doc["nodes"] if n["type"] == "run"}
        assert runs == {lineage_repo.run1.id, lineage_repo.run2.id}
        assert {"from": DATASET, "to": lineage_repo.run1.id, "role": "input"} in doc["edges"]
    clash = gitprov("lineage", "models/b.pt", "--json", "--format", "dot")
    assert clash.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("mermaid", "flowchart"),
        ("dot", "digraph"),
        ("prov-json", '"wasGeneratedBy"'),
        ("intoto", '"_type": "https://in-toto.io/Statement/v1"'),
        ("openlineage", '"eventType"'),
    ],
)
def test_every_export_format_is_wired(
    lineage_repo: Lineage, gitprov: Callable[..., Result], fmt: str, expected: str
) -> None:
    result = gitprov("lineage", "models/b.pt", "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert expected in result.stdout


def test_an_export_that_does_not_fit_is_one_line(
    lineage_repo: Lineage, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("lineage", "data/train", "--format", "intoto")
    assert result.exit_code == ExitCode.FAILED
    assert "checkpoint" in error_line(result)


# --- DVC ---------------------------------------------------------------------------------


def dvc(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "DVC_NO_ANALYTICS": "1",
        "DVC_STUDIO_OFFLINE": "1",
        "DVC_SITE_CACHE_DIR": str(cwd.parent / "dvc-site-cache"),
        "DVC_GLOBAL_CONFIG_DIR": str(cwd.parent / "dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(cwd.parent / "dvc-system"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"dvc {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")


def test_a_dvc_pipeline_joins_the_graph(git_repo: Path, gitprov: Callable[..., Result]) -> None:
    """dvc stage add + dvc repro of a real stage; a gitprov run then trains on its output."""
    gen(
        git_repo,
        {
            "raw.csv": "a,b\n1,2\n",
            "prepare.py": "import pathlib\n"
            "p = pathlib.Path\n"
            "p('prepared.csv').write_text(p('raw.csv').read_text().upper())\n",
        },
    )
    dvc(git_repo, "init", "-q")
    dvc(
        git_repo,
        "stage",
        "add",
        "-q",
        "-n",
        "prepare",
        "-d",
        "raw.csv",
        "-d",
        "prepare.py",
        "-o",
        "prepared.csv",
        f"{sys.executable} prepare.py",
    )
    dvc(git_repo, "repro", "-q")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-q", "-m", "DVC prepare stage")
    lock = (git_repo / "dvc.lock").read_text()
    assert "prepared.csv" in lock

    prepared = digests.from_hex("c" * 64)  # what gitprov run hashed prepared.csv to
    model = digests.from_hex("f" * 64)
    train = make_run(
        ["python", "train.py"],
        [ArtifactRef("prepared.csv", "dataset", prepared)],
        [ArtifactRef("models/m.pt", "checkpoint", model)],
    )
    sha = commit(
        git_repo,
        {
            train.path: runrecord.dumps(train),
            "models/m.pt.gitprov": pointer("checkpoint", "models/m.pt", model, train),
        },
        "Train on the prepared data",
    )
    record(git_repo, sha, runs=[train])

    up = lineage.lineage(cwd=git_repo, target="models/m.pt")

    graph = up.graph
    [stage] = [r for r in graph.runs.values() if r.source == "dvc"]
    assert stage.id.startswith("dvc:prepare@")
    assert stage.argv == (sys.executable, "prepare.py")
    assert {r.id for r in graph.producers_of(prepared)} == {stage.id}  # linked by path
    inputs = {a.path: a.digest for a in graph.inputs_of(stage.id)}
    assert set(inputs) == {"raw.csv", "prepare.py"}
    assert all(d.startswith("md5:") for d in inputs.values())

    # Downstream from DVC's input reaches the gitprov checkpoint through the stage, which
    # wrote prepared.csv under both names: DVC's md5 and gitprov's sha256.
    down = lineage.lineage(cwd=git_repo, target="raw.csv", direction="downstream")
    assert model in down.graph.artifacts
    outs = {a.digest for a in down.graph.outputs_of(stage.id)}
    assert prepared in outs
    assert any(d.startswith("md5:") for d in outs)
    assert lineage.full_graph(cwd=git_repo).aliases == {
        next(d for d in outs if d.startswith("md5:")): {prepared}
    }
    # The DVC output's path resolves to the artifact gitprov knows it as.
    assert lineage.lineage(cwd=git_repo, target="prepared.csv").target == prepared
    md5 = next(d for d in outs if d.startswith("md5:"))
    assert lineage.lineage(cwd=git_repo, target=md5).target == md5

    text = gitprov("lineage", "models/m.pt")
    assert text.exit_code == 0, text.stderr
    assert f"run {stage.id}" in text.stdout
    assert "artifact raw.csv  md5:" in text.stdout
