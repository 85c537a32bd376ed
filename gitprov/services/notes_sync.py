"""Loss-free lineage-notes sync: fetch, merge with ``cat_sort_uniq``, push fast-forward only.

Records are only ever appended, so the union of every clone's notes is the truth and
``cat_sort_uniq`` computes it without conflicts. The push never forces: when another
clone pushed first, ours is rejected and the whole fetch-merge-push is retried after a
jittered, growing pause, so racing clones spread out instead of colliding again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters import git_notes
from gitprov.adapters.git import remotes
from gitprov.adapters.git_notes import NOTES_REF, NotesError, PushOutcome, tracking_ref
from gitprov.errors import UsageError
from gitprov.model.notes import make_record, parse_lines

BACKOFF_BASE_S = 0.05


class NotesRaceError(NotesError):
    """Other clones kept pushing notes first, for every attempt."""


@dataclass(frozen=True)
class NotesSyncResult:
    """What one ``sync`` did.

    ``fetched``: the remote had notes and they were fetched. ``merged``: the local notes
    changed to include the remote's (merge, fast-forward or first copy). ``pushed``: the
    remote's notes changed to include ours. ``attempts``: fetch-merge-push rounds used
    (more than one means another clone won a race). ``notes_commit``: the local notes
    commit afterwards (None when neither side has notes).
    """

    remote: str
    fetched: bool
    merged: bool
    pushed: bool
    attempts: int
    notes_commit: str | None


def _backoff(attempt: int) -> float:
    """Seconds to wait after losing race number ``attempt`` (1-based), jittered."""
    return BACKOFF_BASE_S * (1 << (attempt - 1)) * random.uniform(0.5, 1.5)  # noqa: S311


def _integrate(cwd: Path, remote: str, theirs: str) -> tuple[str, bool]:
    """Make the local notes include ``theirs``; return the local commit and whether it moved.

    Loops only when a local writer (a hook appending a record) moved the notes meanwhile.
    """
    while True:
        ours = git_notes.resolve(cwd, NOTES_REF)
        if ours is None:
            if git_notes.compare_and_swap(cwd, NOTES_REF, theirs, None):
                return theirs, True
        elif ours == theirs or git_notes.is_ancestor(cwd, theirs, ours):
            return ours, False
        elif git_notes.is_ancestor(cwd, ours, theirs):
            if git_notes.compare_and_swap(cwd, NOTES_REF, theirs, ours):
                return theirs, True  # fast-forward: nothing of ours is missing there
        else:
            merged = git_notes.merge(cwd, ours, tracking_ref(remote))
            if merged is not None:
                return merged, True


def sync(*, cwd: Path, remote: str, push: bool = True, attempts: int = 5) -> NotesSyncResult:
    """Fetch ``remote``'s lineage notes, merge them into ours, and push the union back.

    Safe to run from many clones at once: no record is ever dropped, because merges are
    set unions and the push is fast-forward only. Raises NotesRaceError when other clones
    won the race ``attempts`` times in a row.
    """
    if attempts < 1:
        raise UsageError(f"attempts must be at least 1, got {attempts}", "Pass attempts >= 1")
    if remote not in remotes(cwd):
        raise UsageError(
            f"no git remote named '{git_notes.redact(remote)}'",
            "Name one of the remotes listed by 'git remote -v'",
        )
    git_notes.remove_stale_tmp_refs(cwd)
    fetched = merged = False
    seen_before_push: str | None = None
    last_rejection = ""
    for attempt in range(1, attempts + 1):
        theirs = git_notes.fetch(cwd, remote)
        if attempt > 1 and theirs == seen_before_push:
            # Rejected, yet the remote did not move: not a race (a hook or a permission
            # refused it), and retrying would only repeat the refusal.
            raise git_notes.NotesPushError(
                f"remote '{remote}' refused the lineage notes: {last_rejection}",
                "Check the remote's rules for refs/notes/gitprov and your push access, "
                "then rerun 'gitprov notes sync'",
            )
        fetched = fetched or theirs is not None
        ours = git_notes.resolve(cwd, NOTES_REF)
        if theirs is not None:
            ours, moved = _integrate(cwd, remote, theirs)
            merged = merged or moved
        if not push or ours is None or ours == theirs:
            return NotesSyncResult(remote, fetched, merged, False, attempt, ours)
        outcome = git_notes.push(cwd, remote)
        if outcome.outcome is not PushOutcome.REJECTED:
            # Record what the remote now has, so needs_sync() sees "in sync" offline.
            git_notes.compare_and_swap(cwd, tracking_ref(remote), ours, theirs)
            pushed = outcome.outcome is PushOutcome.PUSHED
            return NotesSyncResult(remote, fetched, merged, pushed, attempt, ours)
        seen_before_push, last_rejection = theirs, outcome.summary
        if attempt < attempts:
            time.sleep(_backoff(attempt))
    raise NotesRaceError(
        f"other clones pushed lineage notes to '{remote}' first, {attempts} times in a row "
        f"(last: {last_rejection})",
        f"Nothing is lost: your notes are kept locally. Run 'gitprov notes sync {remote}' again",
    )


def needs_sync(*, cwd: Path, remote: str) -> bool:
    """Whether local notes may hold records ``remote`` lacks, judged without the network.

    False when there are no local notes, or when they are already contained in the
    remote's notes as last fetched or pushed (``refs/notes/remotes/<remote>/gitprov``).
    The pre-push hook uses this to skip the notes sync, and its network round trips.
    """
    tracked = tracking_ref(remote)
    refs = git_notes.resolve_refs(cwd, [NOTES_REF, tracked])
    ours, theirs = refs.get(NOTES_REF), refs.get(tracked)
    if ours is None:
        return False
    if theirs is None:
        return True
    return ours != theirs and not git_notes.is_ancestor(cwd, ours, theirs)


def append_record(*, cwd: Path, commit: str, type: str, fields: Mapping[str, object]) -> str:
    """Append one ``type`` record with ``fields`` to ``commit``'s note; return the line."""
    line = make_record(type, fields)
    git_notes.append(cwd, commit, [line])
    return line


def records(*, cwd: Path, commit: str) -> list[dict[str, object]]:
    """The records in ``commit``'s lineage note, in note (sorted line) order."""
    return parse_lines(git_notes.read_note(cwd, commit))
