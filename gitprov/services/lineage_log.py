"""``gitprov log``: every commit with its lineage, read in one pass.

The notes tree is read once into a map (commit -> note blob); commits come from one
revision walk; each commit's note, the run records it names and their environment
snapshots are read as blobs from the object database. No git process is started per
commit, so 10,000 commits take a fraction of a second (docs/lineage.md).

Bad data never stops the log: a note line that is not a record, a malformed record field
or an unreadable run record becomes a warning on that commit's entry, and the rest of
the history is still shown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitprov.adapters.history import CommitInfo, History, UnknownRevisionError
from gitprov.errors import GitprovError, UsageError
from gitprov.model import commit_record, runrecord
from gitprov.model import digest as digests
from gitprov.model.runrecord import ArtifactRef


@dataclass(frozen=True)
class RunView:
    """A run a commit records; ``found`` is False when its record is not in the tree."""

    id: str
    found: bool
    argv: tuple[str, ...] = ()
    exit_code: int | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    seeds: tuple[str, ...] = ()
    inputs: tuple[ArtifactRef, ...] = ()
    outputs: tuple[ArtifactRef, ...] = ()
    env: str | None = None
    env_summary: str | None = None


@dataclass(frozen=True)
class ChangeView:
    """An artifact a commit added, modified or deleted, as its record says."""

    path: str
    kind: str
    digest: str | None  # None when deleted
    change: str  # added | modified | deleted


@dataclass(slots=True)  # not frozen: a log makes thousands, and frozen costs 3x to build
class LogEntry:
    """One commit of ``gitprov log``.

    ``record`` is the id of the ``commit`` note record that describes this commit (None:
    no record; the runs are then those whose records the commit added, and
    ``runs_from_tree`` is True). ``copied_from``: commits whose records git copied here
    when it rewrote them (amend, rebase), ignored. ``other_records``: the note's other
    records (evaluations, approvals...), as they are.
    """

    commit: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str  # ISO 8601 with the author's offset
    subject: str
    record: str | None
    source: str | None = None
    checklist: str | None = None
    decisions: tuple[str, ...] = ()
    artifacts: tuple[ChangeView, ...] = ()
    runs: tuple[RunView, ...] = ()
    runs_from_tree: bool = False
    env: str | None = None
    env_summary: str | None = None
    copied_from: tuple[str, ...] = ()
    other_records: tuple[Mapping[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()


def split_arguments(
    history: History, cwd: Path, args: Sequence[str]
) -> tuple[str | None, list[str]]:
    """``[REV-RANGE] [PATH...]`` -> (range, paths relative to the top), as git log reads
    its arguments without ``--``: the first argument is the range when it names commits,
    every other argument is a path.

    The command line parser has already swallowed any ``--``, so a name that is both a
    revision and a path in the work tree is refused as ambiguous; ``./name`` always means
    the path. A first argument that is neither is an unknown revision (exit 2).
    """
    if not args:
        return None, []
    first, rest = args[0], list(args[1:])
    top = history.top or cwd
    forced_path = first.startswith(("./", "../", "/"))
    if not forced_path and (".." in first or history.is_revision(first)):
        if ".." not in first and _exists(cwd, first):
            raise UsageError(
                f"'{first}' is both a revision and a path in the work tree",
                f"Write './{first}' for the path, or 'refs/heads/{first}' (or the commit id) "
                "for the revision",
            )
        history.range_tips(first)  # raises for an unknown side of a range
        return first, [relative_path(top, cwd, p) for p in rest]
    if not forced_path and not _exists(cwd, first):
        raise UnknownRevisionError(
            f"unknown revision or path not in the work tree: '{first}'",
            "Name an existing commit, branch, tag or range (e.g. main~5..main); a path "
            f"that no longer exists can be given as './{first}'",
        )
    return None, [relative_path(top, cwd, p) for p in args]


def _exists(cwd: Path, name: str) -> bool:
    path = cwd / name
    return path.exists() or path.with_name(path.name + ".gitprov").exists()


def relative_path(top: Path, cwd: Path, name: str) -> str:
    """``name`` (relative to ``cwd``) relative to the work tree top, in POSIX form."""
    path = Path(name) if Path(name).is_absolute() else cwd / name
    absolute = Path(*_normalised(path.parts))
    try:
        rel = absolute.relative_to(top).as_posix()
    except ValueError:
        raise UsageError(
            f"{name} is outside the repository ({top})", "Name paths inside the work tree"
        ) from None
    rel = "" if rel == "." else rel
    return rel.removesuffix(".gitprov")


def _normalised(parts: Sequence[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            if len(out) > 1:
                out.pop()
        elif part != ".":
            out.append(part)
    return out


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
    commits = history.walk(include, exclude, paths=[p for p in paths if p])
    return _entries(_Reader(history), commits, notes, max_count)


def _entries(
    reader: _Reader, commits: Iterator[CommitInfo], notes: Mapping[str, str], max_count: int | None
) -> Iterator[LogEntry]:
    for shown, commit in enumerate(commits):
        if max_count is not None and shown >= max_count:
            return
        yield reader.entry(commit, notes.get(commit.id))


class _Reader:
    """Reads one commit's note, run records and environments (each blob once)."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.envs = EnvSummaries(history)

    def entry(self, commit: CommitInfo, note_blob: str | None) -> LogEntry:
        warnings: list[str] = []
        short = commit.id[:12]
        records = self._records(note_blob, short, warnings) if note_blob else []
        record = _current(records, commit.id)
        copied: tuple[str, ...] = ()
        others: tuple[Mapping[str, Any], ...] = ()
        if len(records) > (record is not None):  # anything besides this commit's record
            copied, others = _side_records(records, commit.id)
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
            )
        rid = str(record.get("id"))
        env = _text(record.get("env"))
        run_ids = _strings(record, "runs", short, rid, warnings)
        runs = tuple([self._run(tree, runrecord.run_id_of(r), short, warnings) for r in run_ids])
        return LogEntry(
            commit.id,
            commit.parents,
            commit.author,
            commit.email,
            date,
            subject,
            record=rid,
            source=_text(record.get("source")),
            checklist=_text(record.get("checklist")),
            decisions=tuple(_strings(record, "decisions", short, rid, warnings)),
            artifacts=_artifacts(record, short, rid, warnings),
            runs=runs,
            env=env,
            env_summary=self.envs.summary(tree, env, short, warnings) if env else None,
            copied_from=copied,
            other_records=others,
            warnings=tuple(warnings),
        )

    def _records(self, blob: str, short: str, warnings: list[str]) -> list[dict[str, Any]]:
        text = self.history.read_blob(blob, cache=False).decode("utf-8", errors="replace")
        records: list[dict[str, Any]] = []
        # Only "\n" ends a line (see gitprov.model.notes.parse_lines).
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                value = _json_line(line)
            except ValueError:
                warnings.append(f"commit {short}: note line {number} is not valid JSON; skipped")
                continue
            if not isinstance(value, dict) or not isinstance(value.get("type"), str):
                warnings.append(
                    f"commit {short}: note line {number} is not a lineage record "
                    "(a JSON object with a 'type'); skipped"
                )
                continue
            records.append(value)
        return records

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


_DECODER = json.JSONDecoder()


def _json_line(line: str) -> Any:
    """``json.loads(line)`` for a line that is already stripped of its newline (a record
    line has no other whitespace around it; the general path handles any that does)."""
    if line[:1].isspace():
        return json.loads(line)
    value, end = _DECODER.raw_decode(line)
    if end != len(line) and line[end:].strip():
        raise ValueError(f"extra data at column {end + 1}")
    return value


def _current(records: Sequence[Mapping[str, Any]], commit: str) -> Mapping[str, Any] | None:
    """``commit_record.current``, with a shortcut for the usual note: one record, this
    commit's own."""
    if len(records) == 1:
        only = records[0]
        if only.get("type") == commit_record.COMMIT_TYPE and only.get("commit") == commit:
            return only
    return commit_record.current(records, commit) if records else None


def _side_records(
    records: Sequence[Mapping[str, Any]], commit: str
) -> tuple[tuple[str, ...], tuple[Mapping[str, Any], ...]]:
    """Commits whose records were copied onto ``commit`` (ignored), and the records that
    are not ``commit`` records (evaluations, approvals...); retracted ones left out."""
    gone = commit_record.retracted(records)
    live = [r for r in records if r.get("id") not in gone]
    copied = {
        str(r.get("commit"))
        for r in live
        if r.get("type") == commit_record.COMMIT_TYPE and r.get("commit") != commit
    }
    skip = (commit_record.COMMIT_TYPE, commit_record.TOMBSTONE_TYPE)
    return tuple(sorted(copied)), tuple(r for r in live if r.get("type") not in skip)


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


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strings(
    record: Mapping[str, Any], key: str, short: str, rid: str, warnings: list[str]
) -> list[str]:
    value = record.get(key, [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    warnings.append(f"commit {short}: record {rid} has a malformed '{key}' field; ignored")
    return []


def _artifacts(
    record: Mapping[str, Any], short: str, rid: str, warnings: list[str]
) -> tuple[ChangeView, ...]:
    value = record.get("artifacts", [])
    if not value and isinstance(value, list):
        return ()
    changes = []
    for item in value if isinstance(value, list) else [None]:
        if (
            isinstance(item, dict)
            and isinstance(item.get("path"), str)
            and isinstance(item.get("kind"), str)
            and item.get("change") in ("added", "modified", "deleted")
            and (item.get("digest") is None or digests.is_digest(str(item.get("digest"))))
        ):
            changes.append(
                ChangeView(item["path"], item["kind"], item.get("digest"), item["change"])
            )
        else:
            warnings.append(
                f"commit {short}: record {rid} has a malformed 'artifacts' entry; ignored"
            )
            break
    return tuple(changes)
