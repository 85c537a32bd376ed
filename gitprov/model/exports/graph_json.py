"""gitprov's own JSON form of a lineage graph (``gitprov lineage --format json``).

Nodes then edges, in a stable order, so two exports of the same graph are identical and
a diff between two exports shows what changed. ``SCHEMA`` is the JSON Schema of this
document (also given in docs/exports.md); ``schema`` in the document is its version,
raised on any incompatible change.
"""

from __future__ import annotations

from typing import Any

from gitprov.model.exports.context import (
    ExportContext,
    dumps,
    jsonable,
    repository_url,
    sorted_artifacts,
    sorted_runs,
)
from gitprov.model.lineage_graph import ArtifactNode, LineageGraph, RunNode

SCHEMA_VERSION = 1
KIND = "gitprov.lineage"

_STRINGS = {"type": "array", "items": {"type": "string"}}
_NULLABLE_STRING = {"type": ["string", "null"]}

# JSON Schema (draft 2020-12) of the document that ``to_json`` returns.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "gitprov lineage graph",
    "type": "object",
    "required": ["kind", "schema", "focus", "direction", "export", "nodes", "edges"],
    "additionalProperties": False,
    "properties": {
        "kind": {"const": KIND},
        "schema": {"const": SCHEMA_VERSION},
        "focus": {"type": "string"},
        "direction": {"enum": ["upstream", "downstream"]},
        "export": {
            "type": "object",
            "required": ["repository", "commit", "at", "gitprov"],
            "additionalProperties": False,
            "properties": {
                "repository": {"type": "string"},
                "commit": {"type": "string"},
                "at": {"type": "string", "format": "date-time"},
                "gitprov": {"type": "string"},
            },
        },
        "nodes": {
            "type": "array",
            "items": {"oneOf": [{"$ref": "#/$defs/artifact"}, {"$ref": "#/$defs/run"}]},
        },
        "edges": {"type": "array", "items": {"$ref": "#/$defs/edge"}},
    },
    "$defs": {
        "artifact": {
            "type": "object",
            "required": ["id", "type", "kind", "path", "digest", "commit", "size"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string"},
                "type": {"const": "artifact"},
                "kind": {"type": "string"},
                "path": {"type": "string"},
                "digest": {"type": "string"},
                "commit": _NULLABLE_STRING,
                "size": {"type": ["integer", "null"]},
            },
        },
        "run": {
            "type": "object",
            "required": [
                *("id", "type", "source", "argv", "params", "seeds", "metrics", "commit"),
                *("head", "env", "started_at", "ended_at", "user", "message", "decisions"),
            ],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string"},
                "type": {"const": "run"},
                "source": {"enum": ["gitprov", "dvc"]},
                "argv": _STRINGS,
                "params": {"type": "object", "additionalProperties": {"type": "string"}},
                "seeds": _STRINGS,
                "metrics": {"type": "object"},
                "commit": _NULLABLE_STRING,
                "head": _NULLABLE_STRING,
                "env": _NULLABLE_STRING,
                "started_at": _NULLABLE_STRING,
                "ended_at": _NULLABLE_STRING,
                "user": {"type": "string"},
                "message": {"type": "string"},
                "decisions": _STRINGS,
            },
        },
        "edge": {
            "type": "object",
            "required": ["from", "to", "role"],
            "additionalProperties": False,
            "properties": {
                "from": {"type": "string"},
                "to": {"type": "string"},
                "role": {"enum": ["input", "output"]},
            },
        },
    },
}


def _artifact(node: ArtifactNode) -> dict[str, Any]:
    return {
        "id": node.digest,
        "type": "artifact",
        "kind": node.kind,
        "path": node.path,
        "digest": node.digest,
        "commit": node.commit,
        "size": node.size,
    }


def _run(node: RunNode) -> dict[str, Any]:
    return {
        "id": node.id,
        "type": "run",
        "source": node.source,
        "argv": list(node.argv),
        "params": dict(node.params),
        "seeds": [str(seed) for seed in node.seeds],
        "metrics": jsonable(node.metrics),
        "commit": node.commit,
        "head": node.head,
        "env": node.env,
        "started_at": node.started_at,
        "ended_at": node.ended_at,
        "user": node.user,
        "message": node.message,
        "decisions": list(node.decisions),
    }


def to_json(graph: LineageGraph, ctx: ExportContext) -> dict[str, Any]:
    """The graph as a JSON-ready dict: artifacts (by path, digest), then runs (by start
    time, id); edges point the way data flows (artifact -> run for an input,
    run -> artifact for an output) and are sorted, without repeats."""
    edges = {
        (e.artifact, e.run, e.role) if e.role == "input" else (e.run, e.artifact, e.role)
        for e in graph.edges
    }
    return {
        "kind": KIND,
        "schema": SCHEMA_VERSION,
        "focus": graph.focus,
        "direction": graph.direction,
        "export": {
            "repository": repository_url(ctx.repository),
            "commit": ctx.commit,
            "at": ctx.timestamp,
            "gitprov": ctx.version,
        },
        "nodes": [*map(_artifact, sorted_artifacts(graph)), *map(_run, sorted_runs(graph))],
        "edges": [{"from": a, "to": b, "role": role} for a, b, role in sorted(edges)],
    }


def render(graph: LineageGraph, ctx: ExportContext) -> str:
    """``to_json`` as deterministic text (sorted keys, two-space indent)."""
    return dumps(to_json(graph, ctx))
