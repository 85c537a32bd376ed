"""``gitprov run``: a real command in a real repository, committed with its lineage.

The runs use this test's own Python as the command, so they exercise the real process
handling: output streaming through, exit codes passed on, nothing recorded on failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.errors import UsageError
from gitprov.model import runrecord
from gitprov.model.notes import parse_lines
from gitprov.services import runs, workspace
from tests.conftest import Result, gen, git, ml_project, run_gitprov

TRAIN = """\
import json, pathlib, sys
data = "".join(p.read_text() for p in sorted(pathlib.Path("data").glob("*.csv")))
pathlib.Path("model.pt").write_text("weights of " + data)
pathlib.Path("metrics.json").write_text(json.dumps({"acc": 0.91, "n": len(data)}))
print("trained on", len(data), "bytes")
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


@pytest.fixture
def project(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    return ml_project(committed_repo, gitprov, TRAIN)


def train(repo: Path, *extra: str, code: int = 0) -> Result:
    return run_gitprov(
        repo,
        "run",
        "-i",
        "data",
        "-o",
        "model.pt",
        "-p",
        "lr=1e-3",
        "--seed",
        "7",
        "--metrics",
        "metrics.json",
        *extra,
        "--",
        sys.executable,
        "train.py",
        str(code),
    )


def test_a_run_commits_its_record_outputs_and_environment(project: Path) -> None:
    before = git(project, "rev-parse", "HEAD").strip()
    result = train(project, "-m", "train v1")
    assert result.exit_code == 0, result.stderr
    assert "trained on 4 bytes" in result.stdout  # the command's output streams through
    message = git(project, "log", "-1", "--format=%B")
    assert message.startswith("train v1")
    (run_id,) = [line.split(": ")[1] for line in message.splitlines() if "Gitprov-Run" in line]
    record = runrecord.loads((project / runrecord.record_path(run_id)).read_bytes(), source="t")
    assert record.head == before
    assert (record.dirty, record.diff_digest) == (False, None)
    assert record.params == {"lr": "1e-3"}
    assert record.seeds == ("7",)
    assert record.metrics == {"metrics.json": {"acc": 0.91, "n": 4}}
    assert record.argv == (sys.executable, "train.py", "0")
    assert record.user == "Test User <test@example.com>"
    (inp,) = record.inputs
    (out,) = record.outputs
    assert (inp.path, inp.kind) == ("data", "dataset")
    assert (out.path, out.kind) == ("model.pt", "checkpoint")
    assert f'produced_by = "run:{run_id}"' in (project / "model.pt.gitprov").read_text()
    committed = set(git(project, "show", "--name-only", "--format=", "HEAD").split())
    assert {runrecord.record_path(run_id), "data.gitprov", "model.pt.gitprov"} <= committed
    assert record.env is not None
    assert f".gitprov/envs/{record.env.removeprefix('sha256:')}.json" in committed
    # The post-commit hook recorded the run in the commit's lineage note.
    note = git(project, "notes", "--ref=refs/notes/gitprov", "show", "HEAD")
    (commit_record,) = [r for r in parse_lines(note) if r["type"] == "commit"]
    assert commit_record["runs"] == [run_id]
    assert commit_record["env"] == record.env
    assert git(project, "status", "--porcelain").strip() == ""


def test_a_failed_command_records_nothing_and_passes_its_exit_code(project: Path) -> None:
    before = git(project, "rev-parse", "HEAD").strip()
    result = train(project, code=3)
    assert result.exit_code == 3
    assert "the command failed (exit 3): nothing was recorded" in result.stderr
    assert git(project, "rev-parse", "HEAD").strip() == before
    assert not (project / "model.pt.gitprov").exists()
    assert not (project / runrecord.RUNS_DIR).exists()


def test_a_dirty_work_tree_is_refused_unless_allowed_then_its_diff_is_recorded(
    project: Path,
) -> None:
    (project / "train.py").write_text(TRAIN + "# tweak\n")
    refused = train(project)
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1
    assert "uncommitted changes (train.py)" in refused.stderr
    assert "--allow-dirty" in refused.stderr

    allowed = train(project, "--allow-dirty")
    assert allowed.exit_code == 0, allowed.stderr
    (path,) = (project / runrecord.RUNS_DIR).glob("*.json")
    record = runrecord.loads(path.read_bytes(), source="t")
    assert record.dirty
    assert record.diff_digest is not None
    # The run commits only its own files: the code change stays uncommitted.
    assert git(project, "status", "--porcelain").strip() == "M train.py"


def test_no_commit_leaves_everything_staged(project: Path) -> None:
    before = git(project, "rev-parse", "HEAD").strip()
    result = train(project, "--no-commit")
    assert result.exit_code == 0, result.stderr
    assert git(project, "rev-parse", "HEAD").strip() == before
    staged = git(project, "diff", "--cached", "--name-only").split()
    assert "model.pt.gitprov" in staged
    assert any(p.startswith(runrecord.RUNS_DIR) for p in staged)


def test_json_output_and_chained_runs(project: Path) -> None:
    out = train(project, "--json").stdout
    # The command's own output comes first, then gitprov's JSON.
    first = json.loads(out[out.index("\n{") + 1 :])
    assert first["commit"] == git(project, "rev-parse", "HEAD").strip()
    # A second generation: fine-tune from the first checkpoint.
    gen(
        project,
        {
            "tune.py": "import pathlib\npathlib.Path('tuned.pt').write_text("
            "pathlib.Path('model.pt').read_text() + ' tuned')\n"
        },
    )
    git(project, "add", "tune.py")
    git(project, "commit", "-q", "-m", "tune script")
    result = run_gitprov(
        project,
        "run",
        "-i",
        "model.pt",
        "-o",
        "tuned.pt",
        "--json",
        "--",
        sys.executable,
        "tune.py",
    )
    assert result.exit_code == 0, result.stderr
    second = json.loads(result.stdout)
    (inp,) = second["run"]["inputs"]
    assert inp["digest"] == first["run"]["outputs"][0]["digest"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "model.pt", "--", "no-such-command-xyz"], "command not found: no-such-command-xyz"),
        (["-i", "data", "-o", "data", "--", "true"], "data is both an input and an output"),
        (["-p", "novalue", "--", "true"], "--param 'novalue' is not KEY=VALUE"),
        (["-o", "../outside", "--", "true"], "is outside the repository"),
    ],
)
def test_bad_input_is_one_line_with_exit_2(project: Path, args: list[str], message: str) -> None:
    result = run_gitprov(project, "run", *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_missing_output_or_bad_metrics_file_records_nothing(project: Path) -> None:
    before = git(project, "rev-parse", "HEAD").strip()
    missing = run_gitprov(
        project, "run", "-i", "data", "-o", "nothing.pt", "--", sys.executable, "-c", "0"
    )
    assert missing.exit_code == 1
    assert "did not write the output nothing.pt" in missing.stderr
    bad = run_gitprov(
        project,
        "run",
        "-i",
        "data",
        "--metrics",
        "m.json",
        "--",
        sys.executable,
        "-c",
        "open('m.json','w').write('{nope')",
    )
    assert bad.exit_code == 1
    assert "m.json is not valid JSON" in bad.stderr
    assert git(project, "rev-parse", "HEAD").strip() == before


def test_parse_params_keeps_values_as_text() -> None:
    assert runs.parse_params(["lr=1e-3", "name=a=b", "empty="]) == {
        "lr": "1e-3",
        "name": "a=b",
        "empty": "",
    }
    with pytest.raises(UsageError, match="given twice"):
        runs.parse_params(["a=1", "a=2"])


def test_run_records_round_trip_and_reject_damage() -> None:
    record = runrecord.RunRecord(
        id="01JD3Q0000000000000000000A",
        argv=("python", "x.py"),
        cwd=".",
        started_at="a",
        ended_at="b",
        exit_code=0,
        head=None,
        dirty=False,
        diff_digest=None,
        params={"k": "v"},
        seeds=("1",),
    )
    data = runrecord.dumps(record)
    assert runrecord.loads(data, source="r") == record
    assert runrecord.dumps(runrecord.loads(data, source="r")) == data
    damaged = json.loads(data)
    damaged["seeds"] = [1]
    with pytest.raises(runrecord.RecordFormatError, match="must be strings"):
        runrecord.loads(json.dumps(damaged), source="r.json")
    with pytest.raises(runrecord.RecordFormatError, match="schema 9"):
        runrecord.loads(json.dumps({**json.loads(data), "schema": 9}), source="r.json")


def test_an_environment_probe_failure_is_a_warning_and_the_run_is_still_recorded(
    project: Path, tmp_path: Path
) -> None:
    # An interpreter-looking command whose probe (``-c <code>``) fails but that runs fine.
    fake = tmp_path / "python-fake"
    fake.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do [ "$a" = "-c" ] && { echo "probe refused" >&2; exit 1; }; done\n'
        "echo ran > out.txt\n"
    )
    fake.chmod(0o755)
    result = run_gitprov(project, "run", "-i", "data", "-o", "out.txt", "--", str(fake))
    assert result.exit_code == 0, result.stderr
    assert "gitprov: warning: the environment could not be captured" in result.stderr
    (path,) = (project / runrecord.RUNS_DIR).glob("*.json")
    assert runrecord.loads(path.read_bytes(), source="t").env is None
    assert git(project, "status", "--porcelain").strip() == ""


def test_a_nan_metric_is_refused_in_one_line_not_a_crash(project: Path) -> None:
    result = run_gitprov(
        project,
        "run",
        "-i",
        "data",
        "--metrics",
        "m.json",
        "--",
        sys.executable,
        "-c",
        "open('m.json','w').write('{\"loss\": NaN}')",
    )
    assert result.exit_code == 1, result.stderr
    assert "m.json is not valid JSON (NaN is not a JSON number" in result.stderr
    assert result.stderr.count("\n") == 1


def test_credentials_on_the_command_line_never_reach_the_record_or_the_commit(
    project: Path,
) -> None:
    token = "hf_" + "a" * 34
    result = run_gitprov(
        project,
        "run",
        "-i",
        "data",
        "-p",
        "api_key=s3cr3t",
        "--",
        sys.executable,
        "-c",
        "pass",
        "--hf-token",
        token,
        "--url=https://u:pw@host/x",
    )
    assert result.exit_code == 0, result.stderr
    assert "credentials on the command line or in --param were masked" in result.stderr
    (path,) = (project / runrecord.RUNS_DIR).glob("*.json")
    text = path.read_text() + git(project, "log", "-1", "--format=%B")
    for secret in (token, "s3cr3t", "u:pw"):
        assert secret not in text


def test_an_output_git_tracks_is_refused_before_the_command_runs(project: Path) -> None:
    result = run_gitprov(
        project, "run", "-o", "train.py", "--", sys.executable, "-c", "open('ran', 'w')"
    )
    assert result.exit_code == 1
    assert "git already tracks train.py" in result.stderr
    assert not (project / "ran").exists()


def test_the_dirty_diff_digest_ignores_local_diff_settings(project: Path) -> None:
    (project / "train.py").write_text(TRAIN + "# tweak\n")
    ws = workspace.open_workspace(project)
    head = git(project, "rev-parse", "HEAD").strip()
    plain = runs.diff_digest_of(ws, head, ["train.py"])
    git(project, "config", "diff.noprefix", "true")
    git(project, "config", "diff.algorithm", "histogram")
    assert runs.diff_digest_of(ws, head, ["train.py"]) == plain


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_killed_before_its_commit_is_rolled_back_by_the_next_run(project: Path) -> None:
    """What a kill between the command's end and the commit leaves (a staged record, an
    environment snapshot, tracked outputs) does not make the next run refuse the tree."""
    assert train(project, "--no-commit").exit_code == 0  # the state such a kill leaves
    (orphan,) = [p for p in git(project, "diff", "--cached", "--name-only").split() if "runs/" in p]
    run_id = Path(orphan).stem
    journal = project / ".git/gitprov/runs-pending"
    journal.mkdir(parents=True, exist_ok=True)
    (journal / run_id).write_text(json.dumps({"pid": _dead_pid(), "paths": [orphan]}))

    result = train(project)

    assert result.exit_code == 0, result.stderr
    assert f"rolled back run:{run_id}" in result.stderr
    assert not (project / orphan).exists()
    committed = git(project, "show", "--name-only", "--format=", "HEAD").split()
    assert orphan not in committed
    assert "model.pt.gitprov" in committed
    assert git(project, "status", "--porcelain").strip() == ""
    assert list(journal.iterdir()) == []


def test_a_pending_run_that_is_alive_or_deliberately_staged_is_left_alone(
    project: Path,
) -> None:
    assert train(project, "--no-commit").exit_code == 0  # staged on purpose: no journal
    refused = train(project)
    assert refused.exit_code != 0
    assert "--allow-dirty" in refused.stderr  # its record is a change, not a leftover
