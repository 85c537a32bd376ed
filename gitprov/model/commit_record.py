"""The ``commit`` lineage-note record: what one commit changed, ran and decided.

One record per commit, appended by the post-commit hook (or by ``gitprov notes rebuild``
and ``notes reattach``). Each record names the commit it describes (``commit``), because
git copies notes across amend and rebase: a copied record describes the *old* commit and
is ignored on the new one, which gets its own. That rule, applied by every reader
(``current``), is what keeps lineage free of duplicates without ever deleting a line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

# typing.TYPE_CHECKING without importing typing: the commit hooks import this module,
# and typing would cost them ~5 ms.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal

    Checklist = Literal["passed", "skipped", "unknown"]  # unknown: rebuilt after the fact
    Change = Literal["added", "modified", "deleted"]
    Source = Literal["post-commit", "post-rewrite", "rebuild", "reattach"]

COMMIT_TYPE = "commit"
TOMBSTONE_TYPE = "tombstone"
DECISION_TRAILER = "Decision"
# Of several records naming one commit, the one written closest to the commit wins: the
# post-commit hook saw the commit being made; post-rewrite and reattach inferred it; a
# rebuild knows only the tree.
_RANK = {"post-commit": 3, "post-rewrite": 2, "reattach": 2, "rebuild": 1}
# Trailers: "Key: value" lines in the last paragraph of the message (git's rule, simplified:
# every line of the last paragraph must look like one, except continuation lines).
_TRAILER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*\S)\s*$")


class ArtifactChange:
    """A pointer a commit added, changed or deleted; ``path`` is the artifact's path.

    A plain class, not a dataclass: the post-commit hook builds these, and importing
    ``dataclasses`` (which imports ``inspect``) would cost it more than its git calls.
    """

    __slots__ = ("change", "digest", "kind", "path")

    def __init__(self, path: str, kind: str, digest: str | None, change: Change) -> None:
        self.path = path
        self.kind = kind
        self.digest = digest  # None when deleted
        self.change = change

    def to_json(self) -> dict[str, object]:
        return {"change": self.change, "digest": self.digest, "kind": self.kind, "path": self.path}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactChange) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.path, self.kind, self.digest, self.change))

    def __repr__(self) -> str:
        return f"ArtifactChange({self.path!r}, {self.kind!r}, {self.digest!r}, {self.change!r})"


def commit_fields(
    *,
    commit: str,
    artifacts: Sequence[ArtifactChange],
    runs: Sequence[str],
    decisions: Sequence[str],
    checklist: Checklist,
    env: str | None,
    source: Source,
    origin: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The fields of a ``commit`` record (``make_record`` adds at, id and type)."""
    fields: dict[str, object] = {
        "artifacts": [a.to_json() for a in sorted(artifacts, key=lambda a: a.path)],
        "checklist": checklist,
        "commit": commit,
        "decisions": sorted(set(decisions)),
        "env": env,
        "runs": sorted(set(runs)),
        "source": source,
    }
    if origin:
        fields["origin"] = dict(origin)
    return fields


def retracted(records: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """IDs retracted by ``tombstone`` records."""
    return frozenset(
        str(r["retracts"])
        for r in records
        if r.get("type") == TOMBSTONE_TYPE and isinstance(r.get("retracts"), str)
    )


def current(records: Sequence[Mapping[str, Any]], commit: str) -> Mapping[str, Any] | None:
    """The ``commit`` record that describes ``commit``, or None.

    Records copied from a rewritten commit name that commit and are skipped; of several
    that name this one, post-commit's wins, then post-rewrite's or reattach's, then a
    rebuild's; among equals the newest. Retracted records never count.
    """
    gone = retracted(records)
    mine = [
        r
        for r in records
        if r.get("type") == COMMIT_TYPE and r.get("commit") == commit and r.get("id") not in gone
    ]
    if not mine:
        return None
    return max(mine, key=lambda r: (_RANK.get(str(r.get("source")), 0), str(r.get("at", ""))))


def trailers(message: str) -> list[tuple[str, str]]:
    """``(key, value)`` trailers of a commit message, in order (git's last-paragraph rule)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip()) if p.strip()]
    if len(paragraphs) < 2:  # the subject alone is never a trailer block
        return []
    found: list[tuple[str, str]] = []
    for line in paragraphs[-1].splitlines():
        match = _TRAILER.match(line)
        if match:
            found.append((match.group(1), match.group(2)))
        elif not line[:1].isspace():
            return []  # not a trailer block after all
    return found


def trailer_values(message: str, key: str) -> list[str]:
    """Values of trailer ``key`` (case-insensitive, as git compares them)."""
    return [v for k, v in trailers(message) if k.lower() == key.lower()]
