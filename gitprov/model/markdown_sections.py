"""Sections of a Markdown document, by ATX heading (``## Title``), for the checklist.

A section runs from its heading to the next heading of the same or a higher level, so
``## Uses`` includes its ``### Direct Use``. Fenced code blocks are skipped when looking
for headings (a ``# comment`` in a shell example is not a heading).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"\s{0,3}(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    line: int  # 1-based line of the heading within the text given
    text: str  # everything up to the next heading of the same or a higher level
    own: str = ""  # its own text: up to the next heading of any level


def normalise(title: str) -> str:
    """Heading text compared loosely: case, punctuation and spacing do not matter."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", title.lower()).split())


def sections(text: str) -> list[Section]:
    lines = text.split("\n")
    heads: list[tuple[int, int, str]] = []  # (index, level, title)
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.fullmatch(line.rstrip("\r"))
        if match:
            heads.append((index, len(match.group(1)), match.group(2)))
    out = []
    for number, (index, level, title) in enumerate(heads):
        end = len(lines)
        for later, later_level, _ in heads[number + 1 :]:
            if later_level <= level:
                end = later
                break
        own_end = heads[number + 1][0] if number + 1 < len(heads) else len(lines)
        out.append(
            Section(
                level,
                title,
                index + 1,
                "\n".join(lines[index + 1 : end]),
                "\n".join(lines[index + 1 : min(end, own_end)]),
            )
        )
    return out


def find(all_sections: Sequence[Section], titles: Iterable[str]) -> Section | None:
    """The section headed by the first of ``titles`` the document has (compared loosely)."""
    for title in titles:  # in the caller's order of preference
        wanted = normalise(title)
        found = next((s for s in all_sections if normalise(s.title) == wanted), None)
        if found is not None:
            return found
    return None


def prose(text: str, *, ignore: Iterable[str] = ()) -> str:
    """``text`` without HTML comments, headings and the ``ignore`` lines (template
    guidance), stripped: what an author actually wrote."""
    skip = {line.strip() for line in ignore}
    kept = [
        line
        for line in _COMMENT.sub("", text).split("\n")
        if line.strip() and line.strip() not in skip and not _HEADING.fullmatch(line.strip())
    ]
    return "\n".join(kept).strip()
