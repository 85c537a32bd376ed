"""What the benchmarks share: the machine they ran on, version strings, an isolated git
environment, interleaving and statistics.

Imported by the scripts next to it (``python bench/<script>.py`` puts ``bench/`` first on
``sys.path``). Standard library only.
"""

from __future__ import annotations

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

GITCONFIG = (
    "[user]\n\tname = Bench User\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
)


# -- commands ---------------------------------------------------------------------------


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


def write_json(path: Path, result: Mapping[str, Any]) -> None:
    """Write ``result`` (the ``--json`` output) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\n  results written to {path}")
