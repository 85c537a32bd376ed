"""The report's lineage graphs: which part of the graph a page draws, and each node's record.

The records are what a click on a node shows (command, parameters, seeds, environment,
digests); they are embedded in the page as JSON. A graph larger than ``MAX_NODES`` is
cut to the most recent runs and what they read and wrote, and the page says so: a
drawing of ten thousand boxes helps nobody and would not open in two seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from gitprov.model import report_layout
from gitprov.model.lineage_graph import ArtifactNode, LineageGraph, RunNode
from gitprov.services.lineage_index import LineageIndex, walk

MAX_NODES = 400


@dataclass(frozen=True)
class Drawing:
    """A graph drawn for one page: its SVG, the records of its nodes, and what was cut."""

    svg: str
    records: dict[str, dict[str, Any]]
    nodes: int
    total: int  # nodes in the graph before the cut


def trimmed(graph: LineageGraph, limit: int = MAX_NODES) -> tuple[LineageGraph, int]:
    """``graph`` cut to at most ``limit`` nodes: the newest runs with their inputs and
    outputs (the focus is always kept); and the number of nodes before the cut."""
    total = len(graph.artifacts) + len(graph.runs)
    if total <= limit:
        return graph, total
    by_run: dict[str, list[str]] = {}
    for e in graph.edges:
        by_run.setdefault(e.run, []).append(e.artifact)
    kept_runs: list[str] = []
    kept_artifacts: set[str] = {graph.focus} if graph.focus in graph.artifacts else set()
    newest = sorted(graph.runs.values(), key=lambda r: r.started_at or "", reverse=True)
    for run in newest:
        more = {a for a in by_run.get(run.id, []) if a not in kept_artifacts}
        if len(kept_runs) + len(kept_artifacts) + 1 + len(more) > limit:
            break
        kept_runs.append(run.id)
        kept_artifacts |= more
    cut = LineageGraph(focus=graph.focus, direction=graph.direction)
    cut.runs = {r: graph.runs[r] for r in kept_runs}
    cut.artifacts = {a: graph.artifacts[a] for a in sorted(kept_artifacts)}
    cut.edges = [e for e in graph.edges if e.run in cut.runs and e.artifact in cut.artifacts]
    return cut, total


def upstream_of(index: LineageIndex, digest: str) -> LineageGraph | None:
    """The upstream graph of an artifact version (None when the graph lacks it)."""
    if digest not in index.graph.artifacts:
        return None
    graph, _ = walk(index, digest, direction="upstream", depth=None)
    return graph


def draw(graph: LineageGraph, *, label: str, links: dict[str, str], up: str) -> Drawing:
    """The SVG of ``graph`` (trimmed) and the records of its nodes. ``links``: page of a
    node id relative to the site's root; ``up``: the way from this page to the root."""
    shown, total = trimmed(graph)
    placed = report_layout.layout(shown)
    records: dict[str, dict[str, Any]] = {}
    for digest, art in shown.artifacts.items():
        records[digest] = artifact_record(art, shown, links.get(digest), up)
    for rid, run in shown.runs.items():
        records[rid] = run_record(run, shown, links.get(rid), up)
    svg = report_layout.svg(shown, placed, label=label)
    return Drawing(svg, records, len(placed), total)


def artifact_record(
    art: ArtifactNode, graph: LineageGraph, href: str | None, up: str
) -> dict[str, Any]:
    made_by = [" ".join(r.argv) or r.id for r in graph.producers_of(art.digest)]
    fields = [
        ("kind", art.kind),
        ("path", art.path),
        ("digest", art.digest),
        ("size", f"{art.size:,} bytes" if art.size is not None else "unknown"),
        ("first commit", (art.commit or "")[:12]),
        ("made by", "; ".join(made_by) or "nothing recorded (a source)"),
    ]
    record: dict[str, Any] = {"title": f"{art.kind} {art.path}", "fields": fields}
    if href:
        record["href"] = up + href
    return record


def run_record(run: RunNode, graph: LineageGraph, href: str | None, up: str) -> dict[str, Any]:
    ins = [f"{a.path} {a.digest[:19]}" for a in graph.inputs_of(run.id)]
    outs = [f"{a.path} {a.digest[:19]}" for a in graph.outputs_of(run.id)]
    fields = [
        ("run", run.id),
        ("command", " ".join(run.argv)),
        ("params", ", ".join(f"{k}={v}" for k, v in sorted(run.params.items())) or "none"),
        ("seeds", ", ".join(run.seeds) or "none"),
        ("environment", run.env or "not recorded"),
        ("inputs", "; ".join(ins) or "none"),
        ("outputs", "; ".join(outs) or "none"),
        ("started", run.started_at or ""),
        ("by", run.user),
        ("commit", (run.commit or "")[:12]),
    ]
    record: dict[str, Any] = {"title": f"run {run.id}", "fields": fields}
    if href:
        record["href"] = up + href
    return record


def section(drawing: Drawing, *, focus: str = "") -> str:
    """The graph box, its toolbar (zoom buttons, find a node) and the record panel."""
    options = "".join(
        f'<option value="{escape(node_id)}">{escape(rec["title"])}</option>'
        for node_id, rec in sorted(drawing.records.items(), key=lambda kv: kv[1]["title"])
    )
    cut = (
        f'<p class="note">Showing {drawing.nodes} of {drawing.total} nodes: the newest runs '
        "and what they read and wrote. Each checkpoint's page draws its whole upstream.</p>"
        if drawing.nodes < drawing.total
        else ""
    )
    legend = (
        '<p class="legend" aria-hidden="true"><span class="dataset">dataset</span>'
        '<span class="run">run</span><span class="checkpoint">checkpoint</span>'
        '<span class="artifact">artifact</span></p>'
    )
    return (
        f"{cut}<div class='toolbar'>"
        "<button type='button' data-zoom='in' aria-label='Zoom in'>+</button>"
        "<button type='button' data-zoom='out' aria-label='Zoom out'>&minus;</button>"
        "<button type='button' data-zoom='reset'>Fit</button>"
        "<label for='find'>Find a node</label>"
        f"<select id='find'><option value=''>(choose)</option>{options}</select></div>"
        f"{legend}<div class='columns'>"
        "<div class='graph-box' tabindex='0' aria-label='Lineage graph: drag or use the arrow "
        "keys to pan, + and - to zoom, 0 to fit; Tab to a node and press Enter for its "
        f"record'>{drawing.svg}</div>"
        "<aside id='record' aria-live='polite'><p>Click a node, or Tab to it and press Enter, "
        f"to see its record.</p></aside></div>{focus}"
    )
