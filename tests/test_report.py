"""``gitprov report``: a static site made from a scripted history, checked as files.

The history is scripted once per module with the real CLI (subprocesses, an isolated git
identity): a dataset, a training run, a decision, a fine-tuning run that references it,
a model card, two evaluated versions of the fine-tuned checkpoint, a signed approval
when ssh-keygen is there, and a deprecation. The browser tests (test_report_browser.py)
open the same kind of site in Chromium.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gitprov.cli.main import app
from gitprov.model import report_charts, report_layout
from gitprov.model.lineage_graph import ArtifactNode, Edge, LineageGraph, RunNode
from gitprov.services import report_graph
from tests.conftest import Result

TRAIN = """\
import json, pathlib, sys
lr = float(sys.argv[1])
rows = [l for f in sorted(pathlib.Path("data").glob("*.csv")) for l in f.read_text().split()]
pathlib.Path("models").mkdir(exist_ok=True)
pathlib.Path(sys.argv[2]).write_text(json.dumps({"lr": lr, "rows": len(rows)}))
pathlib.Path("metrics.json").write_text(json.dumps({"loss": 1 / (1 + lr)}))
"""
SCORES = "\n".join(json.dumps({"id": str(i), "correct": int(i % 4 != 0)}) for i in range(40))
SCORES_V2 = "\n".join(json.dumps({"id": str(i), "correct": int(i % 8 != 0)}) for i in range(40))


def isolated_env(home: Path) -> dict[str, str]:
    """A private git identity and config for subprocesses (module fixtures cannot use
    the autouse monkeypatching of conftest)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / ".gitconfig"
    config.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    return {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"}


class Script:
    """Runs git and gitprov in ``repo`` with ``env``; any failure fails the test."""

    def __init__(self, repo: Path, env: Mapping[str, str]) -> None:
        self.repo, self.env = repo, dict(env)

    def git(self, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args],
            cwd=self.repo,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **self.env},
        )
        assert proc.returncode == 0, f"git {args}: {proc.stderr}"
        return proc.stdout

    def gitprov(self, *args: str, ok: bool = True) -> Result:
        """In-process (CliRunner) in ``repo``: a subprocess per call would cost seconds."""
        before = Path.cwd()
        os.chdir(self.repo)
        try:
            run = CliRunner().invoke(app, list(args), env=self.env, catch_exceptions=False)
        finally:
            os.chdir(before)
        result = Result(run.exit_code, run.stdout, run.stderr)
        if ok:
            assert result.exit_code == 0, f"gitprov {args}: {result.stdout}{result.stderr}"
        return result

    def write(self, files: Mapping[str, str]) -> None:
        for name, text in files.items():
            (self.repo / name).parent.mkdir(parents=True, exist_ok=True)
            (self.repo / name).write_text(text)


def scripted_history(root: Path) -> Script:
    """The history every report test reads (see the module docstring)."""
    repo = root / "project"
    repo.mkdir(parents=True)
    s = Script(repo, isolated_env(root / "home"))
    s.git("init", "-q")
    s.write({"README.md": "demo\n"})
    s.git("add", "README.md")
    s.git("commit", "-q", "-m", "initial")
    s.gitprov("init")
    s.write({"train.py": TRAIN, "data/a.csv": "1,2\n3,4\n", "data/b.csv": "5,6\n"})
    ignore = repo / ".gitignore"
    ignore.write_text(ignore.read_text() + "metrics.json\nscores.jsonl\n")
    s.git("add", ".gitignore", ".gitprov", "train.py")
    s.git("commit", "-q", "-m", "project")
    s.gitprov("track", "data")
    s.git("commit", "-q", "-m", "Track the data")
    python = sys.executable
    s.gitprov(
        *("run", "-i", "data", "-o", "models/base.pt", "-p", "lr=0.1", "--seed", "7"),
        *("--metrics", "metrics.json", "-m", "Train the base model"),
        *("--", python, "train.py", "0.1", "models/base.pt"),
    )
    s.gitprov("decision", "new", "Fine-tune with a larger rate", "--no-edit")
    decision = next((repo / "decisions").iterdir()).name[:6]
    s.gitprov("decision", "accept", decision)
    s.git("add", "decisions")
    s.git("commit", "-q", "-m", f"Decision {decision}")
    for lr in ("0.5", "0.9"):
        s.gitprov(
            *("run", "-i", "models/base.pt", "-i", "data", "-o", "models/tuned.pt"),
            *("-p", f"lr={lr}", "--metrics", "metrics.json"),
            *("-m", f"Fine-tune at {lr}\n\nDecision: {decision}"),
            *("--", python, "train.py", lr, "models/tuned.pt"),
        )
        if lr == "0.5":
            s.gitprov("card", "new", "models/tuned.pt", "--license", "apache-2.0")
            s.git("add", "models")
            s.git("commit", "-q", "-m", "Model card")
        s.write({"scores.jsonl": SCORES if lr == "0.5" else SCORES_V2})
        s.gitprov(
            *("eval", "record", "models/tuned.pt", "--dataset", "data", "--split", "test"),
            *("--scores", "scores.jsonl"),
        )
    if shutil.which("ssh-keygen"):
        key = root / "reviewer-key"
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "r", "-f", str(key)],
            check=True,
        )
        public = " ".join(key.with_suffix(".pub").read_text().split()[:2])
        s.write(
            {
                ".gitprov/owners.toml": '[roles]\nreviewer = ["Test User <test@example.com>"]\n',
                ".gitprov/allowed_signers": f'test@example.com namespaces="gitprov" {public}\n',
            }
        )
        s.git("add", ".gitprov")
        s.git("commit", "-q", "-m", "Reviewers")
        s.git("config", "gpg.format", "ssh")
        s.git("config", "user.signingkey", str(key))
        s.gitprov("approve", "models/tuned.pt", "--role", "reviewer", "--comment", "Looks right")
    s.gitprov("deprecate", "models/base.pt", "--reason", "Superseded by the fine-tuned model")
    return s


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Script, Path]:
    root = tmp_path_factory.mktemp("report")
    script = scripted_history(root)
    out = root / "site"
    result = script.gitprov("report", "--out", str(out), "--json")
    assert json.loads(result.stdout)["runs"] == 3
    return script, out


def test_the_site_has_an_overview_lineage_and_a_page_per_checkpoint_decision_and_run(
    site: tuple[Script, Path],
) -> None:
    _, out = site
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert {
        "index.html",
        "lineage.html",
        "decisions.html",
        "checkpoints/models-base.pt.html",
        "checkpoints/models-tuned.pt.html",
    } <= set(pages)
    assert sum(p.startswith("runs/") for p in pages) == 3
    assert sum(p.startswith("decisions/") for p in pages) == 1


def test_the_overview_shows_runs_people_artifacts_and_deprecations(
    site: tuple[Script, Path],
) -> None:
    _, out = site
    html = (out / "index.html").read_text()
    assert "<strong>3</strong><span>runs</span>" in html
    assert "<strong>100%</strong><span>succeeded</span>" in html
    assert 'aria-label="Runs per day: 3 runs on 1 days"' in html
    assert "Test User &lt;test@example.com&gt;" in html
    assert "models/tuned.pt" in html
    assert "Superseded by the fine-tuned model" in html
    for tracked in ("data", "models/base.pt", "models/tuned.pt"):
        assert f">{tracked}<" in html
    # Two fine-tuned versions; naming the card changed the pointer, not the version.
    row = re.search(r">models/tuned.pt</a></td><td>checkpoint</td>.*?</tr>", html)
    assert row is not None
    assert row.group(0).endswith("<td>2</td></tr>")


def test_a_checkpoint_page_has_its_card_evaluations_across_versions_and_lineage(
    site: tuple[Script, Path],
) -> None:
    _, out = site
    html = (out / "checkpoints/models-tuned.pt.html").read_text()
    assert '<div class="card" id="card"><h1>Model Card for tuned</h1>' in html
    assert "<!--" not in html.split('id="card"')[1].split("</div>")[0]
    chart = re.search(r'<svg class="chart eval-chart"[^>]*aria-label="([^"]+)"', html)
    assert chart is not None
    assert chart.group(1) == (
        "correct on data (test) across 2 evaluations, with confidence intervals"
    )
    assert html.count('<g class="point">') == 2
    assert "wilson" in html.lower()
    if shutil.which("ssh-keygen"):
        assert '<span class="badge good">valid</span>' in html
    assert 'data-id="run:' not in html  # runs are drawn by their id, as the graph names them


def test_a_run_page_has_its_command_params_seeds_and_digests(site: tuple[Script, Path]) -> None:
    _, out = site
    pages = [p.read_text() for p in (out / "runs").iterdir()]
    (base,) = [p for p in pages if "lr=0.1" in p]
    assert "<dt>seeds</dt><dd>7</dd>" in base
    assert "train.py 0.1 models/base.pt" in base
    assert re.search(r"<td>output</td><td>models/base.pt</td><td>checkpoint</td>", base)
    assert "loss" in base  # its metrics file


def test_a_decision_page_has_its_links_chain_and_outcome_section(
    site: tuple[Script, Path],
) -> None:
    _, out = site
    (page,) = (out / "decisions").iterdir()
    html = page.read_text()
    assert "Fine-tune with a larger rate" in html
    assert "<dt>status</dt><dd>accepted</dd>" in html
    assert "Supersede chain" in html
    assert "Planned vs. actual" in html


def test_pages_fetch_nothing_from_a_network(site: tuple[Script, Path]) -> None:
    _, out = site
    for page in out.rglob("*.html"):
        html = page.read_text()
        assert "default-src 'none'" in html
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), page
        assert "<link" not in html


def test_the_lineage_page_embeds_a_record_for_every_node(site: tuple[Script, Path]) -> None:
    _, out = site
    html = (out / "lineage.html").read_text()
    data = json.loads(html.split('id="report-data">')[1].split("</script>")[0])
    node = r'class="node [^"]*" tabindex="0" role="button" data-id="([^"]+)"'
    drawn = set(re.findall(node, html))
    assert drawn == set(data["records"])
    kinds = re.findall(r'class="node (\w+)', html)
    assert sorted(set(kinds)) == ["checkpoint", "dataset", "run"]
    assert kinds.count("run") == 3


def test_a_second_report_overwrites_the_first_but_not_a_foreign_folder(
    site: tuple[Script, Path], tmp_path: Path
) -> None:
    script, out = site
    again = script.gitprov("report", "--out", str(out))
    assert again.exit_code == 0
    assert f"Open {out / 'index.html'}" in again.stdout
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    refused = script.gitprov("report", "--out", str(foreign), ok=False)
    assert refused.exit_code == 1
    assert "is not empty and holds no gitprov report" in refused.stderr
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_a_range_limits_the_runs_shown(site: tuple[Script, Path], tmp_path: Path) -> None:
    script, _ = site
    result = script.gitprov("report", "HEAD~3..HEAD", "--out", str(tmp_path / "r"), "--json")
    shown = json.loads(result.stdout)
    assert shown["runs"] < 3


def test_a_bad_range_is_a_usage_error(site: tuple[Script, Path], tmp_path: Path) -> None:
    script, _ = site
    result = script.gitprov("report", "nope..HEAD", "--out", str(tmp_path / "r"), ok=False)
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r" / "index.html").exists()


def test_a_repository_without_runs_still_gets_a_report(
    committed_repo: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    result = gitprov("report", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.stderr
    html = (tmp_path / "r" / "lineage.html").read_text()
    assert "No run or tracked artifact in this history yet." in html


def _chain(n: int) -> LineageGraph:
    graph = LineageGraph(focus=f"sha256:{n:064x}")
    for i in range(n + 1):
        graph.artifacts[f"sha256:{i:064x}"] = ArtifactNode(f"sha256:{i:064x}", "checkpoint", "m")
    for i in range(n):
        rid = f"R{i:03d}"
        graph.runs[rid] = RunNode(rid, ("train",), started_at=f"2024-01-01T00:00:{i % 60:02d}Z")
        graph.edges += [Edge(rid, f"sha256:{i:064x}", "input")]
        graph.edges += [Edge(rid, f"sha256:{i + 1:064x}", "output")]
    return graph


def test_the_layout_puts_each_step_of_a_chain_one_column_further() -> None:
    placed = {p.id: p for p in report_layout.layout(_chain(3))}
    xs = [placed[f"sha256:{i:064x}"].x for i in range(4)]
    assert xs == sorted(xs)
    assert len(set(xs)) == 4
    assert placed["R000"].x == (xs[0] + xs[1]) // 2


def test_a_cycle_does_not_hang_the_layout() -> None:
    graph = _chain(1)
    graph.edges.append(Edge("R000", "sha256:" + "0" * 64, "output"))  # wrote what it read
    assert len(report_layout.layout(graph)) == 3


def test_a_large_graph_is_cut_to_the_newest_runs_and_keeps_the_focus() -> None:
    graph = _chain(500)
    cut, total = report_graph.trimmed(graph, limit=100)
    assert total == 1001
    assert len(cut.runs) + len(cut.artifacts) <= 100
    assert graph.focus in cut.artifacts
    assert all(e.run in cut.runs and e.artifact in cut.artifacts for e in cut.edges)


def test_the_runs_chart_stacks_failed_runs_on_succeeded_ones_per_day() -> None:
    runs = [("2024-01-01", True), ("2024-01-01", False), ("2024-01-02", True)]
    svg = report_charts.runs_over_time(runs)
    assert 'aria-label="Runs per day: 3 runs on 2 days"' in svg
    assert "<title>2024-01-01: 1 succeeded, 1 failed</title>" in svg
    assert "<title>2024-01-02: 1 succeeded, 0 failed</title>" in svg
    assert report_charts.runs_over_time([]).startswith('<p class="empty">')


def test_an_evaluation_without_an_interval_is_a_dot_without_a_bar() -> None:
    points = [
        report_charts.Point("aaaaaaa", 0.8, 0.7, 0.9),
        report_charts.Point("bbbbbbb", 0.85, None, None),
    ]
    svg = report_charts.intervals("accuracy", points)
    assert svg.count("<circle") == 2
    assert svg.count("<line") == 2  # the axis and one interval
    assert "<title>aaaaaaa: 0.8 [0.7, 0.9]</title>" in svg


def test_open_starts_the_users_browser_on_the_overview(
    site: tuple[Script, Path], tmp_path: Path
) -> None:
    script, _ = site
    opened = tmp_path / "opened.txt"
    # Python's webbrowser runs $BROWSER with the page's URL for %s.
    command = f"{sys.executable} -c 'import sys; open(sys.argv[1], \"w\").write(sys.argv[2])'"
    env = {**script.env, "BROWSER": f"{command} {opened} %s"}
    proc = subprocess.run(
        [sys.executable, "-m", "gitprov", "report", "--out", str(tmp_path / "r"), "--open"],
        cwd=script.repo,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for _ in range(100):  # the browser command is started, not waited for
        if opened.exists() and opened.read_text():
            break
        time.sleep(0.05)
    assert opened.read_text() == (tmp_path / "r" / "index.html").resolve().as_uri()
