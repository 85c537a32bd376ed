"""Per-commit ``commit`` records: written by hooks, rebuilt from the tree, re-attached.

- **post-commit** appends one record to the new commit. During a rebase it does nothing:
  post-rewrite, which knows which commit each new one replaces, writes those records.
- **post-rewrite** (amend, rebase) gives every new commit exactly one record of its own.
  git has already copied the old commit's note over (``notes.rewriteRef``), so the new
  note holds the old commit's record too; that one names the old commit and is ignored by
  readers (``commit_record.current``). Nothing is deleted: notes are append-only.
- **rebuild** writes records for commits that have none (history from before ``init``,
  hooks skipped), from what the tree says. The checklist state is then ``unknown``.
- **reattach** carries the notes of commits that a squash or rebase merge replaced over to
  the commits that replaced them, matched by patch-id and by the runs they record.
- **missing** lists commits without a record, for ``gitprov verify --range`` in CI.

Checklist state: see ``checklist_marker``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitprov.adapters import gitlite, notes_light
from gitprov.model import commit_record
from gitprov.model.commit_record import Checklist, Source
from gitprov.model.notes import make_record, parse_lines
from gitprov.services import checklist_marker
from gitprov.services.commit_facts import CommitFacts, read

_REBASE_DIRS = ("rebase-merge", "rebase-apply")


def _fields(
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


@dataclass(frozen=True)
class Recorded:
    commit: str
    record: Mapping[str, Any]


def post_commit(*, cwd: Path) -> Recorded | None:
    """Append the ``commit`` record of HEAD (None when a rebase is in progress)."""
    git_dir = gitlite.git_dir()
    if git_dir is None:
        return None
    if any(os.path.isdir(os.path.join(git_dir, d)) for d in _REBASE_DIRS):
        return None  # post-rewrite records the rebased commits, knowing their originals
    facts = read("HEAD")
    passed = checklist_marker.take(git_dir)
    origin = None
    picked = _read_head_file(git_dir, "CHERRY_PICK_HEAD")
    if picked:
        origin = {"cherry_picked_from": picked}
    checklist: Checklist = "passed" if passed == facts.tree else "skipped"
    fields = _fields(facts, checklist=checklist, source="post-commit", origin=origin)
    return _append(cwd, facts.commit, fields)


def _read_head_file(git_dir: str, name: str) -> str | None:
    try:
        with open(os.path.join(git_dir, name), encoding="ascii") as handle:
            value = handle.read().strip()
    except OSError:
        return None
    return value if len(value) in (40, 64) else None


def _append(cwd: Path, commit: str, fields: dict[str, object]) -> Recorded:
    line = make_record(commit_record.COMMIT_TYPE, fields)
    notes_light.append(commit, [line], cwd=str(cwd))
    return Recorded(commit, parse_lines(line)[0])


def current_record(cwd: Path, commit: str) -> Mapping[str, Any] | None:
    """The record that describes ``commit`` in its note (None when it has none)."""
    from gitprov.adapters import git_notes  # noqa: PLC0415 - kept off the post-commit path

    return commit_record.current(parse_lines(git_notes.read_note(cwd, commit)), commit)


def _same_artifacts(record: Mapping[str, Any], facts: CommitFacts) -> bool:
    return record.get("artifacts") == [
        a.to_json() for a in sorted(facts.artifacts, key=lambda a: a.path)
    ]


def post_rewrite(*, cwd: Path, pairs: Iterable[tuple[str, str]]) -> list[Recorded]:
    """Give each rewritten commit its own record; the old commit's checklist state carries
    over when the artifacts it changes are the same, else it is ``skipped``."""
    done: list[Recorded] = []
    seen: set[str] = set()
    for old, new in pairs:
        if new in seen or current_record(cwd, new) is not None:
            continue  # amend: post-commit already recorded it; fixup: several olds, one new
        seen.add(new)
        facts = read(new)
        before = current_record(cwd, old)
        checklist: Checklist = "skipped"
        if before is not None and _same_artifacts(before, facts):
            checklist = "passed" if before.get("checklist") == "passed" else "skipped"
        fields = _fields(
            facts, checklist=checklist, source="post-rewrite", origin={"rewritten_from": old}
        )
        done.append(_append(cwd, new, fields))
    return done


def parse_rewrite_stdin(text: str) -> list[tuple[str, str]]:
    """post-rewrite's standard input: ``<old> <new> [<extra>]`` lines."""
    pairs: list[tuple[str, str]] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            pairs.append((parts[0], parts[1]))
    return pairs


def missing(*, cwd: Path, commits: Sequence[str]) -> list[str]:
    """The commits of ``commits`` that have no record of their own."""
    from gitprov.adapters import git_notes  # noqa: PLC0415 - kept off the post-commit path

    notes = git_notes.read_notes(cwd, commits)
    return [c for c in commits if commit_record.current(parse_lines(notes.get(c, "")), c) is None]
