"""``gitprov review BASE..HEAD``: what a pull request changes in models, and whether to trust it.

Everything is read from the history, nothing is checked out: the diffs go from the merge
base of BASE and HEAD to HEAD (what a pull request shows), the commits are those of
``BASE..HEAD``. The pieces: artifacts and their pointers (``review_artifacts``), model
cards (``review_cards``), metrics (``review_metrics``), the upstream lineage of the changed
checkpoints as a Mermaid diagram with a node cap, decision records, the release checklist
and approvals of release-marked checkpoints, and commits without a lineage record.
"""

from __future__ import annotations

import posixpath
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from gitprov import __version__
from gitprov.adapters.history import CommitInfo, History
from gitprov.errors import GitprovError, UsageError
from gitprov.model import card as card_model
from gitprov.model import decision as decision_model
from gitprov.model.eval_record import EvalRecord
from gitprov.model.exports import mermaid
from gitprov.model.exports.context import ExportContext, layout
from gitprov.model.lineage_graph import Edge, LineageGraph
from gitprov.model.review_report import (
    ArtifactChange,
    CardDiff,
    CommitWithoutLineage,
    DecisionChange,
    LineageDiagram,
    MetricDelta,
    ReviewReport,
)
from gitprov.services import evals, lineage_repair, review_checks
from gitprov.services.lineage_build import build_index
from gitprov.services.lineage_index import walk
from gitprov.services.review_artifacts import (
    FileChange,
    artifact_changes,
    artifact_path,
    changed_files,
    is_pointer,
    read_pointer,
)
from gitprov.services.review_cards import card_diff, parsed_front
from gitprov.services.review_metrics import Key, Value, deltas, from_evals, metrics_at

DEFAULT_NODE_CAP = 30


def split_range(spec: str) -> tuple[str, str]:
    """``("BASE", "HEAD")`` of ``BASE..HEAD`` (or ``BASE...HEAD``); a missing side is HEAD."""
    if ".." not in spec:
        raise UsageError(
            f"'{spec}' is not a range",
            "Name the pull request's base and head, e.g. 'gitprov review origin/main..HEAD'",
        )
    sep = "..." if "..." in spec else ".."
    base, _, head = spec.partition(sep)
    return base or "HEAD", head or "HEAD"


def review(*, cwd: Path, rev_range: str, node_cap: int = DEFAULT_NODE_CAP) -> ReviewReport:
    """The review of ``rev_range`` (``BASE..HEAD``) in the repository at ``cwd``."""
    if node_cap < 1:
        raise UsageError(f"the node cap must be at least 1, got {node_cap}", "Pass 1 or more")
    base_rev, head_rev = split_range(rev_range)
    history = History(cwd)
    base, head = history.resolve(base_rev), history.resolve(head_rev)
    _, exclude = history.range_tips(f"{base}...{head}")
    merge_base = exclude[0] if exclude else ""
    commits = list(history.walk([head], [base]))
    notes: list[str] = []
    files = changed_files(history, merge_base or None, head)
    artifacts = artifact_changes(history, files, notes)
    card_files = [f for f in files if f.path.endswith(card_model.SUFFIX)]
    cards = [_card(history, f) for f in card_files]
    touched = _touched_checkpoints(
        history, head=head, merge_base=merge_base, files=files, cards=cards
    )
    top = history.top or cwd
    evaluations: dict[str, list[EvalRecord]] = {}
    for record in evals.all_records(top) if touched else []:
        evaluations.setdefault(record.digest, []).append(record)
    metrics = [
        row
        for pointer_path, path in touched
        for row in _metric_rows(history, evaluations, (merge_base, head), pointer_path, path)
    ]
    checks = review_checks.gather(
        cwd=top,
        head=head,
        trust_at=merge_base or head,
        pointer_paths=[p for p, _ in touched],
        notes=notes,
    )
    return ReviewReport(
        base=base_rev,
        head=head_rev,
        base_commit=base,
        head_commit=head,
        merge_base=merge_base,
        commits=len(commits),
        artifacts=tuple(artifacts),
        cards=tuple(cards),
        metrics=tuple(metrics),
        lineage=diagram(history, head, artifacts, node_cap=node_cap, notes=notes),
        decisions=tuple(_decisions(history, files, notes)),
        checklists=checks.reports,
        approvals=checks.approvals,
        without_lineage=tuple(_without_lineage(top, commits)),
        notes=tuple(notes),
    )


def _blob_text(history: History, blob: str | None) -> str | None:
    return None if blob is None else history.read_blob(blob).decode("utf-8", errors="replace")


def _card(history: History, f: FileChange) -> CardDiff:
    return card_diff(f.path, _blob_text(history, f.old), _blob_text(history, f.new))


def _touched_checkpoints(
    history: History,
    *,
    head: str,
    merge_base: str,
    files: Sequence[FileChange],
    cards: Sequence[CardDiff],
) -> list[tuple[str, str]]:
    """``(pointer path, checkpoint path)`` of each checkpoint the range touches: its
    pointer changed (a new version, or its card or stage), or its card changed."""
    found: dict[str, str] = {}
    for f in files:
        if not is_pointer(f.path):
            continue
        ptr = read_pointer(history, f.new or f.old, f.path)
        if ptr is not None and ptr.kind == "checkpoint":
            found[f.path] = artifact_path(f.path, ptr)
    for card in cards:
        for commit in (head, merge_base):
            if not commit:
                continue
            target = _card_checkpoint(history, commit, card.path)
            if target is not None:
                found.setdefault(target + ".gitprov", target)
                break
    return sorted(found.items(), key=lambda item: item[1])


def _card_checkpoint(history: History, commit: str, path: str) -> str | None:
    """The checkpoint a card at ``commit`` pins (its ``gitprov.checkpoint.path``)."""
    text = history.blob_at(commit, path)
    if text is None:
        return None
    front = parsed_front(text.decode("utf-8", errors="replace"))
    block = front.get("gitprov") if front is not None else None
    checkpoint = block.get("checkpoint") if isinstance(block, dict) else None
    target = checkpoint.get("path") if isinstance(checkpoint, dict) else None
    if isinstance(target, str) and target:
        return target
    # No block: the card's own name, beside a checkpoint of the same stem.
    stem = posixpath.basename(path)[: -len(card_model.SUFFIX)]
    folder = posixpath.dirname(path)
    for name, _, kind in _listing(history, commit, folder):
        if kind == "blob" and name.startswith(stem + ".") and name.endswith(".gitprov"):
            return posixpath.join(folder, name[: -len(".gitprov")])
    return None


def _listing(history: History, commit: str, folder: str) -> list[tuple[str, str, str]]:
    if not folder:
        return history.list_tree(commit)
    entry = history.entry_at(commit, folder)
    return history.list_tree(entry[0]) if entry and entry[1] == "tree" else []


def _metric_rows(
    history: History,
    evaluations: dict[str, list[EvalRecord]],
    commits: tuple[str, str],
    pointer_path: str,
    path: str,
) -> list[MetricDelta]:
    """Base-vs-head metric rows of one checkpoint; ``commits``: (merge base, head)."""
    sides: list[dict[Key, Value]] = []
    for commit in commits:
        if not commit:
            sides.append({})
            continue
        values = metrics_at(history, commit, pointer_path)
        digest = _digest_at(history, commit, pointer_path)
        if digest is not None:
            values.update(from_evals(evaluations.get(digest, [])))
        sides.append(values)
    return deltas(path, sides[0], sides[1])


def _digest_at(history: History, commit: str, pointer_path: str) -> str | None:
    entry = history.entry_at(commit, pointer_path)
    ptr = read_pointer(history, entry[0] if entry and entry[1] == "blob" else None, pointer_path)
    return ptr.digest if ptr else None


def _decisions(
    history: History, files: Sequence[FileChange], notes: list[str]
) -> list[DecisionChange]:
    out = []
    for f in files:
        folder, name = posixpath.split(f.path)
        if folder != decision_model.DECISIONS_DIR or decision_model.id_of_path(name) is None:
            continue
        sides = []
        for blob in (f.old, f.new):
            text = _blob_text(history, blob)
            try:
                sides.append(None if text is None else decision_model.parse(text, source=f.path)[0])
            except GitprovError as exc:
                notes.append(f"{f.path}: {exc.problem}; shown without its status")
                sides.append(None)
        old, new = sides
        shown = new or old
        if shown is None:
            continue
        out.append(
            DecisionChange(
                id=shown.id,
                title=shown.title,
                status=new.status if new else "removed",
                old_status=old.status if old else None,
                path=f.path,
            )
        )
    return out


def _without_lineage(top: Path, commits: Sequence[CommitInfo]) -> list[CommitWithoutLineage]:
    if not commits:
        return []
    missing = set(lineage_repair.missing(cwd=top, commits=[c.id for c in commits]))
    return [
        CommitWithoutLineage(c.id, c.message.split("\n", 1)[0])
        for c in reversed(commits)  # oldest first, as a pull request lists them
        if c.id in missing
    ]


# -- the lineage diagram -------------------------------------------------------------------


def diagram(
    history: History,
    head: str,
    artifacts: Sequence[ArtifactChange],
    *,
    node_cap: int,
    notes: list[str],
) -> LineageDiagram | None:
    """The upstream lineage of the checkpoints the range adds or changes, at ``head``, as
    one Mermaid flowchart of at most ``node_cap`` nodes (a ``+N more`` node says how many
    were left out). None when no checkpoint changed."""
    focuses = [
        a.new_digest for a in artifacts if a.kind == "checkpoint" and a.new_digest is not None
    ]
    if not focuses:
        return None
    index = build_index(history, [head])
    merged = LineageGraph(focus=focuses[0])
    seen_edges: set[tuple[str, str, str]] = set()
    for digest in focuses:
        if digest not in index.graph.artifacts:
            continue
        graph, _ = walk(index, digest, direction="upstream", depth=None)
        merged.artifacts.update(graph.artifacts)
        merged.runs.update(graph.runs)
        for e in graph.edges:
            if (e.run, e.artifact, e.role) not in seen_edges:
                seen_edges.add((e.run, e.artifact, e.role))
                merged.edges.append(e)
    notes.extend(index.warnings)
    return render_diagram(merged, focuses, node_cap=node_cap, head=head)


def render_diagram(
    merged: LineageGraph, focuses: Sequence[str], *, node_cap: int, head: str = ""
) -> LineageDiagram:
    """``merged`` as Mermaid, capped to ``node_cap`` nodes, every focus marked."""
    shown, hidden = capped(merged, focuses, node_cap)
    # The export context is unused by Mermaid (a diagram names no time or place).
    ctx = ExportContext("", head, __version__, datetime(1970, 1, 1, tzinfo=UTC))
    text = mermaid.render(shown, ctx)
    plan = layout(shown)
    extra = [plan.ids[d] for d in focuses[1:] if d in plan.ids]
    lines = text.rstrip("\n").split("\n")
    if extra:
        lines.append(f"    class {','.join(extra)} focus")
    if hidden:
        lines.append(f'    more["+{hidden} more"]')
    nodes = len(shown.artifacts) + len(shown.runs)
    return LineageDiagram("\n".join(lines) + "\n", nodes, hidden)


def capped(graph: LineageGraph, focuses: Sequence[str], cap: int) -> tuple[LineageGraph, int]:
    """``graph`` cut to the ``cap`` nodes nearest the focuses (breadth first, upstream),
    and how many nodes were left out. Edges are kept between kept nodes only."""
    total = len(graph.artifacts) + len(graph.runs)
    if total <= cap:
        return graph, 0
    producers: dict[str, list[str]] = {}
    inputs: dict[str, list[str]] = {}
    for e in graph.edges:
        if e.role == "output":
            producers.setdefault(e.artifact, []).append(e.run)
        else:
            inputs.setdefault(e.run, []).append(e.artifact)
    kept: list[str] = []
    seen: set[str] = set()
    queue = deque(d for d in focuses if d in graph.artifacts)
    while queue and len(kept) < cap:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        kept.append(node)
        queue.extend(producers.get(node, []) if node in graph.artifacts else inputs.get(node, []))
    keep = set(kept)
    out = LineageGraph(focus=graph.focus, direction=graph.direction)
    out.artifacts = {k: v for k, v in graph.artifacts.items() if k in keep}
    out.runs = {k: v for k, v in graph.runs.items() if k in keep}
    out.edges = [
        Edge(e.run, e.artifact, e.role) for e in graph.edges if {e.run, e.artifact} <= keep
    ]
    return out, total - len(keep)
