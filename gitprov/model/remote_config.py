"""Artifact remotes as configured in ``[remotes.<name>]`` tables: parsing and checks.

A remote is where artifact bytes go when commits are pushed: any fsspec URL (a plain
directory path, ``file://``, ``s3://bucket/prefix``...). The committed file holds what
everyone shares (URL, accepted access levels, non-secret options such as the endpoint or
region); the local-only file may override them and may hold credentials. Pure functions
over plain mappings, so the hook can read config with the standard library's tomllib.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from gitprov.errors import ConfigError, UsageError
from gitprov.model.pointer import ACCESS_LEVELS, Access

REMOTES_TABLE = "remotes"
# A restricted artifact must never reach a store by accident: only an explicit
# ``accept = [..., "restricted"]`` lets it through.
DEFAULT_ACCEPT: tuple[Access, ...] = ("public", "internal")
DEFAULT_JOBS = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
# Option keys that carry secrets: refused in the committed file.
_SECRET_WORDS = ("secret", "password", "passwd", "token", "credential", "key_id", "private")
_SECRET_KEYS = frozenset({"key", "access_key", "session_token", "sas_token", "account_key"})
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)([^/@]+)@")


@dataclass(frozen=True)
class RemoteSpec:
    """One artifact remote."""

    name: str
    url: str
    git_remote: str  # the git remote whose pushes upload to this store
    accept: tuple[Access, ...] = DEFAULT_ACCEPT
    jobs: int = DEFAULT_JOBS
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def display_url(self) -> str:
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` part replaced, safe to show or log."""
    return _USERINFO.sub(r"\1***@", url)


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not a valid remote name",
            "Use letters, digits, '.', '_' or '-' (at most 63), starting with a letter or digit",
        )
    return name


def is_secret_option(key: str) -> bool:
    lowered = key.lower()
    return lowered in _SECRET_KEYS or any(word in lowered for word in _SECRET_WORDS)


def check_url(url: str) -> str:
    if not url.strip():
        raise UsageError("the remote URL is empty", "Give a directory path or an fsspec URL")
    if _USERINFO.match(url):
        raise UsageError(
            f"the URL {redact_url(url)} contains credentials",
            "Remove the user:password@ part; use your storage's own credential chain "
            "(environment, profiles) instead (docs/remotes.md#credentials)",
        )
    return url


def parse_option(raw: str) -> tuple[str, str]:
    """``KEY=VALUE`` from the command line."""
    key, sep, value = raw.partition("=")
    if not sep or not key.strip():
        raise UsageError(
            f"--option {raw!r} is not KEY=VALUE", "Write it as e.g. --option region=eu-west-1"
        )
    return key.strip(), value


def parse_remotes(
    committed: Mapping[str, object], local: Mapping[str, object], *, source: str
) -> dict[str, RemoteSpec]:
    """Every remote of the committed config, with local overrides; checked."""
    merged: dict[str, dict[str, object]] = {}
    for doc, where in ((committed, source), (local, "the local config")):
        table = doc.get(REMOTES_TABLE, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: [{REMOTES_TABLE}] must be a table", _FIX)
        for name, body in table.items():
            if not isinstance(body, Mapping):
                raise ConfigError(f"{where}: [{REMOTES_TABLE}.{name}] must be a table", _FIX)
            entry = merged.setdefault(str(name), {})
            for key, value in body.items():
                if key == "options" and isinstance(value, Mapping):
                    options = dict(entry.get("options", {}))  # type: ignore[call-overload]
                    options.update(value)
                    entry["options"] = options
                else:
                    entry[str(key)] = value
        if where == source:
            _refuse_committed_secrets(table, source)
    return {name: _spec(name, body, source) for name, body in sorted(merged.items())}


_FIX = "See docs/remotes.md#configuration for the format, or use 'gitprov remote add'"


def _refuse_committed_secrets(table: Mapping[str, object], source: str) -> None:
    for name, body in table.items():
        options = body.get("options", {}) if isinstance(body, Mapping) else {}
        for key in options if isinstance(options, Mapping) else {}:
            if is_secret_option(str(key)):
                raise ConfigError(
                    f"{source}: [{REMOTES_TABLE}.{name}.options] {key} looks like a credential, "
                    "and this file is committed",
                    "Remove it from this file (and from git history if it was committed), and "
                    "use your storage's credential chain or .git/gitprov/config.toml instead",
                )


def _spec(name: str, body: Mapping[str, object], source: str) -> RemoteSpec:
    where = f"{source}: [{REMOTES_TABLE}.{name}]"
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise ConfigError(f"{where} has no url", 'Add url = "s3://bucket/prefix" (or a path)')
    git_remote = body.get("git_remote", name)
    if not isinstance(git_remote, str):
        raise ConfigError(f"{where} git_remote must be a string", _FIX)
    accept = body.get("accept", list(DEFAULT_ACCEPT))
    if not isinstance(accept, list) or not all(a in ACCESS_LEVELS for a in accept):
        raise ConfigError(
            f"{where} accept = {accept!r} is not a list of access levels",
            f"Use a list drawn from {', '.join(ACCESS_LEVELS)}",
        )
    jobs = body.get("jobs", DEFAULT_JOBS)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or not 1 <= jobs <= 256:
        raise ConfigError(f"{where} jobs = {jobs!r} must be a whole number 1-256", _FIX)
    options = body.get("options", {})
    if not isinstance(options, Mapping):
        raise ConfigError(f"{where} options must be a table", _FIX)
    return RemoteSpec(
        name=name,
        url=url,
        git_remote=git_remote,
        accept=tuple(accept),
        jobs=jobs,
        options={str(k): str(v) for k, v in options.items()},
    )
