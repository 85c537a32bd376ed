"""Probing the run's Python interpreter: its version and installed distributions.

The interpreter is asked about itself in one subprocess (it is usually not the one
running gitprov: a project venv, a conda env). The script it runs reads distribution
metadata only, so no package is imported (importing torch alone can take seconds and
initialise CUDA). The probe has a timeout, and any failure is an
``EnvironmentProbeError``: without the interpreter there is no snapshot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from gitprov.errors import GitprovError
from gitprov.model import environment as env_model

PYTHON_TIMEOUT = 60.0  # a big conda env has thousands of distributions to read
_MARK = "GITPROV-ENV:"

# Runs inside the target interpreter; kept to Python 3.8 syntax and the standard library.
# sys.path[0] is '' (the current directory) under -c: it is dropped before any import, so
# a json.py or platform.py in the user's project cannot shadow the stdlib or be executed.
# The distributions come out in sys.path order (first one wins); package_list() sorts.
_PROBE_SCRIPT = """
import sys
sys.path[:] = [p for p in sys.path if p]
import json, os, platform
from importlib import metadata
paths = [os.path.abspath(p) for p in sys.path]
found = []
for dist in metadata.distributions(path=paths):
    meta = dist.metadata
    if meta is not None and meta.get("Name") and meta.get("Version"):
        found.append([str(meta.get("Name")), str(meta.get("Version"))])
try:
    import site
    user_site = site.getusersitepackages()
except Exception:
    user_site = None
print("GITPROV-ENV:" + json.dumps({
    "implementation": platform.python_implementation(),
    "version": platform.python_version(),
    "executable": sys.executable,
    "path": paths,
    "user_site": user_site,
    "distributions": found,
}))
"""


class EnvironmentProbeError(GitprovError):
    """The run's interpreter cannot be found or cannot describe itself."""


@dataclass(frozen=True)
class PythonProbe:
    """What the interpreter said about itself; ``watch`` feeds the service's cache key."""

    info: env_model.PythonInfo
    packages: tuple[str, ...]
    executable: str  # sys.executable, which differs from the command for shims (pyenv)
    watch: tuple[str, ...]  # sys.path entries and the user site: installing changes them


def resolve_python(python: str | None) -> str:
    """The absolute path of the interpreter a run will use, without resolving symlinks.

    A venv's ``bin/python`` is a symlink to the base interpreter; running the resolved
    path would silently lose the venv, so the link is kept. ``None`` means the first
    ``python3`` or ``python`` on PATH (what a shell would run), else gitprov's own.
    """
    if python is None:
        found = shutil.which("python3") or shutil.which("python")
        return os.path.abspath(found) if found else sys.executable
    if os.sep in python or (os.altsep and os.altsep in python):
        candidate: str | None = python if os.access(python, os.X_OK) else None
    else:
        candidate = shutil.which(python)
    if candidate is None or not os.path.isfile(candidate):
        raise EnvironmentProbeError(
            f"the Python interpreter {python!r} was not found (or is not executable)",
            "Name the interpreter your run uses by its path, e.g. .venv/bin/python",
        )
    return os.path.abspath(candidate)


def probe_python(executable: str, *, timeout: float = PYTHON_TIMEOUT) -> PythonProbe:
    """Ask ``executable`` for its version and installed distributions, in one subprocess."""
    try:
        proc = subprocess.run(
            [executable, "-c", _PROBE_SCRIPT],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentProbeError(
            f"{executable} did not list its packages within {timeout:g} s",
            "Check that the interpreter starts ('python -c pass'), then run again",
        ) from None
    except OSError as exc:
        raise EnvironmentProbeError(
            f"cannot run {executable}: {exc.strerror or exc}",
            "Name the interpreter your run uses by its path, e.g. .venv/bin/python",
        ) from None
    lines = [line for line in proc.stdout.splitlines() if line.startswith(_MARK)]
    if proc.returncode != 0 or not lines:
        errors = proc.stderr.strip().splitlines()
        detail = errors[-1] if errors else f"exit {proc.returncode}"
        raise EnvironmentProbeError(
            f"{executable} could not list its packages ({detail})",
            "Environment capture needs Python 3.8 or newer; check the interpreter starts",
        )
    return _parse_python_probe(lines[-1][len(_MARK) :], executable)


def _parse_python_probe(text: str, executable: str) -> PythonProbe:
    try:
        raw = json.loads(text)
        found = [(str(name), str(version)) for name, version in raw["distributions"]]
        paths = [str(p) for p in raw["path"]]
        user_site = raw.get("user_site")
        info = env_model.PythonInfo(str(raw["implementation"]), str(raw["version"]))
        reported = str(raw["executable"]) or executable
    except (ValueError, KeyError, TypeError):
        raise EnvironmentProbeError(
            f"{executable} answered the package query with something unexpected",
            "Check that it is a standard Python interpreter (CPython or PyPy 3.8+)",
        ) from None
    watch = [*paths, user_site] if isinstance(user_site, str) else paths
    return PythonProbe(
        info=info,
        packages=env_model.package_list(found),
        executable=reported,
        watch=tuple(dict.fromkeys(watch)),
    )
