"""Git config that makes the lineage notes travel and merge without loss.

``refs/notes/gitprov`` holds one JSON record per line, only ever appended, so the
``cat_sort_uniq`` strategy is a lossless set union: notes rewritten by amend or rebase
and notes fetched from other clones merge without conflicts.

Remote notes are fetched into ``refs/notes/remotes/<remote>/gitprov`` and merged from
there; fetching straight into ``refs/notes/gitprov`` would overwrite local notes. No
``remote.<name>.push`` is set: that would change what a bare ``git push`` pushes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gitprov.adapters.git import GitConfig
from gitprov.services.changes import Change
from gitprov.services.install_state import ConfigEdit

NOTES_REF = "refs/notes/gitprov"
MERGE_STRATEGY = "cat_sort_uniq"


def remote_notes_ref(remote: str) -> str:
    """Where a remote's gitprov notes are fetched to."""
    return f"refs/notes/remotes/{remote}/gitprov"


@dataclass(frozen=True)
class Setting:
    """One git config value gitprov needs; ``multi`` keys keep the user's other values."""

    key: str
    value: str
    multi: bool
    why: str


def required_settings(remotes: Sequence[str]) -> list[Setting]:
    """The notes settings gitprov needs, given the repository's git remotes."""
    settings = [
        Setting("notes.rewriteRef", NOTES_REF, True, "carry lineage notes across amend/rebase"),
        Setting("notes.rewriteMode", MERGE_STRATEGY, False, "merge notes when rewriting"),
        Setting(
            "notes.gitprov.mergeStrategy", MERGE_STRATEGY, False, "merge notes from other clones"
        ),
    ]
    settings += [
        Setting(
            f"remote.{remote}.fetch",
            f"+{NOTES_REF}:{remote_notes_ref(remote)}",
            True,
            f"fetch {remote}'s notes beside, not over, the local ones",
        )
        for remote in remotes
    ]
    return settings


def is_satisfied(setting: Setting, current: Sequence[str]) -> bool:
    """Whether the config values ``current`` already meet ``setting``."""
    if setting.multi:
        return setting.value in current
    return list(current) == [setting.value]


def apply(config: GitConfig, settings: Sequence[Setting]) -> tuple[list[Change], list[ConfigEdit]]:
    """Make every setting true; return what changed and the edits to record for undo."""
    changes: list[Change] = []
    edits: list[ConfigEdit] = []
    for setting in settings:
        current = config.get_all(setting.key)
        if is_satisfied(setting, current):
            continue
        if setting.multi:
            config.add(setting.key, setting.value)
            edits.append(ConfigEdit("add", setting.key, setting.value))
            changes.append(Change(f"git config {setting.key}", f"added {setting.value}"))
        else:
            config.set(setting.key, setting.value)
            edits.append(ConfigEdit("set", setting.key, setting.value, tuple(current)))
            before = f" (was {', '.join(current)})" if current else ""
            changes.append(Change(f"git config {setting.key}", f"set to {setting.value}{before}"))
    return changes, edits


def revert(config: GitConfig, edits: Sequence[ConfigEdit]) -> list[Change]:
    """Undo recorded edits, newest first, leaving values the user changed since alone."""
    changes: list[Change] = []
    for edit in reversed(edits):
        current = config.get_all(edit.key)
        if edit.op == "add":
            if edit.value in current:
                config.remove_value(edit.key, edit.value)
                changes.append(Change(f"git config {edit.key}", f"removed {edit.value}"))
            continue
        if current != [edit.value]:
            continue  # changed by someone since: theirs now, not gitprov's to undo
        config.unset(edit.key)
        for value in edit.previous:
            config.add(edit.key, value)
        restored = f"restored {', '.join(edit.previous)}" if edit.previous else "removed"
        changes.append(Change(f"git config {edit.key}", restored))
    return changes
