"""The inline pieces of the review's Markdown: escaping of user text, code spans and
fenced blocks that user text cannot close, GFM tables, and short numbers and digests."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gitprov.model.review_report import Interval

_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&])")


def text(value: str) -> str:
    """``value`` as literal inline Markdown on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(value.split()))


def code(value: str) -> str:
    """``value`` as an inline code span on one line (a fence longer than any backtick run
    inside; padded when it starts or ends with a backtick). Pipes are escaped so that the
    span is safe in a table cell (GFM reads the cell before the code span)."""
    value = " ".join(value.split()) or " "
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}".replace("|", "\\|")


def fenced(body: str, info: str) -> str:
    """A fenced code block that ``body`` cannot close early."""
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body.rstrip(chr(10))}\n{fence}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GFM table; cells are already escaped inline Markdown."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def short(digest: str | None) -> str:
    """``sha256:<12 hex>`` (``ds:`` snapshot ids and others are kept whole)."""
    if digest is None:
        return "—"
    algorithm, _, rest = digest.partition(":")
    return f"{algorithm}:{rest[:12]}" if rest else digest[:19]


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 1000:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return f"{value:.4g}"


def signed(value: float | None) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + number(value)


def with_ci(value: float | None, ci: Interval | None) -> str:
    if value is None:
        return "—"
    return number(value) + (f" [{number(ci.low)}, {number(ci.high)}]" if ci else "")


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else many or word + 's'}"
