"""``gitprov doctor``: is this repository set up the way ``gitprov init`` would set it up?"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters import git
from gitprov.errors import ConfigError
from gitprov.services import hooks, notes_setup, project_files, setup
from gitprov.services.changes import Change


@dataclass(frozen=True)
class Check:
    """One thing doctor looked at. ``fix`` says what to do when it is not ``ok``."""

    area: str  # "config", "gitignore", "hooks", "notes", "remotes"
    subject: str
    ok: bool
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    """Every check, and what ``--fix`` changed before they were run."""

    worktree: Path
    checks: list[Check]
    fixed: list[Change]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


_FIX = "run 'gitprov doctor --fix' (or 'gitprov init')"


def _config_checks(layout: git.RepoLayout) -> list[Check]:
    health = project_files.config_health(layout)
    config = Check(
        "config",
        str(project_files.CONFIG_PATH),
        health.ok,
        "valid" if health.ok else (health.problem or ""),
        health.fix,
    )
    ignore_ok = project_files.gitignore_ok(layout)
    gitignore = Check(
        "gitignore",
        str(project_files.GITIGNORE_PATH),
        ignore_ok,
        "gitprov block present" if ignore_ok else "gitprov block missing",
        None if ignore_ok else _FIX,
    )
    return [config, gitignore]


def _hook_checks(layout: git.RepoLayout) -> list[Check]:
    owner = hooks.hooks_owner(layout)
    fix = (
        f"call 'gitprov-hook <hook> \"$@\"' from {owner.hook_files} (docs/hooks.md)"
        if owner
        else _FIX
    )
    return [
        Check("hooks", status.hook, status.ok, status.detail, None if status.ok else fix)
        for status in hooks.inspect(layout)
    ]


def _notes_checks(layout: git.RepoLayout) -> list[Check]:
    config = git.GitConfig(layout.worktree)
    checks = []
    for setting in notes_setup.required_settings(git.remotes(layout.worktree)):
        current = config.get_all(setting.key)
        ok = notes_setup.is_satisfied(setting, current)
        area = "remotes" if setting.key.startswith("remote.") else "notes"
        detail = (
            f"has {setting.value}" if ok else f"lacks {setting.value} (needed to {setting.why})"
        )
        checks.append(Check(area, setting.key, ok, detail, None if ok else _FIX))
    return checks


def diagnose(*, cwd: Path, python: str, fix: bool = False) -> DoctorReport:
    """Check config, .gitignore, hooks and notes settings; with ``fix``, repair first.

    Repairs are exactly what ``gitprov init`` does (it is idempotent), so a remote added
    after init gets its notes refspec. What init cannot repair (a config with a syntax
    error, hooks owned by another tool) stays in the report with what to do.
    """
    layout = git.discover(cwd)
    fixed: list[Change] = []
    if fix:
        with contextlib.suppress(ConfigError):  # not repairable: the config check reports it
            fixed += project_files.ensure_config(layout)
        fixed += project_files.ensure_gitignore(layout)
        fixed += setup.configure_notes(layout)
        if hooks.hooks_owner(layout) is None:
            fixed += hooks.install(layout, python=python)
    checks = _config_checks(layout) + _hook_checks(layout) + _notes_checks(layout)
    return DoctorReport(layout.worktree, checks, fixed)
