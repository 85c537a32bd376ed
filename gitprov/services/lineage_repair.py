"""Lineage records after the fact: rewritten commits, rebuilt and re-attached records.

- **post-rewrite** (amend, rebase) gives every new commit exactly one record of its own.
  git has already copied the old commit's note over (``notes.rewriteRef``), so the new
  note holds the old commit's record too; that one names the old commit and is ignored by
  readers (``commit_record.current``). Nothing is deleted: notes are append-only.
- **rebuild** writes records for commits that have none (history from before ``init``,
  hooks skipped), from what the tree says. The checklist state is then ``unknown``.
- **reattach** carries the notes of commits that a squash or rebase merge replaced over to
  the commits that replaced them, matched by patch-id and by the runs they record.
- **missing** lists commits without a record, for ``gitprov verify --range`` in CI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitprov.adapters import git, git_notes, notes_light
from gitprov.errors import GitprovError
from gitprov.model import commit_record
from gitprov.model.notes import make_record, parse_lines
from gitprov.services.commit_facts import CommitFacts, read
from gitprov.services.commit_lineage import append_record, fields_for

if TYPE_CHECKING:
    from gitprov.model.commit_record import Checklist


def _same_artifacts(record: Mapping[str, Any], facts: CommitFacts) -> bool:
    return record.get("artifacts") == [
        a.to_json() for a in sorted(facts.artifacts, key=lambda a: a.path)
    ]


def post_rewrite(*, cwd: Path, pairs: Sequence[tuple[str, str]]) -> list[Mapping[str, Any]]:
    """Give each rewritten commit its own record; the old commit's checklist state carries
    over when the artifacts it changes are the same, else it is ``skipped``."""
    done: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    # Every note involved, read once (two git processes), not two `git notes show` per
    # pair: a rebase of hundreds of commits runs this inside `git rebase`.
    notes = git_notes.read_notes(cwd, [commit for pair in pairs for commit in pair])

    def own(commit: str) -> Mapping[str, Any] | None:
        return commit_record.current(parse_lines(notes.get(commit, "")), commit)

    for old, new in pairs:
        if new in seen or own(new) is not None:
            continue  # amend: post-commit already recorded it; fixup: several olds, one new
        seen.add(new)
        facts = read(new, cwd=str(cwd))
        before = own(old)
        checklist: Checklist = "skipped"
        if before is not None and _same_artifacts(before, facts):
            checklist = "passed" if before.get("checklist") == "passed" else "skipped"
        fields = fields_for(
            facts, checklist=checklist, source="post-rewrite", origin={"rewritten_from": old}
        )
        done.append(append_record(str(cwd), new, fields))
    return done


def missing(*, cwd: Path, commits: Sequence[str]) -> list[str]:
    """The commits of ``commits`` that have no record of their own."""
    notes = git_notes.read_notes(cwd, commits)
    return [c for c in commits if commit_record.current(parse_lines(notes.get(c, "")), c) is None]


@dataclass(frozen=True)
class RebuildReport:
    recorded: list[str]  # commits that got a record
    already: int  # commits that had one


def rebuild(*, cwd: Path, rev_args: Sequence[str] = ("HEAD",)) -> RebuildReport:
    """Write a ``rebuild`` record for every commit in ``rev_args`` that has none.

    What the tree says (artifacts changed, runs added, decisions in trailers) is recorded;
    whether a checklist ran then cannot be known, so it is ``unknown``. Post-hoc facts
    (evaluations, approvals) exist only in notes and cannot be rebuilt.
    """
    commits = git.rev_list(cwd, list(rev_args))
    todo = missing(cwd=cwd, commits=commits)
    for commit in reversed(todo):  # oldest first, like the hooks would have
        facts = read(commit, cwd=str(cwd))
        append_record(str(cwd), commit, fields_for(facts, checklist="unknown", source="rebuild"))
    return RebuildReport(todo, len(commits) - len(todo))


_RUN_LINE = "Gitprov-Run:"


def _runs_named(message: str) -> set[str]:
    """Run ids in ``Gitprov-Run:`` lines anywhere in a message: a squash merge joins the
    messages of the commits it replaces, so their trailers end up in its body."""
    return {
        line.split(":", 1)[1].strip()
        for line in message.splitlines()
        if line.strip().startswith(_RUN_LINE) and line.split(":", 1)[1].strip()
    }


@dataclass(frozen=True)
class Reattached:
    commit: str
    origins: tuple[str, ...]
    how: str  # "patch-id" | "runs" | "patch-id+runs"


@dataclass(frozen=True)
class ReattachReport:
    reattached: list[Reattached]
    unmatched: list[str]  # commits in the range still without a record


def reattach(*, cwd: Path, rev_args: Sequence[str]) -> ReattachReport:
    """Carry the notes of replaced commits over to the commits in ``rev_args`` that replaced
    them (a rebase merge: same patch-id; a squash merge: the runs they record).

    Every line of each original's note is copied (evaluations and approvals included), and
    the new commit gets its own ``reattach`` record naming its origins. The checklist
    state is ``passed`` only if every origin passed it.
    """
    targets = git.rev_list(cwd, list(rev_args))
    need = missing(cwd=cwd, commits=targets)
    if not need:
        return ReattachReport([], [])
    in_range = set(targets)
    annotated = git_notes.note_blobs(cwd)
    # Notes may name commits this clone never had (or has pruned): skip those.
    check = git.git(["cat-file", "--batch-check"], cwd=cwd, stdin="\n".join(annotated) + "\n")
    existing = {
        parts[0]
        for parts in (line.split() for line in check.stdout.splitlines())
        if len(parts) == 3 and parts[1] == "commit"
    }
    candidates = [c for c in annotated if c not in in_range and c in existing]
    texts = git_notes.read_notes(cwd, candidates)
    ids = git.patch_ids(cwd, [*candidates, *need])
    by_patch = {ids[c]: c for c in candidates if c in ids}
    records = {c: commit_record.current(parse_lines(texts.get(c, "")), c) for c in candidates}
    done: list[Reattached] = []
    unmatched: list[str] = []
    for commit in reversed(need):
        facts = read(commit, cwd=str(cwd))
        origins: dict[str, str] = {}
        if commit in ids and ids[commit] in by_patch:
            origins[by_patch[ids[commit]]] = "patch-id"
        runs = _runs_named(facts.message) | set(facts.runs)
        for cand, rec in records.items():
            if rec and runs & set(rec.get("runs") or []):
                origins[cand] = "patch-id+runs" if cand in origins else "runs"
        if not origins:
            unmatched.append(commit)
            continue
        passed = all((records.get(o) or {}).get("checklist") == "passed" for o in origins)
        fields = fields_for(
            facts,
            checklist="passed" if passed else "skipped",
            source="reattach",
            origin={"reattached_from": " ".join(sorted(origins))},
        )
        copied = [line for o in origins for line in texts.get(o, "").split("\n") if line]
        line = make_record(commit_record.COMMIT_TYPE, fields)
        notes_light.append(commit, [*copied, line], cwd=str(cwd))
        how = "+".join(sorted(set(origins.values())))
        done.append(Reattached(commit, tuple(sorted(origins)), how))
    return ReattachReport(done, unmatched)


def check_range(*, cwd: Path, rev_args: Sequence[str]) -> tuple[int, list[str]]:
    """(commits in the range, those without a lineage record), for ``verify --range``."""
    commits = git.rev_list(cwd, list(rev_args))
    return len(commits), missing(cwd=cwd, commits=commits)


def record_rewritten_without_pairs(*, cwd: Path) -> list[Mapping[str, Any]]:
    """post-rewrite without git's old/new list (the pre-commit framework does not pass it
    on): record every commit in ``ORIG_HEAD..HEAD`` that has no record, as ``skipped``."""
    try:
        commits = git.rev_list(cwd, ["ORIG_HEAD..HEAD"])
    except GitprovError:
        return []  # no ORIG_HEAD: nothing to go on; 'verify --range' will say so
    done: list[Mapping[str, Any]] = []
    for commit in reversed(missing(cwd=cwd, commits=commits)):
        facts = read(commit, cwd=str(cwd))
        fields = fields_for(facts, checklist="skipped", source="post-rewrite")
        done.append(append_record(str(cwd), commit, fields))
    return done
