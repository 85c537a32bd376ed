"""The committed files ``gitprov init`` writes: ``.gitprov/config.toml``,
``.gitprov/checklist.toml`` and ``.gitignore``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters import resources
from gitprov.adapters.fs import atomic_write
from gitprov.adapters.git import RepoLayout
from gitprov.errors import ConfigError
from gitprov.model import gitignore, project_config
from gitprov.services.changes import Change

CONFIG_PATH = Path(".gitprov") / "config.toml"
CHECKLIST_PATH = Path(".gitprov") / "checklist.toml"  # = model.checklist.CHECKLIST_PATH
GITIGNORE_PATH = Path(".gitignore")


@dataclass(frozen=True)
class ConfigHealth:
    """Whether the project config exists and is usable; ``problem`` says why not."""

    path: Path
    exists: bool
    problem: str | None
    fix: str | None

    @property
    def ok(self) -> bool:
        return self.exists and self.problem is None


def _read(path: Path) -> str | None:
    try:
        # newline="" keeps CRLF line endings as they are in the file.
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def config_health(layout: RepoLayout) -> ConfigHealth:
    """Check ``.gitprov/config.toml`` without changing it."""
    path = layout.worktree / CONFIG_PATH
    text = _read(path)
    if text is None:
        return ConfigHealth(path, False, f"{CONFIG_PATH} does not exist", "run 'gitprov init'")
    try:
        project_config.check(
            project_config.parse(text, source=str(CONFIG_PATH)), source=str(CONFIG_PATH)
        )
    except ConfigError as exc:
        return ConfigHealth(path, True, exc.problem, exc.fix)
    return ConfigHealth(path, True, None, None)


def ensure_config(layout: RepoLayout) -> list[Change]:
    """Write the config from the template when missing; add a missing schema key.

    A config that exists is otherwise left byte for byte as the user wrote it. Raises
    ConfigError when it cannot be parsed or is of an unknown schema.
    """
    path = layout.worktree / CONFIG_PATH
    text = _read(path)
    if text is None:
        atomic_write(path, resources.template("config.toml").encode())
        return [Change(str(CONFIG_PATH), "created from the template")]
    doc = project_config.parse(text, source=str(CONFIG_PATH))
    if project_config.SCHEMA_KEY in doc:
        project_config.check(doc, source=str(CONFIG_PATH))
        return []
    atomic_write(path, project_config.with_schema(doc).encode())
    return [
        Change(
            str(CONFIG_PATH),
            f"added {project_config.SCHEMA_KEY} = {project_config.SCHEMA_VERSION}, comments kept",
        )
    ]


def ensure_checklist(layout: RepoLayout) -> list[Change]:
    """Write the release checklist from the template when missing (its defaults, with
    every option explained); an existing one is never touched."""
    path = layout.worktree / CHECKLIST_PATH
    if path.exists():
        return []
    atomic_write(path, resources.template("checklist.toml").encode())
    return [Change(str(CHECKLIST_PATH), "created from the template (the release checklist)")]


def ensure_gitignore(layout: RepoLayout, rules: list[str] | None = None) -> list[Change]:
    """Make sure the gitprov block of ``.gitignore`` holds ``rules`` (and the temp rule)."""
    path = layout.worktree / GITIGNORE_PATH
    text = _read(path) or ""
    wanted = [gitignore.TEMP_FILE_RULE, *(rules or [])]
    updated = gitignore.with_rules(text, wanted)
    if updated == text:
        return []
    atomic_write(path, updated.encode("utf-8"))
    added = [rule for rule in wanted if rule not in gitignore.block_rules(text)]
    return [Change(str(GITIGNORE_PATH), f"gitprov block: added {', '.join(added)}")]


def gitignore_ok(layout: RepoLayout) -> bool:
    """Whether ``.gitignore`` holds gitprov's temp-file rule."""
    text = _read(layout.worktree / GITIGNORE_PATH) or ""
    return gitignore.TEMP_FILE_RULE in gitignore.block_rules(text)
