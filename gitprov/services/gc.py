"""``gitprov gc``: remove cache objects nothing names any more."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gitprov.adapters import git
from gitprov.errors import GitprovError
from gitprov.model import digest as digests
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


def _pointer_texts(ws: workspace.Workspace) -> list[str]:
    """Every pointer in any local ref's history, reflog, index, or any work tree."""
    oids = list(git.reachable_blobs(ws.top, pointers.SUFFIX))
    texts = [
        blob.decode("utf-8", errors="replace") for blob in git.read_blobs(ws.top, oids).values()
    ]
    for top in git.worktrees(ws.top):
        for name in git.ls_files(top, [f"*{pointers.SUFFIX}"]):
            path = top / name
            if path.is_file():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return texts


def _named_digests(ws: workspace.Workspace) -> set[str]:
    """Digests some pointer needs, directly or through a snapshot.

    A pointer that cannot be parsed still protects every digest written in it, and a
    damaged snapshot stops gc altogether: gc errs on the side of keeping bytes.
    """
    files: set[str] = set()
    trees: set[str] = set()
    for text in _pointer_texts(ws):
        try:
            pointer, _ = pointers.parse(text, source="pointer")
        except GitprovError:
            # Unknown type: a digest whose object reads as a tree node is walked too.
            for digest in _ANY_DIGEST.findall(text):
                (trees if _looks_like_tree(ws, digest) else files).add(digest)
            continue
        (trees if pointer.is_tree else files).add(pointer.digest)
    named = files | trees
    for root in trees:
        needed, complete = snapshot.readable_tree_objects(ws.cache, root)
        if not complete:
            raise GitprovError(
                f"snapshot {digests.short(root)} is damaged in the cache, so gc cannot tell "
                "which objects it still needs",
                "Run 'gitprov verify --all' and restore the damaged objects first; "
                "nothing was removed",
            )
        named |= needed
    return named


def _looks_like_tree(ws: workspace.Workspace, digest: str) -> bool:
    try:
        with open(ws.cache.path(digest), "rb") as handle:
            return handle.read(12) == b'{"entries":['
    except OSError:
        return False


def gc(*, cwd: Path, dry_run: bool = False) -> GcReport:
    """Remove (or, with ``dry_run``, list) unreferenced objects and dead temp files.

    Holds the objects lock exclusively: a running 'track' (which holds it shared from
    storing objects until its pointers are written) is waited for, never raced.
    """
    ws = workspace.open_workspace(cwd)
    report = GcReport(dry_run=dry_run)
    with ws.objects_lock(shared=False):
        named = _named_digests(ws)
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
            if report.removed:
                with ws.stats() as stats:
                    stats.forget_complete()
    return report
