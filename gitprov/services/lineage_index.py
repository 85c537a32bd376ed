"""The lineage graph of a history as an index, and walking it from one node.

``LineageIndex`` holds the whole graph (``gitprov.model.lineage_graph.LineageGraph``) with
the adjacency a walk needs: which runs wrote and read each artifact, and what each run
read and wrote. ``services.lineage_build`` fills it from committed records; :func:`walk`
cuts out the part upstream or downstream of one node. Nodes are content-addressed, so a
cycle (a run whose output equals its input) ends the walk instead of looping.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Literal

from gitprov.model.lineage_graph import ArtifactNode, Edge, LineageGraph, Role

Direction = Literal["upstream", "downstream"]


@dataclass
class LineageIndex:
    """The whole graph of a history, with the adjacency a walk needs."""

    graph: LineageGraph
    producers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    consumers: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    inputs: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    outputs: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    warnings: list[str] = field(default_factory=list)
    lock_paths: set[str] = field(default_factory=set)
    # md5:<hex> of a DVC path -> the gitprov digests of the same path in the same commit
    aliases: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _edges: set[tuple[str, str, Role]] = field(default_factory=set)

    def add_edge(self, run: str, artifact: str, role: Role) -> None:
        if (run, artifact, role) in self._edges:
            return
        self._edges.add((run, artifact, role))
        self.graph.edges.append(Edge(run, artifact, role))
        if role == "input":
            self.inputs[run].append(artifact)
            self.consumers[artifact].append(run)
        else:
            self.outputs[run].append(artifact)
            self.producers[artifact].append(run)

    def add_artifact(self, node: ArtifactNode) -> None:
        """Keep the first sighting (earliest commit, its path); learn a size later."""
        known = self.graph.artifacts.get(node.digest)
        if known is None:
            self.graph.artifacts[node.digest] = node
        elif known.size is None and node.size is not None:
            self.graph.artifacts[node.digest] = replace(known, size=node.size)


def walk(
    index: LineageIndex, target: str, *, direction: Direction, depth: int | None
) -> tuple[LineageGraph, frozenset[str]]:
    """The part of ``index`` reachable from ``target`` in ``direction``, at most ``depth``
    runs away (a run target is the first of them); and the nodes cut off by ``depth``.

    A run target keeps its inputs and outputs both, so that an export can name what it
    read and what it wrote whichever way the query goes.
    """
    full = index.graph
    graph = LineageGraph(focus=target, direction=direction)
    upstream = direction == "upstream"
    # upstream: artifact -> the runs that wrote it -> their inputs; downstream: the reverse
    runs_of = index.producers if upstream else index.consumers
    next_of = index.inputs if upstream else index.outputs
    reached: Role = "output" if upstream else "input"  # how an artifact meets its runs
    onward: Role = "input" if upstream else "output"
    edges: set[tuple[str, str, Role]] = set()
    cut: set[str] = set()

    def edge(run: str, artifact: str, role: Role) -> None:
        if (run, artifact, role) not in edges:
            edges.add((run, artifact, role))
            graph.edges.append(Edge(run, artifact, role))
            graph.artifacts.setdefault(artifact, full.artifacts[artifact])

    frontier: list[tuple[str, str | None]]  # (run, the artifact it was reached from)
    if target in full.runs:
        frontier = [(target, None)]
        for digest in index.inputs.get(target, []) if not upstream else []:
            edge(target, digest, "input")
        for digest in index.outputs.get(target, []) if upstream else []:
            edge(target, digest, "output")
    else:
        graph.artifacts[target] = full.artifacts[target]
        frontier = [(run, target) for run in runs_of.get(target, [])]
    seen_artifacts = {target}
    level = 1
    while frontier:
        if depth is not None and level > depth:
            cut.update(artifact for _, artifact in frontier if artifact is not None)
            break
        following: list[tuple[str, str | None]] = []
        for run, via in frontier:
            if via is not None:
                edge(run, via, reached)
            if run in graph.runs:
                continue
            graph.runs[run] = full.runs[run]
            for digest in next_of.get(run, []):
                edge(run, digest, onward)
                if digest not in seen_artifacts:
                    seen_artifacts.add(digest)
                    following += [(r, digest) for r in runs_of.get(digest, [])]
        frontier = following
        level += 1
    return graph, frozenset(cut)
