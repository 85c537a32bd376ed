"""The decision log: create decision records, move them through their lifecycle, list them.

Records live in ``decisions/`` at the top of the work tree (``model.decision`` has the
format). Every write is atomic and only the front matter's own fields change, through
tomlkit, so the team's Markdown and comments are kept. Superseding writes both records
(``supersedes`` in the new one, ``superseded_by`` in the old one) or neither.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitprov.adapters import git, resources
from gitprov.adapters.fs import atomic_write
from gitprov.errors import UsageError
from gitprov.model import decision as decisions
from gitprov.model.decision import Decision, DecisionError
from gitprov.services import workspace

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

_DRAWS = 16  # a taken ID is drawn again; sixteen misses in a row would mean a full space


@dataclass(frozen=True)
class Record:
    """A decision record on disk."""

    decision: Decision
    path: Path

    @property
    def trailer(self) -> str:
        return f"Decision: {self.decision.id}"


def _folder(top: Path) -> Path:
    return top / decisions.DECISIONS_DIR


def known_ids(top: Path) -> set[str]:
    """IDs in the work tree and in any commit of any ref: what a new ID must avoid."""
    ids = {i for p in _folder(top).glob("*.md") if (i := decisions.id_of_path(p.name))}
    proc = git.git(
        ["log", "--all", "--format=", "--name-only", "--", decisions.DECISIONS_DIR],
        cwd=top,
        check=False,
    )
    for line in proc.stdout.splitlines():
        ident = decisions.id_of_path(line.rpartition("/")[2])
        if ident:
            ids.add(ident)
    return ids


def load(path: Path, *, top: Path) -> Record:
    try:
        # Bytes, decoded: read_text() would turn the team's CRLF line ends into LF.
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DecisionError(
            f"cannot read {path.relative_to(top)}: {exc}", "Check the file, then retry"
        ) from None
    decision, _, _ = decisions.parse(text, source=str(path.relative_to(top)))
    return Record(decision, path)


def records(top: Path) -> list[Record]:
    """Every record in ``decisions/``, oldest first (by creation date, then ID)."""
    found = [
        load(p, top=top) for p in sorted(_folder(top).glob("*.md")) if decisions.id_of_path(p.name)
    ]
    return sorted(found, key=lambda r: (r.decision.created, r.decision.id))


def find(top: Path, ident: str) -> Record:
    """The record with ID ``ident`` (any case), or a one-line error with the fix."""
    wanted = decisions.normalise_id(ident)
    if wanted is None:
        raise UsageError(
            f"{ident!r} is not a decision ID",
            f"IDs are {decisions.ID_LENGTH} characters, e.g. 7K2M9Q: see 'gitprov decision list'",
        )
    for path in _folder(top).glob(f"{wanted}-*.md"):
        return load(path, top=top)
    raise UsageError(
        f"there is no decision {wanted} in {decisions.DECISIONS_DIR}/",
        "See 'gitprov decision list' (on another branch? merge or check it out first)",
    )


def new(
    *,
    cwd: Path,
    title: str,
    hypothesis: str | None = None,
    metrics: Sequence[tuple[str, str]] = (),
) -> Record:
    """Write a new ``proposed`` record and return it (not staged: the author edits it)."""
    if not title.strip():
        raise UsageError("the decision needs a title", "Give one: gitprov decision new 'Use AdamW'")
    for name, expect in metrics:
        if expect not in decisions.EXPECTS:
            raise UsageError(
                f"--expect for {name} must be increase or decrease, not {expect!r}",
                "Write e.g. --metric val_loss --expect decrease",
            )
    ws = workspace.open_workspace(cwd)
    taken = known_ids(ws.top)
    ident = None
    for _ in range(_DRAWS):
        ident = decisions.new_id(int.from_bytes(os.urandom(4), "big"), taken)
        if ident is not None:
            break
    if ident is None:
        raise UsageError("no free decision ID was found", "Report this: the ID space is full")
    author = git.user_identity(ws.top)
    text = decisions.render_new(
        resources.template("decision.md"),
        ident=ident,
        title=title.strip(),
        created=datetime.now(UTC).strftime("%Y-%m-%d"),
        authors=[author] if author else [],
        hypothesis=hypothesis,
        metrics=metrics,
    )
    path = _folder(ws.top) / decisions.file_name(ident, title)
    path.parent.mkdir(exist_ok=True)
    decision, _, _ = decisions.parse(text, source=str(path.relative_to(ws.top)))
    atomic_write(path, text.encode("utf-8"))
    return Record(decision, path)


def _rewrite(record: Record, top: Path, **changes: str | list[str]) -> tuple[Record, str]:
    """``record`` with front matter fields changed (comments and body kept), and its new
    text, validated; the caller writes it."""
    import tomlkit  # noqa: PLC0415

    def edit(doc: TOMLDocument, body: str) -> str:
        for key, value in changes.items():
            if isinstance(value, list):
                items = tomlkit.array()
                items.extend(value)
                doc[key] = items
            else:
                doc[key] = value
        return body

    return rewrite(record, top, edit)


def rewrite(
    record: Record, top: Path, edit: Callable[[TOMLDocument, str], str]
) -> tuple[Record, str]:
    """``record`` after ``edit`` changed its front matter document in place and returned
    the body (unchanged, or with text added), and its new text, validated; the caller
    writes it. Only what ``edit`` touches changes: comments, layout and CRLF are kept."""
    import tomlkit  # noqa: PLC0415

    text = record.path.read_bytes().decode("utf-8")  # not read_text(): CRLF stays CRLF
    source = str(record.path.relative_to(top))
    _, doc, body = decisions.parse(text, source=source)
    body = edit(doc, body)
    front = tomlkit.dumps(doc)
    if text.startswith(decisions.FENCE + "\r\n"):  # a CRLF record: new lines are CRLF too
        front = front.replace("\r\n", "\n").rstrip("\n").replace("\n", "\r\n")
        fence = decisions.FENCE + "\r\n"
        new_text = f"{fence}{front}\r\n{fence}{body}"
    else:
        new_text = decisions.join(front, body)
    decision, _, _ = decisions.parse(new_text, source=source)
    return Record(decision, record.path), new_text


def set_status(*, cwd: Path, ident: str, status: str) -> Record:
    """accept / reject / deprecate: a legal status change, written in place."""
    ws = workspace.open_workspace(cwd)
    record = find(ws.top, ident)
    decisions.check_transition(record.decision, status)
    updated, text = _rewrite(record, ws.top, status=status)
    atomic_write(record.path, text.encode("utf-8"))
    return updated


def supersede(*, cwd: Path, old: str, by: str) -> tuple[Record, Record]:
    """Mark ``old`` superseded by ``by``; both records link to each other."""
    ws = workspace.open_workspace(cwd)
    old_record, new_record = find(ws.top, old), find(ws.top, by)
    if old_record.decision.id == new_record.decision.id:
        raise UsageError("a decision cannot supersede itself", "Name two different decisions")
    decisions.check_transition(old_record.decision, "superseded")
    if new_record.decision.status in ("rejected", "deprecated", "superseded"):
        raise UsageError(
            f"decision {new_record.decision.id} is {new_record.decision.status}: it cannot "
            "replace another",
            "Supersede with a proposed or accepted decision",
        )
    links_old = sorted({*old_record.decision.superseded_by, new_record.decision.id})
    links_new = sorted({*new_record.decision.supersedes, old_record.decision.id})
    # Both texts are computed (and validated) before either file is written.
    old_updated, old_text = _rewrite(
        old_record, ws.top, status="superseded", superseded_by=links_old
    )
    new_updated, new_text = _rewrite(new_record, ws.top, supersedes=links_new)
    atomic_write(new_record.path, new_text.encode("utf-8"))
    atomic_write(old_record.path, old_text.encode("utf-8"))
    return old_updated, new_updated


def list_records(*, cwd: Path, status: str | None = None) -> list[Record]:
    if status is not None and status not in decisions.STATUSES:
        raise UsageError(
            f"--status {status!r} is not a decision status",
            f"Use one of {', '.join(decisions.STATUSES)}",
        )
    ws = workspace.open_workspace(cwd)
    return [r for r in records(ws.top) if status is None or r.decision.status == status]
