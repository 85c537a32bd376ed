"""The pull-request review of a range of commits, as data (``gitprov review``).

``services.review`` fills a :class:`ReviewReport` from the history; ``model.review_markdown``
renders it as one Markdown comment and ``to_json`` gives the same facts to scripts. Pure:
no I/O here, so the significance rule and every rendering can be tested on plain values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gitprov.model.checklist import Report as ChecklistReport

Change = Literal["added", "changed", "removed"]
Significance = Literal["significant", "not significant", "no CI", "n/a"]


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]`` of a metric value."""

    low: float
    high: float


def significance(
    base: float | None,
    head: float | None,
    base_ci: Interval | None,
    head_ci: Interval | None,
) -> Significance:
    """Whether a metric's change from ``base`` to ``head`` is significant given the intervals.

    Overlapping intervals are ``"not significant"`` (a conservative rule: it never calls
    noise a change), disjoint ones ``"significant"``; a side without an interval gives
    ``"no CI"``; a metric on one side only has no change to judge (``"n/a"``).

    >>> significance(0.80, 0.84, Interval(0.78, 0.82), Interval(0.82, 0.86))
    'not significant'
    >>> significance(0.80, 0.86, Interval(0.78, 0.82), Interval(0.83, 0.89))
    'significant'
    >>> significance(0.5, 0.4, None, Interval(0.3, 0.5))
    'no CI'
    """
    if base is None or head is None:
        return "n/a"
    if base_ci is None or head_ci is None:
        return "no CI"
    overlap = base_ci.low <= head_ci.high and head_ci.low <= base_ci.high
    return "not significant" if overlap else "significant"


@dataclass(frozen=True)
class ArtifactChange:
    """A tracked artifact whose pointer was added, changed or removed in the range."""

    path: str
    kind: str
    change: Change
    old_digest: str | None
    new_digest: str | None
    old_size: int | None
    new_size: int | None
    release: bool = False  # the head pointer says stage = "release"


@dataclass(frozen=True)
class FieldChange:
    """A front matter key of a model card (dotted inside mappings): old -> new, as text."""

    key: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class SectionChange:
    """A Markdown section of a card's prose that changed, with a unified diff of it."""

    heading: str
    change: Change
    diff: str


@dataclass(frozen=True)
class CardDiff:
    path: str
    change: Change
    fields: tuple[FieldChange, ...] = ()
    sections: tuple[SectionChange, ...] = ()


@dataclass(frozen=True)
class MetricDelta:
    """One metric of one checkpoint on one dataset, at the base and at the head."""

    checkpoint: str
    dataset: str
    metric: str
    base: float | None
    head: float | None
    base_ci: Interval | None
    head_ci: Interval | None
    source: str  # where the head value came from: "card", "run" or "eval"

    @property
    def delta(self) -> float | None:
        if self.base is None or self.head is None:
            return None
        return self.head - self.base

    @property
    def significance(self) -> Significance:
        return significance(self.base, self.head, self.base_ci, self.head_ci)


@dataclass(frozen=True)
class DecisionChange:
    id: str
    title: str
    status: str
    old_status: str | None  # None: the record is new in the range
    path: str


@dataclass(frozen=True)
class ApprovalStatus:
    checkpoint: str
    role: str
    approver: str
    status: str  # valid | tampered | unknown_key | outside_window | not_in_role
    at: str


@dataclass(frozen=True)
class CommitWithoutLineage:
    commit: str
    subject: str


@dataclass(frozen=True)
class LineageDiagram:
    """The Mermaid flowchart of the changed checkpoints' upstream lineage."""

    mermaid: str
    nodes: int  # shown
    hidden: int  # left out by the node cap


@dataclass(frozen=True)
class ReviewReport:
    """Everything ``gitprov review BASE..HEAD`` found. ``base`` and ``head`` are what the
    user wrote, ``merge_base`` the commit the diffs start from (as a pull request's diff
    does), ``commits`` the number of commits in the range."""

    base: str
    head: str
    base_commit: str
    head_commit: str
    merge_base: str
    commits: int
    artifacts: tuple[ArtifactChange, ...] = ()
    cards: tuple[CardDiff, ...] = ()
    metrics: tuple[MetricDelta, ...] = ()
    lineage: LineageDiagram | None = None
    decisions: tuple[DecisionChange, ...] = ()
    checklists: tuple[ChecklistReport, ...] = ()
    approvals: tuple[ApprovalStatus, ...] = ()
    without_lineage: tuple[CommitWithoutLineage, ...] = ()
    notes: tuple[str, ...] = field(default=())  # what could not be read, and why

    def changed(self, kind: str) -> int:
        return sum(1 for a in self.artifacts if a.kind == kind)

    @property
    def checks_failing(self) -> int:
        return sum(len(r.failures) for r in self.checklists)

    def to_json(self) -> dict[str, Any]:
        """The report for scripts: every field, plus the derived summary counts."""
        data = asdict(self)
        data["checklists"] = [r.to_json() for r in self.checklists]
        data["metrics"] = [
            {**asdict(m), "delta": m.delta, "significance": m.significance} for m in self.metrics
        ]
        data["summary"] = {
            "checkpoints_changed": self.changed("checkpoint"),
            "datasets_changed": self.changed("dataset"),
            "checks_failing": self.checks_failing,
            "commits_without_lineage": len(self.without_lineage),
        }
        return data
