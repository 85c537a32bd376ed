"""A commit's lineage note as ``gitprov log`` reads it: the note's lines as records, which
record is the commit's own, and that record's fields, checked.

Bad data never stops the log: a note line that is not a record, or a malformed record
field, becomes a warning (naming the commit) and is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from gitprov.model import commit_record
from gitprov.model import digest as digests
from gitprov.services.log_entry import ChangeView


def note_records(text: str, short: str, warnings: list[str]) -> list[dict[str, Any]]:
    """The records of a note's ``text`` (one JSON object with a ``type`` a line); a line
    that is not one is skipped with a warning naming commit ``short``."""
    records: list[dict[str, Any]] = []
    # Only "\n" ends a line (see gitprov.model.notes.parse_lines).
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = _json_line(line)
        except (ValueError, RecursionError):  # RecursionError: a line nested ~1000 deep
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


def current_record(records: Sequence[Mapping[str, Any]], commit: str) -> Mapping[str, Any] | None:
    """``commit_record.current``, with a shortcut for the usual note: one record, this
    commit's own."""
    if len(records) == 1:
        only = records[0]
        if only.get("type") == commit_record.COMMIT_TYPE and only.get("commit") == commit:
            return only
    return commit_record.current(records, commit) if records else None


def side_records(
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


def text_field(value: object) -> str | None:
    """``value`` if it is a string, else None."""
    return value if isinstance(value, str) else None


def string_list(
    record: Mapping[str, Any], key: str, short: str, rid: str, warnings: list[str]
) -> list[str]:
    """Field ``key`` of ``record`` (id ``rid``), a list of strings; [] with a warning when
    it is anything else."""
    value = record.get(key, [])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    warnings.append(f"commit {short}: record {rid} has a malformed '{key}' field; ignored")
    return []


def artifact_changes(
    record: Mapping[str, Any], short: str, rid: str, warnings: list[str]
) -> tuple[ChangeView, ...]:
    """The ``artifacts`` field of ``record`` (id ``rid``); the entries before the first
    malformed one, with a warning."""
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
