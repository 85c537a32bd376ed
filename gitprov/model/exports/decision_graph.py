"""The decision log as a graph (``gitprov decision graph --format mermaid|dot``).

Decisions are nodes labelled with their ID, title and status; a decision that replaced
another points at it (``supersedes``), and every decision points at the commits, runs and
artifacts it links to (one node per target, however many decisions share it). Labels are
user text, escaped by the lineage exporters' own helpers (``mermaid.escape``,
``dot.quote``); node ids are generated (``d0``, ``c0``, ``r0``, ``a0``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gitprov.model import digest as digests
from gitprov.model.exports import dot, mermaid
from gitprov.model.exports.context import truncate

TITLE_LIMIT = 60
_STATUS_FILL = {
    "proposed": "#fef7e0",
    "accepted": "#e6f4ea",
    "rejected": "#fce8e6",
    "deprecated": "#f1f3f4",
    "superseded": "#f1f3f4",
}


@dataclass(frozen=True)
class DecisionNode:
    id: str
    title: str
    status: str
    supersedes: tuple[str, ...] = ()
    commits: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()  # path@digest


@dataclass(frozen=True)
class DecisionGraph:
    decisions: list[DecisionNode] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    nodes: list[tuple[str, str, tuple[str, ...]]]  # (node id, kind, label lines)
    edges: list[tuple[str, str, str]]  # (from, to, label)


def _artifact_lines(link: str) -> tuple[str, ...]:
    path, _, digest = link.rpartition("@")
    if not path:
        return (link,)
    return (path, digests.short(digest) if digests.is_digest(digest) else digest)


def _plan(graph: DecisionGraph) -> _Plan:
    ids: dict[tuple[str, str], str] = {}
    nodes: list[tuple[str, str, tuple[str, ...]]] = []
    edges: list[tuple[str, str, str]] = []

    def node(kind: str, key: str, lines: tuple[str, ...]) -> str:
        if (kind, key) not in ids:
            ids[(kind, key)] = f"{kind[0]}{sum(1 for k in ids if k[0] == kind)}"
            nodes.append((ids[(kind, key)], kind, lines))
        return ids[(kind, key)]

    for d in graph.decisions:
        node("decision", d.id, (d.id, truncate(d.title, TITLE_LIMIT), d.status))
    for d in graph.decisions:
        me = ids[("decision", d.id)]
        for old in d.supersedes:
            other = node("decision", old, (old, "(not in decisions/)", "unknown"))
            edges.append((me, other, "supersedes"))
        for commit in d.commits:
            edges.append((me, node("commit", commit, (f"commit {commit[:12]}",)), "commit"))
        for run in d.runs:
            edges.append((me, node("run", run, (f"run:{run}",)), "run"))
        for link in d.artifacts:
            edges.append((me, node("artifact", link, _artifact_lines(link)), "artifact"))
    return _Plan(nodes, edges)


def render_mermaid(graph: DecisionGraph) -> str:
    """A Mermaid ``flowchart``: decisions as rectangles, artifacts rounded, commits and runs
    as parallelograms; supersede edges are solid, links dotted."""
    plan = _plan(graph)
    lines = ["flowchart LR"]
    shapes = {"decision": "[{}]", "artifact": "({})", "commit": "[/{}/]", "run": "[/{}/]"}
    for node_id, kind, label in plan.nodes:
        text = '"' + "<br/>".join(mermaid.escape(line) for line in label) + '"'
        lines.append(f"    {node_id}{shapes[kind].format(text)}")
    for a, b, edge in plan.edges:
        arrow = "-->" if edge == "supersedes" else "-.->"
        lines.append(f"    {a} {arrow}|{edge}| {b}")
    for status, fill in _STATUS_FILL.items():
        lines.append(f"    classDef {status} fill:{fill},stroke:#3c4043,color:#000")
    by_status: dict[str, list[str]] = {}
    for node_id, kind, label in plan.nodes:
        if kind == "decision" and label[-1] in _STATUS_FILL:
            by_status.setdefault(label[-1], []).append(node_id)
    lines += [f"    class {','.join(ids)} {status}" for status, ids in by_status.items()]
    return "\n".join(lines) + "\n"


def render_dot(graph: DecisionGraph) -> str:
    """A Graphviz ``digraph`` of the same picture."""
    plan = _plan(graph)
    lines = [
        "digraph decisions {",
        "    rankdir=LR;",
        '    node [fontname="Helvetica", fontsize=10];',
    ]
    shapes = {"decision": "box", "artifact": "box", "commit": "parallelogram", "run": "ellipse"}
    for node_id, kind, label in plan.nodes:
        text = "\\n".join(dot.quote(line)[1:-1] for line in label)
        attrs = f'shape={shapes[kind]}, label="{text}"'
        if kind == "decision":
            attrs += f', style=filled, fillcolor="{_STATUS_FILL.get(label[-1], "#ffffff")}"'
        elif kind == "artifact":
            attrs += ', style="rounded"'
        lines.append(f'    "{node_id}" [{attrs}];')
    for a, b, edge in plan.edges:
        style = "" if edge == "supersedes" else ", style=dashed"
        lines.append(f'    "{a}" -> "{b}" [label="{edge}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
