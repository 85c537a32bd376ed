"""``gitprov gc``: remove cache objects nothing names any more."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gitprov.adapters import git
from gitprov.errors import GitprovError
from gitprov.model import pointer as pointers
from gitprov.services import snapshot, workspace

_ANY_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass
class GcReport:
    removed: list[tuple[str, int]] = field(default_factory=list)  # digest, bytes
    kept: int = 0
    dry_run: bool = False

    @property
    def freed(self) -> int:
        return sum(size for _, size in self.removed)


def _named_digests(ws: workspace.Workspace) -> set[str]:
    """Digests named by any pointer in any local ref's history, the index or the work tree.

    A pointer that cannot be parsed still protects every digest written in it: gc errs
    on the side of keeping bytes.
    """
    texts = [
        blob.decode("utf-8", errors="replace")
        for blob in git.read_blobs(
            ws.top, list(git.reachable_blobs(ws.top, pointers.SUFFIX))
        ).values()
    ]
    for name in git.ls_files(ws.top, [f"*{pointers.SUFFIX}"]):
        path = ws.top / name
        if path.is_file():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    roots: set[str] = set()
    for text in texts:
        try:
            pointer, _ = pointers.parse(text, source="pointer")
            roots.add(pointer.digest)
        except GitprovError:
            roots.update(_ANY_DIGEST.findall(text))
    named = set(roots)
    for root in roots:
        try:
            named |= snapshot.tree_objects(ws.cache, root)
        except (GitprovError, ValueError):
            continue  # a file object, or a tree whose root node is gone
    return named


def gc(*, cwd: Path, dry_run: bool = False) -> GcReport:
    """Remove (or, with ``dry_run``, list) unreferenced objects and dead temp files."""
    ws = workspace.open_workspace(cwd)
    named = _named_digests(ws)
    report = GcReport(dry_run=dry_run)
    for digest in list(ws.cache.iter_digests()):
        if digest in named:
            report.kept += 1
            continue
        size = ws.cache.path(digest).stat().st_size
        if not dry_run:
            size = ws.cache.remove(digest)
        report.removed.append((digest, size))
    if not dry_run:
        ws.cache.clean_temp()
    return report
