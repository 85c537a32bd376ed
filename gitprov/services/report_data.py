"""What the HTML report shows, gathered from the services the CLI uses (no second model).

Runs and artifact versions come from ``gitprov log`` (``services.lineage_log``) over the
report's revision range; run details (times, user, metrics) and the graph from
``services.lineage.full_graph``; decisions from ``services.decision_queries``; cards,
evaluations, approvals, releases, deprecations and the release checklist from their own
services. A part that cannot be read (no card yet, no owners file) is left out of its
page with the reason, never fatal: a report of a young repository is still a report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from gitprov.errors import GitprovError
from gitprov.model.checklist import Report as ChecklistReport
from gitprov.model.deprecation import Deprecation
from gitprov.model.eval_record import EvalRecord
from gitprov.model.lineage_graph import RunNode
from gitprov.services import (
    approvals,
    cards,
    checklist,
    decision_queries,
    deprecation,
    evals,
    lineage,
    lineage_log,
    release_verify,
)
from gitprov.services.approvals import VerifiedApproval
from gitprov.services.decision_queries import DecisionView
from gitprov.services.lineage_index import LineageIndex
from gitprov.services.log_entry import LogEntry, RunView
from gitprov.services.release_verify import ReleaseVerdict

T = TypeVar("T")


@dataclass(frozen=True)
class RunRow:
    """A run of the range: what ``gitprov log`` says and what the lineage graph adds."""

    view: RunView
    entry: LogEntry  # the commit that records it
    node: RunNode | None  # None for a run the graph of HEAD does not have


@dataclass(frozen=True)
class Version:
    """One version of a tracked path: the commit of the range where it appeared."""

    digest: str | None  # None: deleted
    commit: str
    date: str
    change: str


@dataclass(frozen=True)
class Card:
    """A checkpoint's model card: its text, or why there is none; the card's problems."""

    text: str | None
    display: str = ""
    problems: tuple[str, ...] = ()
    missing: str = ""


@dataclass(frozen=True)
class CheckpointFacts:
    """Everything a checkpoint page shows, each from its own service."""

    path: str
    digest: str | None  # the latest version in the range (None: deleted)
    card: Card
    evaluations: tuple[EvalRecord, ...]
    approvals: tuple[VerifiedApproval, ...]
    releases: tuple[ReleaseVerdict, ...]
    deprecations: tuple[Deprecation, ...]
    notes: tuple[str, ...] = ()  # parts left out, and why


@dataclass(frozen=True)
class ReportData:
    """The whole report. ``kinds``: the kind of every path in ``versions``."""

    top: Path
    rev_range: str
    runs: tuple[RunRow, ...]
    versions: dict[str, list[Version]]
    kinds: dict[str, str]
    index: LineageIndex | None
    checkpoints: tuple[CheckpointFacts, ...]
    decisions: tuple[DecisionView, ...]
    checklist: tuple[ChecklistReport, ...]
    deprecations: tuple[Deprecation, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)


def gather(*, top: Path, rev_range: str | None = None) -> ReportData:
    """Read everything the report shows from the repository at ``top``."""
    warnings: list[str] = []
    args = [rev_range] if rev_range else []
    entries = list(lineage_log.log(cwd=top, args=args))
    index = lineage.full_graph(cwd=top) if entries or rev_range else None
    runs: list[RunRow] = []
    versions: dict[str, list[Version]] = {}
    kinds: dict[str, str] = {}
    for entry in entries:  # newest first
        warnings.extend(entry.warnings)
        for view in entry.runs:
            node = index.graph.runs.get(view.id) if index else None
            runs.append(RunRow(view, entry, node))
        for change in entry.artifacts:
            known = versions.setdefault(change.path, [])
            version = Version(change.digest, entry.commit, entry.date, change.change)
            if known and known[-1].digest == change.digest:
                # The pointer changed, not the bytes (a card named, a release stage set):
                # the same version, which appeared at this older commit.
                known[-1] = version
            else:
                known.append(version)
            kinds.setdefault(change.path, change.kind)
    deprecated = tuple(_or_empty(lambda: deprecation.deprecations(cwd=top), warnings))
    evaluated = _or_empty(lambda: evals.all_records(top), warnings) if entries else []
    checkpoints = tuple(
        _checkpoint(top, path, history[0].digest, deprecated, evaluated)
        for path, history in sorted(versions.items())
        if kinds[path] == "checkpoint"
    )
    # show() builds the lineage graph of HEAD again for each decision (7 s at 10,000
    # commits without notes): the cost of reading decisions exactly as the CLI does.
    decisions = tuple(
        decision_queries.show(cwd=top, ident=r.decision.id)
        for r in _or_empty(lambda: decision_queries.list_records(cwd=top), warnings)
    )
    reports = tuple(_or_empty(lambda: checklist.run(cwd=top), warnings))
    if index is not None:
        warnings.extend(index.warnings)
    return ReportData(
        top,
        rev_range or "HEAD",
        tuple(runs),
        versions,
        kinds,
        index,
        checkpoints,
        decisions,
        reports,
        deprecated,
        tuple(dict.fromkeys(warnings)),
    )


def _or_empty(read: Callable[[], list[T]], warnings: list[str]) -> list[T]:
    try:
        return read()
    except GitprovError as exc:
        warnings.append(exc.problem)
        return []


def _checkpoint(
    top: Path,
    path: str,
    digest: str | None,
    deprecated: tuple[Deprecation, ...],
    evaluated: list[EvalRecord],
) -> CheckpointFacts:
    """``evaluated``: every evaluation record (``evals.all_records``); the chart spans
    this path's versions, and the versions of it that were evaluated under another path."""
    notes: list[str] = []
    card = _card(top, path) if digest else Card(None, missing="the checkpoint was deleted")
    evaluations = [r for r in evaluated if r.checkpoint == path or r.digest == digest]
    verified = _or_empty(lambda: approvals.verified_approvals(top, path), notes) if digest else []
    released = _or_empty(lambda: release_verify.releases(cwd=top, checkpoint=path), notes)
    return CheckpointFacts(
        path,
        digest,
        card,
        tuple(sorted(evaluations, key=lambda r: (r.at, r.id))),
        tuple(verified),
        tuple(released),
        tuple(d for d in deprecated if d.checkpoint == path),
        tuple(notes),
    )


def _card(top: Path, path: str) -> Card:
    try:
        report = cards.validate(cwd=top, checkpoint=path)
    except GitprovError as exc:
        return Card(None, missing=exc.problem)
    try:
        text = report.card.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Card(None, display=report.card.display, missing=f"cannot read it: {exc}")
    return Card(text, report.card.display, tuple(p.problem for p in report.problems))
