"""Append a record to a commit's lineage note in two git processes: the one local writer.

Every local append goes through here (``git_notes.append`` delegates), because the commit
hooks need it light: no ``subprocess`` import, no temporary ref, two git processes:

1. one ``git cat-file --batch`` reads the notes ref and the commit's existing note (at
   each fan-out depth git may have used: ``<hex>``, ``ab/<rest>``, ``ab/cd/<rest>``...);
2. one ``git fast-import`` writes a notes commit whose parent is the value read in step 1,
   with the merged note (fast-import handles the notes tree's fan-out), and moves
   ``refs/notes/gitprov`` to it. fast-import refuses to move a ref to a commit that does
   not contain the ref's current value, checked under the ref's lock: that is the
   compare-and-swap. If another writer moved the notes meanwhile, the update is refused
   and the whole append is redone from the new value, so neither writer's lines are lost.

The merged note is what ``cat_sort_uniq`` would produce. Step 1 may see the ref move
between its lines; the note text it read is then newer than the parent it names, and
step 2's refusal makes the next attempt start over, so a stale read is never published.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from gitprov.adapters import gitlite
from gitprov.errors import GitprovError
from gitprov.model.notes import merge_text

NOTES_REF = "refs/notes/gitprov"  # = git_notes.NOTES_REF (a test keeps them equal)
_ATTEMPTS = 20


class NotesAppendError(GitprovError):
    """The note could not be written."""


def _fail(what: str) -> NotesAppendError:
    return NotesAppendError(
        f"git could not {what} for the lineage note",
        "Check the repository with 'git fsck', then run 'gitprov notes rebuild'",
    )


def _fanout_paths(commit: str) -> list[str]:
    """Where a notes tree may hold ``commit``'s note: git fans out by two hex digits per
    level as the number of notes grows."""
    return [
        commit,
        f"{commit[:2]}/{commit[2:]}",
        f"{commit[:2]}/{commit[2:4]}/{commit[4:]}",
        f"{commit[:2]}/{commit[2:4]}/{commit[4:6]}/{commit[6:]}",
    ]


def _read_state(commit: str, cwd: str | None) -> tuple[str | None, str]:
    """(the notes ref's commit or None, ``commit``'s note text or "") in one git process."""
    names = [NOTES_REF, *(f"{NOTES_REF}:{path}" for path in _fanout_paths(commit))]
    code, out = gitlite.run(
        ["cat-file", "--batch"], "".join(f"{n}\n" for n in names).encode(), cwd=cwd
    )
    if code != 0:
        raise _fail("read refs/notes/gitprov")
    pos = 0
    found: list[tuple[str, bytes] | None] = []
    for _ in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if header[-1] == b"missing" or len(header) != 3:
            found.append(None)
            continue
        size = int(header[2])
        found.append((header[0].decode(), out[pos : pos + size]))
        pos += size + 1
    ref = found[0]
    notes = [item for item in found[1:] if item is not None]
    text = notes[0][1].decode("utf-8", errors="surrogateescape") if notes else ""
    return (ref[0] if ref else None), text


def _full_oid(commit: str, cwd: str | None) -> str:
    """``commit`` as a full object name: the note's path in the notes tree is the full hex,
    so a name like ``HEAD`` would read no existing note and the write would drop it."""
    if len(commit) in (40, 64) and all(c in "0123456789abcdef" for c in commit):
        return commit
    code, out = gitlite.run(["rev-parse", "--verify", "-q", f"{commit}^{{commit}}"], cwd=cwd)
    if code != 0:
        raise NotesAppendError(
            f"{commit!r} is not a commit in this repository",
            "Name the commit by its hash or a branch (see 'git log --oneline')",
        )
    return out.decode().strip()


def _ident(value: str) -> str:
    """A name or e-mail fast-import accepts: git's own identities cannot hold <, > or
    newlines, but the environment can."""
    return " ".join(value.replace("<", "").replace(">", "").split())


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def append(
    commit: str,
    lines: list[str],
    *,
    cwd: str | None = None,
    unless: Callable[[str], bool] | None = None,
) -> str | None:
    """Add ``lines`` to ``commit``'s note; return the new notes commit (None: no change).

    ``unless(existing_note_text)`` true: write nothing (checked against the same note
    state the write would be conditional on, so it is race-free).
    """
    commit = _full_oid(commit, cwd)
    for attempt in range(_ATTEMPTS):
        old, existing = _read_state(commit, cwd)
        if unless is not None and unless(existing):
            return old
        text = merge_text(existing, lines)
        if text == existing:
            return old
        name = _ident(os.environ.get("GIT_COMMITTER_NAME", "")) or "gitprov"
        email = _ident(os.environ.get("GIT_COMMITTER_EMAIL", "")) or "gitprov@localhost"
        stream = b"".join(
            [
                f"commit {NOTES_REF}\nmark :1\n".encode(),
                f"committer {name} <{email}> {int(time.time())} +0000\n".encode(),
                _data(b"Notes added by 'gitprov'\n"),
                f"from {old}\n".encode() if old else b"",
                f"N inline {commit}\n".encode(),
                _data(text.encode("utf-8", errors="surrogateescape")),
                b"get-mark :1\n",
            ]
        )
        code, out = gitlite.run(
            ["fast-import", "--quiet", "--cat-blob-fd=1", "--date-format=raw"], stream, cwd=cwd
        )
        new = out.decode().strip()
        if code == 0 and len(new) in (40, 64):
            return new
        if code < 0:
            raise _fail("start git fast-import")
        now, _ = _read_state(commit, cwd)
        if now == old:
            # Nobody moved the notes, yet fast-import refused: retrying will not help.
            raise NotesAppendError(
                "git fast-import could not update refs/notes/gitprov, which no other writer "
                "moved (a stale refs/notes/gitprov.lock left by a killed git?)",
                "Remove .git/refs/notes/gitprov.lock if no git command is running, then run "
                "'gitprov notes rebuild'",
            )
        # Refused: another writer moved the notes first. Start over after a short, random
        # pause, so that writers racing for the ref spread out instead of colliding again.
        time.sleep((0.005 + os.urandom(1)[0] / 255 * 0.02) * (attempt + 1))
    raise NotesAppendError(
        f"{NOTES_REF} kept changing while a record was being added to {commit}",
        "Wait for other gitprov or git notes commands to finish, then run 'gitprov notes rebuild'",
    )
