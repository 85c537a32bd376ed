"""What ``gitprov log`` returns: one ``LogEntry`` per commit, with the runs and artifact
changes it records (plain data, rendered by the CLI)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitprov.model.runrecord import ArtifactRef

if TYPE_CHECKING:  # loaded only when something is deprecated
    from gitprov.model.deprecation import DeprecatedUse


@dataclass(frozen=True)
class RunView:
    """A run a commit records; ``found`` is False when its record is not in the tree."""

    id: str
    found: bool
    argv: tuple[str, ...] = ()
    exit_code: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    seeds: tuple[str, ...] = ()
    inputs: tuple[ArtifactRef, ...] = ()
    outputs: tuple[ArtifactRef, ...] = ()
    env: str | None = None
    env_summary: str | None = None


@dataclass(frozen=True)
class ChangeView:
    """An artifact a commit added, modified or deleted, as its record says."""

    path: str
    kind: str
    digest: str | None  # None when deleted
    change: str  # added | modified | deleted


@dataclass(slots=True)  # not frozen: a log makes thousands, and frozen costs 3x to build
class LogEntry:
    """One commit of ``gitprov log``.

    ``record`` is the id of the ``commit`` note record that describes this commit (None:
    no record; the runs are then those whose records the commit added, and
    ``runs_from_tree`` is True). ``copied_from``: commits whose records git copied here
    when it rewrote them (amend, rebase), ignored. ``other_records``: the note's other
    records (evaluations, approvals...), as they are. ``deprecations``: this commit's
    runs that read a deprecated checkpoint.
    """

    commit: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str  # ISO 8601 with the author's offset
    subject: str
    record: str | None
    source: str | None = None
    checklist: str | None = None
    decisions: tuple[str, ...] = ()
    artifacts: tuple[ChangeView, ...] = ()
    runs: tuple[RunView, ...] = ()
    runs_from_tree: bool = False
    env: str | None = None
    env_summary: str | None = None
    copied_from: tuple[str, ...] = ()
    other_records: tuple[Mapping[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()
    deprecations: tuple[DeprecatedUse, ...] = ()
