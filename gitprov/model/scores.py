"""Per-example scores files (JSONL or CSV) and aggregated metrics files (JSON).

A scores file has one row per evaluated example and one column per metric, plus
optionally an ``id`` column (needed to pair two evaluations example by example) and a
slice column (``--slice lang``). Metric values are numbers; ``true``/``false`` count as
1 and 0. Every problem names its line, so a bad row in a 100,000-line file is found at
once::

    {"id": "q1", "correct": 1, "f1": 0.83, "lang": "en"}
    {"id": "q2", "correct": 0, "f1": 0.41, "lang": "de"}

An aggregated metrics file is one JSON object: a metric is a number (recorded with no
interval) or an object with ``value`` and optionally ``ci_low``, ``ci_high``,
``ci_level`` and ``n`` (recorded as a reported interval).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gitprov.errors import GitprovError
from gitprov.model import eval_stats

JSONL = "jsonl"
CSV = "csv"
FORMATS = {".jsonl": JSONL, ".ndjson": JSONL, ".csv": CSV}
ID_COLUMN = "id"
MAX_BYTES = 512 * 1024 * 1024  # a file larger than this is refused before it is read
MAX_LINE_CHARS = 1024 * 1024  # one example's row
MAX_ROWS = 10_000_000
MAX_METRICS = 64


class ScoresError(GitprovError):
    """A scores or metrics file is malformed (the message names the file and line)."""


@dataclass(frozen=True)
class ScoreTable:
    """Parsed per-example scores: ``metrics[name][i]`` is example ``i``'s value."""

    metrics: dict[str, tuple[float, ...]]
    ids: tuple[str, ...] | None  # None when the file has no id column
    slices: tuple[str, ...] | None  # the slice column's values, when one was named
    slice_column: str | None = None

    @property
    def n(self) -> int:
        return len(next(iter(self.metrics.values()), ()))


def format_of(name: str) -> str:
    """The format of a scores file from its name (ScoresError for other suffixes)."""
    for suffix, fmt in FORMATS.items():
        if name.lower().endswith(suffix):
            return fmt
    raise ScoresError(
        f"{name}: cannot tell the format of a scores file from its name",
        "Name it *.jsonl (one JSON object per line) or *.csv (a header row, then one "
        "row per example)",
    )


def _fail(source: str, line: int, problem: str, fix: str) -> ScoresError:
    return ScoresError(f"{source} line {line}: {problem}", fix)


def _number(value: object, *, source: str, line: int, column: str) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        # An integer beyond float's range (JSON allows 1000 digits) is not finite either.
        number = float(value) if not isinstance(value, int) or abs(value) < 2**1023 else math.inf
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "false"):
            return 1.0 if text == "true" else 0.0
        try:
            number = float(text)
        except ValueError:
            raise _fail(
                source,
                line,
                f"'{column}' is {value[:40]!r}, not a number",
                "Write a number (or true/false) for every example, or leave the column "
                "out with --metric",
            ) from None
    else:
        raise _fail(
            source,
            line,
            f"'{column}' is {json.dumps(value)[:40]}, not a number",
            "Write a number (or true/false) for every example",
        )
    if not math.isfinite(number):
        raise _fail(
            source,
            line,
            f"'{column}' is {value!r}, which is not a finite number",
            "Score a failed example explicitly (e.g. 0), or drop the row",
        )
    return number


def _jsonl_rows(text: str, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_CHARS:
            raise _fail(
                source,
                number,
                f"the row is longer than {MAX_LINE_CHARS} characters",
                "Keep one example's scores per line; put large outputs in another file",
            )
        try:
            row = json.loads(line)
        # RecursionError: a row nested ~1000 deep, only ever in a hostile file (issue 9).
        except (ValueError, RecursionError) as exc:
            raise _fail(
                source,
                number,
                f"not valid JSON ({str(exc)[:60]})",
                "Write one JSON object per line (JSON Lines)",
            ) from None
        if not isinstance(row, dict):
            raise _fail(
                source,
                number,
                "the row is not a JSON object",
                'Write one object per line, e.g. {"id": "q1", "correct": 1}',
            )
        yield number, row


def _csv_rows(text: str, source: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    end = 0
    try:
        for fields in reader:
            # A quoted field may span lines: name the line the row starts on.
            number, end = end + 1, reader.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if header is None:
                header = [f.strip() for f in fields]
                if len(set(header)) != len(header) or "" in header:
                    raise _fail(
                        source,
                        number,
                        "the header has an empty or repeated column name",
                        "Give every column a distinct name",
                    )
                continue
            if len(fields) != len(header):
                raise _fail(
                    source,
                    number,
                    f"{len(fields)} fields, but the header has {len(header)}",
                    "Give every row one field per column (quote fields that contain commas)",
                )
            yield number, dict(zip(header, fields, strict=True))
    except csv.Error as exc:
        raise _fail(
            source,
            end + 1,
            f"not valid CSV ({exc})",
            "Check the quoting of that row",
        ) from None


def _metric_columns(
    row: dict[str, Any], wanted: Sequence[str], skip: set[str], *, source: str, line: int
) -> list[str]:
    """The metric columns: those asked for, else every numeric column of the first row."""
    if wanted:
        return list(dict.fromkeys(wanted))
    found = []
    for name, value in row.items():
        if name in skip:
            continue
        try:
            _number(value, source=source, line=line, column=name)
        except ScoresError:
            continue
        found.append(name)
    if not found:
        raise _fail(
            source,
            line,
            "no column holds a number, so there is no metric to evaluate",
            "Add a numeric column per metric (e.g. correct, f1), or name them with --metric",
        )
    return found


def parse(
    text: str,
    *,
    source: str,
    fmt: str,
    metrics: Sequence[str] = (),
    slice_column: str | None = None,
) -> ScoreTable:
    """Parse a scores file's text; ScoresError naming the line for any bad row.

    ``metrics`` selects columns (default: every numeric column but ``id`` and the slice
    column); every selected metric must be present and finite on every row.
    """
    rows = _jsonl_rows(text, source) if fmt == JSONL else _csv_rows(text, source)
    skip = {ID_COLUMN, *([slice_column] if slice_column else [])}
    columns: list[str] = []
    values: dict[str, list[float]] = {}
    ids: list[str] | None = None
    seen: dict[str, int] = {}
    slices: list[str] | None = [] if slice_column else None
    count = 0
    for line, row in rows:
        if count == 0:
            columns = _metric_columns(row, metrics, skip, source=source, line=line)
            if len(columns) > MAX_METRICS:
                raise _fail(
                    source,
                    line,
                    f"{len(columns)} metric columns (at most {MAX_METRICS})",
                    "Name the metrics to evaluate with --metric",
                )
            values = {name: [] for name in columns}
            ids = [] if ID_COLUMN in row else None
        count += 1
        if count > MAX_ROWS:
            raise _fail(
                source, line, f"more than {MAX_ROWS} rows", "Evaluate a sample, or split the file"
            )
        for name in columns:
            if name not in row or row[name] in ("", None):
                raise _fail(
                    source,
                    line,
                    f"the metric '{name}' is missing",
                    f"Give '{name}' on every row (score failures explicitly, e.g. 0)",
                )
            values[name].append(_number(row[name], source=source, line=line, column=name))
        if ids is not None:
            example = row.get(ID_COLUMN)
            if example in (None, "") or isinstance(example, dict | list):
                raise _fail(
                    source,
                    line,
                    f"the '{ID_COLUMN}' is missing or not a plain value",
                    f"Give every row an '{ID_COLUMN}' (or none of them)",
                )
            key = str(example)
            if key in seen:
                raise _fail(
                    source,
                    line,
                    f"the {ID_COLUMN} {key[:40]!r} repeats line {seen[key]}",
                    "Give every example a distinct id",
                )
            seen[key] = line
            ids.append(key)
        if slices is not None:
            label = row.get(str(slice_column))
            if label in (None, "") or isinstance(label, dict | list):
                raise _fail(
                    source,
                    line,
                    f"the slice column '{slice_column}' is missing",
                    f"Give '{slice_column}' on every row (e.g. 'other'), or drop --slice",
                )
            slices.append(str(label))
    if count == 0:
        raise ScoresError(f"{source} has no rows", "Write one row per evaluated example")
    return ScoreTable(
        metrics={name: tuple(vals) for name, vals in values.items()},
        ids=tuple(ids) if ids is not None else None,
        slices=tuple(slices) if slices is not None else None,
        slice_column=slice_column,
    )


def _aggregated(name: str, raw: object, source: str) -> eval_stats.Estimate:
    def bad(why: str) -> ScoresError:
        return ScoresError(
            f"{source}: metric '{name}' {why}",
            'Write a number, or {"value": V, "ci_low": L, "ci_high": H, "ci_level": 0.95, "n": N}',
        )

    if isinstance(raw, bool) or not isinstance(raw, int | float | dict):
        raise bad("is not a number or an object")
    if not isinstance(raw, dict):
        if not _finite(raw):
            raise bad("is not finite")
        return eval_stats.Estimate(float(raw), None, None, None, eval_stats.NO_CI, None)
    fields = {}
    for key in ("value", "ci_low", "ci_high", "ci_level"):
        item = raw.get(key)
        if item is not None and (
            isinstance(item, bool) or not isinstance(item, int | float) or not _finite(item)
        ):
            raise bad(f"has a {key} that is not a finite number")
        fields[key] = None if item is None else float(item)
    n = raw.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise bad("has an n that is not a positive integer")
    value, low, high, level = (fields[k] for k in ("value", "ci_low", "ci_high", "ci_level"))
    if value is None:
        raise bad("has no value")
    if (low is None) != (high is None):
        raise bad("has only one end of its interval")
    if low is not None and high is not None and not low <= value <= high:
        raise bad(f"has its value {value} outside its interval [{low}, {high}]")
    if level is not None and not 0 < level < 1:
        raise bad("has a ci_level outside (0, 1)")
    if low is None:
        return eval_stats.Estimate(value, None, None, None, eval_stats.NO_CI, n)
    return eval_stats.Estimate(
        value, low, high, level or eval_stats.DEFAULT_LEVEL, eval_stats.REPORTED, n
    )


def parse_aggregated(
    text: str, *, source: str, metrics: Sequence[str] = ()
) -> dict[str, eval_stats.Estimate]:
    """An aggregated metrics file (JSON object) as estimates, ``metrics`` selecting."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested ~1000 deep
        raise ScoresError(
            f"{source} is not valid JSON ({str(exc)[:80]})", "Write one JSON object of metrics"
        ) from None
    if not isinstance(data, dict) or not data:
        raise ScoresError(
            f"{source} is not a non-empty JSON object",
            'Write {"metric": value, ...}, e.g. {"accuracy": 0.91}',
        )
    names = list(dict.fromkeys(metrics)) or list(data)
    missing = [m for m in names if m not in data]
    if missing:
        raise ScoresError(
            f"{source} has no metric '{missing[0]}' (it has {', '.join(sorted(data))})",
            "Check the --metric names",
        )
    return {name: _aggregated(name, data[name], source) for name in names}


def _finite(value: float) -> bool:
    """math.isfinite that says False, not OverflowError, for an int beyond float's range."""
    return abs(value) < 2**1023 if isinstance(value, int) else math.isfinite(value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
