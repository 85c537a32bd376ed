"""How fast the report of a long history opens in Chromium: 10,000 commits, 999 runs.

The history is written with git fast-import (seconds), the report generated with the
CLI, then the overview, the lineage graph and the checkpoint page are opened in the
same network-less headless Chromium as test_report_browser.py; each must finish
loading (the navigation's loadEventEnd) in under 2 s. The measured times are printed
(pytest -s) and recorded in docs/report.md.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from gitprov.model import pointer as pointers
from gitprov.model import runrecord
from tests.test_report import Script, isolated_env
from tests.test_report_browser import WebDriver, open_page, start_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_report_of_a_10000_commit_history_opens_in_under_2_seconds(tmp_path: Path) -> None:
    repo = long_history(tmp_path, commits=10_000, every=10)
    s = Script(repo, isolated_env(tmp_path / "home"))
    started = time.perf_counter()
    site = json.loads(s.gitprov("report", "--out", str(tmp_path / "site"), "--json").stdout)
    generated = time.perf_counter() - started
    assert site["runs"] == 999
    timings = {}
    browser: WebDriver = start_browser()
    try:
        _load(browser, tmp_path / "site", timings)
    finally:
        browser.quit()
    print(f"report of 10,000 commits: generated in {generated:.1f} s; loaded (ms): {timings}")


def _load(browser: WebDriver, site: Path, timings: dict[str, float]) -> None:
    for page in ("index.html", "lineage.html", "checkpoints/models-m.pt.html"):
        assert open_page(browser, site / page) == []
        timings[page] = browser.execute_script(
            "const t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd;"
        )
        assert timings[page] < 2000, (page, timings)


def long_history(root: Path, *, commits: int, every: int) -> Path:
    """A repository of ``commits`` commits made with git fast-import; every ``every``-th
    commits a run that fine-tunes models/m.pt from the previous version and the data."""
    repo = root / "long"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    data = "sha256:" + "d" * 64
    stream: list[bytes] = []
    previous: str | None = None

    def blob(path: str, content: bytes) -> None:
        stream.append(b"M 100644 inline " + path.encode() + b"\ndata %d\n" % len(content))
        stream.append(content + b"\n")

    for i in range(commits):
        when = 1_700_000_000 + i * 600
        stream.append(
            b"commit refs/heads/main\ncommitter Dev %d <dev%d@example.com> %d +0000\n"
            % (i % 5, i % 5, when)
        )
        message = b"step %d\n" % i
        stream.append(b"data %d\n%s" % (len(message), message))
        blob("src/step.txt", b"%d\n" % i)
        if i % every == 0 and i:
            run_id = f"01J{i:023d}"
            digest = f"sha256:{i:064x}"
            inputs = [runrecord.ArtifactRef("data", "dataset", data)]
            if previous:
                inputs.append(runrecord.ArtifactRef("models/m.pt", "checkpoint", previous))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
            record = runrecord.RunRecord(
                id=run_id,
                argv=("python", "train.py", "--step", str(i)),
                cwd=".",
                started_at=stamp,
                ended_at=stamp,
                exit_code=0,
                head=None,
                dirty=False,
                diff_digest=None,
                params={"step": str(i)},
                seeds=("7",),
                inputs=tuple(inputs),
                outputs=(runrecord.ArtifactRef("models/m.pt", "checkpoint", digest),),
                user=f"Dev {i % 5} <dev{i % 5}@example.com>",
            )
            blob(runrecord.record_path(run_id), runrecord.dumps(record))
            pointer = pointers.Pointer("checkpoint", "m.pt", digest, 1000, produced_by=record.ref)
            blob("models/m.pt.gitprov", pointers.render(pointer).encode())
            previous = digest
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(stream), check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    return repo
