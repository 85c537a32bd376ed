"""A layered layout of a lineage graph, drawn as SVG for the HTML report.

Artifact versions and runs are placed in columns by their longest path from a source
(a dataset on the left, what was made from it to the right), then each column is
ordered by the mean row of its neighbours in the previous column (two sweeps of the
barycentre heuristic), which keeps a few hundred nodes readable without a layout
library. Pure: the graph in, SVG text and node positions out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from html import escape

from gitprov.model.lineage_graph import LineageGraph

COLUMN = 240  # horizontal distance between layers
ROW = 54  # vertical distance between nodes of one layer
NODE_W = 190
NODE_H = 36
MARGIN = 20


@dataclass(frozen=True)
class Placed:
    """A node of the drawing: ``id`` is a digest or a run id; ``kind`` is the artifact
    kind (checkpoint, dataset, artifact) or ``run``."""

    id: str
    kind: str
    label: str
    x: int
    y: int


def _layers(nodes: list[str], succ: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from a source for each node; edges closing a cycle are ignored."""
    indeg: dict[str, int] = dict.fromkeys(nodes, 0)
    for n in nodes:
        for m in succ[n]:
            indeg[m] += 1
    layer = dict.fromkeys(nodes, 0)
    ready = [n for n in nodes if indeg[n] == 0]
    done: set[str] = set()
    while len(done) < len(nodes):
        if not ready:  # a cycle: break it at the first node not placed yet
            ready = [next(n for n in nodes if n not in done)]
        n = ready.pop()
        if n in done:
            continue
        done.add(n)
        for m in succ[n]:
            if m in done:
                continue
            layer[m] = max(layer[m], layer[n] + 1)
            indeg[m] -= 1
            if indeg[m] <= 0:
                ready.append(m)
    return layer


def _label(text: str, width: int = 24) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def layout(graph: LineageGraph) -> list[Placed]:
    """Positions for every artifact and run of ``graph`` (top-left corners)."""
    kinds: dict[str, tuple[str, str]] = {}
    for digest, art in graph.artifacts.items():
        kinds[digest] = (art.kind, f"{art.path} {digest.split(':', 1)[-1][:7]}")
    for rid, run in graph.runs.items():
        command = " ".join(run.argv) or rid
        kinds[rid] = ("run", command)
    nodes = sorted(kinds)
    succ: dict[str, list[str]] = defaultdict(list)
    pred: dict[str, list[str]] = defaultdict(list)
    for e in graph.edges:
        a, b = (e.artifact, e.run) if e.role == "input" else (e.run, e.artifact)
        if a in kinds and b in kinds:
            succ[a].append(b)
            pred[b].append(a)
    layer = _layers(nodes, succ)
    columns: dict[int, list[str]] = defaultdict(list)
    for n in nodes:
        columns[layer[n]].append(n)
    row: dict[str, float] = {}
    for _ in range(2):
        for col in sorted(columns):
            ids = columns[col]
            if row:

                def centre(n: str, current: float) -> float:
                    near = [row[p] for p in pred[n] if p in row]
                    return sum(near) / len(near) if near else current

                ids.sort(key=lambda n: centre(n, row.get(n, 0.0)))
            for i, n in enumerate(ids):
                row[n] = float(i)
    return [
        Placed(n, kinds[n][0], kinds[n][1], MARGIN + c * COLUMN, MARGIN + i * ROW)
        for c in sorted(columns)
        for i, n in enumerate(columns[c])
    ]


def svg(graph: LineageGraph, placed: list[Placed], *, label: str) -> str:
    """The graph as an SVG element; every node is focusable and names its record."""
    where = {p.id: p for p in placed}
    width = max((p.x for p in placed), default=0) + NODE_W + MARGIN
    height = max((p.y for p in placed), default=0) + NODE_H + MARGIN
    parts = [
        f'<svg class="graph" role="group" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" data-width="{width}" data-height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" '
        'markerHeight="8" orient="auto"><path d="M0,0L8,4L0,8z" fill="#555"/></marker></defs>',
        '<g class="viewport">',
    ]
    for e in graph.edges:
        a, b = (e.artifact, e.run) if e.role == "input" else (e.run, e.artifact)
        if a not in where or b not in where:
            continue
        pa, pb = where[a], where[b]
        x1, y1 = pa.x + NODE_W, pa.y + NODE_H // 2
        x2, y2 = pb.x, pb.y + NODE_H // 2
        mid = (x1 + x2) // 2
        # An edge that skips a column bows above the row, so it is not hidden behind the
        # nodes it passes (a run reading both the dataset and a checkpoint made from it).
        bow = ROW * (x2 - x1) // (2 * COLUMN) if x2 - x1 > COLUMN else 0
        parts.append(
            f'<path class="edge" d="M{x1},{y1}C{mid},{y1 - bow} {mid},{y2 - bow} {x2},{y2}" '
            'marker-end="url(#arrow)"/>'
        )
    for p in placed:
        focus = " focus" if p.id == graph.focus else ""
        parts.append(
            f'<g class="node {escape(p.kind)}{focus}" tabindex="0" role="button" '
            f'data-id="{escape(p.id)}" aria-label="{escape(p.kind)} {escape(p.label)}" '
            f'transform="translate({p.x},{p.y})">'
            f'<rect width="{NODE_W}" height="{NODE_H}" rx="6"/>'
            f'<text x="8" y="14" class="kind">{escape(p.kind)}</text>'
            f'<text x="8" y="29">{escape(_label(p.label))}</text></g>'
        )
    parts.append("</g></svg>")
    return "".join(parts)
