"""Building the lineage graph of a history: every committed fact read once into an index.

The graph holds only committed facts, each blob read once from the history of the tips:

- run records ``.gitprov/runs/<id>.json``: a run read its inputs and wrote its outputs;
- pointers ``<path>.gitprov``: where an artifact version lives, its kind and size, and the
  first commit that has it; ``produced_by`` links it to its run as well;
- ``dvc.lock`` files: joined in by ``services.lineage_dvc``;
- decision records ``decisions/*.md`` at the tips: a run's decisions are those of the
  ``Decision:`` trailers of the commit that added its record, then those whose
  ``[links] runs`` names it.

A record or pointer that cannot be read is left out, with a warning on the index.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import replace

from gitprov.adapters.history import Found, History
from gitprov.errors import GitprovError
from gitprov.model import commit_record, dvclock, runrecord
from gitprov.model import decision as decision_model
from gitprov.model import pointer as pointers
from gitprov.model.lineage_graph import ArtifactNode, LineageGraph, RunNode
from gitprov.services.lineage_dvc import add_dvc
from gitprov.services.lineage_index import LineageIndex


def _wanted(path: str) -> bool:
    if path.startswith(".gitprov/"):
        return path.startswith(runrecord.RUNS_DIR + "/") and path.endswith(".json")
    name = posixpath.basename(path)
    return name == dvclock.LOCK_NAME or (name.endswith(pointers.SUFFIX) and name != ".gitprov")


def _skip(path: str) -> bool:
    # Inside .gitprov/ only the run records matter (not envs/, not config).
    return path.startswith(".gitprov/") and path != runrecord.RUNS_DIR


def build_index(history: History, tips: Sequence[str]) -> LineageIndex:
    """The graph of every run record, pointer and ``dvc.lock`` in the history of ``tips``."""
    index = LineageIndex(LineageGraph(focus=""))
    runs: dict[str, Found] = {}
    locks: list[Found] = []
    produced_by: list[tuple[str, str]] = []
    for found in history.scan(tips, _wanted, skip=_skip):
        if found.path.startswith(".gitprov/"):
            if _add_run(history, index, found):
                runs[runrecord.run_id_of(posixpath.basename(found.path)[:-5])] = found
        elif posixpath.basename(found.path) == dvclock.LOCK_NAME:
            locks.append(found)
        else:
            made = _add_pointer(history, index, found)
            if made is not None:
                produced_by.append(made)
    for digest, run in produced_by:  # a pointer may name its run where the record did not
        if run in index.graph.runs:
            index.add_edge(run, digest, "output")
    add_dvc(history, index, locks, runs)
    _add_linked_decisions(history, index, tips)
    return index


def _add_linked_decisions(history: History, index: LineageIndex, tips: Sequence[str]) -> None:
    """Add to each run the decisions at ``tips`` whose ``[links] runs`` name it."""
    for tip in tips:
        folder = history.entry_at(tip, decision_model.DECISIONS_DIR)
        if folder is None or folder[1] != "tree":
            continue
        for name, blob, kind in history.list_tree(folder[0]):
            if kind != "blob" or decision_model.id_of_path(name) is None:
                continue
            source = f"{decision_model.DECISIONS_DIR}/{name}@{tip[:12]}"
            try:
                text = history.read_blob(blob).decode("utf-8")
                decision, _, _ = decision_model.parse(text, source=source)
            except (GitprovError, UnicodeDecodeError) as exc:
                index.warnings.append(f"{exc}; its links are left out of the graph")
                continue
            for run_id in decision.links.get("runs", ()):
                node = index.graph.runs.get(run_id)
                if node is not None and decision.id not in node.decisions:
                    decisions = (*node.decisions, decision.id)
                    index.graph.runs[run_id] = replace(node, decisions=decisions)


def _add_run(history: History, index: LineageIndex, found: Found) -> bool:
    source = f"{found.path}@{found.commit[:12]}"
    try:
        record = runrecord.loads(history.read_blob(found.blob), source=source)
    except GitprovError as exc:
        index.warnings.append(f"{exc.problem}; left out of the graph")
        return False
    if record.id in index.graph.runs:
        return False  # the same run in a later commit (or an edited copy): first one wins
    message = history.commit_message(found.commit)
    index.graph.runs[record.id] = RunNode(
        id=record.id,
        argv=record.argv,
        commit=found.commit,
        head=record.head,
        params=dict(record.params),
        seeds=record.seeds,
        metrics=dict(record.metrics),
        env=record.env,
        started_at=record.started_at,
        ended_at=record.ended_at,
        user=record.user,
        message=record.message,
        decisions=tuple(commit_record.trailer_values(message, commit_record.DECISION_TRAILER)),
    )
    for refs, role in ((record.inputs, "input"), (record.outputs, "output")):
        for ref in refs:
            index.add_artifact(ArtifactNode(ref.digest, ref.kind, ref.path, found.commit))
            index.add_edge(record.id, ref.digest, role)  # type: ignore[arg-type]
    return True


def _add_pointer(history: History, index: LineageIndex, found: Found) -> tuple[str, str] | None:
    """Add the artifact version a pointer names; ``(digest, run id)`` when it names its run."""
    try:
        text = history.read_blob(found.blob).decode("utf-8")
        ptr = pointers.parse_fields(text, source=f"{found.path}@{found.commit[:12]}")
    except (GitprovError, UnicodeDecodeError) as exc:
        index.warnings.append(f"{exc}; left out of the graph")
        return None
    path = posixpath.join(posixpath.dirname(found.path), ptr.path)
    index.add_artifact(ArtifactNode(ptr.digest, ptr.kind, path, found.commit, ptr.size))
    if ptr.produced_by and ptr.produced_by.startswith(runrecord.RUN_PREFIX):
        return ptr.digest, runrecord.run_id_of(ptr.produced_by)
    return None
