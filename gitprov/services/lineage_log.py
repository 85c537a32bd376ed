"""``gitprov log``: every commit with its lineage, read in one pass.

The notes tree is read once into a map (commit -> note blob); commits come from one
revision walk; each commit's note, the run records it names and their environment
snapshots are read as blobs from the object database. No git process is started per
commit, so 10,000 commits take a fraction of a second (docs/lineage.md).

Bad data never stops the log: a note line that is not a record, a malformed record field
or an unreadable run record becomes a warning on that commit's entry, and the rest of
the history is still shown.

This module owns the walk and the building of each entry; the arguments are split in
``services.log_args``, the note's records read in ``services.log_notes``, and the entry
types are ``services.log_entry``'s (re-exported here).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitprov.adapters.history import CommitInfo, History
from gitprov.errors import GitprovError, UsageError
from gitprov.model import commit_record, runrecord
from gitprov.model import digest as digests
from gitprov.services import deprecation_scan
from gitprov.services.log_args import relative_path, split_arguments
from gitprov.services.log_entry import ChangeView, LogEntry, RunView
from gitprov.services.log_notes import (
    artifact_changes,
    current_record,
    note_records,
    side_records,
    string_list,
    text_field,
)

if TYPE_CHECKING:  # loaded only when something is deprecated
    from gitprov.model.deprecation import DeprecatedUse, Deprecation

__all__ = [
    "ChangeView",
    "EnvSummaries",
    "LogEntry",
    "RunView",
    "log",
    "relative_path",
    "split_arguments",
]


def log(*, cwd: Path, args: Sequence[str] = (), max_count: int | None = None) -> Iterator[LogEntry]:
    """The lineage log of ``args`` (``[REV-RANGE] [PATH...]``), newest first.

    Arguments are checked before this returns (an unknown revision raises here), then
    entries are produced one commit at a time, so a long history streams.
    """
    if max_count is not None and max_count < 1:
        raise UsageError(f"--max-count must be at least 1, got {max_count}", "Pass -n 1 or more")
    history = History(cwd)
    revision, paths = split_arguments(history, cwd.resolve(), args)
    include, exclude = history.range_tips(revision)
    notes = history.notes_map()
    deprecated = deprecation_scan.active(cwd)  # cached by the notes tree's id
    commits = history.walk(include, exclude, paths=[p for p in paths if p])
    return _entries(_Reader(history, deprecated), commits, notes, max_count)


def _entries(
    reader: _Reader, commits: Iterator[CommitInfo], notes: Mapping[str, str], max_count: int | None
) -> Iterator[LogEntry]:
    for shown, commit in enumerate(commits):
        if max_count is not None and shown >= max_count:
            return
        yield reader.entry(commit, notes.get(commit.id))


class _Reader:
    """Reads one commit's note, run records and environments (each blob once)."""

    def __init__(self, history: History, deprecated: Mapping[str, Deprecation]) -> None:
        self.history = history
        self.envs = EnvSummaries(history)
        self.deprecated = deprecated

    def _deprecated_reads(self, runs: Sequence[RunView]) -> tuple[DeprecatedUse, ...]:
        """The runs among ``runs`` that read a deprecated checkpoint."""
        if not self.deprecated:
            return ()
        from gitprov.model.deprecation import DeprecatedUse  # noqa: PLC0415

        return tuple(
            DeprecatedUse("read", self.deprecated[ref.digest], run=run.id, digest=ref.digest)
            for run in runs
            for ref in run.inputs
            if ref.digest in self.deprecated
        )

    def entry(self, commit: CommitInfo, note_blob: str | None) -> LogEntry:
        warnings: list[str] = []
        short = commit.id[:12]
        records = self._records(note_blob, short, warnings) if note_blob else []
        record = current_record(records, commit.id)
        copied: tuple[str, ...] = ()
        others: tuple[Mapping[str, Any], ...] = ()
        if len(records) > (record is not None):  # anything besides this commit's record
            copied, others = side_records(records, commit.id)
        tree, subject = commit.tree, commit.message.split("\n", 1)[0]
        date = _date(commit.time, commit.offset)
        if record is None:
            decisions = commit_record.trailer_values(commit.message, commit_record.DECISION_TRAILER)
            runs = tuple(self._run(tree, r, short, warnings) for r in self._tree_runs(commit))
            return LogEntry(
                commit.id,
                commit.parents,
                commit.author,
                commit.email,
                date,
                subject,
                record=None,
                decisions=tuple(decisions),
                runs=runs,
                runs_from_tree=bool(runs),
                copied_from=copied,
                other_records=others,
                warnings=tuple(warnings),
                deprecations=self._deprecated_reads(runs),
            )
        rid = str(record.get("id"))
        env = text_field(record.get("env"))
        run_ids = string_list(record, "runs", short, rid, warnings)
        runs = tuple([self._run(tree, runrecord.run_id_of(r), short, warnings) for r in run_ids])
        return LogEntry(
            commit.id,
            commit.parents,
            commit.author,
            commit.email,
            date,
            subject,
            record=rid,
            source=text_field(record.get("source")),
            checklist=text_field(record.get("checklist")),
            decisions=tuple(string_list(record, "decisions", short, rid, warnings)),
            artifacts=artifact_changes(record, short, rid, warnings),
            runs=runs,
            env=env,
            env_summary=self.envs.summary(tree, env, short, warnings) if env else None,
            copied_from=copied,
            other_records=others,
            warnings=tuple(warnings),
            deprecations=self._deprecated_reads(runs),
        )

    def _records(self, blob: str, short: str, warnings: list[str]) -> list[dict[str, Any]]:
        text = self.history.read_blob(blob, cache=False).decode("utf-8", errors="replace")
        return note_records(text, short, warnings)

    def _tree_runs(self, commit: CommitInfo) -> list[str]:
        """Runs whose records ``commit`` added (no note to say so: read from the tree)."""
        mine = self.history.entry_at(commit.id, runrecord.RUNS_DIR)
        if mine is None or mine[1] != "tree":
            return []
        theirs: set[str] = set()
        for parent in commit.parents:
            entry = self.history.entry_at(parent, runrecord.RUNS_DIR)
            if entry == mine:
                return []
            if entry is not None and entry[1] == "tree":
                theirs |= {name for name, _, _ in self.history.list_tree(entry[0])}
        return sorted(
            name.removesuffix(".json")
            for name, _, kind in self.history.list_tree(mine[0])
            if kind == "blob" and name.endswith(".json") and name not in theirs
        )

    def _run(self, tree: str, run_id: str, short: str, warnings: list[str]) -> RunView:
        path = runrecord.record_path(run_id)
        data = self.history.blob_at(tree, path)
        if data is None:
            warnings.append(f"commit {short}: run {run_id} is recorded, but {path} is not in it")
            return RunView(run_id, found=False)
        try:
            run = runrecord.loads(data, source=f"{path}@{short}")
        except GitprovError as exc:
            warnings.append(f"commit {short}: {exc.problem}; run {run_id} shown without details")
            return RunView(run_id, found=False)
        return RunView(
            id=run.id,
            found=True,
            argv=run.argv,
            exit_code=run.exit_code,
            params=dict(run.params),
            seeds=run.seeds,
            inputs=run.inputs,
            outputs=run.outputs,
            env=run.env,
            env_summary=self.envs.summary(tree, run.env, short, warnings) if run.env else None,
        )


class EnvSummaries:
    """One-line summaries of environment snapshots ``.gitprov/envs/<hex>.json`` (as
    ``gitprov.model.environment.summary`` writes them), each read and summarised once."""

    def __init__(self, history: History) -> None:
        self.history = history
        self._done: dict[str, str | None] = {}

    def summary(self, tree: str, env: str, short: str, warnings: list[str]) -> str | None:
        """The summary of snapshot ``env`` as stored in ``tree`` (a commit's tree);
        None, and a warning naming commit ``short``, when it is missing or unreadable."""
        if env in self._done:
            return self._done[env]
        # Loaded on the first snapshot: a log of commits without runs does not pay for it.
        from gitprov.model import environment  # noqa: PLC0415

        path = environment.snapshot_path(env) if digests.is_digest(env) else env
        data = self.history.blob_at(tree, path)
        text: str | None = None
        if data is None:
            warnings.append(f"commit {short}: environment {path} is not in it")
        else:
            try:
                text = environment.summary(environment.loads(data, source=f"{path}@{short}"))
            except GitprovError as exc:
                warnings.append(f"commit {short}: {exc.problem}; environment not shown")
        self._done[env] = text
        return text


_OFFSETS: dict[int, str] = {}


def _date(seconds: int, offset_minutes: int) -> str:
    """ISO 8601 in the author's own offset, like ``git log --date=iso-strict``.

    >>> _date(0, 90)
    '1970-01-01T01:30:00+01:30'
    """
    suffix = _OFFSETS.get(offset_minutes)
    if suffix is None:
        sign, minutes = ("+", offset_minutes) if offset_minutes >= 0 else ("-", -offset_minutes)
        suffix = _OFFSETS[offset_minutes] = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds + offset_minutes * 60)) + suffix
