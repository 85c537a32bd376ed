"""Deprecating a checkpoint: record it, mark its model card, take it back, list them.

A deprecation is a ``deprecation`` note record on HEAD (DESIGN §3), so it travels with
the notes on push and merges with other clones' notes. When the checkpoint has a model
card, its front matter gets Hugging Face's ``new_version`` (the successor) and a
top-level ``deprecated:`` entry; both are keys that ``gitprov card sync`` does not own,
so a sync keeps them. The card's body keeps its bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from gitprov.adapters import git, git_notes
from gitprov.adapters.fs import atomic_write
from gitprov.errors import GitprovError, UsageError
from gitprov.model import card as cards
from gitprov.model import deprecation as model
from gitprov.model.lineage_graph import LineageGraph
from gitprov.model.notes import make_record, parse_lines
from gitprov.services import deprecation_scan
from gitprov.services.workspace import Tracked, Workspace, find, open_workspace

NEW_VERSION_KEY = "new_version"  # Hugging Face model card metadata: the newer model
DEPRECATED_KEY = "deprecated"


@dataclass(frozen=True)
class Deprecated:
    """What ``deprecate`` did: the record, the card it marked (if any), and whether the
    sunset date is already past."""

    deprecation: model.Deprecation
    card: str | None
    sunset_passed: bool


@dataclass(frozen=True)
class Undeprecated:
    """What ``undeprecate`` retracted, and the card it unmarked (if any)."""

    retracted: tuple[model.Deprecation, ...]
    card: str | None


def _checkpoint(ws: Workspace, cwd: Path, name: str, *, what: str) -> Tracked:
    (tracked,) = find(ws, cwd, [name])
    if tracked.pointer.kind != "checkpoint":
        raise UsageError(
            f"{name} is a {tracked.pointer.kind}, not a checkpoint",
            f"{what} checkpoints only: name a file tracked with --kind checkpoint",
        )
    return tracked


def _card_path(tracked: Tracked) -> Path | None:
    """The checkpoint's model card, when it has one (its pointer's ``card``, else the
    default name beside it)."""
    name = tracked.pointer.card
    if name is None:
        stem = PurePosixPath(tracked.pointer.path)
        name = (stem.stem if stem.suffix else stem.name) + cards.SUFFIX
    path = tracked.pointer_path.parent / name
    return path if path.is_file() else None


def _read_card(ws: Workspace, path: Path) -> tuple[dict[str, Any], str, bool]:
    display = ws.display(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GitprovError(f"cannot read {display}: {exc}", "Check the file") from None
    data, body = cards.parse(text, source=display)
    return data, body, text.startswith(cards.FENCE + "\r\n")


def _model_name(ws: Workspace, tracked: Tracked) -> str:
    """What ``new_version`` names: the successor card's model name, else its path."""
    path = _card_path(tracked)
    if path is not None:
        try:
            data, _, _ = _read_card(ws, path)
            name = data["model-index"][0]["name"]
            if isinstance(name, str) and name and name != cards.PLACEHOLDER:
                return name
        except (GitprovError, KeyError, IndexError, TypeError):
            pass
    return ws.display(tracked.artifact)


def _identity(top: Path) -> str:
    identity = git.user_identity(top)
    if not identity:
        raise GitprovError(
            "git has no user identity to record the deprecation as",
            "Run 'git config user.name NAME' and 'git config user.email EMAIL'",
        )
    return identity


def _head(top: Path) -> str:
    head = git.head_commit(top)
    if head is None:
        raise GitprovError("the repository has no commit to record on", "Commit first")
    return head


def deprecate(
    *,
    cwd: Path,
    checkpoint: str,
    reason: str,
    superseded_by: str | None = None,
    sunset: str | None = None,
    today: date | None = None,
) -> Deprecated:
    """Record that ``checkpoint``'s current digest is deprecated; mark its card.

    Everything is checked before anything is written: the reason, the sunset date
    (``YYYY-MM-DD``; a past date is allowed and reported), the successor (a tracked
    checkpoint of another digest), the card's front matter.
    """
    if not reason.strip():
        raise UsageError("the reason is empty", "Say why with --reason 'TEXT'")
    ws = open_workspace(cwd)
    tracked = _checkpoint(ws, cwd, checkpoint, what="gitprov deprecate takes")
    day, passed = (None, False)
    if sunset is not None:
        day, passed = model.parse_sunset(sunset, today=today or datetime.now(UTC).date())
    successor = None
    successor_name = None
    if superseded_by is not None:
        newer = _checkpoint(ws, cwd, superseded_by, what="--superseded-by takes")
        if newer.pointer.digest == tracked.pointer.digest:
            raise UsageError(
                f"{superseded_by} is the same version as {checkpoint}",
                "Name the checkpoint that replaces it (another digest) in --superseded-by",
            )
        successor = model.Successor(ws.display(newer.artifact), newer.pointer.digest)
        successor_name = _model_name(ws, newer)
    identity, head = _identity(ws.top), _head(ws.top)
    card = _card_path(tracked)
    card_data = _read_card(ws, card) if card is not None else None  # malformed: stop here
    fields = model.deprecation_fields(
        checkpoint=ws.display(tracked.artifact),
        digest=tracked.pointer.digest,
        reason=reason.strip(),
        by=identity,
        superseded_by=successor,
        sunset=day,
    )
    line = make_record(model.TYPE, fields)
    git_notes.append(ws.top, head, [line])
    found = model.from_record(parse_lines(line)[0], head)
    if found is None:  # pragma: no cover - we just made it
        raise GitprovError("the deprecation record did not read back", "Report this bug")
    if card is not None and card_data is not None:
        data, body, crlf = card_data
        if successor_name is not None:
            data[NEW_VERSION_KEY] = successor_name
        data[DEPRECATED_KEY] = {
            "reason": found.reason,
            "sunset": found.sunset,
            "at": found.at,
            "superseded_by": successor.path if successor else None,
        }
        atomic_write(card, cards.join(data, body, crlf=crlf).encode("utf-8"))
    return Deprecated(found, ws.display(card) if card else None, passed)


def undeprecate(*, cwd: Path, checkpoint: str) -> Undeprecated:
    """Retract every deprecation of ``checkpoint``'s current digest (tombstone records)
    and take the marks off its card."""
    ws = open_workspace(cwd)
    tracked = _checkpoint(ws, cwd, checkpoint, what="gitprov deprecate --undo takes")
    digest = tracked.pointer.digest
    mine = [d for d in deprecation_scan.read(ws.top) if d.digest == digest]
    if not mine:
        raise GitprovError(
            f"{checkpoint} is not deprecated at its current digest",
            "List deprecations with 'gitprov deprecations'",
        )
    _identity(ws.top)
    head = _head(ws.top)
    card = _card_path(tracked)
    card_data = _read_card(ws, card) if card is not None else None
    lines = [make_record(model.TOMBSTONE_TYPE, {"retracts": d.id}) for d in mine]
    git_notes.append(ws.top, head, lines)
    changed = False
    if card is not None and card_data is not None:
        data, body, crlf = card_data
        mark = data.pop(DEPRECATED_KEY, None)
        named = any(d.superseded_by for d in mine)
        if named or (isinstance(mark, dict) and mark.get("superseded_by")):
            # Set by a deprecation that named a successor: it goes with it.
            changed = data.pop(NEW_VERSION_KEY, None) is not None
        changed = changed or mark is not None
        if changed:
            atomic_write(card, cards.join(data, body, crlf=crlf).encode("utf-8"))
    return Undeprecated(tuple(mine), ws.display(card) if card and changed else None)


def deprecations(*, cwd: Path) -> list[model.Deprecation]:
    """Every deprecation in force (not retracted) in the notes, oldest first."""
    return deprecation_scan.read(cwd)


def usage_warnings(*, cwd: Path, graph: LineageGraph) -> tuple[model.DeprecatedUse, ...]:
    """Where ``graph`` still uses a deprecated checkpoint."""
    return deprecation_scan.graph_uses(cwd, graph)
