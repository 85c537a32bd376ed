"""DVC pipelines in the lineage graph: ``dvc.lock`` stages joined to gitprov artifacts.

Each DVC stage becomes a run (``dvc:<stage>@<commit12>``) and the md5s it read and wrote
become artifacts ``md5:<hex>``. When a DVC output's path is also a gitprov artifact in the
same commit (a pointer, or a run's input or output), the stage is linked to that artifact
as well (``LineageIndex.aliases``), so lineage flows from DVC pipelines into gitprov runs.
Also here: what a path's pointer, or a ``dvc.lock`` entry of it, names in one commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from gitprov.adapters.history import Found, History
from gitprov.errors import GitprovError
from gitprov.model import dvclock
from gitprov.model import pointer as pointers
from gitprov.model.lineage_graph import ArtifactNode, RunNode
from gitprov.services.lineage_index import LineageIndex


def add_dvc(
    history: History, index: LineageIndex, locks: list[Found], runs: dict[str, Found]
) -> None:
    """Join the stages of ``locks`` (every ``dvc.lock`` the scan found) into ``index``, linked
    to the gitprov ``runs`` (run id -> where its record is) and pointers at the same paths."""
    join = _DvcJoin(history, index)
    for lock in locks:
        index.lock_paths.add(lock.path)
        join.link_pointers(lock)
    for run_id, found in runs.items():
        join.link_run(run_id, found.commit)
    seen: set[tuple[object, ...]] = set()
    for lock in locks:
        for stage in join.stages(lock.blob, lock.path, lock.commit):
            if stage.key() not in seen:  # else unchanged since an earlier dvc.lock
                seen.add(stage.key())
                join.add_stage(stage, lock.commit)


class _DvcJoin:
    """DVC stages into the graph, linked to gitprov artifacts at the same paths."""

    def __init__(self, history: History, index: LineageIndex) -> None:
        self.history, self.index = history, index
        self.parsed: dict[str, list[dvclock.DvcStage]] = {}
        self.aliases = index.aliases

    def stages(self, blob: str, path: str, commit: str) -> list[dvclock.DvcStage]:
        if blob not in self.parsed:
            try:
                text = self.history.read_blob(blob).decode("utf-8")
                self.parsed[blob] = dvclock.parse(text, lock_path=path)
            except (ValueError, UnicodeDecodeError) as exc:
                problem = f"{path}@{commit[:12]}: {exc}; left out of the graph"
                self.index.warnings.append(problem)
                self.parsed[blob] = []
        return self.parsed[blob]

    def link_pointers(self, lock: Found) -> None:
        """A DVC path that also has a gitprov pointer in the lock's commit."""
        for stage in self.stages(lock.blob, lock.path, lock.commit):
            for ref in (*stage.deps, *stage.outs):
                digest = pointer_digest(self.history, lock.commit, ref.path)
                if digest is not None:
                    self.aliases[ref.artifact_id].add(digest)

    def link_run(self, run_id: str, commit: str) -> None:
        """A gitprov run that read or wrote a path of a dvc.lock in its record's commit."""
        by_path: dict[str, str] = {}
        for lock_path in self.index.lock_paths:
            entry = self.history.entry_at(commit, lock_path)
            if entry is not None and entry[1] == "blob":
                for stage in self.stages(entry[0], lock_path, commit):
                    by_path.update({r.path: r.artifact_id for r in (*stage.deps, *stage.outs)})
        index = self.index
        for digest in (*index.inputs.get(run_id, ()), *index.outputs.get(run_id, ())):
            path = index.graph.artifacts[digest].path
            if path in by_path:
                self.aliases[by_path[path]].add(digest)

    def add_stage(self, stage: dvclock.DvcStage, commit: str) -> None:
        run_id = f"dvc:{stage.name}@{commit[:12]}"
        self.index.graph.runs[run_id] = RunNode(
            id=run_id, argv=stage.argv, source="dvc", commit=commit, params=stage.params
        )
        for refs, role in ((stage.deps, "input"), (stage.outs, "output")):
            for ref in refs:
                kind = "dataset" if ref.is_dir else "artifact"
                node = ArtifactNode(ref.artifact_id, kind, ref.path, commit, ref.size)
                self.index.add_artifact(node)
                for digest in (ref.artifact_id, *sorted(self.aliases.get(ref.artifact_id, ()))):
                    self.index.add_edge(run_id, digest, role)  # type: ignore[arg-type]


def pointer_digest(history: History, commit: str, path: str) -> str | None:
    """The digest the pointer of ``path`` names in ``commit``; None when it has none
    there, or an unreadable one."""
    data = history.blob_at(commit, path + pointers.SUFFIX)
    if data is None:
        return None
    try:
        return pointers.parse_fields(data.decode("utf-8"), source=path).digest
    except (GitprovError, UnicodeDecodeError):
        return None


def dvc_path(history: History, commit: str, rel: str, locks: Iterable[str]) -> str | None:
    """``md5:<hex>`` of ``rel`` as a ``dvc.lock`` in ``commit`` records it (a stage's output,
    else a dependency), or None."""
    deps = None
    for lock in sorted(locks):
        data = history.blob_at(commit, lock)
        try:
            stages = dvclock.parse(data.decode("utf-8"), lock_path=lock) if data else []
        except (ValueError, UnicodeDecodeError):
            stages = []
        for stage in stages:
            for ref in stage.outs:
                if ref.path == rel:
                    return ref.artifact_id
            deps = deps or next((r.artifact_id for r in stage.deps if r.path == rel), None)
    return deps
