"""Probing the host: kernel, architecture, OS release, libc, CPU model, cores and RAM.

System calls and a few small files (``/etc/os-release``, ``/proc/cpuinfo``), plus
``sysctl`` on macOS. Nothing here fails a capture: what cannot be read is recorded as
unknown. ``read_small`` and ``parse_key_values`` also serve the container probe and
the cache-key fingerprint.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

from gitprov.model import environment as env_model


def probe_platform() -> env_model.PlatformInfo:
    """Kernel, architecture, OS release and libc: system calls and one small file."""
    uname = os.uname()
    libc = None
    if hasattr(os, "confstr"):
        try:
            libc = os.confstr("CS_GNU_LIBC_VERSION")
        except (ValueError, OSError):
            libc = None
    return env_model.PlatformInfo(
        system=uname.sysname,
        release=uname.release,
        machine=uname.machine,
        os=_os_name(),
        libc=libc,
    )


def _os_name() -> str | None:
    if sys.platform == "darwin":
        release = platform.mac_ver()[0]
        return f"macOS {release}" if release else None
    for path in (Path("/etc/os-release"), Path("/usr/lib/os-release")):
        text = read_small(path)
        if text is not None:
            fields = parse_key_values(text)
            return fields.get("PRETTY_NAME") or fields.get("NAME")
    return None


def probe_cpu(cpuinfo: Path = Path("/proc/cpuinfo")) -> env_model.CpuInfo:
    """CPU model (from /proc/cpuinfo, or sysctl on macOS), logical cores and total RAM."""
    model = None
    text = read_small(cpuinfo, limit=4 << 20)
    if text is not None:
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() in ("model name", "Model", "Hardware", "cpu model"):
                model = value.strip() or None
                break
    elif sys.platform == "darwin":
        model = _sysctl("machdep.cpu.brand_string")
    memory = None
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    gib = round(memory / (1 << 30)) if memory and memory > 0 else None
    return env_model.CpuInfo(model=model, cores=os.cpu_count(), memory_gib=gib)


def _sysctl(name: str) -> str | None:
    try:
        proc = subprocess.run(
            ["sysctl", "-n", name], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def read_small(path: Path, *, limit: int = 65536) -> str | None:
    """The text of a small file, or None when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def parse_key_values(text: str) -> dict[str, str]:
    """``KEY=value`` / ``KEY="value"`` lines (os-release, .containerenv)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.lstrip().startswith("#"):
            fields[key.strip()] = value.strip().strip('"').strip("'")
    return fields
