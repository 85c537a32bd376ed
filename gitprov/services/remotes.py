"""``gitprov remote add|list|remove`` and resolving which artifact remote a push goes to.

Reading uses the standard library's tomllib (the pre-push hook reads remotes on every
push and must stay light); editing uses tomlkit so that users' comments survive.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitprov.adapters import git
from gitprov.adapters.fs import atomic_write
from gitprov.errors import ConfigError, GitprovError, UsageError
from gitprov.model import remote_config
from gitprov.model.pointer import ACCESS_LEVELS
from gitprov.model.remote_config import REMOTES_TABLE, RemoteSpec

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

CONFIG_PATH = Path(".gitprov") / "config.toml"
LOCAL_CONFIG = "config.toml"


def _load_toml(path: Path, *, source: str) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    # ValueError: an integer of 4300+ digits; RecursionError: arrays nested ~1000 deep.
    # Both come from a hostile file, not from gitprov (issue 9).
    except (ValueError, RecursionError) as exc:
        raise ConfigError(
            f"{source} is not valid TOML ({exc})", "Fix the file, then run the command again"
        ) from None


def load(top: Path, gitprov_dir: Path) -> dict[str, RemoteSpec]:
    """Every configured artifact remote: committed config plus local overrides."""
    committed = _load_toml(top / CONFIG_PATH, source=str(CONFIG_PATH))
    local_path = gitprov_dir / LOCAL_CONFIG
    local = _load_toml(local_path, source=str(local_path))
    return remote_config.parse_remotes(committed, local, source=str(CONFIG_PATH))


def for_git_remote(remotes: Mapping[str, RemoteSpec], git_remote: str) -> list[RemoteSpec]:
    """The artifact remotes a ``git push`` to ``git_remote`` uploads to."""
    return [spec for spec in remotes.values() if spec.git_remote == git_remote]


def choose(remotes: Mapping[str, RemoteSpec], name: str | None) -> RemoteSpec:
    """The remote a command names, or the default: the only one, else the one for 'origin'."""
    if name is not None:
        if name in remotes:
            return remotes[name]
        raise UsageError(
            f"there is no artifact remote named {name!r}"
            + (f" (configured: {', '.join(remotes)})" if remotes else ""),
            f"Add it with 'gitprov remote add {name} URL', or list them with 'gitprov remote list'",
        )
    if not remotes:
        raise GitprovError(
            "no artifact remote is configured",
            "Add one with 'gitprov remote add origin URL' (a directory path or s3://bucket/prefix)",
        )
    if len(remotes) == 1:
        return next(iter(remotes.values()))
    origin = for_git_remote(remotes, "origin")
    if len(origin) == 1:
        return origin[0]
    raise UsageError(
        f"several artifact remotes are configured ({', '.join(remotes)}) and none is the default",
        "Name the one to use, e.g. 'gitprov push NAME'",
    )


def _edit(path: Path, edit: Callable[[TOMLDocument], None], *, private: bool) -> None:
    """Apply ``edit`` to a config file with tomlkit (comments kept), written atomically."""
    import tomlkit  # noqa: PLC0415 - only edits pay for it, never the hook

    from gitprov.model import project_config  # noqa: PLC0415

    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    doc = project_config.parse(text, source=str(path))
    edit(doc)
    # The local file may hold credentials: only its owner may read it.
    atomic_write(path, tomlkit.dumps(doc).encode(), mode=0o600 if private else None)


def add(
    *,
    cwd: Path,
    name: str,
    url: str,
    options: Sequence[str] = (),
    accept: Sequence[str] | None = None,
    git_remote: str | None = None,
    jobs: int | None = None,
    local: bool = False,
) -> RemoteSpec:
    """Add (or replace) an artifact remote in the committed config, or with ``local`` in
    the local-only one. Secret-looking options are refused for the committed file."""
    layout = git.discover(cwd)
    remote_config.check_name(name)
    remote_config.check_url(url)
    parsed = dict(remote_config.parse_option(raw) for raw in options)
    secrets = [key for key in parsed if remote_config.is_secret_option(key)]
    if secrets and not local:
        raise UsageError(
            f"--option {secrets[0]} looks like a credential, and .gitprov/config.toml is committed",
            "Use your storage's credential chain (environment, profile=...) or add --local to "
            "keep it in .git/gitprov/config.toml, which is never committed",
        )
    for level in accept or ():
        if level not in ACCESS_LEVELS:
            raise UsageError(f"{level!r} is not an access level", f"Use {', '.join(ACCESS_LEVELS)}")
    path = layout.gitprov_dir / LOCAL_CONFIG if local else layout.worktree / CONFIG_PATH
    if not local and not path.is_file():
        raise GitprovError(f"gitprov is not set up in {layout.worktree}", "Run 'gitprov init'")

    def edit(doc: TOMLDocument) -> None:
        import tomlkit  # noqa: PLC0415

        remotes_table = doc.setdefault(REMOTES_TABLE, tomlkit.table(is_super_table=True))
        table = tomlkit.table()
        table.add("url", url)
        if git_remote is not None and git_remote != name:
            table.add("git_remote", git_remote)
        if accept is not None:
            table.add("accept", list(accept))
        if jobs is not None:
            table.add("jobs", jobs)
        if parsed:
            table.add("options", dict(sorted(parsed.items())))
        remotes_table[name] = table

    _edit(path, edit, private=local)
    return load(layout.worktree, layout.gitprov_dir)[name]


def remove(*, cwd: Path, name: str) -> list[str]:
    """Remove a remote from both config files; return the files changed."""
    layout = git.discover(cwd)
    changed = []
    for path in (layout.worktree / CONFIG_PATH, layout.gitprov_dir / LOCAL_CONFIG):
        current = _load_toml(path, source=str(path)).get(REMOTES_TABLE, {})
        if not isinstance(current, dict) or name not in current:
            continue

        def edit(doc: TOMLDocument) -> None:
            remotes_table = doc[REMOTES_TABLE]
            del remotes_table[name]
            if not remotes_table:
                del doc[REMOTES_TABLE]

        _edit(path, edit, private=path.parent == layout.gitprov_dir)
        changed.append(str(path))
    if not changed:
        raise UsageError(
            f"there is no artifact remote named {name!r}", "List them with 'gitprov remote list'"
        )
    return changed


def listing(*, cwd: Path) -> list[RemoteSpec]:
    layout = git.discover(cwd)
    return list(load(layout.worktree, layout.gitprov_dir).values())
