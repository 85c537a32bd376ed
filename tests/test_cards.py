"""``gitprov card``: model cards pre-filled from real runs, kept in step, checked, rendered.

Each test makes checkpoints with real ``gitprov run`` commits, so the lineage the card is
built from is the one users get. The rendered card is read back by ``huggingface_hub``
(offline: ``ModelCard(content)`` parses, it does not fetch; ``validate()`` would).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gitprov.errors import ExitCode
from gitprov.model import card as cards
from gitprov.model import digest as digests
from tests.conftest import Result, git, ml_project, run_gitprov

TRAIN = """\
import json, pathlib, sys
data = "".join(p.read_text() for p in sorted(pathlib.Path("data").glob("*.csv")))
pathlib.Path("model.pt").write_text("weights of " + data)
pathlib.Path("metrics.json").write_text(json.dumps(
    {"acc": 0.91, "acc_ci_low": 0.88, "acc_ci_high": 0.94, "loss": 0.25}))
"""
TUNE = (
    "import json, pathlib; pathlib.Path('tuned.pt').write_text("
    "pathlib.Path('model.pt').read_text() + 'tuned'); "
    "pathlib.Path('metrics.json').write_text(json.dumps({'acc': 0.95}))"
)
PROSE = "\r\nOur own words: it works well on cats.\r\nNot on dogs.\r\n"


@pytest.fixture
def project(committed_repo: Path, gitprov: Callable[..., Result]) -> Path:
    return ml_project(committed_repo, gitprov, TRAIN)


def train(repo: Path) -> str:
    result = run_gitprov(
        repo,
        *("run", "-i", "data", "-o", "model.pt", "-p", "lr=1e-3", "-p", "epochs=3"),
        *("--metrics", "metrics.json", "--", sys.executable, "train.py"),
    )
    assert result.exit_code == 0, result.stderr
    return _last_run(repo)


def tune(repo: Path) -> str:
    result = run_gitprov(
        repo,
        *("run", "-i", "model.pt", "-o", "tuned.pt", "--metrics", "metrics.json"),
        *("--", sys.executable, "-c", TUNE),
    )
    assert result.exit_code == 0, result.stderr
    return _last_run(repo)


def _last_run(repo: Path) -> str:
    message = git(repo, "log", "-1", "--format=%B")
    (run_id,) = [line.split(": ")[1] for line in message.splitlines() if "Gitprov-Run" in line]
    return run_id


def _pointer_digest(repo: Path, name: str) -> str:
    line = next(
        ln for ln in (repo / f"{name}.gitprov").read_text().splitlines() if ln.startswith("digest")
    )
    return line.split('"')[1]


def _front(path: Path) -> dict[str, object]:
    data, _ = cards.parse(path.read_bytes().decode(), source=path.name)
    return data


def test_new_prefills_from_lineage(project: Path, gitprov: Callable[..., Result]) -> None:
    run_id = train(project)
    result = gitprov("card", "new", "model.pt", "--license", "apache-2.0")
    assert result.exit_code == 0, result.stderr
    path = project / "model.card.md"
    text = path.read_text()
    front = _front(path)
    assert list(front) == ["license", "datasets", "tags", "model-index", "gitprov"]
    assert front["license"] == "apache-2.0"
    assert front["datasets"] == ["data"]
    block = front["gitprov"]
    assert isinstance(block, dict)
    digest = _pointer_digest(project, "model.pt")
    data_digest = _pointer_digest(project, "data")
    assert block["checkpoint"] == {"path": "model.pt", "digest": digest}
    assert block["datasets"] == [
        {"path": "data", "snapshot": digests.snapshot_id(data_digest), "digest": data_digest}
    ]
    assert block["run"] == f"run:{run_id}"
    assert block["commit"] == git(project, "rev-parse", "HEAD").strip()  # the run's commit
    (entry,) = front["model-index"]  # type: ignore[misc]
    metrics = {m["name"]: m for m in entry["results"][0]["metrics"]}
    assert metrics["acc"]["value"] == 0.91
    assert metrics["acc"]["args"] == {"ci_low": 0.88, "ci_high": 0.94}
    assert metrics["loss"]["args"]["ci_low"] == cards.PLACEHOLDER  # a TODO for the checklist
    assert "acc_ci_low" not in metrics
    assert "- lr: `1e-3`" in text
    assert "- epochs: `3`" in text
    assert digests.snapshot_id(data_digest) in text
    # The pointer now names its card, and is staged.
    assert 'card = "model.card.md"' in (project / "model.pt.gitprov").read_text()
    assert "model.pt.gitprov" in git(project, "diff", "--cached", "--name-only")


def test_new_names_the_parent_checkpoint_as_base_model(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    train(project)
    tune(project)
    assert gitprov("card", "new", "tuned.pt").exit_code == 0
    front = _front(project / "tuned.card.md")
    assert front["base_model"] == "model.pt"
    assert front["license"] == cards.PLACEHOLDER
    block = front["gitprov"]
    assert isinstance(block, dict)
    assert block["base_model"] == {
        "path": "model.pt",
        "digest": _pointer_digest(project, "model.pt"),
    }


def test_sync_keeps_prose_byte_identical_and_updates_the_digest(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    train(project)
    assert gitprov("card", "new", "model.pt").exit_code == 0
    path = project / "model.card.md"
    front, _ = cards.split(path.read_text(), source="t")
    # The author's prose, with CRLF line ends, and an extra key of their own.
    path.write_bytes(
        (
            "---\r\n" + front.replace("\n", "\r\n") + "pipeline_tag: image-classification\r\n---"
        ).encode()
        + PROSE.encode()
    )
    git(project, "add", "model.card.md")
    git(project, "commit", "-q", "-m", "card")
    (project / "data" / "b.csv").write_text("3,4\n")
    new_run = train(project)  # retrained on more data: a new digest
    assert gitprov("card", "validate", "model.pt").exit_code == 1
    result = gitprov("card", "sync", "model.pt")
    assert result.exit_code == 0, result.stderr
    raw = path.read_bytes()
    assert raw.endswith(b"---" + PROSE.encode())
    data = _front(path)
    block = data["gitprov"]
    assert isinstance(block, dict)
    assert block["checkpoint"]["digest"] == _pointer_digest(project, "model.pt")
    assert block["run"] == f"run:{new_run}"
    assert data["pipeline_tag"] == "image-classification"
    assert b"\r\npipeline_tag: image-classification\r\n" in raw
    assert gitprov("card", "validate", "model.pt").exit_code == 0
    assert gitprov("card", "sync", "model.pt").stdout.startswith("up to date")


def test_validate_catches_a_mismatched_digest_and_a_missing_key(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    train(project)
    assert gitprov("card", "new", "model.pt").exit_code == 0
    ok = gitprov("card", "validate", "model.pt", "--json")
    assert ok.exit_code == 0
    report = json.loads(ok.stdout)
    assert report["ok"] is True
    assert {"line", "section"} <= set(report["placeholders"][0])
    assert any(p["section"] == "Out-of-Scope Use" for p in report["placeholders"])
    path = project / "model.card.md"
    data, body = cards.parse(path.read_text(), source="t")
    del data["license"]
    data["gitprov"]["checkpoint"]["digest"] = "sha256:" + "0" * 64
    path.write_text(cards.join(data, body))
    result = gitprov("card", "validate", "model.pt")
    assert result.exit_code == ExitCode.FAILED
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert "'license' is missing" in errors[0]
    assert "gitprov.checkpoint.digest" in errors[1]
    assert "gitprov card sync model.pt" in errors[1]
    # A stale card is not rendered for the Hub.
    rendered = gitprov("card", "render", "model.pt")
    assert rendered.exit_code == ExitCode.FAILED
    assert len(rendered.stderr.splitlines()) == 1


def test_render_parses_with_huggingface_hub_offline(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    hub = pytest.importorskip("huggingface_hub")
    train(project)
    tune(project)
    assert gitprov("card", "new", "tuned.pt", "--license", "mit").exit_code == 0
    result = gitprov("card", "render", "tuned.pt")
    assert result.exit_code == 0, result.stderr
    card = hub.ModelCard(result.stdout)
    assert card.data.license == "mit"
    assert card.data.datasets == []
    assert card.data.base_model == "model.pt"
    (acc,) = card.data.eval_results
    assert (acc.metric_type, acc.metric_value) == ("acc", 0.95)
    assert acc.metric_args["ci_low"] == cards.PLACEHOLDER
    assert card.data.to_dict()["gitprov"]["checkpoint"]["path"] == "tuned.pt"
    out = tmp_path / "README.md"
    assert gitprov("card", "render", "tuned.pt", "-o", str(out)).exit_code == 0
    loaded = hub.ModelCard.load(out)
    assert loaded.data.base_model == "model.pt"
    assert yaml.safe_load(out.read_text().split("---")[1])["license"] == "mit"


def test_bad_input_is_one_line(project: Path, gitprov: Callable[..., Result]) -> None:
    train(project)
    unknown = gitprov("card", "new", "nope.pt")
    assert unknown.exit_code == ExitCode.FAILED
    assert len(unknown.stderr.splitlines()) == 1
    assert "gitprov track" in unknown.stderr
    dataset = gitprov("card", "new", "data")
    assert dataset.exit_code == ExitCode.USAGE
    assert len(dataset.stderr.splitlines()) == 1
    assert gitprov("card", "new", "model.pt").exit_code == 0
    again = gitprov("card", "new", "model.pt")
    assert again.exit_code == ExitCode.FAILED
    assert len(again.stderr.splitlines()) == 1
    assert "--force" in again.stderr
    assert gitprov("card", "new", "model.pt", "--force", "--license", "mit").exit_code == 0
    assert _front(project / "model.card.md")["license"] == "mit"
    (project / "model.card.md").write_text("no front matter\n")
    broken = gitprov("card", "sync", "model.pt")
    assert broken.exit_code == ExitCode.FAILED
    assert len(broken.stderr.splitlines()) == 1


def test_evaluation_records_become_model_index_results(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    hub = pytest.importorskip("huggingface_hub")
    train(project)
    metrics = tmp_path / "eval.json"
    metrics.write_text(
        json.dumps({"accuracy": {"value": 0.9, "ci_low": 0.88, "ci_high": 0.92, "n": 1000}})
    )
    recorded = gitprov(
        "eval",
        "record",
        "model.pt",
        "--dataset",
        "data",
        "--split",
        "test",
        "--metrics",
        str(metrics),
    )
    assert recorded.exit_code == 0, recorded.stderr
    assert gitprov("card", "new", "model.pt", "--license", "mit").exit_code == 0
    card = hub.ModelCard((project / "model.card.md").read_text())
    held_out = [r for r in card.data.eval_results if r.dataset_split == "test"]
    assert [(r.metric_type, r.metric_value) for r in held_out] == [("accuracy", 0.9)]
    args = held_out[0].metric_args
    assert (args["ci_low"], args["ci_high"], args["n"]) == (0.88, 0.92, 1000)
    assert args["evaluation"].startswith("eval:")
    assert held_out[0].dataset_revision.startswith("ds:")
    assert {r.metric_type for r in card.data.eval_results} >= {"acc", "loss", "accuracy"}


def test_a_later_evaluation_of_another_metric_keeps_the_earlier_one(
    project: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    train(project)
    for name, value in (("accuracy", 0.9), ("f1", 0.8)):
        metrics = tmp_path / f"{name}.json"
        metrics.write_text(json.dumps({name: {"value": value, "ci_low": 0.7, "ci_high": 0.95}}))
        recorded = gitprov(
            "eval",
            "record",
            "model.pt",
            "--dataset",
            "data",
            "--split",
            "val",
            "--metrics",
            str(metrics),
        )
        assert recorded.exit_code == 0, recorded.stderr
    assert gitprov("card", "new", "model.pt").exit_code == 0
    results = _front(project / "model.card.md")["model-index"][0]["results"]  # type: ignore[index]
    (val,) = [r for r in results if r["dataset"].get("split") == "val"]
    assert sorted(m["name"] for m in val["metrics"]) == ["accuracy", "f1"]
