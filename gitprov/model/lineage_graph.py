"""The lineage graph: artifact versions and the runs that read and wrote them.

Built by ``gitprov.services.lineage`` from committed run records, pointers, lineage notes
and ``dvc.lock``; rendered as text, JSON, Mermaid or DOT, and exported to PROV-JSON,
in-toto/SLSA and OpenLineage. Nodes are identified by content: an artifact version by its
digest, a run by its id, so the same checkpoint reached along two paths is one node.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["input", "output"]
RunSource = Literal["gitprov", "dvc"]


@dataclass(frozen=True)
class ArtifactNode:
    """One version of an artifact. ``commit`` is where it first appears at ``path``."""

    digest: str  # sha256:... (for DVC outputs, "md5:<hex>" as DVC wrote it)
    kind: str  # checkpoint | dataset | artifact
    path: str  # relative to the work tree top
    commit: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class RunNode:
    """A run: a ``gitprov run`` record, or a DVC stage from ``dvc.lock``."""

    id: str  # ULID for gitprov runs; "dvc:<stage>@<commit12>" for DVC stages
    argv: tuple[str, ...]
    source: RunSource = "gitprov"
    commit: str | None = None  # the commit that added the record
    head: str | None = None  # the code state the run started from
    params: Mapping[str, str] = field(default_factory=dict)
    seeds: tuple[str, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)
    env: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    user: str = ""
    message: str = ""
    decisions: tuple[str, ...] = ()  # from the Decision: trailers of ``commit``


@dataclass(frozen=True)
class Edge:
    run: str  # RunNode.id
    artifact: str  # ArtifactNode.digest
    role: Role  # input: the run read it; output: the run wrote it


@dataclass
class LineageGraph:
    """Nodes and edges; ``focus`` is the node the query started from (digest or run id)."""

    focus: str
    direction: Literal["upstream", "downstream"] = "upstream"
    artifacts: dict[str, ArtifactNode] = field(default_factory=dict)
    runs: dict[str, RunNode] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def inputs_of(self, run_id: str) -> Iterator[ArtifactNode]:
        for e in self.edges:
            if e.run == run_id and e.role == "input":
                yield self.artifacts[e.artifact]

    def outputs_of(self, run_id: str) -> Iterator[ArtifactNode]:
        for e in self.edges:
            if e.run == run_id and e.role == "output":
                yield self.artifacts[e.artifact]

    def producers_of(self, digest: str) -> Iterator[RunNode]:
        for e in self.edges:
            if e.artifact == digest and e.role == "output":
                yield self.runs[e.run]

    def consumers_of(self, digest: str) -> Iterator[RunNode]:
        for e in self.edges:
            if e.artifact == digest and e.role == "input":
                yield self.runs[e.run]
