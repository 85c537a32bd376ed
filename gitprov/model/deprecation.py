"""Deprecation records, and who still uses a deprecated checkpoint.

A ``deprecation`` note record (DESIGN §3: one canonical JSON line, append-only) says:
this checkpoint version (path and digest) should no longer be used, because of
``reason``; optionally it is ``superseded_by`` another checkpoint version and has a
``sunset`` date after which it will be removed. ``by`` is the git identity who said so.
A ``tombstone`` record whose ``retracts`` names the record's id takes it back
(``gitprov deprecate --undo``).

Everything here is pure: fields in, records out, and the walk over a lineage graph that
finds the runs reading a deprecated checkpoint and the artifacts made from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gitprov.errors import UsageError
from gitprov.model import digest as digests

if TYPE_CHECKING:  # `gitprov log` imports this module: it pays for neither
    from datetime import date

    from gitprov.model.lineage_graph import LineageGraph

TYPE = "deprecation"
TOMBSTONE_TYPE = "tombstone"  # the same as gitprov.model.commit_record.TOMBSTONE_TYPE
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

UseKind = Literal["target", "read", "descendant"]


@dataclass(frozen=True)
class Successor:
    """The checkpoint version that replaces a deprecated one."""

    path: str
    digest: str


@dataclass(frozen=True)
class Deprecation:
    """One deprecation as found in the notes; ``commit`` is the commit whose note holds it."""

    id: str
    at: str
    commit: str
    checkpoint: str
    digest: str
    reason: str
    by: str
    superseded_by: Successor | None = None
    sunset: str | None = None  # YYYY-MM-DD

    @property
    def day(self) -> str:
        """The date it was recorded (``YYYY-MM-DD``)."""
        return self.at[:10]


@dataclass(frozen=True)
class DeprecatedUse:
    """Where a deprecated checkpoint is still in use.

    ``kind``: ``target`` (the checkpoint itself is what was asked about), ``read`` (run
    ``run`` read it), ``descendant`` (artifact ``path``/``digest`` was made from it,
    directly or through other runs).
    """

    kind: UseKind
    deprecation: Deprecation
    run: str | None = None
    path: str | None = None
    digest: str | None = None


def parse_sunset(text: str, *, today: date) -> tuple[str, bool]:
    """``(YYYY-MM-DD, already past)`` for a ``--sunset`` value; a UsageError otherwise.

    >>> from datetime import date
    >>> parse_sunset("2030-01-31", today=date(2026, 11, 23))
    ('2030-01-31', False)
    """
    from datetime import date  # noqa: PLC0415 - see the imports

    value = text.strip()
    try:
        if not _ISO_DATE.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--sunset {text!r} is not a date",
            "Write the sunset as an ISO date, YYYY-MM-DD (e.g. --sunset 2027-06-30)",
        ) from None
    return day.isoformat(), day < today


def deprecation_fields(
    *,
    checkpoint: str,
    digest: str,
    reason: str,
    by: str,
    superseded_by: Successor | None = None,
    sunset: str | None = None,
) -> dict[str, object]:
    """The fields of a deprecation record (``make_record`` adds at, id and type)."""
    return {
        "checkpoint": checkpoint,
        "digest": digest,
        "reason": reason,
        "by": by,
        "superseded_by": (
            {"path": superseded_by.path, "digest": superseded_by.digest} if superseded_by else None
        ),
        "sunset": sunset,
    }


def _text(record: Mapping[str, Any], name: str) -> str | None:
    value = record.get(name)
    return value if isinstance(value, str) else None


def from_record(record: Mapping[str, Any], commit: str) -> Deprecation | None:
    """The deprecation a note record holds; None when it is not one or is malformed."""
    if record.get("type") != TYPE:
        return None
    rid, at, digest = _text(record, "id"), _text(record, "at"), _text(record, "digest")
    if not rid or not at or not digest or not digests.is_digest(digest):
        return None
    successor = None
    raw = record.get("superseded_by")
    if isinstance(raw, Mapping):
        path, sdigest = _text(raw, "path"), _text(raw, "digest")
        if path and sdigest:
            successor = Successor(path, sdigest)
    return Deprecation(
        id=rid,
        at=at,
        commit=commit,
        checkpoint=_text(record, "checkpoint") or digest,
        digest=digest,
        reason=_text(record, "reason") or "",
        by=_text(record, "by") or "",
        superseded_by=successor,
        sunset=_text(record, "sunset"),
    )


def fold(records: Iterable[tuple[Mapping[str, Any], str]]) -> list[Deprecation]:
    """The deprecations among ``(record, commit)`` pairs that no tombstone retracts, each
    once (git copies a note when it rewrites a commit), oldest first."""
    found: dict[str, Deprecation] = {}
    gone: set[str] = set()
    for record, commit in records:
        if record.get("type") == TOMBSTONE_TYPE:
            retracts = record.get("retracts")
            if isinstance(retracts, str):
                gone.add(retracts)
            continue
        deprecation = from_record(record, commit)
        if deprecation is not None and deprecation.id not in found:
            found[deprecation.id] = deprecation
    return sorted((d for d in found.values() if d.id not in gone), key=lambda d: (d.at, d.id))


def by_digest(deprecations: Iterable[Deprecation]) -> dict[str, Deprecation]:
    """Digest -> its newest deprecation."""
    latest: dict[str, Deprecation] = {}
    for found in sorted(deprecations, key=lambda d: (d.at, d.id)):
        latest[found.digest] = found
    return latest


def uses(graph: LineageGraph, deprecated: Mapping[str, Deprecation]) -> list[DeprecatedUse]:
    """Where ``graph`` still uses a deprecated checkpoint: the focus itself when it is
    deprecated, every run that read one, and every artifact made from one (through any
    number of runs), each artifact once, in a stable order."""
    if not deprecated:
        return []
    found: list[DeprecatedUse] = []
    if graph.focus in deprecated:
        found.append(DeprecatedUse("target", deprecated[graph.focus], digest=graph.focus))
    consumers: dict[str, list[str]] = {}
    outputs: dict[str, list[str]] = {}
    for edge in graph.edges:
        side = consumers if edge.role == "input" else outputs
        key = edge.artifact if edge.role == "input" else edge.run
        side.setdefault(key, []).append(edge.artifact if edge.role == "output" else edge.run)
    origin: dict[str, Deprecation] = {}  # descendant digest -> the deprecation it comes from
    for digest in sorted(d for d in deprecated if d in graph.artifacts):
        source = deprecated[digest]
        for run in sorted(set(consumers.get(digest, ()))):
            found.append(DeprecatedUse("read", source, run=run, digest=digest))
        stack = [digest]
        while stack:
            for run in consumers.get(stack.pop(), ()):
                for made in outputs.get(run, ()):
                    if made not in origin and made not in deprecated:
                        origin[made] = source
                        stack.append(made)
    for made in sorted(origin, key=lambda d: (graph.artifacts[d].path, d)):
        node = graph.artifacts[made]
        found.append(DeprecatedUse("descendant", origin[made], path=node.path, digest=made))
    return found


def describe(use: DeprecatedUse, *, today: date | None = None) -> str:
    """One line saying where a deprecated checkpoint is used, and what replaces it.

    >>> d = Deprecation("X", "2026-11-20T10:00:00.000Z", "c", "models/base.pt",
    ...     "sha256:" + "ab" * 32, "leaks test data", "A <a@x>")
    >>> describe(DeprecatedUse("read", d, run="01J", digest=d.digest))[:40]
    'run:01J read models/base.pt (sha256:abab'
    """
    dep = use.deprecation
    what = f"{dep.checkpoint} ({digests.short(dep.digest)})"
    if use.kind == "read":
        head = f"run:{use.run} read {what}"
    elif use.kind == "descendant":
        made = digests.short(use.digest) if use.digest and digests.is_digest(use.digest) else "-"
        head = f"{use.path} ({made}) is made from {what}"
    else:
        head = what
    text = f"{head}, deprecated on {dep.day}: {dep.reason}"
    if dep.sunset:
        past = today is not None and dep.sunset < today.isoformat()
        text += f"; sunset {'was ' if past else ''}{dep.sunset}"
    if dep.superseded_by:
        text += f"; superseded by {dep.superseded_by.path}"
    return text
