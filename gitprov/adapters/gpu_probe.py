"""Probing NVIDIA GPUs through ``nvidia-smi``: devices, memory, driver and CUDA version.

GPUs are asked through ``nvidia-smi`` when it is on PATH, never through a framework
(importing one can take seconds and initialise CUDA). Every call has a timeout, since a
wedged driver can make nvidia-smi hang; a failure becomes a warning and an unknown
field, never a traceback.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from gitprov.model import environment as env_model

NVIDIA_SMI_TIMEOUT = 10.0  # a wedged driver can make nvidia-smi hang for minutes
_GPU_QUERY = ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]


def find_nvidia_smi() -> str | None:
    """``nvidia-smi`` on PATH, if any: its absence means "no NVIDIA GPU here"."""
    return shutil.which("nvidia-smi")


def probe_gpu(
    nvidia_smi: str | None, *, timeout: float = NVIDIA_SMI_TIMEOUT
) -> tuple[env_model.GpuInfo | None, tuple[str, ...]]:
    """GPUs, driver and CUDA version from ``nvidia-smi``; ``(None, warnings)`` on failure.

    Two calls: the CSV query for the devices and the plain banner for the CUDA
    version (the query interface has no CUDA field on older drivers).
    """
    if nvidia_smi is None:
        return None, ()
    out, problem = _run_tool([nvidia_smi, *_GPU_QUERY], timeout)
    if problem is not None:
        return None, (f"nvidia-smi failed ({problem}): GPUs not recorded",)
    devices, driver = parse_gpu_csv(out)
    banner, problem = _run_tool([nvidia_smi], timeout)
    warnings = () if problem is None else (f"nvidia-smi failed ({problem}): CUDA not recorded",)
    cuda = parse_cuda_version(banner) if problem is None else None
    return env_model.GpuInfo(driver=driver, cuda=cuda, devices=devices), warnings


def _run_tool(argv: list[str], timeout: float) -> tuple[str, str | None]:
    """Run a probing tool; ``(stdout, None)`` or ``("", a short reason)``."""
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "", f"no answer within {timeout:g} s"
    except OSError as exc:
        return "", str(exc.strerror or exc)
    if proc.returncode != 0:
        # nvidia-smi explains itself on stdout ("couldn't communicate with the driver").
        said = (proc.stdout.strip() or proc.stderr.strip()).splitlines()
        return "", f"exit {proc.returncode}" + (f": {said[0][:200]}" if said else "")
    return proc.stdout, None


def parse_gpu_csv(text: str) -> tuple[tuple[env_model.GpuDevice, ...], str | None]:
    """Devices and driver from ``name, driver_version, memory.total`` CSV lines."""
    devices = []
    driver = None
    for line in text.splitlines():
        fields = [f.strip() for f in line.rsplit(",", 2)]
        if len(fields) != 3 or not fields[0]:
            continue
        name, version, memory = fields
        driver = driver or (version if version and "N/A" not in version else None)
        match = re.fullmatch(r"(\d+)\s*MiB", memory)
        devices.append(env_model.GpuDevice(name, int(match.group(1)) if match else None))
    return tuple(devices), driver


def parse_cuda_version(banner: str) -> str | None:
    """``12.2`` from nvidia-smi's banner line ``... CUDA Version: 12.2 |``."""
    match = re.search(r"CUDA Version\s*:\s*([0-9][0-9.]*)", banner)
    return match.group(1) if match else None
