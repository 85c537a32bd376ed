"""What the benchmarks share: the machine they ran on, version strings, an isolated git
(and DVC) environment, DVC's installer, test data, interleaving, statistics and targets.

Imported by the scripts next to it (``python bench/<script>.py`` puts ``bench/`` first on
``sys.path``). Standard library only (gitprov is imported lazily, for its version).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOOLS = REPO_ROOT / "bench" / "results" / "tools"
MIB = 1 << 20
GIB = 1 << 30
MB = 1_000_000

GITCONFIG = (
    "[user]\n\tname = Bench User\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
)


# -- commands ---------------------------------------------------------------------------


class BenchError(Exception):
    """Something the benchmark relies on did not work; the run stops."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def human(size: int) -> str:
    return f"{size / GIB:g} GiB" if size >= GIB else f"{size / MIB:g} MiB"


def call(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    """Run an untimed setup or check command; its stdout."""
    proc = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError(
            f"'{' '.join(argv)}' failed in {cwd} (exit {proc.returncode}):\n"
            f"{proc.stdout}{proc.stderr}"
        )
    return proc.stdout


def output_of(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str | None:
    """First line of a (version) command's output, or None when it cannot run."""
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0] if lines else ""


def isolated_env(work: Path, strip: Iterable[str] = ("GIT_", "GITPROV_")) -> dict[str, str]:
    """The caller's environment minus every variable starting with one of ``strip`` (so
    nothing points git or gitprov elsewhere), plus a private git config in ``work``
    (``GIT_CONFIG_GLOBAL``, ``GIT_CONFIG_NOSYSTEM=1``)."""
    prefixes = tuple(strip)
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    gitconfig = work / "gitconfig"
    gitconfig.write_text(GITCONFIG, encoding="utf-8")
    env["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    return env


def git_version(env: Mapping[str, str] | None = None) -> str | None:
    text = output_of(["git", "--version"], env)
    return text.removeprefix("git version ") if text else None


def bench_env(work: Path) -> dict[str, str]:
    """A private git config (see isolated_env) and private DVC config and state
    directories; compiled modules cached in the work dir (the warm-up round compiles
    them, as pip does at install), nothing written into the source tree."""
    env = isolated_env(work, strip=("GIT_", "GITPROV_", "DVC_"))
    dvc_global = work / "dvc-global"
    dvc_global.mkdir()
    (dvc_global / "config").write_text(
        "[core]\n    analytics = false\n    check_update = false\n", encoding="utf-8"
    )
    (work / "dvc-system").mkdir()
    env["DVC_GLOBAL_CONFIG_DIR"] = str(dvc_global)
    env["DVC_SYSTEM_CONFIG_DIR"] = str(work / "dvc-system")
    env["DVC_SITE_CACHE_DIR"] = str(work / "dvc-site-cache")
    env["DVC_NO_ANALYTICS"] = "1"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


# -- the tools compared -----------------------------------------------------------------


def gitprov_command() -> list[str]:
    """gitprov as installed in the interpreter running the benchmark."""
    script = Path(sys.executable).parent / "gitprov"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gitprov"]


def gitprov_version(env: Mapping[str, str] | None = None) -> str:
    """gitprov's version and which copy of it the benchmark's commands import: this
    checkout (with its commit, and whether ``gitprov/`` has uncommitted changes) or
    another path. With ``env``, as a child process with that environment sees it."""
    code = "import gitprov, os; print(gitprov.__version__, os.path.dirname(gitprov.__file__))"
    text = output_of([sys.executable, "-P", "-c", code], env)  # -P: not the cwd's copy
    if text is None:
        return "not importable"
    version, _, where = text.partition(" ")
    location = Path(where).resolve()
    if location.is_relative_to(REPO_ROOT):
        commit = output_of(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"])
        dirty = output_of(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "gitprov"])
        modified = ", with uncommitted changes" if dirty else ""
        return f"{version} (this checkout, commit {commit}{modified})"
    return f"{version} ({location})"


def ensure_dvc(
    tools_dir: Path, spec: str, *, install: bool, modules: Sequence[str] = ()
) -> tuple[list[str] | None, str]:
    """DVC in its own venv under ``tools_dir``: reused when it runs and can import
    ``modules`` (plugins such as ``dvc_s3``), else ``spec`` is pip-installed into it
    (the venv is created first when it does not exist)."""
    venv = tools_dir / "dvc-venv"
    dvc, python = venv / "bin" / "dvc", venv / "bin" / "python"

    def usable() -> bool:
        if not dvc.is_file() or output_of([str(dvc), "--version"]) is None:
            return False
        return not modules or output_of([str(python), "-c", f"import {', '.join(modules)}"]) == ""

    if usable():
        return [str(dvc)], f"reused {venv}"
    if not install:
        return None, "DVC is not installed and --no-install was given: DVC rows skipped"
    log(f"installing {spec} from PyPI into {venv} (python -m venv + pip install)...")
    try:
        if not python.is_file():
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", spec], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return None, f"could not install {spec} ({exc}): DVC rows skipped"
    if not usable():
        return None, f"{spec} installed but dvc does not run or import {modules}: DVC rows skipped"
    return [str(dvc)], f"installed {spec} into {venv}"


# -- data -------------------------------------------------------------------------------


def write_random_file(path: Path, size: int) -> str:
    """``size`` random bytes (os.urandom) at ``path``; their sha256 hex digest."""
    sha = hashlib.sha256()
    with open(path, "wb") as out:
        left = size
        while left:
            block = os.urandom(min(16 * MIB, left))
            sha.update(block)
            out.write(block)
            left -= len(block)
    return sha.hexdigest()


def write_tree(root: Path, tree: tuple[int, int, int], file_size: int) -> None:
    """A nested directory of small random files: ``tree`` = (top folders, sub-folders
    each, files each), named ``dNN/sNN/fNNN.bin``."""
    top, sub, files = tree
    for a in range(top):
        for b in range(sub):
            folder = root / f"d{a:02d}" / f"s{b:02d}"
            folder.mkdir(parents=True)
            for c in range(files):
                (folder / f"f{c:03d}.bin").write_bytes(os.urandom(file_size))


def read_tree(root: Path) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            Path(folder, name).read_bytes()


# -- the machine ------------------------------------------------------------------------


def cpu_info() -> dict[str, str]:
    """The first value of every key in ``/proc/cpuinfo`` (empty elsewhere)."""
    info: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def cpu_model(info: Mapping[str, str] | None = None) -> str:
    info = cpu_info() if info is None else info
    for key in ("model name", "Hardware", "cpu model"):
        if info.get(key):
            return info[key]
    return platform.processor() or platform.machine() or "unknown"


def memory_total() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    except OSError:
        pass
    return "unknown"


def os_name() -> str:
    try:
        pretty = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        pretty = ""
    kernel = f"{platform.system()} {platform.release()} {platform.machine()}"
    return f"{pretty} ({kernel})" if pretty else kernel


def file_system(path: Path) -> str:
    """Type, device and options of the mount holding ``path`` (Linux); for ext4, whether
    it has a journal (it changes what fsync and file creation cost)."""
    real = str(path.resolve())
    best: tuple[str, str, str, str] | None = None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                device, mount, fstype, options, *_ = line.split()
                inside = real == mount or real.startswith(mount.rstrip("/") + "/")
                if inside and (best is None or len(mount) >= len(best[1])):
                    best = (device, mount, fstype, options)
    except OSError:
        return "unknown"
    if best is None:
        return "unknown"
    device, mount, fstype, options = best
    text = f"{fstype} on {mount} ({device}, {options})"
    if fstype == "ext4":
        journal = Path("/sys/fs/ext4") / Path(device).name / "journal_task"
        try:
            has_journal = journal.read_text(encoding="utf-8").strip() != "<none>"
            text += ", with a journal" if has_journal else ", no journal"
        except OSError:
            pass
    return text


def machine(workdir: Path | None = None) -> dict[str, Any]:
    """What the figures were measured on; with ``workdir``, the file system holding it."""
    cpu = cpu_info()
    flags = cpu.get("flags", "").split() + cpu.get("Features", "").split()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    info: dict[str, Any] = {
        "cpu": cpu_model(cpu),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "sha_extensions": "sha_ni" in flags or "sha2" in flags,
        "memory": memory_total(),
        "os": os_name(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "openssl": ssl.OPENSSL_VERSION,
    }
    if workdir is not None:
        info["workdir_file_system"] = file_system(workdir)
    return info


# -- interleaving and statistics --------------------------------------------------------


def rotated(items: Sequence[T], round_no: int) -> list[T]:
    """``items`` in the order of round ``round_no``: rotated by one place each round, so
    that no variant always runs first or right after the same other one."""
    shift = round_no % len(items)
    return [*items[shift:], *items[:shift]]


@dataclass(frozen=True)
class Stats:
    """Summary of one variant's samples (in whatever unit they were taken)."""

    runs: int
    median: float
    p10: float
    p90: float
    mean: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        if len(samples) >= 2:
            deciles = statistics.quantiles(samples, n=10, method="inclusive")
            p10, p90 = deciles[0], deciles[-1]
        else:
            p10 = p90 = samples[0]
        return cls(
            runs=len(samples),
            median=statistics.median(samples),
            p10=p10,
            p90=p90,
            mean=statistics.fmean(samples),
            minimum=min(samples),
            maximum=max(samples),
        )


@dataclass(frozen=True)
class Target:
    text: str
    measured: str
    met: bool | None  # None: could not be evaluated (a tool is missing)


VERDICTS: dict[bool | None, str] = {True: "MET", False: "MISSED", None: "n/a"}


def write_json(path: Path, result: Mapping[str, Any]) -> None:
    """Write ``result`` (the ``--json`` output) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\n  results written to {path}")
