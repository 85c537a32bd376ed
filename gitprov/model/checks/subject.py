"""What a release check looks at: one checkpoint version and everything around it.

Gathered by ``services.checklist`` from the work tree, the index or a commit (the card
and pointers as they will be, or were, committed) and from the lineage and notes of the
history; the checks read it and never do I/O themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitprov.model.card import Facts
from gitprov.model.checklist import Status


@dataclass(frozen=True)
class Verdict:
    """A check's finding; ``fix`` None means the check's usual fix."""

    status: Status
    detail: str = ""
    fix: str | None = None


@dataclass(frozen=True)
class DatasetInput:
    """A dataset the training run read."""

    path: str
    digest: str  # sha256:<hex> Merkle root (a gitprov snapshot), or md5:<hex> from DVC
    license: str | None = None  # the dataset pointer's [meta] license, when it has one
    license_source: str = ""  # where the license was read, for messages

    @property
    def pinned(self) -> bool:
        return self.digest.startswith("sha256:")


@dataclass(frozen=True)
class Evaluation:
    """One metric of an evaluation: from the card's model-index or an eval record."""

    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    environment: str | None  # environment snapshot id (or summary) the metric was computed in
    source: str  # "card" or "eval:<id>"


@dataclass(frozen=True)
class DecisionInfo:
    path: str
    id: str
    status: str
    planned_vs_actual: bool  # the section is written (no placeholder, not empty)


@dataclass(frozen=True)
class RemotePresence:
    remote: str
    present: bool | None  # None: could not be asked (the error says why)
    error: str = ""


@dataclass(frozen=True)
class ApprovalState:
    role: str
    approver: str
    status: str  # services.approvals: valid | tampered | unknown_key | outside_window | ...
    detail: str = ""


@dataclass(frozen=True)
class Text:
    """Something to scan for secrets and PII: a file's text or a note's lines."""

    source: str  # a path, or "note <commit>" for notes
    text: str


@dataclass(frozen=True)
class Subject:
    checkpoint: str  # path relative to the work tree top
    digest: str
    card_source: str | None  # the card's path; None when the checkpoint has none
    card_text: str | None  # None: the card file does not exist
    facts: Facts | None  # the lineage; None when no committed or staged run produced it
    datasets: tuple[DatasetInput, ...] = ()
    packages: int | None = None  # packages in the run's environment snapshot; None: no snapshot
    evaluations: tuple[Evaluation, ...] = ()
    decisions: tuple[DecisionInfo, ...] = ()
    remotes: tuple[RemotePresence, ...] = ()
    approvals: tuple[ApprovalState, ...] = ()
    texts: tuple[Text, ...] = ()
