"""Environment snapshots ``.gitprov/envs/<hex>.json``: where a run ran, stored once.

A snapshot answers "could I run this again and get the same thing?": the interpreter,
the operating system, the CPU and GPUs, every installed distribution (``name==version``),
the container image when it is known, and the handful of environment variables that
change numerical results (thread counts, determinism switches, hash seeds).

It is content-addressed: the file name is the sha256 of its exact canonical bytes (sorted
keys, two-space indent, UTF-8, final newline), so every run in the same environment
points at the same file and the repository stores it once. That is also why nothing
machine- or user-specific goes in (no absolute paths, host names or user names): two
engineers on identical images must produce identical bytes.

Environment variables are recorded only from an allow-list, and a name that looks like a
secret is refused even when a user allow-lists it: a snapshot is committed and pushed,
and a leaked token in git history is very hard to take back.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gitprov.errors import ConfigError
from gitprov.model import digest as digests
from gitprov.model.runrecord import RecordFormatError

SCHEMA_VERSION = 1
ENVS_DIR = ".gitprov/envs"
FIX = "Restore it from git history (environment snapshots are written by gitprov, never edited)"

# Variables that change what a training run computes or how reproducibly it does it.
# Paths, host names and credentials are left out on purpose (see the module docstring).
DEFAULT_ENV_ALLOW: frozenset[str] = frozenset(
    {
        # Which devices, in which order, and how the CUDA stack behaves.
        *("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"),
        *("CUDA_LAUNCH_BLOCKING", "CUBLAS_WORKSPACE_CONFIG", "NVIDIA_TF32_OVERRIDE"),
        *("PYTORCH_CUDA_ALLOC_CONF", "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "HIP_VISIBLE_DEVICES"),
        # Thread pools: reduction order (hence floating-point results) depends on them.
        *("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"),
        *("VECLIB_MAXIMUM_THREADS", "MKL_CBWR", "TOKENIZERS_PARALLELISM"),
        # Determinism switches of the frameworks.
        *("PYTHONHASHSEED", "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC"),
        *("TF_ENABLE_ONEDNN_OPTS", "XLA_FLAGS", "JAX_ENABLE_X64", "JAX_DEFAULT_MATMUL_PRECISION"),
        *("JAX_PLATFORMS", "PYTHONOPTIMIZE"),
        # Where models and data come from (offline mode, mirrors).
        *("HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"),
        # Distributed layout.
        *("WORLD_SIZE", "LOCAL_WORLD_SIZE"),
        # Locale, time zone and reproducible-build time.
        *("LANG", "LC_ALL", "TZ", "SOURCE_DATE_EPOCH"),
    }
)

# Word parts of a name that mark a credential. A part matches when it equals one of these
# (or its plural) or ends with it, so HF_TOKEN, GHTOKEN, APIKEY and OAUTH are refused,
# while TOKENIZERS_PARALLELISM is not. A false positive only costs a missing variable;
# a false negative could publish a credential, so the list errs on the side of refusing.
SECRET_WORDS = (
    *("TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "KEY", "CREDENTIAL"),
    *("CREDS", "AUTH", "SESSION", "COOKIE", "PRIVATE", "DSN", "SIGNATURE"),
)
# Parts that begin a credential word: AUTHTOKEN, AUTHORIZATION, SECRETKEY, PASSWORDFILE.
_SECRET_PREFIXES = ("SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE", "COOKIE", "SESSION")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\*?")
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@")
# Well-known token shapes (GitHub, Hugging Face, OpenAI-style, AWS access key id, Slack,
# GitLab): redacted even under an allowed, innocent-looking name.
_TOKEN_VALUE = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,}"
    r"|AKIA[0-9A-Z]{16}|xox[abpr]-[A-Za-z0-9-]{10,}|glpat-[A-Za-z0-9_-]{20,})"
)
REDACTED = "***"


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


def to_json(snapshot: EnvironmentSnapshot) -> dict[str, Any]:
    """The snapshot as the JSON object that is stored (every key always present)."""
    gpu = snapshot.gpu
    container = snapshot.container
    return {
        "container": None
        if container is None
        else {
            "digest": container.digest,
            "image": container.image,
            "image_id": container.image_id,
            "runtime": container.runtime,
        },
        "cpu": {
            "cores": snapshot.cpu.cores,
            "memory_gib": snapshot.cpu.memory_gib,
            "model": snapshot.cpu.model,
        },
        "env": dict(snapshot.env),
        "gpu": None
        if gpu is None
        else {
            "cuda": gpu.cuda,
            "devices": [{"memory_mib": d.memory_mib, "name": d.name} for d in gpu.devices],
            "driver": gpu.driver,
        },
        "packages": list(snapshot.packages),
        "platform": {
            "libc": snapshot.platform.libc,
            "machine": snapshot.platform.machine,
            "os": snapshot.platform.os,
            "release": snapshot.platform.release,
            "system": snapshot.platform.system,
        },
        "python": {
            "implementation": snapshot.python.implementation,
            "version": snapshot.python.version,
        },
        "schema": SCHEMA_VERSION,
    }


def canonical_bytes(raw: Mapping[str, Any]) -> bytes:
    """Sorted keys, two-space indent, UTF-8, final newline: one environment, one byte string."""
    text = json.dumps(raw, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def dumps(snapshot: EnvironmentSnapshot) -> bytes:
    """The canonical bytes of ``snapshot``: what is stored and hashed."""
    return canonical_bytes(to_json(snapshot))


def digest_of(data: bytes) -> str:
    """``sha256:<hex>`` of a snapshot's bytes: its identity and (the hex) its file name."""
    return digests.from_hex(hashlib.sha256(data).hexdigest())


def snapshot_path(digest: str) -> str:
    """Where the snapshot with ``digest`` lives, relative to the work tree top."""
    return f"{ENVS_DIR}/{digests.hex_part(digest)}.json"


def check_digest(data: bytes, digest: str, *, source: str) -> None:
    """Refuse bytes that do not hash to the name they were stored under."""
    actual = digest_of(data)
    if actual != digest:
        raise RecordFormatError(
            f"{source} is corrupt: its content hashes to {digests.short(actual)}, "
            f"not {digests.short(digest)}",
            FIX,
        )


# --- packages ----------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """PEP 503 normal form, so ``Foo_Bar`` and ``foo-bar`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def package_list(found: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """``name==version`` for distributions found in ``sys.path`` order, sorted by name.

    When a name is installed twice (a user site and a venv, say), the first one on
    ``sys.path`` is the one Python imports, so it is the one recorded.
    """
    first: dict[str, str] = {}
    for name, version in found:
        key = normalise_name(name)
        if key and version.strip() and key not in first:
            first[key] = version.strip()
    return tuple(f"{name}=={first[name]}" for name in sorted(first))


# --- environment variables -----------------------------------------------------------


def looks_secret(name: str) -> bool:
    """Whether ``name`` reads like a credential (``HF_TOKEN``, ``MY_API_KEY``, ``OAUTH``...).

    >>> looks_secret("AWS_SECRET_ACCESS_KEY"), looks_secret("TOKENIZERS_PARALLELISM")
    (True, False)
    """
    for part in re.split(r"[^A-Z0-9]+", name.upper()):
        if not part:
            continue
        for word in SECRET_WORDS:
            if part in (word, word + "S") or part.endswith(word):
                return True
        if part.startswith(_SECRET_PREFIXES):
            return True
        if part.startswith("AUTH") and (
            not part.startswith("AUTHOR") or part.startswith("AUTHORI")
        ):
            return True  # AUTHTOKEN, AUTHZ, AUTHORIZATION, but not GIT_AUTHOR_NAME
    return False


def redact_value(value: str) -> str:
    """``value`` with URL user-info (``https://user:pw@host``) and known token shapes masked."""
    value = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", value)
    return _TOKEN_VALUE.sub(REDACTED, value)


def allow_list(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The default allow-list plus ``extra`` names (``NAME`` or a ``PREFIX_*`` pattern).

    Raises ConfigError for a name that is not an environment variable name, or a bare
    ``*``: recording every variable is exactly what the allow-list exists to prevent.
    """
    names = set(DEFAULT_ENV_ALLOW)
    for name in extra:
        if not _NAME.fullmatch(name):
            raise ConfigError(
                f"{name!r} in [runs] env_allow is not an environment variable name "
                "(letters, digits and '_', optionally ending in '*')",
                "Fix [runs] env_allow in .gitprov/config.toml",
            )
        names.add(name)
    return tuple(sorted(names))


def filter_env(environ: Mapping[str, str], allow: Iterable[str]) -> dict[str, str]:
    """The allow-listed variables of ``environ``, minus secret-looking names, redacted.

    A secret-looking name is dropped even when it is allow-listed by name: the check
    runs after the allow-list, on purpose.
    """
    exact = {name for name in allow if not name.endswith("*")}
    prefixes = tuple(name[:-1] for name in allow if name.endswith("*"))
    return {
        name: redact_value(value)
        for name, value in environ.items()
        if (name in exact or (prefixes and name.startswith(prefixes))) and not looks_secret(name)
    }


# --- parsing -------------------------------------------------------------------------


def loads(data: bytes, *, source: str) -> EnvironmentSnapshot:
    """Parse stored snapshot bytes; ``source`` names the file in errors."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise RecordFormatError(f"{source} is not valid JSON ({exc})", FIX) from None
    if not isinstance(raw, dict):
        raise RecordFormatError(f"{source} is not a JSON object", FIX)
    return from_json(raw, source=source)


def from_json(raw: Mapping[str, Any], *, source: str) -> EnvironmentSnapshot:
    """Check and convert a snapshot's JSON object; RecordFormatError says what is wrong."""
    if raw.get("schema") != SCHEMA_VERSION:
        raise RecordFormatError(
            f"{source} has environment-snapshot schema {raw.get('schema')!r}; "
            f"this gitprov reads {SCHEMA_VERSION}",
            "Upgrade gitprov (pip install -U gitprov)",
        )
    py = _table(raw, "python", source)
    plat = _table(raw, "platform", source)
    cpu = _table(raw, "cpu", source)
    packages = _want(raw, "packages", list, source)
    env = _want(raw, "env", dict, source)
    if not all(isinstance(p, str) and "==" in p for p in packages):
        raise RecordFormatError(f"{source}: 'packages' must be 'name==version' strings", FIX)
    if not all(isinstance(v, str) for v in env.values()):
        raise RecordFormatError(f"{source}: 'env' values must be strings", FIX)
    return EnvironmentSnapshot(
        python=PythonInfo(
            _want(py, "implementation", str, source), _want(py, "version", str, source)
        ),
        platform=PlatformInfo(
            system=_want(plat, "system", str, source),
            release=_want(plat, "release", str, source),
            machine=_want(plat, "machine", str, source),
            os=_optional(plat, "os", str, source),
            libc=_optional(plat, "libc", str, source),
        ),
        cpu=CpuInfo(
            model=_optional(cpu, "model", str, source),
            cores=_optional(cpu, "cores", int, source),
            memory_gib=_optional(cpu, "memory_gib", int, source),
        ),
        gpu=_gpu(raw, source),
        packages=tuple(packages),
        container=_container(raw, source),
        env=dict(env),
    )


def _gpu(raw: Mapping[str, Any], source: str) -> GpuInfo | None:
    gpu = _optional(raw, "gpu", dict, source)
    if gpu is None:
        return None
    devices = []
    for device in _want(gpu, "devices", list, source):
        if not isinstance(device, dict):
            raise RecordFormatError(f"{source}: an entry of 'gpu.devices' is not a table", FIX)
        devices.append(
            GpuDevice(
                _want(device, "name", str, source), _optional(device, "memory_mib", int, source)
            )
        )
    return GpuInfo(
        driver=_optional(gpu, "driver", str, source),
        cuda=_optional(gpu, "cuda", str, source),
        devices=tuple(devices),
    )


def _container(raw: Mapping[str, Any], source: str) -> ContainerInfo | None:
    box = _optional(raw, "container", dict, source)
    if box is None:
        return None
    return ContainerInfo(
        runtime=_optional(box, "runtime", str, source),
        image=_optional(box, "image", str, source),
        image_id=_optional(box, "image_id", str, source),
        digest=_optional(box, "digest", str, source),
    )


def _table(raw: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    value: dict[str, Any] = _want(raw, key, dict, source)
    return value


def _want(raw: Mapping[str, Any], key: str, kind: type, source: str) -> Any:
    value = raw.get(key)
    if value is None or not _is(value, kind):
        raise RecordFormatError(f"{source}: field {key!r} is missing or not a {_name(kind)}", FIX)
    return value


def _optional(raw: Mapping[str, Any], key: str, kind: type, source: str) -> Any:
    value = raw.get(key)
    if value is not None and not _is(value, kind):
        raise RecordFormatError(f"{source}: field {key!r} is not a {_name(kind)}", FIX)
    return value


def _is(value: object, kind: type) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _name(kind: type) -> str:
    return {str: "string", int: "number", list: "list", dict: "table"}.get(kind, kind.__name__)


# --- for humans ----------------------------------------------------------------------


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
