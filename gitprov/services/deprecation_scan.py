"""Reading deprecations from the lineage notes, cheaply enough for ``log`` and ``lineage``.

``adapters.note_lines`` hands over only the note lines that mention a deprecation or a
tombstone, from a cache keyed by the notes tree (no note is read when the notes have not
changed; only the changed notes when they have). Deprecations are facts about a
checkpoint's digest, not about a branch: every note counts, wherever its commit is
(``docs/deprecation.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from gitprov.adapters import note_lines

if TYPE_CHECKING:
    from gitprov.model import deprecation as model
    from gitprov.model.lineage_graph import LineageGraph

# What a note line must contain to be worth parsing (records are canonical JSON; the
# types are gitprov.model.deprecation's TYPE and TOMBSTONE_TYPE, which a test keeps equal).
MARKERS = (b'"type":"deprecation"', b'"type":"tombstone"')


def read(cwd: Path) -> list[model.Deprecation]:
    """Every deprecation in the notes that no tombstone retracts, oldest first."""
    lines = note_lines.marked_lines(cwd, MARKERS)
    if not lines:  # the usual case: the model module is not even loaded
        return []
    from gitprov.model import deprecation as model  # noqa: PLC0415

    pairs = []
    for commit, line in lines:
        # One record a line (gitprov.model.notes, not imported: it costs 'log' its time).
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):  # RecursionError: a line nested ~1000 deep
            continue
        if isinstance(record, dict):
            pairs.append((record, commit))
    return model.fold(pairs)


def active(cwd: Path) -> dict[str, model.Deprecation]:
    """Deprecated digest -> its newest deprecation."""
    found = read(cwd)
    if not found:
        return {}
    from gitprov.model import deprecation as model  # noqa: PLC0415

    return model.by_digest(found)


def graph_uses(cwd: Path, graph: LineageGraph) -> tuple[model.DeprecatedUse, ...]:
    """Where ``graph`` still uses a deprecated checkpoint (nothing to walk when none is)."""
    deprecated = active(cwd)
    if not deprecated:
        return ()
    from gitprov.model import deprecation as model  # noqa: PLC0415

    return tuple(model.uses(graph, deprecated))
