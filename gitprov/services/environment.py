"""Capture the environment of a run as a content-addressed snapshot, in milliseconds.

Probing is slow (the interpreter must start and read every distribution's metadata:
a tenth of a second to seconds; ``nvidia-smi`` can take a second on its own), and
``gitprov run`` captures before every run. So the probed facts are cached in
``<git-common-dir>/gitprov/env-cache.json`` (local, never committed, shared by
worktrees), one entry per interpreter path, behind a key of things that are cheap to
look at. A capture that finds its key unchanged spawns nothing.

What the key covers (any change means a fresh probe):

- the interpreter: its path as given (venv symlinks kept), the ``stat`` (mtime, ctime,
  inode, size) of that path and of the ``sys.executable`` it reported (a pyenv shim
  and the real binary behind it);
- every ``sys.path`` entry the interpreter reported on the last probe, and its user
  site directory (even while absent): for a directory, the names of the entries that
  ``importlib.metadata`` and ``site`` read (``*.dist-info``, ``*.egg-info``, ``*.egg``,
  ``*.egg-link``, ``*.pth``, ``sitecustomize.py``, ``usercustomize.py``) and the
  ``stat`` of each one's metadata file (``METADATA``, ``PKG-INFO``, or the entry
  itself). Installing, upgrading or removing
  a distribution adds, renames or rewrites one of them; ctime changes even when an
  unpacker restores old mtimes. Other files coming and going in a ``sys.path``
  directory (run outputs in a project top that an editable install put on
  ``sys.path``) do not invalidate the cache;
- the variables that change which interpreter or which ``sys.path`` a command gets
  (``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONNOUSERSITE``, ``PYTHONUSERBASE``,
  ``VIRTUAL_ENV``, ``CONDA_PREFIX``, ``PYENV_VERSION``, ``ASDF_PYTHON_VERSION``) and
  the version files that shims read (``.python-version`` and ``.tool-versions`` in the
  current directory and its parents, ``$PYENV_ROOT/version``);
- the machine: host name and kernel (``uname``), the boot ID (a reboot: new kernel or
  hardware), ``/etc/os-release``, the ``nvidia-smi`` path and ``stat``, the content of
  ``/proc/driver/nvidia/version`` (the loaded driver);
- gitprov's version and the cache format (a new gitprov may record more).

The allow-listed environment variables and the container (marker files and
``GITPROV_CONTAINER_IMAGE``) are not in the key because they are never cached: they
cost microseconds and are read afresh on every capture.

Not cached at all: a probe that produced a warning (``nvidia-smi`` failed: the next run
retries) and a probe during which, or just before which, a watched path changed (its
mtime or ctime is within ``RACY_WINDOW_NS`` of the probe's start, as git does for
"racy" index entries): coarse file-system clocks could otherwise hide a second change.

Residual risk, documented in docs/environment.md: code imported by a ``.pth`` line or a
``sitecustomize`` module that adds ``sys.path`` entries (or distributions) from
elsewhere, changed without touching the watched files; a shim choosing its interpreter
from something other than the files and variables above; a GPU swapped without a reboot
or driver reload; a clock set backwards so that a new ctime equals an old one. Delete
the cache file to force a fresh probe.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gitprov import __version__
from gitprov.adapters import environment_probe as probe
from gitprov.adapters.fs import atomic_write
from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model import environment as env_model
from gitprov.model.runrecord import RecordFormatError

CACHE_NAME = "env-cache.json"
CACHE_SCHEMA = 1
MAX_ENTRIES = 8  # interpreters remembered per repository (venvs, conda envs)
# Changes closer than this to a probe's start are not trusted to show in a later stat:
# FAT and old HFS+ count whole seconds (2 s for FAT), Linux's file clock ticks in ms.
RACY_WINDOW_NS = 2_000_000_000
PYTHON_SELECTORS = (
    *("PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "PYTHONUSERBASE"),
    *("VIRTUAL_ENV", "CONDA_PREFIX", "PYENV_VERSION", "ASDF_PYTHON_VERSION"),
)
VERSION_FILES = (".python-version", ".tool-versions")


@dataclass(frozen=True)
class EnvCapture:
    """The outcome of one capture; ``snapshot`` is the stored JSON object."""

    digest: str  # sha256:<hex>, what the run record's "env" field holds
    path: str  # .gitprov/envs/<hex>.json, relative to the work tree top
    written: bool  # the file was created (or repaired) by this capture
    cached: bool  # the probe was skipped: the cache key was unchanged
    snapshot: dict[str, Any]
    warnings: tuple[str, ...] = ()  # e.g. "nvidia-smi failed (...)": for the CLI to show


def capture(
    *,
    top: Path,
    git_dir: Path,
    python: str | None = None,
    extra_env_allow: Sequence[str] = (),
) -> EnvCapture:
    """Snapshot the environment a run with ``python`` gets; store it under ``top``.

    ``git_dir`` is the *common* git dir (the cache is shared by worktrees);
    ``extra_env_allow`` comes from ``[runs] env_allow`` in ``.gitprov/config.toml``.
    Raises ConfigError for a malformed allow-list and EnvironmentProbeError when the
    interpreter cannot be found or run.
    """
    allow = env_model.allow_list(extra_env_allow)
    interpreter = probe.resolve_python(python)
    cache_file = git_dir / "gitprov" / CACHE_NAME
    entries = _read_cache(cache_file)
    base = _cached_base(entries.get(interpreter), interpreter)
    cached = base is not None
    warnings: tuple[str, ...] = ()
    if base is None:
        base, warnings = _probe_and_remember(interpreter, cache_file, entries)
    snapshot = replace(
        base,
        container=probe.probe_container(os.environ),
        env=env_model.filter_env(os.environ, allow),
    )
    data = env_model.dumps(snapshot)
    digest = env_model.digest_of(data)
    path = env_model.snapshot_path(digest)
    written = _store(top / path, data)
    return EnvCapture(digest, path, written, cached, env_model.to_json(snapshot), warnings)


def load(*, top: Path, digest: str) -> dict[str, Any]:
    """The stored snapshot ``digest``, after checking its bytes hash to its name."""
    if not digests.is_digest(digest):
        raise RecordFormatError(
            f"{digest[:80]!r} is not an environment snapshot ID (sha256:<64 hex>)",
            "Check the 'env' field of the run record, or restore it from git history",
        )
    path = env_model.snapshot_path(digest)
    try:
        data = (top / path).read_bytes()
    except FileNotFoundError:
        raise GitprovError(
            f"environment snapshot {digests.short(digest)} is missing ({path})",
            "It is committed with the run that used it: check out or pull that commit",
        ) from None
    except OSError as exc:
        raise GitprovError(
            f"cannot read {path}: {exc.strerror or exc}", "Check its permissions"
        ) from None
    env_model.check_digest(data, digest, source=path)
    env_model.loads(data, source=path)
    raw: dict[str, Any] = json.loads(data)
    return raw


def summary(snapshot: Mapping[str, Any]) -> str:
    """``Python 3.11.7, Linux x86_64, 212 packages, no GPU``: one line for humans."""
    return env_model.summary(env_model.from_json(snapshot, source="environment snapshot"))


# --- the cache -----------------------------------------------------------------------


def _probe_and_remember(
    interpreter: str, cache_file: Path, entries: dict[str, Any]
) -> tuple[env_model.EnvironmentSnapshot, tuple[str, ...]]:
    started = time.time_ns()
    found = probe.probe_python(interpreter)
    gpu, warnings = probe.probe_gpu(probe.find_nvidia_smi())
    base = env_model.EnvironmentSnapshot(
        python=found.info,
        platform=probe.probe_platform(),
        cpu=probe.probe_cpu(),
        gpu=gpu,
        packages=found.packages,
    )
    watch = list(dict.fromkeys((found.executable, *found.watch)))
    fingerprint, newest = _fingerprint(interpreter, watch)
    if warnings or newest >= started - RACY_WINDOW_NS:
        return base, warnings
    entries.pop(interpreter, None)
    entries[interpreter] = {
        "fingerprint": fingerprint,
        "watch": watch,
        "snapshot": env_model.to_json(base),
    }
    for stale in list(entries)[:-MAX_ENTRIES]:
        del entries[stale]
    try:
        atomic_write(cache_file, _cache_bytes(entries))
    except GitprovError as exc:  # only a speed-up: the snapshot itself is fine
        warnings = (*warnings, f"environment cache not saved: {exc.problem}")
    return base, warnings


def _cached_base(entry: object, interpreter: str) -> env_model.EnvironmentSnapshot | None:
    if not isinstance(entry, dict):
        return None
    watch = entry.get("watch")
    raw = entry.get("snapshot")
    if not isinstance(watch, list) or not all(isinstance(p, str) for p in watch):
        return None
    if not isinstance(raw, dict) or entry.get("fingerprint") != _fingerprint(interpreter, watch)[0]:
        return None
    try:
        return env_model.from_json(raw, source=CACHE_NAME)
    except RecordFormatError:
        return None


def _fingerprint(interpreter: str, watch: Sequence[str]) -> tuple[str, int]:
    """The cache key over everything listed in the module docstring, and the newest
    mtime/ctime among the watched files (for the racy check)."""
    paths = []
    newest = 0
    for path in dict.fromkeys((interpreter, *watch)):
        token, changed = probe.search_path_token(path)
        paths.append((path, token))
        newest = max(newest, changed)
    files = [(path, probe.stat_token(path)) for path in _version_files()]
    for _, stamp in files:
        newest = max(newest, stamp[0], stamp[1]) if stamp else newest
    material = {
        "cache": CACHE_SCHEMA,
        "gitprov": __version__,
        "python": interpreter,
        "paths": paths,
        "version_files": files,
        "selectors": {name: os.environ.get(name) for name in PYTHON_SELECTORS},
        "machine": probe.machine_marks(),
    }
    text = json.dumps(material, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), newest


def _version_files() -> list[str]:
    """Files that pyenv/asdf shims read to pick an interpreter."""
    try:
        cwd = Path.cwd()
    except OSError:  # the current directory was deleted
        return []
    found = [str(d / name) for d in (cwd, *cwd.parents) for name in VERSION_FILES]
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    return [*found, os.path.join(pyenv_root, "version")]


def _read_cache(path: Path) -> dict[str, Any]:
    """The cache's entries; an unreadable or foreign file is an empty cache."""
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(raw, dict) or raw.get("schema") != CACHE_SCHEMA:
        return {}
    entries = raw.get("entries")
    return dict(entries) if isinstance(entries, dict) else {}


def _cache_bytes(entries: Mapping[str, Any]) -> bytes:
    return json.dumps({"schema": CACHE_SCHEMA, "entries": entries}, separators=(",", ":")).encode()


def _store(path: Path, data: bytes) -> bool:
    """Write ``data`` unless the file already holds exactly these bytes."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise GitprovError(
            f"cannot read {path}: {exc.strerror or exc}", "Check the permissions of .gitprov/envs"
        ) from None
    atomic_write(path, data)
    return True
