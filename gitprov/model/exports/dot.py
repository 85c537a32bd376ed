"""The lineage graph in Graphviz DOT (``gitprov lineage --format dot | dot -Tsvg``).

The same picture as the Mermaid rendering: artifacts are rounded boxes (path and short
digest), runs plain boxes (the command), the focus has a thick red border. Every id and
label is a double-quoted DOT string in which ``\\`` and ``"`` are escaped, so that user
text cannot end the string, and line breaks are written as DOT's ``\\n``.
"""

from __future__ import annotations

from typing import Literal

from gitprov.model.exports.context import (
    ExportContext,
    command_line,
    layout,
    short_id,
    truncate,
    visible,
)
from gitprov.model.lineage_graph import LineageGraph

RankDir = Literal["LR", "TB"]
COMMAND_LIMIT = 60
PATH_LIMIT = 80

_FILLS = {"checkpoint": "#e8f0fe", "dataset": "#e6f4ea", "artifact": "#f1f3f4"}


def quote(text: str) -> str:
    r"""``text`` as a DOT double-quoted string whose label shows ``text`` as written.

    Backslashes are doubled (``\N``, ``\G``, ``\l`` would otherwise be label escapes),
    quotes escaped, newlines become DOT's ``\n`` and other control characters a visible
    escape.

    >>> print(quote('a "b" \\ c'))
    "a \"b\" \\ c"
    """
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == " " or char.isprintable():
            out.append(char)
        else:
            out.append(visible(char).replace("\\", "\\\\"))
    return '"' + "".join(out) + '"'


def _label(*lines: str) -> str:
    # Each line is escaped on its own; the separator is DOT's own line break.
    return "\\n".join(quote(line)[1:-1] for line in lines)


def render(graph: LineageGraph, ctx: ExportContext, *, rankdir: RankDir = "LR") -> str:
    """A ``digraph`` of ``graph`` (``ctx`` is unused, as for Mermaid)."""
    del ctx
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be LR or TB, not {rankdir!r}")
    plan = layout(graph)
    lines = [
        "digraph lineage {",
        f"    rankdir={rankdir};",
        '    node [fontname="Helvetica", fontsize=10];',
        '    edge [color="#5f6368"];',
    ]
    for a in plan.artifacts:
        node_id = plan.ids[a.digest]
        fill = _FILLS.get(a.kind, _FILLS["artifact"])
        label = _label(truncate(a.path, PATH_LIMIT), short_id(a))
        attrs = f'shape=box, style="rounded,filled", fillcolor="{fill}", label="{label}"'
        lines.append(f'    "{node_id}" [{attrs}{_focus(node_id, plan.focus)}];')
    for r in plan.runs:
        node_id = plan.ids[r.id]
        ident = r.id if r.source == "dvc" else f"run:{r.id}"
        label = _label(truncate(command_line(r), COMMAND_LIMIT), ident)
        lines.append(f'    "{node_id}" [shape=box, label="{label}"{_focus(node_id, plan.focus)}];')
    lines += [f'    "{a}" -> "{b}";' for a, b in plan.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _focus(node_id: str, focus: str | None) -> str:
    return ', color="#d93025", penwidth=3' if node_id == focus else ""
