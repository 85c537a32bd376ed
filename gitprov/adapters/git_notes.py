"""Lineage notes through the git CLI: read, append, fetch, merge, push.

Every local write is a compare-and-swap. ``git notes add`` and ``git notes merge`` move
their ref without checking its old value, so two writers in one clone (a post-commit
hook appending while ``gitprov notes sync`` merges, or git itself copying notes during a
rebase) could silently drop each other's records. Here the notes command works on a
private temporary ref, and ``git update-ref <ref> <new> <old>`` publishes the result only
if ``refs/notes/gitprov`` still is what the work started from; otherwise it is redone.
That is how merges are published; appends go through ``notes_light`` (``append`` below).

Failures become gitprov errors with git's own reason, and URLs are redacted first: a
remote URL may carry ``user:token@`` and messages end up in CI logs.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from gitprov.adapters import gitlite, notes_light
from gitprov.adapters.git import git
from gitprov.errors import GitprovError
from gitprov.model.notes import new_ulid, ulid_time_ms

# The same names as gitprov.services.notes_setup (a test keeps them equal): adapters may
# not import services, and the setup service owns the config that uses them.
NOTES_REF = "refs/notes/gitprov"
TMP_REF_PREFIX = "refs/notes/gitprov-tmp/"  # notes commands only write under refs/notes/
MERGE_STRATEGY = "cat_sort_uniq"
# Used for the notes merge commit only when git has no usable identity (CI, containers).
FALLBACK_IDENTITY = ("-c", "user.name=gitprov", "-c", "user.email=gitprov@localhost")
_CAS_ATTEMPTS = 20  # local writers are fast; losing 20 times in a row means something is wrong
_STALE_TMP_MS = 3_600_000  # a temporary ref older than this belongs to a dead process
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


class NotesError(GitprovError):
    """Lineage notes could not be read, written, merged or synchronised."""


class NotesFetchError(NotesError):
    """The remote's notes could not be fetched."""


class NotesPushError(NotesError):
    """The remote refused the notes for a reason other than a lost race."""


def tracking_ref(remote: str) -> str:
    """Where ``remote``'s notes are fetched to: beside, never over, the local notes."""
    return f"refs/notes/remotes/{remote}/gitprov"


def redact(text: str) -> str:
    """``text`` with the user-info of every URL hidden (``https://***@host/...``)."""
    return _URL_USERINFO.sub(r"\1***@", text)


def _reason(proc: subprocess.CompletedProcess[str]) -> str:
    """git's own verdict from a failed command, redacted, on one line."""
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    verdicts = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return redact((verdicts or lines or [f"exit {proc.returncode}"])[0])


def _write_error(what: str, proc: subprocess.CompletedProcess[str]) -> NotesError:
    return NotesError(
        f"cannot {what}: {_reason(proc)}",
        "Check the repository with 'git fsck' and 'git status', then retry",
    )


def resolve(cwd: Path, ref: str) -> str | None:
    """The object ``ref`` names, or None when it does not exist."""
    proc = git(["rev-parse", "--verify", "-q", ref], cwd=cwd, check=False)
    if proc.returncode == 0:
        return proc.stdout.strip()
    if proc.returncode == 1:
        return None
    raise _write_error(f"resolve {ref}", proc)


def resolve_refs(cwd: Path, refs: Iterable[str]) -> dict[str, str]:
    """Object IDs of those of ``refs`` that exist, in one git call (cheap for hooks)."""
    wanted = set(refs)
    proc = git(["for-each-ref", "--format=%(objectname) %(refname)", *wanted], cwd=cwd)
    found: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        oid, _, name = line.partition(" ")
        if name in wanted:  # a pattern also matches refs below it: keep exact names only
            found[name] = oid
    return found


def is_ancestor(cwd: Path, ancestor: str, descendant: str) -> bool:
    """Whether ``ancestor`` is reachable from ``descendant`` (or is the same commit)."""
    proc = git(["merge-base", "--is-ancestor", ancestor, descendant], cwd=cwd, check=False)
    if proc.returncode in (0, 1):
        return proc.returncode == 0
    raise _write_error(f"compare notes commits {ancestor[:12]} and {descendant[:12]}", proc)


def compare_and_swap(cwd: Path, ref: str, new: str, old: str | None) -> bool:
    """Point ``ref`` at ``new`` only if it is still at ``old`` (None: must not exist).

    Returns False when another writer moved ``ref`` first; raises on any other failure.
    """
    proc = git(["update-ref", ref, new, old or ""], cwd=cwd, check=False)
    if proc.returncode == 0:
        return True
    if resolve(cwd, ref) != old:
        return False
    raise _write_error(f"update {ref}", proc)


def delete_ref(cwd: Path, ref: str) -> None:
    """Remove ``ref`` if it exists."""
    proc = git(["update-ref", "-d", ref], cwd=cwd, check=False)
    if proc.returncode != 0 and resolve(cwd, ref) is not None:
        raise _write_error(f"delete {ref}", proc)


def _tmp_ref() -> str:
    return f"{TMP_REF_PREFIX}{new_ulid()}"


def remove_stale_tmp_refs(cwd: Path) -> None:
    """Delete temporary refs left by processes that died mid-write (over an hour old)."""
    listing = git(["for-each-ref", "--format=%(refname)", TMP_REF_PREFIX], cwd=cwd).stdout
    now_ms = time.time_ns() // 1_000_000
    for ref in listing.splitlines():
        try:
            born = ulid_time_ms(ref.removeprefix(TMP_REF_PREFIX))
        except ValueError:
            continue  # not one of ours
        if now_ms - born > _STALE_TMP_MS:
            delete_ref(cwd, ref)


def read_note(cwd: Path, commit: str, *, ref: str = NOTES_REF) -> str:
    """The text of ``commit``'s note on ``ref`` ("" when it has none)."""
    proc = git(["notes", f"--ref={ref}", "show", commit], cwd=cwd, check=False)
    if proc.returncode == 0:
        return proc.stdout
    if proc.returncode == 1:  # "no note found"; a bad commit name exits 128
        return ""
    raise _write_error(f"read the lineage note of {commit}", proc)


def note_blobs(cwd: Path, *, ref: str = NOTES_REF) -> dict[str, str]:
    """Every annotated commit -> its note blob, from one ``git notes list``."""
    proc = git(["notes", f"--ref={ref}", "list"], cwd=cwd, check=False)
    if proc.returncode != 0:
        if resolve(cwd, ref) is None:
            return {}
        raise _write_error("list the lineage notes", proc)
    pairs = (line.split() for line in proc.stdout.splitlines())
    return {commit: blob for blob, commit in pairs}


def read_notes(cwd: Path, commits: Iterable[str], *, ref: str = NOTES_REF) -> dict[str, str]:
    """The note text of each of ``commits`` that has one, in two git processes in all."""
    blobs = note_blobs(cwd, ref=ref)
    wanted = {c: blobs[c] for c in commits if c in blobs}
    if not wanted:
        return {}
    raw = gitlite.read_blobs(sorted(set(wanted.values())), cwd=str(cwd))
    if raw is None:
        raise NotesError(
            f"git could not read the notes on {ref}",
            "Run 'git fsck' to check the repository, then retry",
        )
    texts = {blob: data.decode("utf-8", errors="replace") for blob, data in raw.items()}
    return {c: texts[b] for c, b in wanted.items()}


def append(cwd: Path, commit: str, lines: Iterable[str]) -> str | None:
    """Add ``lines`` to ``commit``'s note (sorted, unique); return the new notes commit.

    Nothing is written when every line is already there. One mechanism for every local
    append, the hooks' included: ``notes_light`` reads the ref and the note in one
    ``git cat-file`` and writes with ``git fast-import``, whose ref update is a
    compare-and-swap, retried when another writer moved the notes meanwhile.
    """
    return notes_light.append(commit, list(lines), cwd=str(cwd))


def _publish(cwd: Path, new: str, old: str | None, tmp: str) -> bool:
    """Compare-and-swap ``NOTES_REF`` to ``new`` and drop ``tmp``, in one transaction."""
    zero = "0" * len(new)  # "must not exist", whatever the repository's hash length
    commands = f"update {NOTES_REF} {new} {old or zero}\ndelete {tmp}\n"
    proc = git(["update-ref", "--stdin"], cwd=cwd, stdin=commands, check=False)
    if proc.returncode == 0:
        return True
    if resolve(cwd, NOTES_REF) != old:
        return False
    raise _write_error(f"update {NOTES_REF}", proc)


def has_identity(cwd: Path) -> bool:
    """Whether git can make a commit here (name and email configured or in the env)."""
    return all(
        git(["var", name], cwd=cwd, check=False).returncode == 0
        for name in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT")
    )


def _committing(
    cwd: Path, args: list[str], *, stdin: str | None = None
) -> tuple[subprocess.CompletedProcess[str], tuple[str, ...]]:
    """Run a git command that makes a commit; return it and the identity options used.

    Notes commits need an author, which CI machines and containers often lack. The
    user's own identity is preferred, so the fallback is added only after a failure that
    ``git var`` confirms is a missing identity (no parsing of localised messages), and
    only for this one command. A failed commit moves no ref, so the retry is safe.
    """
    proc = git(args, cwd=cwd, stdin=stdin, check=False)
    if proc.returncode == 0 or has_identity(cwd):
        return proc, ()
    return git([*FALLBACK_IDENTITY, *args], cwd=cwd, stdin=stdin, check=False), FALLBACK_IDENTITY


def merge(cwd: Path, ours: str, theirs_ref: str) -> str | None:
    """Merge ``theirs_ref`` into the local notes at ``ours`` with ``cat_sort_uniq``.

    Returns the new local notes commit, or None when the local notes moved away from
    ``ours`` meanwhile (the caller starts over from the new state).
    """
    tmp, published = _tmp_ref(), False
    try:
        compare_and_swap(cwd, tmp, ours, None)
        args = ["notes", f"--ref={tmp}", "merge", "-q", "-s", MERGE_STRATEGY, theirs_ref]
        proc, identity = _committing(cwd, args)
        if proc.returncode != 0:
            raise NotesError(
                f"cannot merge {theirs_ref} into {NOTES_REF}: {_reason(proc)}",
                "Check 'git notes --ref=gitprov list' and 'git fsck', then rerun "
                "'gitprov notes sync'",
            )
        result = resolve(cwd, tmp)
        if result is None:
            raise NotesError(
                f"merging {theirs_ref} left no notes commit",
                "Rerun 'gitprov notes sync'; report a bug if it happens again",
            )
        if result not in (ours, resolve(cwd, theirs_ref)):
            result = _retitle_merge(cwd, result, identity, theirs_ref)
        published = _publish(cwd, result, ours, tmp)
        return result if published else None
    finally:
        if not published:
            delete_ref(cwd, tmp)


def _retitle_merge(cwd: Path, merged: str, identity: tuple[str, ...], theirs_ref: str) -> str:
    """The same merge commit, titled with the real target rather than the temporary ref."""
    parents = git(["rev-parse", f"{merged}^{{tree}}", f"{merged}^@"], cwd=cwd).stdout.split()
    tree, parent_ids = parents[0], parents[1:]
    # --no-gpg-sign: like 'git notes merge' itself, which never signs its merge commits.
    args = [*identity, "commit-tree", "--no-gpg-sign", tree]
    for parent in parent_ids:
        args += ["-p", parent]
    args += ["-m", f"Merged notes from {theirs_ref} into {NOTES_REF}"]
    return git(args, cwd=cwd).stdout.strip()


def fetch(cwd: Path, remote: str) -> str | None:
    """Fetch ``remote``'s notes into :func:`tracking_ref`; return their commit.

    Returns None, and forgets any stale tracking ref, when the remote has no notes:
    normal for a fresh remote, and git reports it only as a fetch failure, so
    ``ls-remote`` (which does not depend on the wording) tells the two apart.
    """
    target = tracking_ref(remote)
    fetch_args = [
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",  # leave the user's FETCH_HEAD alone
        "--no-auto-gc",  # no surprise gc inside a push
        "--recurse-submodules=no",
        remote,
        f"+{NOTES_REF}:{target}",
    ]
    proc = git(fetch_args, cwd=cwd, check=False)
    for _ in range(3):
        if proc.returncode == 0:
            return resolve(cwd, target)
        probe = git(["ls-remote", "--exit-code", remote, NOTES_REF], cwd=cwd, check=False)
        if probe.returncode == 2:  # reached the remote; it has no notes
            delete_ref(cwd, target)
            return None
        if probe.returncode != 0:
            break
        # The notes appeared between the two calls (another clone's first push): refetch.
        proc = git(fetch_args, cwd=cwd, check=False)
    raise NotesFetchError(
        f"cannot fetch lineage notes from remote '{redact(remote)}': {_reason(proc)}",
        f"Check the remote and your access with 'git fetch {redact(remote)}', then rerun "
        "'gitprov notes sync'",
    )


class PushOutcome(Enum):
    """What the remote did with a notes push."""

    PUSHED = "pushed"
    UP_TO_DATE = "up-to-date"
    REJECTED = "rejected"  # the remote's notes moved, or the remote refused: see reason


@dataclass(frozen=True)
class PushResult:
    """A push outcome with git's summary (e.g. ``[rejected] (fetch first)``)."""

    outcome: PushOutcome
    summary: str


def push(cwd: Path, remote: str) -> PushResult:
    """Push the local notes to ``remote`` fast-forward only.

    No ``+`` on the refspec: a push that would drop someone else's notes is rejected,
    and the caller fetches, merges and tries again. ``--no-verify`` because gitprov's
    own pre-push hook calls this, and must not run itself again.
    """
    spec = f"{NOTES_REF}:{NOTES_REF}"
    proc = git(
        ["push", "--porcelain", "--no-verify", "--recurse-submodules=no", remote, spec],
        cwd=cwd,
        check=False,
    )
    # Porcelain lines are "<flag>\t<src>:<dst>\t<summary>"; the flag may be a space.
    for line in proc.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[1] == spec:
            flag, summary = fields[0], redact(fields[2])
            if flag == "=":
                return PushResult(PushOutcome.UP_TO_DATE, summary)
            if flag == "!":
                return PushResult(PushOutcome.REJECTED, summary)
            return PushResult(PushOutcome.PUSHED, summary)
    if proc.returncode == 0:
        return PushResult(PushOutcome.PUSHED, "")
    raise NotesPushError(
        f"cannot push lineage notes to remote '{redact(remote)}': {_reason(proc)}",
        f"Check the remote and your push access with 'git push --dry-run {redact(remote)}', "
        "then rerun 'gitprov notes sync'",
    )
