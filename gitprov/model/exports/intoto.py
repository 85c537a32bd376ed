"""SLSA provenance for a checkpoint: an in-toto Statement v1 (``--format intoto``).

The statement says "this run, from this commit, with these inputs and parameters,
produced these checkpoints" in the form supply-chain tools read
(https://slsa.dev/spec/v1.0/provenance, https://github.com/in-toto/attestation):

- ``subject``: the focus checkpoint, or every checkpoint the focus run wrote, as
  ``{name: path, digest: {sha256: hex}}``;
- ``buildDefinition.externalParameters``: the command, parameters and seeds (strings);
- ``buildDefinition.resolvedDependencies``: the commit the run started from
  (``git+<repo>@<sha>``, digest ``gitCommit``) and every input with its digest;
- ``runDetails.metadata``: the run id and its start and end times.

The statement is unsigned: sign it with the tool of your choice (e.g. wrap it in a DSSE
envelope with ``cosign attest-blob`` or in-toto's ``in-toto-sign``).
"""

from __future__ import annotations

from typing import Any

from gitprov.model.exports.context import (
    AmbiguousProvenanceError,
    ExportContext,
    NoProducingRunError,
    NotACheckpointError,
    digest_parts,
    dumps,
    focus_run_id,
    git_uri,
    short_id,
    unique,
)
from gitprov.model.lineage_graph import ArtifactNode, LineageGraph, RunNode

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
CHECKPOINT = "checkpoint"


def build_type(ctx: ExportContext, run: RunNode) -> str:
    """The buildType URI: what externalParameters mean for a gitprov run or a DVC stage."""
    kind = "dvc-stage" if run.source == "dvc" else "run"
    return f"{ctx.home.rstrip('/')}/buildtypes/{kind}/v1"


def builder_id(ctx: ExportContext) -> str:
    """The builder: gitprov recording a command on the user's own machine."""
    return f"{ctx.home.rstrip('/')}/builders/local/v1"


def _digest_set(digest: str) -> dict[str, str]:
    parts = digest_parts(digest)
    if parts is None:
        raise NotACheckpointError(
            f"artifact digest {digest[:80]!r} is not of the form <algorithm>:<hex>",
            "Re-track the artifact with 'gitprov track' so that it has a sha256 digest",
        )
    return {parts[0]: parts[1]}


def _descriptor(node: ArtifactNode) -> dict[str, Any]:
    annotations: dict[str, Any] = {"kind": node.kind}
    if node.kind == "dataset":
        annotations["snapshot"] = short_id(node)
    if node.commit:
        annotations["commit"] = node.commit
    return {"name": node.path, "digest": _digest_set(node.digest), "annotations": annotations}


def _subject_and_run(graph: LineageGraph) -> tuple[list[ArtifactNode], RunNode]:
    run_id = focus_run_id(graph)
    if run_id is not None:
        run = graph.runs[run_id]
        subjects = [a for a in unique(graph.outputs_of(run_id)) if a.kind == CHECKPOINT]
        if not subjects:
            raise NotACheckpointError(
                f"run {run_id} wrote no checkpoint, and SLSA provenance describes checkpoints",
                "Export the lineage of a checkpoint instead: "
                "gitprov lineage <checkpoint path> --format intoto",
            )
        return subjects, run
    node = graph.artifacts.get(graph.focus)
    if node is None or node.kind != CHECKPOINT:
        what = f"a {node.kind} ({node.path})" if node else f"{graph.focus!r}, not an artifact"
        raise NotACheckpointError(
            f"in-toto provenance is made for a checkpoint, and the focus is {what}",
            "Run 'gitprov lineage <checkpoint path> --format intoto', or use "
            "--format prov-json or openlineage for datasets",
        )
    producers = {r.id: r for r in graph.producers_of(node.digest)}
    if not producers:
        raise NoProducingRunError(
            f"no run record produced {node.path} ({short_id(node)}), so there is no "
            "provenance to state",
            "Produce it with 'gitprov run -o <path> -- <command>' and commit the run record",
        )
    if len(producers) > 1:
        runs = ", ".join(sorted(producers))
        raise AmbiguousProvenanceError(
            f"{node.path} ({short_id(node)}) was produced by {len(producers)} runs: {runs}",
            "Export one of them: gitprov lineage run:<id> --format intoto",
        )
    return [node], next(iter(producers.values()))


def to_json(graph: LineageGraph, ctx: ExportContext) -> dict[str, Any]:
    """The in-toto Statement for the focus checkpoint (or the focus run's checkpoints).

    Raises ``NotACheckpointError`` when the focus is not a checkpoint, and
    ``NoProducingRunError`` / ``AmbiguousProvenanceError`` when not exactly one run of
    the graph produced it.
    """
    subjects, run = _subject_and_run(graph)
    dependencies: list[dict[str, Any]] = []
    if run.head:
        dependencies.append(
            {"uri": f"{git_uri(ctx.repository)}@{run.head}", "digest": {"gitCommit": run.head}}
        )
    dependencies += [_descriptor(a) for a in unique(graph.inputs_of(run.id))]
    subject_digests = {a.digest for a in subjects}
    byproducts = [
        _descriptor(a) for a in unique(graph.outputs_of(run.id)) if a.digest not in subject_digests
    ]
    internal: dict[str, Any] = {"source": run.source}
    if run.env:
        internal["environment"] = run.env
    if run.commit:
        internal["recordCommit"] = run.commit
    metadata: dict[str, Any] = {"invocationId": run.id}
    if run.started_at:
        metadata["startedOn"] = run.started_at
    if run.ended_at:
        metadata["finishedOn"] = run.ended_at
    run_details: dict[str, Any] = {
        "builder": {"id": builder_id(ctx), "version": {"gitprov": ctx.version}},
        "metadata": metadata,
    }
    if byproducts:
        run_details["byproducts"] = byproducts
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": a.path, "digest": _digest_set(a.digest)} for a in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": build_type(ctx, run),
                "externalParameters": {
                    "argv": [str(arg) for arg in run.argv],
                    "params": {str(k): str(v) for k, v in run.params.items()},
                    "seeds": [str(seed) for seed in run.seeds],
                },
                "internalParameters": internal,
                "resolvedDependencies": dependencies,
            },
            "runDetails": run_details,
        },
    }


def render(graph: LineageGraph, ctx: ExportContext) -> str:
    return dumps(to_json(graph, ctx))
