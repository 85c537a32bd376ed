"""Renderings and standard exports of a lineage graph: pure functions, no I/O.

``render(graph, ctx, fmt)`` gives the text ``gitprov lineage --format <fmt>`` prints for
every format but ``text`` (the CLI's own). Each format's module also has ``to_json`` (the
JSON formats) or takes layout options (the diagrams). docs/exports.md maps each format.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

from gitprov.model.exports import dot, graph_json, intoto, mermaid, openlineage, prov_json
from gitprov.model.exports.context import (
    AmbiguousProvenanceError,
    ExportContext,
    ExportError,
    NoProducingRunError,
    NotACheckpointError,
)
from gitprov.model.lineage_graph import LineageGraph

Format = Literal["json", "mermaid", "dot", "prov-json", "intoto", "openlineage"]
FORMATS: tuple[str, ...] = get_args(Format)

_RENDERERS: dict[str, Callable[[LineageGraph, ExportContext], str]] = {
    "json": graph_json.render,
    "mermaid": mermaid.render,
    "dot": dot.render,
    "prov-json": prov_json.render,
    "intoto": intoto.render,
    "openlineage": openlineage.render,
}


def render(graph: LineageGraph, ctx: ExportContext, fmt: str) -> str:
    """The text of ``graph`` in format ``fmt`` (one of ``FORMATS``), ending in a newline.

    Raises ``ExportError`` (a ``GitprovError``) when the graph cannot be exported in that
    format, e.g. ``intoto`` for a dataset, and ``ValueError`` for an unknown format.
    """
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}") from None
    return renderer(graph, ctx)


__all__ = [
    "FORMATS",
    "AmbiguousProvenanceError",
    "ExportContext",
    "ExportError",
    "Format",
    "NoProducingRunError",
    "NotACheckpointError",
    "render",
]
