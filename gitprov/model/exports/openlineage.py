"""The runs of a lineage graph as OpenLineage RunEvents (``--format openlineage``).

One ``COMPLETE`` event per run, in start order, each one JSON object (``render`` writes
JSON Lines, what OpenLineage's file transport and most collectors' bulk APIs take):

- ``run.runId``: the run's ULID read as the 128-bit UUID it is (ULIDs and UUIDs are
  both 128 bits, so the mapping is exact and reversible); DVC stages, which have no
  ULID, get a name-based UUID (v5) of their id;
- ``job``: namespace = the repository, name = the command without its options
  (``python train.py``) or the DVC stage name, so that re-runs of one script are one job;
- ``inputs`` / ``outputs``: namespace = the repository, name = the path, with the
  standard ``version`` facet carrying the digest and a ``gitprov`` facet with the kind;
- run facets: ``processing_engine`` (gitprov and its version) and ``gitprov`` (argv,
  parameters, seeds as strings, run id, commit, environment).

Spec: https://openlineage.io/spec/2-0-2/OpenLineage.json (checked in tests/test_exports.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from gitprov.model.exports.context import (
    ExportContext,
    dumps,
    jsonable,
    repository_url,
    short_id,
    sorted_runs,
    unique,
)
from gitprov.model.lineage_graph import ArtifactNode, LineageGraph, RunNode
from gitprov.model.notes import CROCKFORD, ulid_int

SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
SCHEMA_URL = SPEC + "#/$defs/RunEvent"
FACETS = "https://openlineage.io/spec/facets"
VERSION_FACET = f"{FACETS}/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"
JOB_TYPE_FACET = f"{FACETS}/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
SOURCE_FACET = f"{FACETS}/1-1-0/SourceCodeLocationJobFacet.json#/$defs/SourceCodeLocationJobFacet"
ENGINE_FACET = f"{FACETS}/1-1-1/ProcessingEngineRunFacet.json#/$defs/ProcessingEngineRunFacet"

# Name-based UUIDs for runs without a ULID (DVC stages): uuid5(NAMESPACE_URL, "gitprov:run").
# Fixed here so that the ids never change with the project's home URL.
RUN_NAMESPACE = uuid.UUID("db00df90-798b-5e67-9762-252dbae02ea5")


def ulid_to_uuid(ulid: str) -> uuid.UUID:
    """The UUID with the same 128 bits as ``ulid`` (Crockford base32, any case).

    >>> str(ulid_to_uuid("00000000000000000000000001"))
    '00000000-0000-0000-0000-000000000001'
    """
    return uuid.UUID(int=ulid_int(ulid))


def uuid_to_ulid(value: uuid.UUID) -> str:
    """The inverse of ``ulid_to_uuid``: a runId back to the gitprov run id."""
    number = value.int
    return "".join(CROCKFORD[(number >> shift) & 0x1F] for shift in range(125, -1, -5))


def run_uuid(run_id: str) -> str:
    """The OpenLineage runId of a gitprov run id."""
    try:
        return str(ulid_to_uuid(run_id))
    except ValueError:
        return str(uuid.uuid5(RUN_NAMESPACE, run_id))


def job_name(run: RunNode) -> str:
    """What identifies the job across runs: the DVC stage, or the command up to its first
    option (``python train.py --lr 3e-4`` -> ``python train.py``)."""
    if run.source == "dvc":
        return run.id.removeprefix("dvc:").split("@", 1)[0]
    words: list[str] = []
    for arg in run.argv:
        if arg.startswith("-") and words:
            break
        words.append(arg)
    return " ".join(words) or run.id


def _facet(ctx: ExportContext, schema_url: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": producer(ctx), "_schemaURL": schema_url, **fields}


def producer(ctx: ExportContext) -> str:
    return f"{ctx.home.rstrip('/')}/releases/v{ctx.version}"


def gitprov_facet_url(ctx: ExportContext, name: str) -> str:
    """The schema URL of gitprov's own facets (documented in docs/exports.md)."""
    return f"{ctx.home.rstrip('/')}/spec/facets/1-0-0/{name}.json#/$defs/{name}"


def _dataset(node: ArtifactNode, ctx: ExportContext) -> dict[str, Any]:
    extra: dict[str, Any] = {"kind": node.kind, "digest": node.digest}
    if node.kind == "dataset":
        extra["snapshot"] = short_id(node)
    if node.size is not None:
        extra["size"] = node.size
    if node.commit:
        extra["commit"] = node.commit
    return {
        "namespace": repository_url(ctx.repository),
        "name": node.path,
        "facets": {
            "version": _facet(ctx, VERSION_FACET, datasetVersion=node.digest),
            "gitprov": _facet(ctx, gitprov_facet_url(ctx, "GitprovArtifactDatasetFacet"), **extra),
        },
    }


def _job(run: RunNode, ctx: ExportContext) -> dict[str, Any]:
    facets: dict[str, Any] = {
        "jobType": _facet(
            ctx,
            JOB_TYPE_FACET,
            processingType="BATCH",
            integration="DVC" if run.source == "dvc" else "GITPROV",
            jobType="STAGE" if run.source == "dvc" else "COMMAND",
        )
    }
    if run.head:
        url = repository_url(ctx.repository)
        facets["sourceCodeLocation"] = _facet(
            ctx, SOURCE_FACET, type="git", url=url, repoUrl=url, version=run.head
        )
    return {"namespace": repository_url(ctx.repository), "name": job_name(run), "facets": facets}


def _run_facets(run: RunNode, ctx: ExportContext) -> dict[str, Any]:
    details: dict[str, Any] = {
        "runId": run.id,
        "source": run.source,
        "argv": [str(arg) for arg in run.argv],
        "params": {str(k): str(v) for k, v in run.params.items()},
        "seeds": [str(seed) for seed in run.seeds],
    }
    optional = {"head": run.head, "commit": run.commit, "environment": run.env, "user": run.user}
    details.update({key: value for key, value in optional.items() if value})
    if run.decisions:
        details["decisions"] = list(run.decisions)
    if run.metrics:
        details["metrics"] = jsonable(run.metrics)
    return {
        "processing_engine": _facet(ctx, ENGINE_FACET, name="gitprov", version=ctx.version),
        "gitprov": _facet(ctx, gitprov_facet_url(ctx, "GitprovRunFacet"), **details),
    }


def run_event(graph: LineageGraph, run: RunNode, ctx: ExportContext) -> dict[str, Any]:
    """The ``COMPLETE`` RunEvent of one run (``eventTime``: its end, else the export time)."""
    return {
        "eventType": "COMPLETE",
        "eventTime": run.ended_at or ctx.timestamp,
        "producer": producer(ctx),
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_uuid(run.id), "facets": _run_facets(run, ctx)},
        "job": _job(run, ctx),
        "inputs": [_dataset(a, ctx) for a in unique(graph.inputs_of(run.id))],
        "outputs": [_dataset(a, ctx) for a in unique(graph.outputs_of(run.id))],
    }


def to_json(graph: LineageGraph, ctx: ExportContext) -> list[dict[str, Any]]:
    """One RunEvent per run of ``graph``, in start order (an empty list for no runs)."""
    return [run_event(graph, run, ctx) for run in sorted_runs(graph)]


def render(graph: LineageGraph, ctx: ExportContext) -> str:
    """JSON Lines: one compact event per line (sorted keys, so the output is stable)."""
    return "".join(dumps(event, compact=True) for event in to_json(graph, ctx))
