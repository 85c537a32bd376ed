"""The lineage graph as W3C PROV-JSON (``gitprov lineage --format prov-json``).

PROV's three kinds of things map one to one: an artifact version is an ``entity``
identified by its digest (``sha256:<hex>``, the namespace being the ``urn:hash``
form of the algorithm), a run is an ``activity`` (``run:<ULID>``), the user who ran it
an ``agent``. ``used`` and ``wasGeneratedBy`` are the graph's edges, ``wasDerivedFrom``
links each output to each input of the same run, and the commit a run started from is
an entity the run used. Parameters, seeds and commits are attributes in the ``gitprov``
namespace; seeds and parameter values are strings, as in the run record.

The format is the W3C member submission (https://www.w3.org/submissions/prov-json/);
the ``prov`` Python package reads it back (see tests/test_exports.py).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from gitprov.model.exports.context import (
    ExportContext,
    command_line,
    digest_parts,
    dumps,
    git_uri,
    jsonable,
    short_id,
    sorted_artifacts,
    sorted_runs,
)
from gitprov.model.lineage_graph import ArtifactNode, LineageGraph, RunNode

_TYPES = {"checkpoint": "Checkpoint", "dataset": "Dataset", "artifact": "Artifact"}


def _qname(value: str) -> dict[str, str]:
    """A PROV-JSON qualified-name value (``prov:type`` values are names, not strings)."""
    return {"$": value, "type": "xsd:QName"}


def _local(text: str) -> str:
    """``text`` as the local part of a qualified name: PROV-N's characters, else %XX."""
    return quote(text, safe="-_.")


def entity_id(digest: str) -> str:
    """``sha256:<hex>``: the digest itself, read as a qualified name in the ``sha256``
    namespace. A digest of another shape is percent-encoded under ``gitprov:``."""
    parts = digest_parts(digest)
    return f"{parts[0]}:{parts[1]}" if parts else f"gitprov:artifact-{_local(digest)}"


def activity_id(run_id: str) -> str:
    return f"run:{_local(run_id)}"


def agent_id(user: str) -> str:
    return f"user:{_local(user)}"


def commit_id(sha: str) -> str:
    return f"commit:{_local(sha)}"


def _prefixes(graph: LineageGraph, ctx: ExportContext) -> dict[str, str]:
    home = ctx.home.rstrip("/")
    prefixes = {
        "gitprov": f"{home}/ns#",
        "run": f"{home}/ns/run/",
        "user": f"{home}/ns/user/",
        "commit": git_uri(ctx.repository) + "@",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    }
    for node in graph.artifacts.values():
        parts = digest_parts(node.digest)
        if parts:
            # The hash URN namespace (draft-thiemann-hash-urn): urn:hash::sha256:<hex>.
            prefixes[parts[0]] = f"urn:hash::{parts[0]}:"
    return prefixes


def _entity(node: ArtifactNode) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "prov:type": _qname("gitprov:" + _TYPES.get(node.kind, "Artifact")),
        "prov:label": node.path,
        "gitprov:path": node.path,
        "gitprov:kind": node.kind,
        "gitprov:digest": node.digest,
    }
    if node.kind == "dataset":
        attrs["gitprov:snapshot"] = short_id(node)
    if node.commit:
        attrs["gitprov:commit"] = node.commit
    if node.size is not None:
        attrs["gitprov:size"] = node.size
    return attrs


def _activity(run: RunNode) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "prov:type": _qname("gitprov:DvcStage" if run.source == "dvc" else "gitprov:Run"),
        "prov:label": command_line(run),
        "gitprov:source": run.source,
        "gitprov:argv": _canonical(list(run.argv)),
        "gitprov:params": _canonical(dict(run.params)),
    }
    if run.started_at:
        attrs["prov:startTime"] = run.started_at
    if run.ended_at:
        attrs["prov:endTime"] = run.ended_at
    if run.seeds:
        attrs["gitprov:seed"] = [str(seed) for seed in run.seeds]
    optional = {"gitprov:head": run.head, "gitprov:commit": run.commit, "gitprov:env": run.env}
    attrs.update({key: value for key, value in optional.items() if value})
    if run.message:
        attrs["gitprov:message"] = run.message
    if run.decisions:
        attrs["gitprov:decision"] = list(run.decisions)
    if run.metrics:
        attrs["gitprov:metrics"] = _canonical(jsonable(run.metrics))
    return attrs


def _canonical(value: object) -> str:
    """Structured values (argv, params, metrics) as one canonical JSON string: PROV
    attribute values are literals, and a JSON string keeps order and types exactly."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_json(graph: LineageGraph, ctx: ExportContext) -> dict[str, Any]:
    """The PROV-JSON document of ``graph``.

    Relation ids are blank nodes numbered in a stable order (``_:u1``, ``_:g1``...).
    """
    entities = {entity_id(a.digest): _entity(a) for a in sorted_artifacts(graph)}
    activities: dict[str, Any] = {}
    agents: dict[str, Any] = {}
    used: dict[str, Any] = {}
    generated: dict[str, Any] = {}
    derived: dict[str, Any] = {}
    associated: dict[str, Any] = {}
    for run in sorted_runs(graph):
        act = activity_id(run.id)
        activities[act] = _activity(run)
        inputs = sorted({entity_id(a.digest) for a in graph.inputs_of(run.id)})
        outputs = sorted({entity_id(a.digest) for a in graph.outputs_of(run.id)})
        if run.head:
            code = commit_id(run.head)
            entities.setdefault(
                code, {"prov:type": _qname("gitprov:GitCommit"), "prov:label": run.head}
            )
            inputs_with_code = [*inputs, code]
        else:
            inputs_with_code = inputs
        for ent in inputs_with_code:
            used[f"_:u{len(used) + 1}"] = {"prov:activity": act, "prov:entity": ent}
        for ent in outputs:
            record = {"prov:entity": ent, "prov:activity": act}
            if run.ended_at:
                record["prov:time"] = run.ended_at
            generated[f"_:g{len(generated) + 1}"] = record
            for source in inputs:
                derived[f"_:d{len(derived) + 1}"] = {
                    "prov:generatedEntity": ent,
                    "prov:usedEntity": source,
                    "prov:activity": act,
                }
        if run.user:
            agent = agent_id(run.user)
            agents[agent] = {"prov:type": _qname("prov:Person"), "prov:label": run.user}
            associated[f"_:w{len(associated) + 1}"] = {"prov:activity": act, "prov:agent": agent}
    document: dict[str, Any] = {"prefix": _prefixes(graph, ctx)}
    sections = {
        "entity": entities,
        "activity": activities,
        "agent": agents,
        "used": used,
        "wasGeneratedBy": generated,
        "wasDerivedFrom": derived,
        "wasAssociatedWith": associated,
    }
    document.update({name: records for name, records in sections.items() if records})
    return document


def render(graph: LineageGraph, ctx: ExportContext) -> str:
    return dumps(to_json(graph, ctx))
