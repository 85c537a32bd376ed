"""What a service changed, reported back to the CLI for rendering."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Change:
    """One thing a command changed (or, in a dry run, would change)."""

    target: str  # what was touched: "hook pre-push", "git config notes.rewriteRef", a path
    action: str  # what happened to it, in words: "installed", "added ...", "restored ..."
