"""Reading deprecations from the lineage notes, cheaply enough for ``log`` and ``lineage``.

Every note on ``refs/notes/gitprov`` is read once, from the object database (no git
process), and only the notes whose bytes mention a deprecation or a tombstone are
parsed. Deprecations are facts about a checkpoint's digest, not about a branch: every
note counts, wherever its commit is (``docs/deprecation.md``).
"""

from __future__ import annotations

from collections.abc import Mapping

from gitprov.adapters.history import History
from gitprov.model import deprecation as model
from gitprov.model.lineage_graph import LineageGraph
from gitprov.model.notes import parse_lines


def read(history: History, notes: Mapping[str, str] | None = None) -> list[model.Deprecation]:
    """Every deprecation in the notes that no tombstone retracts, oldest first.

    ``notes`` (commit -> note blob, as ``History.notes_map`` returns it) saves reading the
    notes tree again when the caller has it already.
    """
    notes = history.notes_map() if notes is None else notes
    pairs: list[tuple[dict[str, object], str]] = []
    for commit, blob in notes.items():
        data = history.read_blob(blob, cache=False)
        if not any(marker in data for marker in model.MARKERS):
            continue
        pairs.extend((record, commit) for record in parse_lines(data.decode("utf-8", "replace")))
    return model.fold(pairs)


def active(
    history: History, notes: Mapping[str, str] | None = None
) -> dict[str, model.Deprecation]:
    """Deprecated digest -> its newest deprecation."""
    return model.by_digest(read(history, notes))


def graph_uses(history: History, graph: LineageGraph) -> tuple[model.DeprecatedUse, ...]:
    """Where ``graph`` still uses a deprecated checkpoint (nothing to walk when none is)."""
    deprecated = active(history)
    return tuple(model.uses(graph, deprecated)) if deprecated else ()
