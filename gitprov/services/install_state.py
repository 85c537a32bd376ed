"""The local record of what ``gitprov init`` changed in git's config, for ``uninstall``.

Kept in ``<git-common-dir>/gitprov/install.json`` (never committed, shared by worktrees).
It lets ``gitprov uninstall`` put back exactly the values that were there before, rather
than guessing which config lines gitprov owns.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from gitprov.adapters.fs import atomic_write
from gitprov.adapters.git import RepoLayout
from gitprov.errors import ConfigError

STATE_FILE = "install.json"
STATE_SCHEMA = 1


@dataclass(frozen=True)
class ConfigEdit:
    """One git config change gitprov made.

    ``add``: gitprov added ``value`` to a multi-valued key; undo removes that value only.
    ``set``: gitprov replaced the key's values (``previous``) with ``value``; undo restores.
    """

    op: Literal["add", "set"]
    key: str
    value: str
    previous: tuple[str, ...] = ()


@dataclass
class InstallState:
    """Every config edit gitprov made in this repository, oldest first."""

    config_edits: list[ConfigEdit] = field(default_factory=list)


def _path(layout: RepoLayout) -> Path:
    return layout.gitprov_dir / STATE_FILE


def load(layout: RepoLayout) -> InstallState:
    """Read the state file; a missing file is an empty state."""
    path = _path(layout)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        edits = [
            ConfigEdit(
                op=item["op"],
                key=item["key"],
                value=item["value"],
                previous=tuple(item.get("previous", ())),
            )
            for item in raw["config_edits"]
        ]
    except FileNotFoundError:
        return InstallState()
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path} is damaged ({exc.__class__.__name__}: {exc})",
            "Delete it and run 'gitprov init' again; 'gitprov uninstall' will then only "
            "remove hooks and the config values it recognises",
        ) from None
    return InstallState(config_edits=edits)


def save(layout: RepoLayout, state: InstallState) -> None:
    """Write the state file atomically."""
    payload = {
        "schema": STATE_SCHEMA,
        "config_edits": [asdict(edit) for edit in state.config_edits],
    }
    text = json.dumps(payload, indent=2, sort_keys=True) + "\n"
    atomic_write(_path(layout), text.encode())


def forget(layout: RepoLayout) -> None:
    """Remove the state file (after a complete uninstall)."""
    _path(layout).unlink(missing_ok=True)
