"""The review's pure parts: the significance rule, Markdown escaping, truncation by
priority, and the capped Mermaid diagram, on hand-made reports and graphs."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from gitprov.cli import review_cmds
from gitprov.model import review_format
from gitprov.model import review_markdown as md
from gitprov.model.eval_record import EvalRecord
from gitprov.model.eval_stats import Estimate
from gitprov.model.lineage_graph import ArtifactNode, Edge, LineageGraph, RunNode
from gitprov.model.review_report import (
    ArtifactChange,
    CardDiff,
    CommitWithoutLineage,
    FieldChange,
    Interval,
    LineageDiagram,
    MetricDelta,
    ReviewReport,
    SectionChange,
    significance,
)
from gitprov.services.review import render_diagram, split_range
from gitprov.services.review_cards import card_diff, dataset_label, metric_rows, sections
from gitprov.services.review_metrics import Value, from_evals, is_sample_size
from tests.test_review import _tables, mermaid_is_sane


@pytest.mark.parametrize(
    ("base", "head", "base_ci", "head_ci", "expected"),
    [
        (0.80, 0.86, Interval(0.78, 0.82), Interval(0.83, 0.89), "significant"),
        (0.86, 0.80, Interval(0.83, 0.89), Interval(0.78, 0.82), "significant"),  # down too
        (0.70, 0.72, Interval(0.65, 0.75), Interval(0.66, 0.78), "not significant"),
        (0.80, 0.84, Interval(0.78, 0.82), Interval(0.82, 0.86), "not significant"),  # touch
        (0.80, 0.95, Interval(0.79, 0.81), Interval(0.0, 1.0), "not significant"),  # inside
        (0.5, 0.4, None, Interval(0.3, 0.5), "no CI"),
        (0.5, 0.4, Interval(0.4, 0.6), None, "no CI"),
        (0.5, 0.4, None, None, "no CI"),
        (None, 0.4, None, Interval(0.3, 0.5), "n/a"),  # a new metric: nothing to compare
        (0.5, None, Interval(0.4, 0.6), None, "n/a"),
    ],
)
def test_significance_from_confidence_intervals(
    base: float | None,
    head: float | None,
    base_ci: Interval | None,
    head_ci: Interval | None,
    expected: str,
) -> None:
    assert significance(base, head, base_ci, head_ci) == expected


def test_range_sides_default_to_head() -> None:
    assert split_range("origin/main..HEAD") == ("origin/main", "HEAD")
    assert split_range("main...topic") == ("main", "topic")
    assert split_range("main..") == ("main", "HEAD")


def test_cli_default_is_the_renderers_default() -> None:
    assert review_cmds.DEFAULT_MAX_CHARS == md.DEFAULT_MAX_CHARS < 65_536


def _report(**fields: object) -> ReviewReport:
    base = {
        "base": "origin/main",
        "head": "HEAD",
        "base_commit": "a" * 40,
        "head_commit": "b" * 40,
        "merge_base": "a" * 40,
        "commits": 3,
    }
    return ReviewReport(**{**base, **fields})  # type: ignore[arg-type]


HOSTILE = "a|b *c* _d_ <e> `f` [g](h) #i \\j"


def test_user_text_cannot_break_a_table() -> None:
    report = _report(
        artifacts=(
            ArtifactChange(
                f"models/{HOSTILE}.pt", "checkpoint", "added", None, "sha256:" + "1" * 64, None, 10
            ),
        ),
        cards=(
            CardDiff(
                "m.card.md",
                "changed",
                fields=(FieldChange("license", "mit|x", "`apache`"),),
            ),
        ),
    )
    markdown = md.render(report)
    tables = _tables(markdown)
    assert len(tables) == 2
    artifacts, fields = tables
    assert len(artifacts[1]) == 5
    # The path reaches the reader intact: a code span, pipes unescaped by the parser.
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    spans = [c.content for t in tokens if t.children for c in t.children if c.type == "code_inline"]
    assert f"models/{HOSTILE}.pt" in spans
    assert "`apache`" in spans
    assert fields[1][1] == "`mit|x`"  # the cell was split at the unescaped pipes only
    assert "mit|x" in spans  # and read back whole


def test_text_is_literal() -> None:
    html = MarkdownIt("commonmark").render(review_format.text(HOSTILE))
    assert "<em>" not in html
    assert "<a " not in html
    assert "&lt;e&gt;" in html


def test_a_diff_with_backtick_fences_stays_inside_its_block() -> None:
    diff = "-```python\n+```\n+not code"
    report = _report(
        cards=(
            CardDiff("m.card.md", "changed", sections=(SectionChange("Usage", "changed", diff),)),
        )
    )
    fences = [t for t in MarkdownIt("commonmark").parse(md.render(report)) if t.type == "fence"]
    assert [f.content for f in fences] == [diff + "\n"]
    assert fences[0].info == "diff"


def _big_report() -> ReviewReport:
    digest = "sha256:" + "2" * 64
    artifacts = tuple(
        ArtifactChange(f"data/part-{i:03}", "dataset", "changed", digest, digest, 1, 2)
        for i in range(40)
    )
    prose = tuple(
        SectionChange(f"Section {i}", "changed", "\n".join(f"+line {j}" for j in range(40)))
        for i in range(10)
    )
    metrics = tuple(
        MetricDelta("m.pt", "", f"metric_{i}", 0.5, 0.6, Interval(0.4, 0.6), None, "card")
        for i in range(5)
    )
    mermaid = "flowchart LR\n" + "\n".join(f'    a{i}("x")' for i in range(200)) + "\n"
    return _report(
        artifacts=artifacts,
        cards=(CardDiff("m.card.md", "changed", sections=prose),),
        metrics=metrics,
        lineage=LineageDiagram(mermaid, 200, 0),
        without_lineage=tuple(CommitWithoutLineage(f"{i:040x}", f"commit {i}") for i in range(30)),
    )


def test_truncation_cuts_prose_first_then_the_diagram_then_tables() -> None:
    report = _big_report()
    full = md.render(report)
    assert "Shortened" not in full
    markers = {
        "```diff": "prose diffs",
        "- Section 9 (changed)": "prose section names",
        "```mermaid": "diagram",
        "data/part-039": "artifact rows",
        "metric_4": "metrics",
    }
    gone: list[str] = []
    text, limit = full, len(full)
    while (limit := min(limit, len(text)) - 1) >= md.MIN_MAX_CHARS:
        text = md.render(report, max_chars=limit)
        assert len(text) <= limit
        assert text.startswith(md.summary(report))
        assert "Run `gitprov review origin/main..HEAD` for the full report." in text
        gone += [
            name for marker, name in markers.items() if marker not in text and name not in gone
        ]
    assert gone[:4] == ["prose diffs", "prose section names", "diagram", "artifact rows"]
    # The metrics table is cut last of these: it outlives every row of the artifacts table.
    medium = md.render(report, max_chars=3000)
    assert "metric_4" in medium
    assert "data/part-039" not in medium
    assert "left out the prose diffs of 10 card sections" in md.render(
        report, max_chars=len(full) - 1
    )


def test_the_smallest_report_still_has_the_summary() -> None:
    report = _big_report()
    tiny = md.render(report, max_chars=md.MIN_MAX_CHARS)
    assert len(tiny) <= md.MIN_MAX_CHARS
    assert tiny.startswith(md.summary(report))
    assert "Shortened to fit" in tiny


def test_hard_cut_when_even_the_summary_is_too_long() -> None:
    report = _report(base="b" * 1200)
    text = md.render(report, max_chars=md.MIN_MAX_CHARS)
    assert len(text) <= md.MIN_MAX_CHARS
    assert text.endswith(f"*… cut at {md.MIN_MAX_CHARS:,} characters.*\n")
    with pytest.raises(ValueError, match="at least"):
        md.render(report, max_chars=10)


def _chain(length: int) -> tuple[LineageGraph, str]:
    """A checkpoint made from a chain of ``length`` runs, each reading the previous
    output; paths and commands carry Mermaid syntax."""
    graph = LineageGraph(focus="")
    for i in range(length + 1):
        digest = f"sha256:{i:064x}"
        graph.artifacts[digest] = ArtifactNode(digest, "checkpoint", f'stage "{i}" [x]|y.pt')
    for i in range(length):
        run = f"01J{i:023d}"
        graph.runs[run] = RunNode(run, ("python", "train.py", "--tag", f"<b>{i}</b>"))
        graph.edges += [
            Edge(run, f"sha256:{i:064x}", "input"),
            Edge(run, f"sha256:{i + 1:064x}", "output"),
        ]
    focus = f"sha256:{length:064x}"
    graph.focus = focus
    return graph, focus


def test_diagram_is_capped_with_a_more_node() -> None:
    graph, focus = _chain(20)  # 21 artifacts + 20 runs
    result = render_diagram(graph, [focus], node_cap=10)
    assert (result.nodes, result.hidden) == (10, 31)
    assert result.mermaid.rstrip().endswith('more["+31 more"]')
    mermaid_is_sane(result.mermaid)
    assert "<b>" not in result.mermaid  # escaped as entities
    # The nodes kept are the ones nearest the changed checkpoint.
    assert "stage #quot;20#quot;" in result.mermaid
    assert "stage #quot;0#quot;" not in result.mermaid


def test_diagram_under_the_cap_is_whole() -> None:
    graph, focus = _chain(2)
    result = render_diagram(graph, [focus, f"sha256:{1:064x}"], node_cap=30)
    assert (result.nodes, result.hidden) == (5, 0)
    assert "more" not in result.mermaid
    mermaid_is_sane(result.mermaid)
    assert re.search(r"class a\d focus\n    class a\d focus", result.mermaid)


def test_card_sections_are_keyed_by_heading_path() -> None:
    body = (
        "# Card\n\nintro\n\n## Uses\n\n### Direct Use\n\nx\n\n"
        "## Results\n\n```\n# not a heading\n```\n"
    )
    names = [name for name, _ in sections(body)]
    assert names == ["Card", "Uses", "Uses / Direct Use", "Results"]


def test_card_diff_names_only_changed_sections_and_fields() -> None:
    old = "---\nlicense: mit\ngitprov:\n  run: run:A\n---\n# M\n\n## A\n\nsame\n\n## B\n\nold\n"
    new = old.replace("run:A", "run:B").replace("old\n", "new\n\n## C\n\nadded\n")
    diff = card_diff("m.card.md", old, new)
    assert [(f.key, f.old, f.new) for f in diff.fields] == [("gitprov.run", "run:A", "run:B")]
    assert [(s.heading, s.change) for s in diff.sections] == [("B", "changed"), ("C", "added")]
    broken = card_diff("m.card.md", old, "no front matter\n")
    assert any(f.key == "(front matter)" for f in broken.fields)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.8, "0.8"), (0.123456, "0.1235"), (10000.0, "10,000"), (12345.67, "12,345.7"), (None, "—")],
)
def test_numbers_are_short(value: float | None, shown: str) -> None:
    assert review_format.number(value) == shown


def test_sample_sizes_in_metrics_files_are_not_metrics() -> None:
    assert is_sample_size("n")
    assert is_sample_size("eval.acc_n")
    assert not is_sample_size("acc")
    assert not is_sample_size("recall_at_n1")


def test_evaluation_records_give_the_latest_value_per_dataset_split_and_metric() -> None:
    def record(at: str, value: float, split: str = "test") -> EvalRecord:
        estimate = Estimate(value, 0.25, 0.75, 0.95, "wilson", 1000)
        return EvalRecord(
            id=at,
            at=at,
            commit="c" * 40,
            checkpoint="m.pt",
            digest="sha256:" + "1" * 64,
            dataset="data/eval",
            dataset_snapshot="sha256:" + "2" * 64,
            split=split,
            metrics={"acc": estimate},
        )

    values = from_evals([record("1", 0.80), record("2", 0.82), record("3", 0.7, split="dev")])
    assert values == {
        ("data/eval (test, ds:222222222222)", "acc"): Value(0.82, Interval(0.25, 0.75), "eval"),
        ("data/eval (dev, ds:222222222222)", "acc"): Value(0.7, Interval(0.25, 0.75), "eval"),
    }


def test_card_results_from_evaluations_meet_the_evaluation_rows() -> None:
    front = {
        "model-index": [
            {
                "name": "m",
                "results": [
                    {
                        "dataset": {"name": "[More Information Needed]", "type": "x"},
                        "metrics": [{"name": "acc", "value": 0.9}],
                    },
                    {
                        "dataset": {"name": "heldout", "split": "test", "revision": "ds:1"},
                        "metrics": [{"name": "top1", "value": 0.7, "args": {"ci_low": 0.6}}],
                    },
                ],
            }
        ]
    }
    assert metric_rows(front) == [
        ("x", "acc", 0.9, None, None),
        ("heldout (test, ds:1)", "top1", 0.7, 0.6, None),
    ]
    assert dataset_label("heldout", "test", "ds:1") == "heldout (test, ds:1)"
    assert dataset_label("", "test") == "test"
    assert dataset_label("d") == "d"
