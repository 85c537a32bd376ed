"""Reading deprecations from the lineage notes, cheaply enough for ``log`` and ``lineage``.

``adapters.note_lines`` hands over only the note lines that mention a deprecation or a
tombstone, from a cache keyed by the notes tree (no note is read when the notes have not
changed; only the changed notes when they have). Deprecations are facts about a
checkpoint's digest, not about a branch: every note counts, wherever its commit is
(``docs/deprecation.md``).
"""

from __future__ import annotations

from pathlib import Path

from gitprov.adapters import note_lines
from gitprov.model import deprecation as model
from gitprov.model.lineage_graph import LineageGraph
from gitprov.model.notes import parse_lines


def read(cwd: Path) -> list[model.Deprecation]:
    """Every deprecation in the notes that no tombstone retracts, oldest first."""
    pairs = [
        (record, commit)
        for commit, line in note_lines.marked_lines(cwd, model.MARKERS)
        for record in parse_lines(line)
    ]
    return model.fold(pairs)


def active(cwd: Path) -> dict[str, model.Deprecation]:
    """Deprecated digest -> its newest deprecation."""
    return model.by_digest(read(cwd))


def graph_uses(cwd: Path, graph: LineageGraph) -> tuple[model.DeprecatedUse, ...]:
    """Where ``graph`` still uses a deprecated checkpoint (nothing to walk when none is)."""
    deprecated = active(cwd)
    return tuple(model.uses(graph, deprecated)) if deprecated else ()
