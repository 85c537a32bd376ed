"""Probing the machine a run uses: the only environment code that spawns or reads /proc.

The interpreter is asked about itself in one subprocess (it is usually not the one
running gitprov: a project venv, a conda env). The script it runs reads distribution
metadata only, so no package is imported (importing torch alone can take seconds and
initialise CUDA). GPUs are asked through ``nvidia-smi`` when it is on PATH, never
through a framework. Every probe has a timeout; failures become an
``EnvironmentProbeError`` (the interpreter, without which there is no snapshot) or a
warning and an unknown field (everything else), never a traceback.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model import environment as env_model

PYTHON_TIMEOUT = 60.0  # a big conda env has thousands of distributions to read
NVIDIA_SMI_TIMEOUT = 10.0  # a wedged driver can make nvidia-smi hang for minutes
CONTAINER_IMAGE_VAR = "GITPROV_CONTAINER_IMAGE"
DOCKERENV = Path("/.dockerenv")
CONTAINERENV = Path("/run/.containerenv")
NVIDIA_PROC_VERSION = Path("/proc/driver/nvidia/version")
_MARK = "GITPROV-ENV:"
_METADATA_SUFFIXES = (".dist-info", ".egg-info", ".egg", ".egg-link", ".pth")
_STARTUP_HOOKS = ("sitecustomize.py", "usercustomize.py")  # may edit sys.path at startup
# The file inside a metadata folder that holds Name and Version ("" : the entry itself).
_METADATA_FILES = {"dist-info": "METADATA", "egg-info": "PKG-INFO"}
_GPU_QUERY = ["--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]

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


# --- the interpreter -----------------------------------------------------------------


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


# --- the machine ---------------------------------------------------------------------


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


# --- GPUs ----------------------------------------------------------------------------


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


# --- containers ----------------------------------------------------------------------


def probe_container(
    environ: Mapping[str, str],
    *,
    dockerenv: Path = DOCKERENV,
    containerenv: Path = CONTAINERENV,
) -> env_model.ContainerInfo | None:
    """The container the run is in, from its runtime's marker file or an explicit override.

    Docker's ``/.dockerenv`` says "in a container" but nothing about the image, and the
    image digest is not visible from inside it; podman's ``/run/.containerenv`` names
    the image and its ID. CI, which knows the digest it pulled, can set
    ``GITPROV_CONTAINER_IMAGE=repo@sha256:...``, which wins for the image and digest.
    """
    runtime = image = image_id = digest = None
    if containerenv.exists():
        runtime = "podman"
        fields = parse_key_values(read_small(containerenv) or "")
        image = fields.get("image") or None
        raw_id = fields.get("imageid", "").removeprefix(digests.PREFIX)
        image_id = digests.from_hex(raw_id) if re.fullmatch(r"[0-9a-f]{64}", raw_id) else None
    elif dockerenv.exists():
        runtime = "docker"
    override = environ.get(CONTAINER_IMAGE_VAR, "").strip()
    if override:
        image, digest = split_image_reference(override)
    if runtime is None and image is None:
        return None
    return env_model.ContainerInfo(runtime=runtime, image=image, image_id=image_id, digest=digest)


def split_image_reference(reference: str) -> tuple[str | None, str | None]:
    """``("repo:tag", "sha256:...")`` from ``repo:tag@sha256:...``; no digest when absent."""
    name, sep, tail = reference.rpartition("@")
    if sep and digests.is_digest(tail):
        return name or None, tail
    return reference, None


def parse_key_values(text: str) -> dict[str, str]:
    """``KEY=value`` / ``KEY="value"`` lines (os-release, .containerenv)."""
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.lstrip().startswith("#"):
            fields[key.strip()] = value.strip().strip('"').strip("'")
    return fields


# --- cheap facts for the cache key ---------------------------------------------------


def read_small(path: Path, *, limit: int = 65536) -> str | None:
    """The text of a small file, or None when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return handle.read(limit).decode("utf-8", errors="replace")
    except OSError:
        return None


def stat_token(path: str) -> tuple[int, int, int, int] | None:
    """``(mtime_ns, ctime_ns, inode, size)`` of ``path`` (symlinks followed); None if absent.

    ctime cannot be set by tools that restore mtimes (tar, rsync -t, cp -p), so a file
    unpacked with old timestamps still changes the token.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _token(st)


def _token(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size)


def search_path_token(path: str) -> tuple[object, int]:
    """What a ``sys.path`` entry holds that can change the package list, and its newest
    mtime/ctime (for the caller's racy-change check).

    For a directory, the name and the metadata file's ``stat_token`` of every entry
    ``importlib.metadata`` or ``site`` reads (``*.dist-info/METADATA``,
    ``*.egg-info/PKG-INFO``, ``*.egg``, ``*.egg-link``, ``*.pth``, and the
    ``sitecustomize.py``/``usercustomize.py`` that may extend ``sys.path``): installing,
    upgrading or removing a distribution changes it, while other files appearing in
    the directory (run outputs in a project top that an editable install put on
    ``sys.path``) do not. For a file (a zip), its own token; None when absent.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None, 0
    if not stat.S_ISDIR(st.st_mode):
        return ["file", *_token(st)], max(st.st_mtime_ns, st.st_ctime_ns)
    entries: list[tuple[str, tuple[int, int, int, int] | None]] = []
    try:
        with os.scandir(path) as scan:
            for entry in scan:
                lower = entry.name.lower()
                if lower.endswith(_METADATA_SUFFIXES) or lower in _STARTUP_HOOKS:
                    inner = _METADATA_FILES.get(lower.rpartition(".")[2])
                    target = os.path.join(entry.path, inner) if inner and entry.is_dir() else None
                    entries.append((entry.name, stat_token(target or entry.path)))
    except OSError:
        return ["unreadable", *_token(st)], max(st.st_mtime_ns, st.st_ctime_ns)
    entries.sort()
    newest = max((max(t[0], t[1]) for _, t in entries if t is not None), default=0)
    return ["dir", entries], newest


def machine_marks() -> dict[str, object]:
    """What identifies this machine and boot, cheaply: host, kernel, boot ID, driver.

    A reboot (new kernel, new hardware), another host sharing the repository over NFS,
    an OS upgrade or a new NVIDIA driver each change one of these.
    """
    nvidia_smi = find_nvidia_smi()
    return {
        "uname": list(os.uname()),
        "boot_id": read_small(Path("/proc/sys/kernel/random/boot_id")),
        "os_release": stat_token("/etc/os-release"),
        "nvidia_smi": [nvidia_smi, stat_token(nvidia_smi) if nvidia_smi else None],
        # Content, not mtime: procfs invents inode times when it instantiates them.
        "nvidia_driver": read_small(NVIDIA_PROC_VERSION),
    }
