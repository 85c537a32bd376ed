"""``gitprov init`` and ``gitprov uninstall``: set a repository up, and take it down again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters import git
from gitprov.adapters.fs import remove_stale_temp_files
from gitprov.services import hooks, install_state, notes_setup, project_files
from gitprov.services.changes import Change


@dataclass(frozen=True)
class SetupReport:
    """What init or uninstall did (``changes`` is empty when there was nothing to do)."""

    worktree: Path
    hooks_dir: Path
    changes: list[Change]


def configure_notes(layout: git.RepoLayout) -> list[Change]:
    """Apply the notes settings for every current remote, recording them for uninstall."""
    config = git.GitConfig(layout.worktree)
    settings = notes_setup.required_settings(git.remotes(layout.worktree))
    changes, edits = notes_setup.apply(config, settings)
    if edits:
        state = install_state.load(layout)
        state.config_edits.extend(edits)
        install_state.save(layout, state)
    return changes


def init(*, cwd: Path, python: str) -> SetupReport:
    """Set up gitprov in the repository around ``cwd``; hooks will run ``python``.

    Checks everything that could refuse (hooks folder owned by another tool, a broken
    config) before writing anything, so a refusal changes nothing.
    """
    layout = git.discover(cwd)
    hooks.check_installable(layout)
    # ensure_config raises (writing nothing) on a config it cannot use, so it goes first.
    changes = project_files.ensure_config(layout)
    remove_stale_temp_files(layout.worktree / project_files.CONFIG_PATH.parent)
    changes += [
        *project_files.ensure_checklist(layout),
        *project_files.ensure_gitignore(layout),
        *configure_notes(layout),
        *hooks.install(layout, python=python),
    ]
    return SetupReport(layout.worktree, layout.hooks_dir, changes)


def uninstall(*, cwd: Path) -> SetupReport:
    """Remove gitprov's hooks and git config, restoring what was there before.

    Committed files (``.gitprov/``, the ``.gitignore`` block) and the notes themselves
    stay: they are shared with everyone who clones the repository.
    """
    layout = git.discover(cwd)
    state = install_state.load(layout)
    changes = hooks.uninstall(layout)
    changes += notes_setup.revert(git.GitConfig(layout.worktree), state.config_edits)
    install_state.forget(layout)
    return SetupReport(layout.worktree, layout.hooks_dir, changes)
