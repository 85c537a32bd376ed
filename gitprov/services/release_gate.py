"""The pre-commit hook's release gate: run the checklist when a commit touches a
release-marked checkpoint (its pointer says ``stage = "release"``) or its card.

It runs on every commit, so the common case costs one ``git diff --cached`` (shared
with the decision check) and imports nothing: only when a pointer or a card is staged
does it read the staged pointers (one ``git cat-file``; for a card, the pointers beside
it, one ``git ls-files`` more), and only when one of them is release-marked does it load
the checklist. Standard library and ``gitlite`` at the top.
"""

from __future__ import annotations

import re

from gitprov.adapters import gitlite

POINTER_SUFFIX = ".gitprov"  # = model.pointer.SUFFIX (a test keeps them equal)
CARD_SUFFIX = ".card.md"  # = model.card.SUFFIX
# A cheap first look; the checklist parses the pointer properly afterwards.
_RELEASE = re.compile(rb"""^\s*stage\s*=\s*["']release["']""", re.MULTILINE)


def staged_changes() -> list[tuple[str, str]] | None:
    """``(status letter, path)`` of every path the index adds, changes or deletes (None
    when git cannot tell). Renames show as a deletion and an addition."""
    out = gitlite.output(
        ["diff", "--cached", "--name-status", "-z", "--no-renames", "--diff-filter=ACMRD"]
    )
    if out is None:
        return None
    fields = out.split("\0")
    return [(fields[i][:1], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]


def present(changes: list[tuple[str, str]] | None) -> list[str] | None:
    """The paths of ``changes`` that the index still holds (not deleted)."""
    return None if changes is None else [path for status, path in changes if status != "D"]


def _may_be_relevant(changes: list[tuple[str, str]]) -> bool:
    """Whether a staged change could touch a release-marked checkpoint: a pointer that says
    ``stage = "release"``, or a card (added, changed or deleted) beside such a pointer."""
    pointers = [p for status, p in changes if p.endswith(POINTER_SUFFIX) and status != "D"]
    folders = {p.rpartition("/")[0] for _, p in changes if p.endswith(CARD_SUFFIX)}
    if folders:  # the pointers beside each card: which one owns it is the checklist's call
        listing = gitlite.output(
            [
                "ls-files",
                "-z",
                "--",
                *[f"{f}/*{POINTER_SUFFIX}" if f else f"*{POINTER_SUFFIX}" for f in folders],
            ]
        )
        if listing is None:
            return True
        pointers += [p for p in listing.split("\0") if p and p.rpartition("/")[0] in folders]
    if not pointers:
        return False
    blobs = gitlite.read_blobs([f":{p}" for p in dict.fromkeys(pointers)])
    return blobs is None or any(_RELEASE.search(b) for b in blobs.values())


def check(changes: list[tuple[str, str]] | None) -> tuple[bool, list[str]]:
    """(whether to block the commit, lines to show: failures, then warnings)."""
    if changes is not None and not _may_be_relevant(changes):
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
