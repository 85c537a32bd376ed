"""The lineage graph as a Mermaid flowchart (``gitprov lineage --format mermaid``).

Paste it into a GitHub pull request or Markdown file inside a ```` ```mermaid ```` block.
Artifacts are rounded nodes labelled with their path and short digest (``ds:<12 hex>``
for a dataset snapshot), runs are rectangles labelled with their command, and the
node the query started from carries the ``focus`` class.

Labels are user text (paths, commands), so they are escaped: node ids are generated
(``a0``, ``r0``), labels are always quoted, and every character that could end the quoted
string, start an entity, be read as HTML or Markdown, or break the line is written as a
Mermaid entity code (``#35;`` for ``#``) or a visible escape (``\\n``).
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
from gitprov.model.lineage_graph import ArtifactNode, LineageGraph, RunNode

Direction = Literal["LR", "TB"]
COMMAND_LIMIT = 60  # characters of a command shown in a run's box
PATH_LIMIT = 80
KINDS = ("checkpoint", "dataset", "artifact")

# Characters Mermaid would read as syntax inside a quoted label, by their entity code.
_ENTITIES = {
    '"': "#quot;",
    "#": "#35;",
    "&": "#38;",
    "<": "#60;",
    ">": "#62;",
    "`": "#96;",
    "[": "#91;",
    "]": "#93;",
    "(": "#40;",
    ")": "#41;",
    "{": "#123;",
    "}": "#125;",
    "|": "#124;",
    "\\": "#92;",
}

_STYLES = (
    "classDef checkpoint fill:#e8f0fe,stroke:#1a73e8,color:#000",
    "classDef dataset fill:#e6f4ea,stroke:#188038,color:#000",
    "classDef artifact fill:#f1f3f4,stroke:#5f6368,color:#000",
    "classDef run fill:#ffffff,stroke:#3c4043,color:#000",
    "classDef focus stroke:#d93025,stroke-width:3px",
)


def escape(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label.

    >>> escape('say "hi" #1 [x]')
    'say #quot;hi#quot; #35;1 #91;x#93;'
    """
    out = []
    for char in text:
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char == " " or char.isprintable():
            out.append(char)
        else:
            out.append(escape(visible(char)))
    return "".join(out)


def _label(*lines: str) -> str:
    return '"' + "<br/>".join(escape(line) for line in lines) + '"'


def _artifact_label(node: ArtifactNode) -> str:
    return _label(truncate(node.path, PATH_LIMIT), short_id(node))


def _run_label(node: RunNode) -> str:
    ident = node.id if node.source == "dvc" else f"run:{node.id}"
    return _label(truncate(command_line(node), COMMAND_LIMIT), ident)


def render(graph: LineageGraph, ctx: ExportContext, *, direction: Direction = "LR") -> str:
    """A Mermaid ``flowchart`` of ``graph`` (``ctx`` is unused: a diagram says nothing
    about where or when it was exported, so that it stays stable in reviews)."""
    del ctx
    if direction not in ("LR", "TB"):
        raise ValueError(f"direction must be LR or TB, not {direction!r}")
    plan = layout(graph)
    lines = [f"flowchart {direction}"]
    lines += [f"    {plan.ids[a.digest]}({_artifact_label(a)})" for a in plan.artifacts]
    lines += [f"    {plan.ids[r.id]}[{_run_label(r)}]" for r in plan.runs]
    lines += [f"    {a} --> {b}" for a, b in plan.edges]
    lines += [f"    {style}" for style in _STYLES]
    for kind in KINDS:
        members = [plan.ids[a.digest] for a in plan.artifacts if _kind(a) == kind]
        if members:
            lines.append(f"    class {','.join(members)} {kind}")
    if plan.runs:
        lines.append(f"    class {','.join(plan.ids[r.id] for r in plan.runs)} run")
    if plan.focus is not None:
        lines.append(f"    class {plan.focus} focus")
    return "\n".join(lines) + "\n"


def _kind(node: ArtifactNode) -> str:
    return node.kind if node.kind in KINDS else "artifact"
