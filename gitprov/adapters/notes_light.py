"""Append a record to a commit's lineage note in four git processes, for the commit hooks.

``git_notes.append`` does the same with ``git notes add`` on a temporary ref (six git
processes and the ``subprocess`` import), which is fine for commands but too slow for a
hook that runs on every commit. Here:

1. ``git rev-parse`` reads the notes ref (the value the final update is conditional on);
2. ``git notes list`` / ``git cat-file`` read the commit's existing note *from that value*
   (one process when there is none);
3. ``git fast-import`` writes one notes commit on top of it with the merged note (it
   handles the notes tree's fan-out) onto a temporary ref and prints the new commit;
4. ``git update-ref --stdin`` moves ``refs/notes/gitprov`` from the value read in step 1
   to the new commit and deletes the temporary ref, in one transaction.

If another writer moved the notes meanwhile, step 4 fails and the whole append is redone
from the new value, so neither writer's lines are lost (the same compare-and-swap as
``git_notes``). The merged note is what ``cat_sort_uniq`` would produce.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from gitprov.adapters import gitlite
from gitprov.errors import GitprovError
from gitprov.model.notes import merge_text, new_ulid

NOTES_REF = "refs/notes/gitprov"  # = git_notes.NOTES_REF (a test keeps them equal)
TMP_REF_PREFIX = "refs/notes/gitprov-tmp/"  # = git_notes.TMP_REF_PREFIX
_ATTEMPTS = 20
_ZERO = "0" * 40


class NotesAppendError(GitprovError):
    """The note could not be written."""


def _fail(what: str) -> NotesAppendError:
    return NotesAppendError(
        f"git could not {what} for the lineage note",
        "Check the repository with 'git fsck', then run 'gitprov notes rebuild'",
    )


def _existing(cwd: str | None, notes_commit: str | None, commit: str) -> str:
    if notes_commit is None:
        return ""
    code, out = gitlite.run(["notes", f"--ref={NOTES_REF}", "list", commit], cwd=cwd)
    # 'notes list' reads the ref, which may have moved past notes_commit: harmless, since
    # the final update is conditional on notes_commit and is redone if it moved.
    if code == 1 or (code != 0 and b"no note found" in out):
        return ""
    if code != 0:
        raise _fail("look up the existing note")
    blob = out.decode().strip()
    blobs = gitlite.read_blobs([blob], cwd=cwd)
    if blobs is None:
        raise _fail("read the existing note")
    return blobs[blob].decode("utf-8", errors="surrogateescape")


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
    for _ in range(_ATTEMPTS):
        code, out = gitlite.run(["rev-parse", "-q", "--verify", f"{NOTES_REF}^{{commit}}"], cwd=cwd)
        if code not in (0, 1):
            raise _fail("read refs/notes/gitprov")
        old = out.decode().strip() or None if code == 0 else None
        existing = _existing(cwd, old, commit)
        if unless is not None and unless(existing):
            return old
        text = merge_text(existing, lines)
        if text == existing:
            return old
        tmp = TMP_REF_PREFIX + new_ulid()
        name = os.environ.get("GIT_COMMITTER_NAME", "gitprov")
        email = os.environ.get("GIT_COMMITTER_EMAIL", "gitprov@localhost")
        stream = b"".join(
            [
                f"commit {tmp}\nmark :1\n".encode(),
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
        if code != 0 or len(new) not in (40, 64):
            gitlite.run(["update-ref", "-d", tmp], cwd=cwd)
            raise _fail("write the note")
        update = f"update {NOTES_REF} {new} {old or _ZERO}\ndelete {tmp}\n".encode()
        code, _ = gitlite.run(["update-ref", "--stdin"], update, cwd=cwd)
        if code == 0:
            return new
        gitlite.run(["update-ref", "-d", tmp], cwd=cwd)  # lost a race: redo from the new value
    raise NotesAppendError(
        f"{NOTES_REF} kept changing while a record was being added to {commit}",
        "Wait for other gitprov or git notes commands to finish, then run 'gitprov notes rebuild'",
    )
