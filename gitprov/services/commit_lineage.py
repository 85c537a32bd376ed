"""The post-commit hook's work: one ``commit`` record for the commit just made.

Light on purpose: this module, and everything it imports, loads on every commit, so it
uses no ``dataclasses``, ``typing`` or ``pathlib`` at run time and talks to git through
``gitlite`` (``posix_spawn``). The record is described in ``model.commit_record``;
rewritten, rebuilt and re-attached records are ``services.lineage_repair``'s.

During a rebase post-commit leaves the replayed commits to post-rewrite, which knows which
commit each new one replaces; commits made by hand at an 'edit' stop it records itself.
Checklist state: see ``checklist_marker``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from gitprov.adapters import gitlite, notes_light
from gitprov.model import commit_record
from gitprov.model.notes import make_record, parse_lines
from gitprov.services import checklist_marker
from gitprov.services.commit_facts import CommitFacts, read

# typing.TYPE_CHECKING without importing typing, which would cost every commit ~5 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from gitprov.model.commit_record import Checklist, Source

_REBASE_DIRS = ("rebase-merge", "rebase-apply")


def fields_for(
    facts: CommitFacts,
    *,
    checklist: Checklist,
    source: Source,
    origin: Mapping[str, str] | None = None,
) -> dict[str, object]:
    return commit_record.commit_fields(
        commit=facts.commit,
        artifacts=facts.artifacts,
        runs=facts.runs,
        decisions=commit_record.trailer_values(facts.message, commit_record.DECISION_TRAILER),
        checklist=checklist,
        env=facts.env,
        source=source,
        origin=origin,
    )


def post_commit(*, cwd: str) -> Mapping[str, Any] | None:
    """Append the ``commit`` record of HEAD (None for a commit a rebase replays)."""
    git_dir = gitlite.git_dir()
    if git_dir is None:
        return None
    marker = checklist_marker.take(git_dir)  # taken first: a marker must never linger
    saved_pick = checklist_marker.take_pick(git_dir)
    pick_head = _read_head_file(git_dir, "CHERRY_PICK_HEAD")
    rebasing = any(os.path.isdir(os.path.join(git_dir, d)) for d in _REBASE_DIRS)
    if rebasing and pick_head:
        # A commit the rebase replays: post-rewrite records it, knowing its original. A
        # commit made by hand at an 'edit' stop has no CHERRY_PICK_HEAD and is recorded now.
        return None
    facts = read("HEAD", cwd=cwd)
    origin = None
    # A clean pick still has CHERRY_PICK_HEAD; a conflicted one committed by 'git commit'
    # had it saved by pre-commit; 'cherry-pick -x' says it in the message.
    picked = None if rebasing else (pick_head or saved_pick or _picked_x(facts.message))
    if picked:
        origin = {"cherry_picked_from": picked}
    checklist: Checklist = "passed" if checklist_marker.passed(marker, facts.tree) else "skipped"
    fields = fields_for(facts, checklist=checklist, source="post-commit", origin=origin)
    return append_record(cwd, facts.commit, fields)


def _picked_x(message: str) -> str | None:
    """The commit named by the '(cherry picked from commit X)' line 'cherry-pick -x' adds."""
    marker = "(cherry picked from commit "
    for line in reversed(message.splitlines()):
        if line.startswith(marker) and line.endswith(")"):
            value = line[len(marker) : -1]
            if len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value):
                return value
    return None


def _read_head_file(git_dir: str, name: str) -> str | None:
    try:
        with open(os.path.join(git_dir, name), encoding="ascii") as handle:
            value = handle.read().strip()
    except OSError:
        return None
    return value if len(value) in (40, 64) else None


def append_record(cwd: str, commit: str, fields: dict[str, object]) -> Mapping[str, Any]:
    """Append a record for ``commit`` unless its note already has one of its own.

    The check matters when git re-creates an identical commit (same tree, parent, message
    and second: an amend without changes, a cherry-pick onto the same parent): the hooks
    run again for a commit that is already recorded.
    """
    line = make_record(commit_record.COMMIT_TYPE, fields)

    def recorded(text: str) -> bool:
        return commit_record.current(parse_lines(text), commit) is not None

    notes_light.append(commit, [line], cwd=cwd, unless=recorded)
    return parse_lines(line)[0]


def parse_rewrite_stdin(text: str) -> list[tuple[str, str]]:
    """post-rewrite's standard input: ``<old> <new> [<extra>]`` lines."""
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            pairs.append((parts[0], parts[1]))
    return pairs
