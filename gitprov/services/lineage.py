"""``gitprov lineage``: the graph of artifact versions and the runs between them.

The graph holds only committed facts, each blob read once from the history of ``--at``:

- run records ``.gitprov/runs/<id>.json``: a run read its inputs and wrote its outputs;
- pointers ``<path>.gitprov``: where an artifact version lives, its kind and size, and the
  first commit that has it; ``produced_by`` links it to its run as well;
- ``dvc.lock`` files: each DVC stage becomes a run (``dvc:<stage>@<commit12>``) and the
  md5s it read and wrote become artifacts ``md5:<hex>``. When a DVC output's path is also a
  gitprov artifact in the same commit (a pointer, or a run's input or output), the stage is
  linked to that artifact as well, so lineage flows from DVC pipelines into gitprov runs.

A query starts from a target (a path, ``path@rev``, a digest or a run id) and follows the
graph upstream (what it was made from, back to the roots) or downstream (everything made
from it), up to ``depth`` runs away. Nodes are content-addressed, so a cycle (a run whose
output equals its input) ends the walk instead of looping.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from gitprov.adapters.history import Found, History
from gitprov.errors import GitprovError, UsageError
from gitprov.model import commit_record, dvclock, runrecord
from gitprov.model import digest as digests
from gitprov.model import pointer as pointers
from gitprov.model.lineage_graph import ArtifactNode, Edge, LineageGraph, Role, RunNode
from gitprov.services.lineage_log import relative_path

Direction = Literal["upstream", "downstream"]
_MIN_PREFIX = 6  # hex digits (or ULID characters) a short digest or run id needs


class LineageTargetError(UsageError):
    """The lineage target names nothing, or more than one thing (exit 2)."""


@dataclass(frozen=True)
class LineageResult:
    """A query's graph and where it came from.

    ``target``: the node the query started from (a digest, ``md5:<hex>`` or a run id).
    ``at``: the commit the graph was read at. ``repository``: the ``origin`` remote's URL,
    else the work tree's path (for exports). ``truncated``: nodes whose lineage goes on
    beyond ``depth``. ``warnings``: records that could not be read (left out).
    """

    graph: LineageGraph
    target: str
    at: str
    repository: str
    truncated: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()


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


# --- building the graph -------------------------------------------------------------------


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
    _add_dvc(history, index, locks, runs)
    return index


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


def _add_dvc(
    history: History, index: LineageIndex, locks: list[Found], runs: dict[str, Found]
) -> None:
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
                digest = _pointer_digest(self.history, lock.commit, ref.path)
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


def _pointer_digest(history: History, commit: str, path: str) -> str | None:
    data = history.blob_at(commit, path + pointers.SUFFIX)
    if data is None:
        return None
    try:
        return pointers.parse_fields(data.decode("utf-8"), source=path).digest
    except (GitprovError, UnicodeDecodeError):
        return None


# --- walking it ---------------------------------------------------------------------------


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


# --- the queries --------------------------------------------------------------------------


def lineage(
    *,
    cwd: Path,
    target: str,
    direction: Direction = "upstream",
    depth: int | None = None,
    at: str | None = None,
) -> LineageResult:
    """The upstream (or downstream) lineage graph of ``target``, read at ``at`` (HEAD).

    ``target``: a path or ``path@rev`` (the artifact version its pointer names there, or
    the DVC output of that path), a digest (``sha256:<hex>``, a unique prefix of one,
    ``ds:<12 hex>``, ``md5:<hex>``), or a run (``run:<ULID>`` or a unique prefix,
    ``dvc:<stage>``). Raises ``LineageTargetError`` (exit 2) with the fix when the
    target names nothing, or more than one thing.
    """
    if depth is not None and depth < 1:
        raise UsageError(f"--depth must be at least 1, got {depth}", "Pass --depth 1 or more")
    history = History(cwd)
    at_commit = history.resolve(at or "HEAD")
    rev_commit = _path_revision(history, target)
    tips = [at_commit] if rev_commit in (None, at_commit) else [at_commit, rev_commit]
    index = build_index(history, tips)
    node = resolve_target(history, index, cwd, target, at=at or "HEAD")
    graph, cut = walk(index, node, direction=direction, depth=depth)
    repository = history.remote_url() or str(history.top or cwd)
    return LineageResult(graph, node, at_commit, repository, cut, tuple(index.warnings))


def full_graph(*, cwd: Path, at: str | None = None) -> LineageIndex:
    """Every run, artifact and edge in the history of ``at`` (HEAD)."""
    history = History(cwd)
    return build_index(history, [history.resolve(at or "HEAD")])


def find_run(*, cwd: Path, run: str, at: str | None = None) -> tuple[runrecord.RunRecord, str]:
    """The run record that ``run`` (``run:<ULID>``, a ULID or a unique prefix) names in the
    history of ``at`` (HEAD), and the commit that added it."""
    history = History(cwd)
    index = build_index(history, [history.resolve(at or "HEAD")])
    run_id = resolve_target(history, index, cwd, _as_run(run), at=at or "HEAD")
    node = index.graph.runs[run_id]
    if node.source != "gitprov" or node.commit is None:
        raise LineageTargetError(
            f"{run} is a DVC stage, not a gitprov run", "Re-run it with 'dvc repro'"
        )
    data = history.blob_at(node.commit, runrecord.record_path(run_id))
    if data is None:  # pragma: no cover - the index found it there
        raise LineageTargetError(f"run {run_id} vanished", "Retry")
    return runrecord.loads(data, source=runrecord.record_path(run_id)), node.commit


def _as_run(text: str) -> str:
    return text if text.startswith((runrecord.RUN_PREFIX, "dvc:")) else runrecord.RUN_PREFIX + text


# --- targets ------------------------------------------------------------------------------


def _path_revision(history: History, target: str) -> str | None:
    """The commit of a ``path@rev`` target (None for other targets)."""
    if "@" not in target or target.startswith(_ID_PREFIXES):
        return None
    return history.resolve(target.split("@", 1)[1])


_ID_PREFIXES = (runrecord.RUN_PREFIX, "dvc:", digests.PREFIX, "ds:", dvclock.MD5_PREFIX)


def resolve_target(
    history: History, index: LineageIndex, cwd: Path, target: str, *, at: str
) -> str:
    """The node of ``index`` (digest or run id) that ``target`` names; see :func:`lineage`.

    A path is read at ``at`` unless written ``path@rev``: its pointer there, else the
    ``dvc.lock`` entry of that path there (by the gitprov digest of the same bytes when
    gitprov knows one, see ``LineageIndex.aliases``).
    """
    graph = index.graph
    if target.startswith((runrecord.RUN_PREFIX, "dvc:")) or _is_ulid(target):
        return _unique_run(graph, target)
    if target.startswith((digests.PREFIX, "ds:", dvclock.MD5_PREFIX)):
        return _unique_digest(graph, target)
    path, _, rev = target.partition("@")
    rev = rev or at
    commit = history.resolve(rev)
    rel = relative_path(history.top or cwd, cwd, path)
    digest = _pointer_digest(history, commit, rel)
    if digest is None:
        digest = _dvc_path(history, commit, rel, index.lock_paths)
        same = sorted(index.aliases.get(digest, ())) if digest else []
        if len(same) == 1:  # a DVC output that gitprov knows by its sha256 too
            digest = same[0]
    if digest is not None and digest in graph.artifacts:
        return digest
    explicit = "@" in target
    where = f" at {rev}" if explicit else ""
    tracked_here = (history.top or cwd).joinpath(rel + pointers.SUFFIX).is_file()
    if digest is None and not explicit and tracked_here:
        raise LineageTargetError(
            f"{rel} is tracked in the work tree but not in commit {rev}",
            f"Commit {rel}{pointers.SUFFIX} first: lineage reads committed records only",
        )
    raise LineageTargetError(
        f"{rel} is not a tracked artifact{where} (no {rel}{pointers.SUFFIX} and no "
        "dvc.lock output of that path there)",
        f"Name a tracked path (see 'gitprov status'), a commit where it was tracked "
        f"('{rel}@<rev>'; 'git log -- {rel}{pointers.SUFFIX}' lists them), a digest or "
        "a run:<id>",
    )


def _is_ulid(text: str) -> bool:
    from gitprov.model.notes import CROCKFORD, ULID_LENGTH  # noqa: PLC0415

    return len(text) == ULID_LENGTH and all(c in CROCKFORD for c in text.upper())


def _unique_run(graph: LineageGraph, target: str) -> str:
    wanted = runrecord.run_id_of(target).upper() if not target.startswith("dvc:") else target
    if wanted in graph.runs:
        return wanted
    matches = sorted(r for r in graph.runs if r.startswith(wanted) or r.upper() == wanted)
    if len(matches) == 1 and (len(wanted) >= _MIN_PREFIX or wanted.startswith("dvc:")):
        return matches[0]
    if len(matches) > 1:
        raise LineageTargetError(
            f"'{target}' matches {len(matches)} runs: {', '.join(matches[:5])}"
            + (", ..." if len(matches) > 5 else ""),
            "Give more characters of the run id",
        )
    raise LineageTargetError(
        f"no run '{target}' in the history of this commit",
        "Check the id with 'gitprov log' (run ids are listed under each commit)",
    )


def _unique_digest(graph: LineageGraph, target: str) -> str:
    if target in graph.artifacts:
        return target
    ds = target.startswith("ds:")
    prefix = digests.PREFIX + target[3:].lower() if ds else target.lower()
    hex_length = len(prefix.partition(":")[2])
    matches = sorted(d for d in graph.artifacts if d.startswith(prefix))
    if len(matches) == 1 and hex_length >= _MIN_PREFIX:
        return matches[0]
    if len(matches) > 1:
        shown = ", ".join(f"{d[:19]} ({graph.artifacts[d].path})" for d in matches[:5])
        raise LineageTargetError(
            f"'{target}' matches {len(matches)} artifacts: {shown}"
            + (", ..." if len(matches) > 5 else ""),
            "Give more digits of the digest, or name the path",
        )
    if matches:
        raise LineageTargetError(
            f"'{target}' is too short to name an artifact",
            f"Give at least {_MIN_PREFIX} hex digits",
        )
    raise LineageTargetError(
        f"no artifact with digest '{target}' in the history of this commit",
        "Check the digest with 'gitprov status' or 'gitprov log', or name the path",
    )


def _dvc_path(history: History, commit: str, rel: str, locks: Iterable[str]) -> str | None:
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
