"""``gitprov lineage``: the queries on the graph of artifact versions and the runs between them.

A query builds the graph of the history of ``--at`` from committed facts only
(``services.lineage_build``: run records, pointers, and ``dvc.lock`` stages joined in by
``services.lineage_dvc``), resolves its target to a node (``services.lineage_targets``)
and follows the graph upstream (what it was made from, back to the roots) or downstream
(everything made from it), up to ``depth`` runs away (``services.lineage_index.walk``).

This module owns the queries (:func:`lineage`, :func:`full_graph`, :func:`find_run`) and
their result; the pieces they are made of are re-exported here, where callers import them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters.history import History
from gitprov.errors import UsageError
from gitprov.model import runrecord
from gitprov.model.deprecation import DeprecatedUse
from gitprov.model.lineage_graph import LineageGraph
from gitprov.services import deprecation_scan
from gitprov.services.lineage_build import build_index
from gitprov.services.lineage_index import Direction, LineageIndex, walk
from gitprov.services.lineage_targets import LineageTargetError, path_revision, resolve_target

__all__ = [
    "Direction",
    "LineageIndex",
    "LineageResult",
    "LineageTargetError",
    "build_index",
    "find_run",
    "full_graph",
    "lineage",
    "resolve_target",
    "walk",
]


@dataclass(frozen=True)
class LineageResult:
    """A query's graph and where it came from.

    ``target``: the node the query started from (a digest, ``md5:<hex>`` or a run id).
    ``at``: the commit the graph was read at. ``repository``: the ``origin`` remote's URL,
    else the work tree's path (for exports). ``truncated``: nodes whose lineage goes on
    beyond ``depth``. ``warnings``: records that could not be read (left out).
    ``deprecated``: where the graph still uses a deprecated checkpoint (when asked for).
    """

    graph: LineageGraph
    target: str
    at: str
    repository: str
    truncated: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()
    deprecated: tuple[DeprecatedUse, ...] = ()


def lineage(
    *,
    cwd: Path,
    target: str,
    direction: Direction = "upstream",
    depth: int | None = None,
    at: str | None = None,
    deprecations: bool = False,
) -> LineageResult:
    """The upstream (or downstream) lineage graph of ``target``, read at ``at`` (HEAD).

    ``target``: a path or ``path@rev`` (the artifact version its pointer names there, or
    the DVC output of that path), a digest (``sha256:<hex>``, a unique prefix of one,
    ``ds:<12 hex>``, ``md5:<hex>``), or a run (``run:<ULID>`` or a unique prefix,
    ``dvc:<stage>``). Raises ``LineageTargetError`` (exit 2) with the fix when the
    target names nothing, or more than one thing. With ``deprecations``, the result
    also says where the graph uses a deprecated checkpoint (one more read of the notes).
    """
    if depth is not None and depth < 1:
        raise UsageError(f"--depth must be at least 1, got {depth}", "Pass --depth 1 or more")
    history = History(cwd)
    at_commit = history.resolve(at or "HEAD")
    rev_commit = path_revision(history, target)
    tips = [at_commit] if rev_commit in (None, at_commit) else [at_commit, rev_commit]
    index = build_index(history, tips)
    node = resolve_target(history, index, cwd, target, at=at or "HEAD")
    graph, cut = walk(index, node, direction=direction, depth=depth)
    repository = history.remote_url() or str(history.top or cwd)
    used = deprecation_scan.graph_uses(cwd, graph) if deprecations else ()
    return LineageResult(graph, node, at_commit, repository, cut, tuple(index.warnings), used)


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
