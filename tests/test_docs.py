"""Docs that cannot go stale: the CLI reference, the quickstart, links, and the demo."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

REGENERATE = "typer gitprov.cli.main utils docs --name gitprov --output docs/cli.md"


def test_cli_reference_is_current(tmp_path: Path) -> None:
    typer_cli = Path(sys.executable).with_name("typer")
    out = tmp_path / "cli.md"
    subprocess.run(
        [
            str(typer_cli),
            "gitprov.cli.main",
            "utils",
            "docs",
            "--name",
            "gitprov",
            "--output",
            str(out),
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    current = (REPO_ROOT / "docs" / "cli.md").read_text()
    assert out.read_text() == current, f"docs/cli.md is out of date: run '{REGENERATE}'"


def test_readme_quickstart_has_exactly_two_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", quickstart, flags=re.DOTALL)
    commands = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    commands = [command for command in commands if command]
    assert commands == ["./scripts/demo.sh", "./scripts/test.sh"]
    for command in commands:
        assert os.access(REPO_ROOT / command, os.X_OK), command
    assert "./scripts/test.sh" in (REPO_ROOT / ".ci" / "run").read_text()


def test_relative_links_in_docs_resolve() -> None:
    pages = [REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md")]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO_ROOT)} -> {target}")
    assert broken == []


@pytest.mark.slow
def test_the_demo_runs_end_to_end() -> None:
    """The README's first command, as a newcomer runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(
        [str(REPO_ROOT / "scripts" / "demo.sh")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "hooks that ran: pre-commit" in out
    assert "team hook: a staged file says DO NOT COMMIT" in proc.stderr
    assert "Fixed:" in out
    assert "restored the previous hook" in out
    assert "ds:" in out  # the dataset snapshot ID
    assert "changed: train/shard-007.csv" in out
    assert "verified" in out
    assert "release checklist FAILED" in proc.stderr  # the hook blocked the release
    assert "FAIL   limitations: models/tuned.card.md" in out  # 'gitprov check' says why
    assert "release checklist passed" in out
    assert '"checklist":"passed"' in out  # the release commit's lineage record
    assert "evaluation: " in out
    assert "<!-- gitprov-review -->" in out  # the review of the demo's own history
    assert "/report/index.html" in out
    if shutil.which("ssh-keygen"):  # the release steps need a signing key
        assert "FAIL   approvals: missing a valid approval from: reviewer" in proc.stderr
        assert "released models/tuned.pt 1.0.0" in out
        assert "valid          tuned-v1.0.0" in out
        assert "refusing to push release tag tuned-v9.9.9" in proc.stderr
