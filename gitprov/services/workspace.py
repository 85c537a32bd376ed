"""What every artifact command needs: the repository, its cache, and its pointers."""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tomlkit.toml_document import TOMLDocument

from gitprov.adapters import git, locks
from gitprov.adapters.objects import LINK_MODES, LinkMode, ObjectCache
from gitprov.adapters.statcache import StatCache
from gitprov.errors import ConfigError, GitprovError, UsageError
from gitprov.model import pointer as pointers
from gitprov.model import project_config
from gitprov.services.project_files import CONFIG_PATH

LOCAL_CONFIG = "config.toml"


@dataclass(frozen=True)
class Workspace:
    """An initialised repository, seen from one work tree."""

    layout: git.RepoLayout
    cache: ObjectCache
    link_mode: LinkMode

    @property
    def top(self) -> Path:
        return self.layout.worktree

    def stats(self) -> StatCache:
        return StatCache(self.layout.gitprov_dir / "statcache.sqlite3")

    def objects_lock(self, *, shared: bool) -> contextlib.AbstractContextManager[None]:
        """Shared while adding and naming objects; exclusive for gc (adapters.locks)."""
        return locks.flock(self.layout.gitprov_dir / "objects.lock", shared=shared)

    def worktree_lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive around edits of .gitignore and pointers and 'git add'."""
        return locks.flock(self.layout.gitprov_dir / "worktree.lock", shared=False)

    def display(self, path: Path) -> str:
        """A path as the user should see it: relative to the work tree top."""
        try:
            return path.relative_to(self.top).as_posix()
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class Tracked:
    """A pointer file and what it says."""

    pointer_path: Path  # absolute
    pointer: pointers.Pointer
    doc: TOMLDocument

    @property
    def artifact(self) -> Path:
        return self.pointer_path.parent / self.pointer.path


def _link_mode(layout: git.RepoLayout, project: TOMLDocument) -> LinkMode:
    """``[cache] link`` from the local config, else the project config, else ``auto``."""
    sources = [(str(CONFIG_PATH), project)]
    local = layout.gitprov_dir / LOCAL_CONFIG
    if local.is_file():
        sources.insert(0, (str(local), project_config.parse(local.read_text(), source=str(local))))
    for source, doc in sources:
        cache = doc.get("cache")
        value = cache.get("link") if isinstance(cache, dict) else None
        if value is None:
            continue
        if value not in LINK_MODES:
            raise ConfigError(
                f"{source}: [cache] link = {value!r} is not a link mode",
                f"Use one of {', '.join(LINK_MODES)} (docs/artifacts.md#link-modes)",
            )
        mode: LinkMode = value
        return mode
    return "auto"


def open_workspace(cwd: Path) -> Workspace:
    """The initialised repository around ``cwd`` (ConfigError until 'gitprov init')."""
    layout = git.discover(cwd)
    config = layout.worktree / CONFIG_PATH
    if not config.is_file():
        raise GitprovError(
            f"gitprov is not set up in {layout.worktree}",
            "Run 'gitprov init' first",
        )
    doc = project_config.parse(config.read_text(encoding="utf-8"), source=str(CONFIG_PATH))
    project_config.check(doc, source=str(CONFIG_PATH))
    return Workspace(layout, ObjectCache(layout.gitprov_dir / "objects"), _link_mode(layout, doc))


def inside_worktree(ws: Workspace, cwd: Path, raw: str) -> Path:
    """The absolute path for a user's argument, refused when outside the work tree or in .git."""
    # normpath first: 'a/..' and '..' must name the folder they mean, not a child called '..'.
    absolute = Path(os.path.normpath(Path(cwd, raw)))
    # Resolve the parent only: the last component may be a symlink we must not follow.
    absolute = absolute.parent.resolve() / absolute.name if absolute.name else absolute.resolve()
    top = ws.top.resolve()
    if absolute != top and top not in absolute.parents:
        raise UsageError(
            f"{raw} is outside the repository {ws.top}",
            "Move it inside the work tree (or run gitprov from the repository it belongs to)",
        )
    if absolute == top:
        raise UsageError(
            "gitprov cannot track the whole work tree", "Name a file or folder inside it"
        )
    rel = absolute.relative_to(top)
    if rel.parts[0] in (".git", ".gitprov"):
        raise UsageError(f"{raw} is inside {rel.parts[0]}/", "Name a file or folder of your own")
    return ws.top / rel


def load(pointer_path: Path, ws: Workspace) -> Tracked:
    """Read and check one pointer file."""
    try:
        # A hostile 100 MB "pointer" is refused from its size, before it is read; so is
        # one that is not a file (a committed symlink to /dev/zero would never end).
        info = pointer_path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise pointers.PointerError(
                f"{ws.display(pointer_path)} is not a regular file",
                "Remove it, or re-create the pointer with 'gitprov track'",
            )
        pointers.check_size(info.st_size, source=ws.display(pointer_path))
        text = pointer_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GitprovError(
            f"{ws.display(pointer_path)} does not exist",
            "Run 'gitprov status' to list tracked artifacts",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GitprovError(
            f"cannot read {ws.display(pointer_path)}: {exc}", "Check the file, then retry"
        ) from None
    pointer, doc = pointers.parse(text, source=ws.display(pointer_path))
    expected = pointer_path.name.removesuffix(pointers.SUFFIX)
    if pointer.path != expected:
        raise pointers.PointerError(
            f"{ws.display(pointer_path)}: 'path' is {pointer.path!r}, but this pointer's "
            f"artifact is {expected!r} (a pointer always sits beside its artifact)",
            f"Set path = {expected!r}, or re-create the pointer with 'gitprov track'",
        )
    parent = pointer_path.parent.resolve()
    top = ws.top.resolve()
    if parent != top and top not in parent.parents:
        raise pointers.PointerError(
            f"{ws.display(pointer_path)} is reached through a symlink leaving the repository",
            "Move the artifact and its pointer inside the work tree",
        )
    return Tracked(pointer_path, pointer, doc)


def find(ws: Workspace, cwd: Path, paths: list[str]) -> list[Tracked]:
    """The pointers named by ``paths`` (artifact or pointer paths), or all of them."""
    if not paths:
        names = git.ls_files(ws.top, [f"*{pointers.SUFFIX}"])
        return [load(ws.top / name, ws) for name in names if name.endswith(pointers.SUFFIX)]
    found = []
    for raw in paths:
        path = inside_worktree(ws, cwd, raw)
        pointer_path = (
            path
            if path.name.endswith(pointers.SUFFIX)
            else path.with_name(pointers.pointer_name(path.name))
        )
        try:
            exists = pointer_path.is_file()
        except OSError:  # e.g. a name too long for the file system: it cannot be tracked
            exists = False
        if not exists:
            raise GitprovError(
                f"{raw} is not tracked by gitprov (no {ws.display(pointer_path)})",
                f"Track it with 'gitprov track {raw}', or run 'gitprov status' for the list",
            )
        found.append(load(pointer_path, ws))
    return found
