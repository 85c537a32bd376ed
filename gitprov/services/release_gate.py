"""The pre-commit hook's release gate: run the checklist when a commit touches a
release-marked checkpoint (its pointer says ``stage = "release"``) or its card.

It runs on every commit, so the common case costs one ``git diff --cached`` (shared
with the decision check) and imports nothing: only when a staged pointer really is
release-marked, or a card is staged, does it read those blobs (one ``git cat-file``) and
only then load the checklist. Standard library and ``gitlite`` at the top.
"""

from __future__ import annotations

import re

from gitprov.adapters import gitlite

POINTER_SUFFIX = ".gitprov"  # = model.pointer.SUFFIX (a test keeps them equal)
CARD_SUFFIX = ".card.md"  # = model.card.SUFFIX
# A cheap first look; the checklist parses the pointer properly afterwards.
_RELEASE = re.compile(rb"""^\s*stage\s*=\s*["']release["']""", re.MULTILINE)


def staged_paths() -> list[str] | None:
    """Paths the index adds or changes (None when git cannot tell)."""
    out = gitlite.output(["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR"])
    return None if out is None else [p for p in out.split("\0") if p]


def _may_be_relevant(paths: list[str]) -> bool:
    pointers = [p for p in paths if p.endswith(POINTER_SUFFIX)]
    if any(p.endswith(CARD_SUFFIX) for p in paths):
        return True  # which pointer owns a card is the checklist's question
    if not pointers:
        return False
    blobs = gitlite.read_blobs([f":{p}" for p in pointers])
    return blobs is None or any(_RELEASE.search(b) for b in blobs.values())


def check(paths: list[str] | None) -> tuple[bool, list[str]]:
    """(whether to block the commit, lines to show: failures, then warnings)."""
    if paths is not None and not _may_be_relevant(paths):
        return False, []
    from pathlib import Path  # noqa: PLC0415 - only when it matters

    from gitprov.errors import GitprovError  # noqa: PLC0415
    from gitprov.model import checklist_render  # noqa: PLC0415
    from gitprov.services import checklist  # noqa: PLC0415

    try:
        reports = checklist.run(cwd=Path.cwd(), staged=True)
    except GitprovError as exc:
        return True, [f"release checklist: {exc}"]
    lines = []
    for report in reports:
        if any(r.status == "fail" for r in report.results):
            lines += checklist_render.lines(report, only_failures=True)
    return any(not r.passed for r in reports), lines
