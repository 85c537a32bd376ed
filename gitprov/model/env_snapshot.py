"""What an environment snapshot holds, as frozen dataclasses, and its one-line summary.

The interpreter, the operating system, the CPU and GPUs, the installed distributions,
the container image when it is known, and the allow-listed environment variables. How a
snapshot is stored, named and read back is ``gitprov.model.environment``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gitprov.model import digest as digests


@dataclass(frozen=True)
class PythonInfo:
    """The interpreter the run uses (not necessarily the one running gitprov)."""

    implementation: str  # CPython, PyPy...
    version: str  # 3.11.7


@dataclass(frozen=True)
class PlatformInfo:
    system: str  # Linux, Darwin, Windows
    release: str  # the kernel release
    machine: str  # x86_64, arm64...
    os: str | None = None  # "Ubuntu 22.04.4 LTS", "macOS 14.4"
    libc: str | None = None  # "glibc 2.35"


@dataclass(frozen=True)
class CpuInfo:
    model: str | None
    cores: int | None  # logical CPUs
    memory_gib: int | None  # total RAM, rounded: exact figures differ between twin machines


@dataclass(frozen=True)
class GpuDevice:
    name: str
    memory_mib: int | None


@dataclass(frozen=True)
class GpuInfo:
    """NVIDIA GPUs as ``nvidia-smi`` reports them.

    ``cuda`` is the CUDA version of the *driver* (the newest runtime it supports); the
    runtime a framework actually uses is in its package version (``torch==2.3.0+cu121``)
    or in packages such as ``nvidia-cuda-runtime-cu12``.
    """

    driver: str | None
    cuda: str | None
    devices: tuple[GpuDevice, ...]


@dataclass(frozen=True)
class ContainerInfo:
    runtime: str | None  # docker | podman | None (known only from GITPROV_CONTAINER_IMAGE)
    image: str | None  # the image reference, without its digest
    image_id: str | None  # the local image ID (sha256 of its config), as podman reports it
    digest: str | None  # the registry manifest digest: 'docker pull <image>@<digest>'


@dataclass(frozen=True)
class EnvironmentSnapshot:
    python: PythonInfo
    platform: PlatformInfo
    cpu: CpuInfo
    gpu: GpuInfo | None  # None: no NVIDIA GPU found (or nvidia-smi failed)
    packages: tuple[str, ...]  # name==version, normalised names, sorted
    container: ContainerInfo | None = None
    env: Mapping[str, str] = field(default_factory=dict)


def summary(snapshot: EnvironmentSnapshot) -> str:
    """One line for ``gitprov log --lineage``.

    >>> summary(EnvironmentSnapshot(PythonInfo("CPython", "3.11.7"),
    ...     PlatformInfo("Linux", "6.1", "x86_64"), CpuInfo(None, 8, 16), None, ("a==1",)))
    'Python 3.11.7, Linux x86_64, 1 package, no GPU'
    """
    py = snapshot.python
    name = "Python" if py.implementation == "CPython" else py.implementation
    count = len(snapshot.packages)
    parts = [
        f"{name} {py.version}",
        f"{snapshot.platform.system} {snapshot.platform.machine}",
        f"{count} package{'' if count == 1 else 's'}",
        _gpu_summary(snapshot.gpu),
    ]
    box = snapshot.container
    if box is not None and (box.image or box.digest or box.image_id):
        where = box.image or box.image_id or ""
        if box.digest:
            where = f"{where}@{digests.short(box.digest)}" if box.image else box.digest
        parts.append(f"{box.runtime or 'container'} image {where}")
    return ", ".join(parts)


def _gpu_summary(gpu: GpuInfo | None) -> str:
    if gpu is None or not gpu.devices:
        return "no GPU"
    counts: dict[str, int] = {}
    for device in gpu.devices:
        counts[device.name] = counts.get(device.name, 0) + 1
    text = " + ".join(f"{n}x {name}" for name, n in counts.items())
    details = [f"driver {gpu.driver}" if gpu.driver else "", f"CUDA {gpu.cuda}" if gpu.cuda else ""]
    details = [d for d in details if d]
    return f"{text} ({', '.join(details)})" if details else text
