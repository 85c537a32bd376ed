"""The release checklist on real repositories: ``gitprov check`` and the pre-commit gate.

A checkpoint is trained through ``gitprov run``, given a card with ``gitprov card new``,
and marked ``stage = "release"`` in its pointer. From then on a real ``git commit`` that
touches it runs the checklist in the installed pre-commit hook: it blocks with the
precise failure and its fix, and lets a complete release through (recorded ``passed`` by
post-commit; ``--no-verify`` is recorded ``skipped``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import tomlkit

from gitprov.errors import ExitCode
from gitprov.model import card as cards
from gitprov.model import checklist as checklist_model
from gitprov.model import pointer as pointers
from gitprov.services import release_gate
from tests.conftest import Result, gen, git, ml_project, run_gitprov
from tests.test_approvals import keypair
from tests.test_commit_lineage import own

TRAIN = """\
import json, pathlib
data = "".join(p.read_text() for p in sorted(pathlib.Path("data").glob("*.csv")))
pathlib.Path("model.pt").write_text("weights of " + data)
pathlib.Path("metrics.json").write_text(json.dumps(
    {"acc": 0.91, "acc_ci_low": 0.88, "acc_ci_high": 0.94}))
"""
PROSE = "Written by the team."
LIMITS = "## Bias, Risks, and Limitations\n\n"


@pytest.fixture
def repo(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    """A trained checkpoint with a card, not yet filled in or marked for release."""
    repo = ml_project(committed_repo, gitprov, TRAIN)
    result = run_gitprov(
        repo,
        *("run", "-i", "data", "-o", "model.pt", "-p", "lr=1e-3", "--metrics", "metrics.json"),
        *("--", sys.executable, "train.py"),
    )
    assert result.exit_code == 0, result.stderr
    assert gitprov("card", "new", "model.pt", "--license", "apache-2.0").exit_code == 0
    _edit_toml(repo / "data.gitprov", lambda doc: doc["meta"].__setitem__("license", "CC-BY-4.0"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "card draft")
    return repo


def _edit_toml(path: Path, edit: Callable[[tomlkit.TOMLDocument], None]) -> None:
    doc = tomlkit.parse(path.read_text())
    edit(doc)
    path.write_text(tomlkit.dumps(doc))


def mark_release(repo: Path) -> None:
    _edit_toml(repo / "model.pt.gitprov", lambda doc: doc.__setitem__("stage", "release"))


def fill_card(repo: Path, *, keep: str | None = None) -> None:
    """Replace every placeholder of the card (but those in section ``keep``); give each
    metric its sample size; name the evaluation task and dataset."""
    path = repo / "model.card.md"
    front, body = cards.parse(path.read_text(), source="model.card.md")
    result = front["model-index"][0]["results"][0]
    result["task"] = {"type": "image-classification"}
    result["dataset"] = {"type": "csv", "name": "held-out rows"}
    for metric in result["metrics"]:
        metric["args"]["n"] = 500
    lines, section = [], ""
    for line in body.split("\n"):
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        filled = section != keep
        lines.append(line.replace(cards.PLACEHOLDER, PROSE) if filled else line)
    path.write_text(cards.join(front, "\n".join(lines)))


def commit(repo: Path, *extra: str, add: bool = True) -> subprocess.CompletedProcess[str]:
    if add:
        git(repo, "add", "-A")
    return subprocess.run(
        ["git", "commit", "-q", "-m", "release candidate", *extra],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def check_json(repo: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = run_gitprov(repo, "check", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def statuses(report: dict[str, object]) -> dict[str, str]:
    results = report["results"]
    assert isinstance(results, list)
    return {r["check"]: r["status"] for r in results}


def test_an_incomplete_release_is_blocked_with_the_failure_and_its_fix(repo: Path) -> None:
    fill_card(repo, keep="Bias, Risks, and Limitations")
    mark_release(repo)
    head = git(repo, "rev-parse", "HEAD")
    proc = commit(repo)
    assert proc.returncode != 0
    assert git(repo, "rev-parse", "HEAD") == head  # nothing was committed
    assert "model.pt (sha256:" in proc.stderr
    assert "FAIL   limitations: model.card.md: 'Bias, Risks, and Limitations'" in proc.stderr
    assert "fix: Fill the card's 'Bias, Risks, and Limitations' section" in proc.stderr
    assert "card-complete" in proc.stderr  # the placeholder left is also named, with its line
    assert "the commit was blocked by the release checklist" in proc.stderr
    assert "intended-use" not in proc.stderr  # only failures are listed


def test_a_complete_release_passes_and_is_recorded_passed(repo: Path) -> None:
    fill_card(repo, keep="Bias, Risks, and Limitations")
    mark_release(repo)
    assert commit(repo).returncode != 0
    fill_card(repo)
    proc = commit(repo)
    assert proc.returncode == 0, proc.stderr
    assert own(repo)["checklist"] == "passed"
    code, reports = check_json(repo)
    assert code == 0
    assert [r["checkpoint"] for r in reports] == ["model.pt"]
    assert reports[0]["passed"] is True
    found = statuses(reports[0])
    assert found["license-compatible"] == "pass"
    assert found["approvals"] == "skip"  # no role required by the default checklist
    assert found["artifact-on-remote"] == "fail"  # a warning: no remote store configured


def test_no_verify_skips_the_checklist_and_is_recorded_skipped(repo: Path) -> None:
    mark_release(repo)
    proc = commit(repo, "--no-verify")
    assert proc.returncode == 0, proc.stderr
    assert own(repo)["checklist"] == "skipped"
    code, reports = check_json(repo, "--range", "HEAD~1..HEAD")  # what CI would run
    assert code == ExitCode.FAILED
    assert reports[0]["at"] == git(repo, "rev-parse", "HEAD").strip()
    assert statuses(reports[0])["card-complete"] == "fail"


def test_commits_that_touch_no_release_pass_without_loading_the_checklist(repo: Path) -> None:
    mark_release(repo)
    assert commit(repo, "--no-verify").returncode == 0
    gen(repo, {"notes.txt": "unrelated\n"})
    proc = commit(repo)
    assert proc.returncode == 0, proc.stderr  # the release is incomplete, but untouched
    probe = (
        "import sys; from gitprov.services import release_gate; "
        "print(release_gate.check([('M', 'notes.txt'), ('A', 'src/x.py')]), "
        "'gitprov.services.checklist' in sys.modules, 'yaml' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "(False, []) False False"


def test_a_card_edit_alone_is_checked_too(repo: Path) -> None:
    fill_card(repo)
    mark_release(repo)
    assert commit(repo).returncode == 0
    text = (repo / "model.card.md").read_text()
    (repo / "model.card.md").write_text(text.replace(f"{LIMITS}{PROSE}", f"{LIMITS}"))
    proc = commit(repo)
    assert proc.returncode != 0
    assert "limitations" in proc.stderr


def test_check_names_checkpoints_of_any_stage_and_reports_every_check(repo: Path) -> None:
    result = run_gitprov(repo, "check", "model.pt")
    assert result.exit_code == ExitCode.FAILED
    assert result.stdout.startswith("model.pt (sha256:")
    assert "release checklist FAILED" in result.stdout
    for check in ("card-present", "lineage-consistent", "datasets-pinned", "no-secrets"):
        assert f" {check}: " in result.stdout
    assert "PASS   datasets-pinned: data (sha256:" in result.stdout
    assert "WARN   artifact-on-remote" in result.stdout


def test_nothing_marked_for_release_is_said(repo: Path) -> None:
    result = run_gitprov(repo, "check")
    assert result.exit_code == 0
    assert 'no checkpoint is marked stage = "release"' in result.stderr


def test_check_refuses_two_selections(repo: Path) -> None:
    result = run_gitprov(repo, "check", "model.pt", "--staged")
    assert result.exit_code == ExitCode.USAGE
    assert "give only one" in result.stderr


def test_lineage_disagreement_is_caught(repo: Path) -> None:
    fill_card(repo)
    path = repo / "model.card.md"
    path.write_text(path.read_text().replace("- data\n", "- other-data\n", 1))
    code, reports = check_json(repo, "model.pt")
    assert statuses(reports[0])["lineage-consistent"] == "fail"
    assert code == ExitCode.FAILED


def test_a_metric_without_an_interval_fails_evaluation(repo: Path) -> None:
    fill_card(repo)
    path = repo / "model.card.md"
    front, body = cards.parse(path.read_text(), source="card")
    del front["model-index"][0]["results"][0]["metrics"][0]["args"]["ci_low"]
    path.write_text(cards.join(front, body))
    _, reports = check_json(repo, "model.pt")
    results = {r["check"]: r for r in reports[0]["results"]}  # type: ignore[union-attr]
    assert results["evaluation"]["status"] == "fail"
    assert "acc: no confidence interval" in results["evaluation"]["detail"]


def test_custom_checks_run_a_command_and_report_its_last_line(repo: Path) -> None:
    fill_card(repo)
    checklist = repo / ".gitprov/checklist.toml"
    checklist.write_text(
        checklist.read_text()
        + "\n[[custom]]\nid = 'size-limit'\ntitle = 'Small enough to ship'\n"
        + f"run = ['{sys.executable}', '-c', "
        + '\'import os,sys; print("checking", sys.argv[1]); print("too big:", '
        + "os.environ[\"GITPROV_DIGEST\"][:13]); sys.exit(3)', '{checkpoint}']\n"
        + "fix = 'Quantise the model'\n"
    )
    _, reports = check_json(repo, "model.pt")
    results = {r["check"]: r for r in reports[0]["results"]}  # type: ignore[union-attr]
    assert results["size-limit"]["status"] == "fail"
    assert results["size-limit"]["detail"] == "exit 3: too big: sha256:" + _digest(repo)[7:13]
    assert results["size-limit"]["fix"] == "Quantise the model"


def _digest(repo: Path) -> str:
    return str(tomlkit.parse((repo / "model.pt.gitprov").read_text())["digest"])


def test_a_broken_checklist_file_blocks_with_its_line(repo: Path) -> None:
    fill_card(repo)
    mark_release(repo)
    (repo / ".gitprov/checklist.toml").write_text("[checks]\nlimitations = 'maybe'\n")
    proc = commit(repo)
    assert proc.returncode != 0
    assert "'checks.limitations' must be 'error', 'warning' or 'off'" in proc.stderr


def test_severity_off_and_warning_are_honoured(repo: Path) -> None:
    fill_card(repo, keep="Bias, Risks, and Limitations")
    (repo / ".gitprov/checklist.toml").write_text(
        "[checks]\nlimitations = 'warning'\ncard-complete = 'off'\n"
    )
    code, reports = check_json(repo, "model.pt")
    found = statuses(reports[0])
    assert "card-complete" not in found
    assert found["limitations"] == "fail"
    assert code == 0
    assert reports[0]["passed"] is True


def test_the_gate_constants_match_the_models() -> None:
    assert release_gate.POINTER_SUFFIX == pointers.SUFFIX
    assert release_gate.CARD_SUFFIX == cards.SUFFIX


def test_a_license_conflict_fails_until_a_waiver_accepts_it(repo: Path) -> None:
    fill_card(repo)
    _edit_toml(
        repo / "data.gitprov", lambda doc: doc["meta"].__setitem__("license", "CC-BY-NC-4.0")
    )
    code, reports = check_json(repo, "model.pt")
    results = {r["check"]: r for r in reports[0]["results"]}  # type: ignore[union-attr]
    assert code == ExitCode.FAILED
    assert results["license-compatible"]["status"] == "fail"
    assert "CC-BY-NC-4.0" in results["license-compatible"]["detail"]
    checklist = repo / ".gitprov/checklist.toml"
    checklist.write_text(
        checklist.read_text()
        + "\n[[waivers]]\ncheck = 'license-compatible'\nsubject = 'data'\n"
        + "reason = 'Non-commercial research release (LEGAL-42)'\n"
        + "approved_by = 'Ada Lovelace <ada@example.com>'\n"
    )
    code, reports = check_json(repo, "model.pt")
    results = {r["check"]: r for r in reports[0]["results"]}  # type: ignore[union-attr]
    assert results["license-compatible"]["status"] == "waived"
    assert "LEGAL-42" in results["license-compatible"]["detail"]
    assert code == 0


def test_secrets_planted_in_the_card_and_the_run_record_are_caught(repo: Path) -> None:
    fill_card(repo)
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    card = repo / "model.card.md"
    card.write_text(card.read_text().replace(PROSE, f"Pull with token {token}", 1))
    (record,) = (repo / ".gitprov/runs").glob("*.json")
    data = json.loads(record.read_text())
    data["params"]["aws_key"] = "AKIAIOSFODNN7EXAMPLE"
    record.write_text(json.dumps(data))
    result = run_gitprov(repo, "check", "model.pt")
    assert result.exit_code == ExitCode.FAILED
    line = next(ln for ln in result.stdout.splitlines() if "no-secrets" in ln)
    assert "model.card.md" in line
    assert record.name in line
    assert token not in result.stdout + result.stderr
    assert "AKIAIOSFODNN7EXAMPLE" not in result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")
def test_required_roles_need_a_valid_signed_approval(repo: Path, tmp_path: Path) -> None:
    fill_card(repo)
    key, public = keypair(tmp_path, "me")
    gen(
        repo,
        {
            ".gitprov/owners.toml": '[roles]\nreviewer = ["test@example.com"]\n',
            ".gitprov/allowed_signers": f"test@example.com {public}\n",
        },
    )
    checklist = repo / ".gitprov/checklist.toml"
    checklist.write_text(checklist.read_text().replace("required = []", 'required = ["reviewer"]'))
    git(repo, "add", ".gitprov")
    git(repo, "commit", "-q", "-m", "reviewers, their keys, and a required approval")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    _, reports = check_json(repo, "model.pt")
    assert statuses(reports[0])["approvals"] == "fail"
    assert run_gitprov(repo, "approve", "model.pt", "--role", "reviewer").exit_code == 0
    code, reports = check_json(repo, "model.pt")
    assert statuses(reports[0])["approvals"] == "pass"
    assert code == 0


def test_an_unstaged_edit_of_the_checklist_does_not_loosen_the_gate(repo: Path) -> None:
    mark_release(repo)
    git(repo, "add", "-A")
    checklist = repo / ".gitprov/checklist.toml"
    checklist.write_text(
        "[checks]\n" + "".join(f"{c} = 'off'\n" for c in checklist_model.BUILTIN_IDS)
    )
    proc = commit(repo, add=False)
    assert proc.returncode != 0  # the staged (committed) policy still applies
    assert "card-complete" in proc.stderr


def test_deleting_a_release_card_is_blocked(repo: Path) -> None:
    fill_card(repo)
    mark_release(repo)
    assert commit(repo).returncode == 0
    git(repo, "rm", "-q", "model.card.md")
    proc = commit(repo, add=False)
    assert proc.returncode != 0
    assert "card-present" in proc.stderr


def test_a_card_of_a_checkpoint_not_for_release_does_not_load_the_checklist(repo: Path) -> None:
    (repo / "model.card.md").write_text((repo / "model.card.md").read_text() + "\nmore\n")
    git(repo, "add", "model.card.md")
    probe = (
        "import sys; from gitprov.services import release_gate; "
        "print(release_gate.check(release_gate.staged_changes()), "
        "'gitprov.services.checklist' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "(False, []) False"


def test_custom_commands_may_use_braces_and_ranges_may_use_three_dots(repo: Path) -> None:
    fill_card(repo)
    checklist = repo / ".gitprov/checklist.toml"
    checklist.write_text(
        checklist.read_text()
        + "\n[[custom]]\nid = 'awk'\n"
        + "run = ['sh', '-c', 'echo {checkpoint} | awk \"{print $1}\"']\n"
    )
    _, reports = check_json(repo, "model.pt")
    results = {r["check"]: r for r in reports[0]["results"]}  # type: ignore[union-attr]
    assert results["awk"]["status"] == "pass"
    mark_release(repo)
    assert commit(repo, "--no-verify").returncode == 0
    code, reports = check_json(repo, "--range", "HEAD~1...HEAD")
    assert [r["checkpoint"] for r in reports] == ["model.pt"]
    assert code == 0  # the card was complete when it was committed


def test_a_card_without_metrics_is_evaluated_by_its_eval_records(
    repo: Path, tmp_path: Path
) -> None:
    fill_card(repo)
    path = repo / "model.card.md"
    front, body = cards.parse(path.read_text(), source="card")
    front["model-index"][0]["results"][0]["metrics"] = []
    path.write_text(cards.join(front, body))
    _, reports = check_json(repo, "model.pt")
    assert statuses(reports[0])["evaluation"] == "fail"  # no metric anywhere

    (record,) = (repo / ".gitprov/runs").glob("*.json")
    env = json.loads(record.read_text())["env"]
    metrics = tmp_path / "eval.json"
    metrics.write_text(
        json.dumps({"accuracy": {"value": 0.9, "ci_low": 0.88, "ci_high": 0.92, "n": 1000}})
    )
    recorded = run_gitprov(
        repo, "eval", "record", "model.pt", "--dataset", "data", "--metrics", str(metrics),
        "--env", env,
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.stderr
    _, reports = check_json(repo, "model.pt")
    results = {r["check"]: r for r in reports[0]["results"]}  # type: ignore[union-attr]
    assert results["evaluation"]["status"] == "pass", results["evaluation"]
