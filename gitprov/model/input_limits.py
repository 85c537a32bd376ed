"""Bounds on what gitprov parses from files and notes that anyone can commit or push.

A pointer, a card or a note line comes from a repository, so it may be hostile: huge,
nested thousands of levels deep (Python's parsers then raise RecursionError, and
libyaml's C composer overflows the C stack and kills the process), or a YAML "billion
laughs" whose aliases expand to billions of nodes when walked. The parsers check these
bounds and raise their own one-line error instead (docs/reliability.md, hostile input;
tests/reliability/test_fuzz_parsers.py proves it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MIB = 1024 * 1024
KIB = 1024
# A pointer is a few hundred bytes; its free-form [meta] may grow, but not far: tomlkit
# takes ~2 s on 64 KiB of hostile TOML (a long array), and ~30 s on 1 MiB.
MAX_POINTER_BYTES = 64 * KIB
# Model cards and decision records are prose with front matter: a large card is ~100 KB.
MAX_DOCUMENT_BYTES = 16 * MIB
# Front matter (a card's YAML, a decision's TOML) is parsed by pure-Python parsers at
# ~50-200 KB/s: 256 KiB keeps a hostile one to seconds; real ones are a few KB.
MAX_FRONT_MATTER_BYTES = 256 * KIB
# Run records and environment snapshots embed metrics files and package lists.
MAX_RECORD_BYTES = 64 * MIB
# Nesting deeper than this is refused before libyaml (or a recursive walk) sees it.
MAX_YAML_DEPTH = 500
# Nodes visited when walking parsed YAML, aliases counted each time they are reached.
MAX_YAML_NODES = 2_000_000


def size_problem(size: int, limit: int) -> str | None:
    """Why ``size`` bytes (or characters) is too much to parse, or None."""
    if size <= limit:
        return None
    shown = f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit // KIB} KiB"
    return f"is {size:,} bytes, more than the {shown} gitprov reads"


_INDENT = re.compile(r"^[ \t]*", re.MULTILINE)


def _depth_bound(text: str) -> int:
    """An upper bound on YAML nesting: each level opens with '[', '{', '-' or '?',
    or is indented further than its parent."""
    indent = max((len(m) for m in _INDENT.findall(text)), default=0)
    return sum(text.count(c) for c in "[{-?") + indent + 1


def yaml_depth(text: str, limit: int = MAX_YAML_DEPTH) -> int:
    """The nesting depth of the YAML ``text`` when it may exceed ``limit`` (else a bound
    below it). Uses libyaml's event stream, which is iterative, so it is safe to run on
    text the C composer would crash on; ValueError when the text is not YAML."""
    if _depth_bound(text) <= limit:
        return _depth_bound(text)
    import yaml  # noqa: PLC0415 - only YAML readers pay for it

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = deepest = 0
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                deepest = max(deepest, depth)
                if deepest > limit:
                    return deepest
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from None
    return deepest


def _children(value: object) -> Iterator[object]:
    if isinstance(value, dict):
        yield from value.keys()
        yield from value.values()
    elif isinstance(value, list | tuple):
        yield from value


def too_many_nodes(value: object, limit: int = MAX_YAML_NODES) -> bool:
    """Whether walking ``value`` (aliases expanded, as a dump or a JSON export would)
    visits more than ``limit`` nodes; stops as soon as it knows."""
    stack, seen = [value], 0
    while stack:
        seen += 1
        if seen > limit:
            return True
        stack.extend(_children(stack.pop()))
    return False
