"""Probing the machine a run uses: the one import for every environment probe.

Each probe lives in the module named for what it asks: ``python_probe`` (the run's
interpreter and its distributions), ``host_probe`` (kernel, OS, libc, CPU, RAM),
``gpu_probe`` (``nvidia-smi``), ``container_probe`` (docker/podman markers and the
``GITPROV_CONTAINER_IMAGE`` override) and ``env_fingerprint`` (cheap stats for the
cache key). They are the only environment code that spawns or reads /proc.

Every probe has a timeout; failures become an ``EnvironmentProbeError`` (the
interpreter, without which there is no snapshot) or a warning and an unknown field
(everything else), never a traceback.
"""

from __future__ import annotations

from gitprov.adapters.container_probe import (
    CONTAINER_IMAGE_VAR,
    CONTAINERENV,
    DOCKERENV,
    probe_container,
    split_image_reference,
)
from gitprov.adapters.env_fingerprint import (
    NVIDIA_PROC_VERSION,
    machine_marks,
    search_path_token,
    stat_token,
)
from gitprov.adapters.gpu_probe import (
    NVIDIA_SMI_TIMEOUT,
    find_nvidia_smi,
    parse_cuda_version,
    parse_gpu_csv,
    probe_gpu,
)
from gitprov.adapters.host_probe import parse_key_values, probe_cpu, probe_platform, read_small
from gitprov.adapters.python_probe import (
    PYTHON_TIMEOUT,
    EnvironmentProbeError,
    PythonProbe,
    probe_python,
    resolve_python,
)

__all__ = [
    "CONTAINERENV",
    "CONTAINER_IMAGE_VAR",
    "DOCKERENV",
    "NVIDIA_PROC_VERSION",
    "NVIDIA_SMI_TIMEOUT",
    "PYTHON_TIMEOUT",
    "EnvironmentProbeError",
    "PythonProbe",
    "find_nvidia_smi",
    "machine_marks",
    "parse_cuda_version",
    "parse_gpu_csv",
    "parse_key_values",
    "probe_container",
    "probe_cpu",
    "probe_gpu",
    "probe_platform",
    "probe_python",
    "read_small",
    "resolve_python",
    "search_path_token",
    "split_image_reference",
    "stat_token",
]
