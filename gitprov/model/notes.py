"""The lineage-note line format: one canonical JSON record per line.

A note on ``refs/notes/gitprov`` is a set of lines. Every line is a JSON object with
sorted keys and no spaces, carrying ``at`` (RFC 3339 UTC), ``id`` (a ULID) and ``type``.
Lines are only ever appended and kept sorted and unique, which is exactly what git's
``cat_sort_uniq`` notes merge strategy produces: a local append and a merge of two clones'
notes therefore agree byte for byte, and merging is a lossless set union.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

# Crockford's base32: no I, L, O or U, so an ID survives being read aloud or retyped.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_LENGTH = 26
_MAX_ULID_TIME = (1 << 48) - 1
RESERVED_FIELDS = frozenset({"at", "id", "type"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def new_ulid(now_ms: int | None = None) -> str:
    """A ULID: 48-bit Unix time in milliseconds, then 80 random bits, as 26 Crockford chars.

    IDs made in different milliseconds sort by time as plain strings; IDs made in the
    same millisecond are random relative to each other (monotonicity is not needed:
    records are identified, not ordered, by their ID).

    >>> new_ulid(0)[:10]
    '0000000000'
    """
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if not 0 <= ms <= _MAX_ULID_TIME:
        raise ValueError(f"ULID time must fit in 48 bits of milliseconds, got {ms}")
    # os.urandom, not secrets: importing secrets (hmac, hashlib, random) costs the commit
    # hooks several milliseconds for the same kernel randomness.
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    # 26 chars x 5 bits = 130 bits: the first char carries only the top 3 bits (0-7).
    chars = [CROCKFORD[(value >> shift) & 0x1F] for shift in range(125, -1, -5)]
    return "".join(chars)


def ulid_int(ulid: str) -> int:
    """The 128-bit value of a ULID (Crockford base32, any case); ValueError if malformed."""
    if len(ulid) != ULID_LENGTH or ulid[0] not in "01234567":
        raise ValueError(f"not a ULID: {ulid!r}")
    value = 0
    for char in ulid.upper():
        digit = CROCKFORD.find(char)
        if digit < 0:
            raise ValueError(f"not a ULID: {ulid!r}")
        value = (value << 5) | digit
    return value


def ulid_time_ms(ulid: str) -> int:
    """The millisecond timestamp a ULID was made at (raises ValueError if malformed)."""
    return ulid_int(ulid) >> 80


def format_at(at: datetime) -> str:
    """RFC 3339 UTC with milliseconds, e.g. ``2026-11-23T11:35:05.123Z``.

    A fixed width keeps string order equal to time order.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("record times must be timezone-aware (naive times are ambiguous)")
    utc = at.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def canonical_json(value: object) -> str:
    """The one serialisation of a record: sorted keys, no spaces, UTF-8 text."""
    # allow_nan=False: NaN/Infinity are not JSON, and other tools must be able to parse us.
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def make_record(type: str, fields: Mapping[str, object], *, at: datetime | None = None) -> str:
    """One record line (no newline) of ``type`` with ``fields``, a fresh ULID and the time.

    >>> line = make_record("eval", {"metric": "acc", "value": 0.91})
    >>> parse_lines(line)[0]["metric"]
    'acc'
    """
    if not type:
        raise ValueError("a record needs a non-empty type")
    reserved = RESERVED_FIELDS.intersection(fields)
    if reserved:
        raise ValueError(f"record fields may not be named {', '.join(sorted(reserved))}")
    when = datetime.now(UTC) if at is None else at
    stamp = format_at(when)
    # The ID's time part is the same millisecond as ``at``, so the two never disagree.
    ms = (when - _EPOCH) // timedelta(milliseconds=1)
    line = canonical_json({**fields, "at": stamp, "id": new_ulid(ms), "type": type})
    # A lone surrogate would make the note unwritable as UTF-8: fail here, not in git.
    line.encode("utf-8")
    return line


def parse_lines(text: str) -> list[dict[str, object]]:
    """The JSON objects in a note, in order.

    Blank lines and lines that are not JSON objects are skipped, not fatal: notes are
    shared with other tools and people, and one foreign line must not hide the rest.
    """
    records: list[dict[str, object]] = []
    # Only "\n" ends a line: str.splitlines() would also split at U+2028 or U+0085,
    # which ensure_ascii=False leaves unescaped inside JSON strings.
    for line in text.split("\n"):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        # RecursionError: a line nested ~1000 deep is as foreign as one that is not JSON.
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def merge_text(existing: str, new_lines: Iterable[str]) -> str:
    """``existing`` note text plus ``new_lines``: sorted unique non-empty lines, each ending
    in a newline ("" when there are none).

    This is what git's ``cat_sort_uniq`` writes (byte order; Python's code point order is
    the same for UTF-8), so appending locally and merging remotes give identical notes.
    """
    lines = set(existing.split("\n"))
    for line in new_lines:
        if "\n" in line:
            raise ValueError("a record line may not contain a newline")
        lines.add(line)
    lines.discard("")
    return "".join(f"{line}\n" for line in sorted(lines))
