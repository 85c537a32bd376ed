"""Verifying release tags: the pre-push guard and ``gitprov releases``.

A release tag is an annotated tag whose message ends with ``Gitprov-Release: <id>``.
It is valid when the tagged commit's note holds the ``release`` record with that id,
the record's SSH signature verifies against ``.gitprov/allowed_signers`` (at the
record's time, for the releaser's email, namespace ``gitprov``: the same rules as
approvals), and the record agrees with the tag and the commit: same tag name, same
commit, the pointer at that commit has the record's digest, the checklist passed and
the statement says PASSED. A signature is checked first: a forged record's content
means nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters import git, git_notes
from gitprov.errors import GitprovError
from gitprov.model import pointer as pointers
from gitprov.model import release as model
from gitprov.model.notes import parse_lines
from gitprov.services import approvals, trust
from gitprov.services.approvals import VALID

NOT_A_RELEASE = "not_a_release"  # no marker: an ordinary tag, nothing to verify
NO_RECORD = "no_record"
MISMATCH = "mismatch"
NOT_PASSED = "not_passed"


@dataclass(frozen=True)
class ReleaseVerdict:
    """A release tag and the verdict on it; ``status`` is VALID or one of the above,
    or the approval statuses TAMPERED, UNKNOWN_KEY, OUTSIDE_WINDOW."""

    tag: str
    commit: str
    record_id: str
    status: str
    detail: str
    release: model.Release | None = None

    @property
    def valid(self) -> bool:
        return self.status == VALID


def signature_verdict(
    top: Path, record: dict[str, object], found: model.Release, *, trust_at: str
) -> tuple[str, str]:
    """The signature's status and a one-line detail, as for approvals, against the
    allowed signers committed at ``trust_at`` (never an uncommitted edit)."""
    status, detail = approvals.verify_signature(
        record,
        signer=found.releaser,
        at=found.at,
        top=top,
        trusted=trust.at_commit(top, trust_at),
    )
    return (VALID, f"signed by {found.releaser}") if status == VALID else (status, detail)


def _released_digest(top: Path, checkpoint: str, commit: str) -> str | None:
    """The digest of ``checkpoint``'s pointer at ``commit`` (None: absent or unreadable)."""
    text = git.show_file(top, commit, checkpoint + pointers.SUFFIX)
    if text is None:
        return None
    try:
        return pointers.parse(text, source=checkpoint + pointers.SUFFIX)[0].digest
    except GitprovError:
        return None


def _content_verdict(
    top: Path, record: dict[str, object], found: model.Release, tag: str, commit: str
) -> tuple[str, str]:
    """Whether a validly signed record is the one this tag stands for, and passed."""
    mismatches = [
        (found.tag != tag, f"the record is for tag {found.tag!r}, not {tag!r}"),
        (
            found.commit != commit,
            f"the record is for commit {found.commit[:12]}, the tag names {commit[:12]}",
        ),
        (
            model.subject_digest(record) != found.digest,
            "the statement's subject is not the record's digest",
        ),
    ]
    for failed, detail in mismatches:
        if failed:
            return MISMATCH, detail
    if _released_digest(top, found.checkpoint, commit) != found.digest:
        return MISMATCH, f"{found.checkpoint} at {commit[:12]} is not the released digest"
    if not found.passed or found.result != model.PASSED:
        return NOT_PASSED, "the record does not say the release checklist passed"
    return VALID, f"{found.checkpoint} {found.version}, signed by {found.releaser}"


def verify_tag_object(top: Path, tag: str, obj: str) -> ReleaseVerdict:
    """The verdict on tag object ``obj`` pushed or kept as ``refs/tags/<tag>``."""
    proc = git.git(["cat-file", "tag", obj], cwd=top, check=False)
    if proc.returncode != 0:
        return ReleaseVerdict(tag, "", "", NOT_A_RELEASE, "a lightweight tag")
    tag_object = model.parse_tag_object(proc.stdout)
    record_id = model.marker_id(tag_object.message)
    if record_id is None:
        return ReleaseVerdict(tag, tag_object.object, "", NOT_A_RELEASE, "no Gitprov-Release line")
    commit = tag_object.object
    if tag_object.type != "commit" or tag_object.name != tag:
        detail = f"the tag object is named {tag_object.name!r} and tags a {tag_object.type}"
        return ReleaseVerdict(tag, commit, record_id, MISMATCH, detail)
    for record in parse_lines(git_notes.read_note(top, commit)):
        if record.get("type") == model.TYPE and record.get("id") == record_id:
            found = model.parse_release(record)
            # Trust as the released commit has it: the tag vouches for that commit.
            status, detail = signature_verdict(top, record, found, trust_at=commit)
            if status == VALID:
                status, detail = _content_verdict(top, record, found, tag, commit)
            return ReleaseVerdict(tag, commit, record_id, status, detail, found)
    return ReleaseVerdict(
        tag, commit, record_id, NO_RECORD, f"commit {commit[:12]} has no release record {record_id}"
    )


def verify_release(*, cwd: Path, tag: str) -> ReleaseVerdict:
    """The verdict on the local tag ``tag``."""
    top = git.discover(cwd).worktree
    obj = git.git(["rev-parse", "-q", "--verify", f"refs/tags/{tag}"], cwd=top, check=False)
    if obj.returncode != 0:
        raise GitprovError(
            f"there is no tag {tag!r}", "List the release tags with 'gitprov releases'"
        )
    return verify_tag_object(top, tag, obj.stdout.strip())


def releases(*, cwd: Path, checkpoint: str | None = None) -> list[ReleaseVerdict]:
    """Every release tag (annotated, with the marker), verified; oldest tag first.
    With ``checkpoint``, only that checkpoint's (its path relative to the top)."""
    layout = git.discover(cwd)
    top = layout.worktree
    if checkpoint is not None:
        checkpoint = _relative(top, cwd, checkpoint.removesuffix(pointers.SUFFIX))
    listing = git.git(
        [
            "for-each-ref",
            "--sort=creatordate",
            "--format=%(objecttype) %(objectname) %(refname:strip=2)",
            "refs/tags",
        ],
        cwd=top,
    ).stdout
    verdicts = []
    for line in listing.splitlines():
        kind, obj, tag = line.split(" ", 2)
        if kind != "tag":
            continue
        verdict = verify_tag_object(top, tag, obj)
        if verdict.status == NOT_A_RELEASE:
            continue
        if checkpoint is not None and (
            verdict.release is None or verdict.release.checkpoint != checkpoint
        ):
            continue
        verdicts.append(verdict)
    return verdicts


def _relative(top: Path, cwd: Path, path: str) -> str:
    """``path`` (relative to ``cwd``) relative to the work tree top, as records name it."""
    absolute = Path(os.path.normpath(Path(cwd, path).absolute()))
    for base in (top, top.resolve()):
        with contextlib.suppress(ValueError):
            return absolute.relative_to(base).as_posix()
    return path


def guard_pushed_tags(*, cwd: Path, tags: Sequence[tuple[str, str]]) -> list[ReleaseVerdict]:
    """The pre-push guard: ``tags`` are (remote ref, tag object) pairs being pushed.
    Raises a GitprovError naming every release tag without a valid record."""
    top = git.discover(cwd).worktree
    verdicts = [verify_tag_object(top, ref.removeprefix("refs/tags/"), obj) for ref, obj in tags]
    bad = [v for v in verdicts if v.status not in (VALID, NOT_A_RELEASE)]
    if bad:
        first = bad[0]
        raise GitprovError(
            "refusing to push release tag"
            + ("s " + ", ".join(v.tag for v in bad) if len(bad) > 1 else f" {first.tag}")
            + f" without a passing, validly signed release record ({first.tag}: "
            f"{first.status}, {first.detail})",
            "Make releases with 'gitprov release CHECKPOINT --version X', check them with "
            f"'gitprov releases'; or delete the tag: git tag -d {first.tag}",
        )
    return verdicts
