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

This module owns the stored form: the JSON object, its canonical bytes and digest, the
file it lives in, and the checked parse back. The snapshot types and their summary are
in ``gitprov.model.env_snapshot``, the allow-list and secret rules in
``gitprov.model.env_vars``, and package-list normalisation in
``gitprov.model.python_packages``; all are re-exported here, so callers keep one import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from gitprov.model import digest as digests
from gitprov.model.env_snapshot import (
    ContainerInfo,
    CpuInfo,
    EnvironmentSnapshot,
    GpuDevice,
    GpuInfo,
    PlatformInfo,
    PythonInfo,
    summary,
)
from gitprov.model.env_vars import (
    DEFAULT_ENV_ALLOW,
    REDACTED,
    SECRET_WORDS,
    allow_list,
    filter_env,
    looks_secret,
    redact_value,
)
from gitprov.model.python_packages import normalise_name, package_list
from gitprov.model.runrecord import RecordFormatError

__all__ = [
    "DEFAULT_ENV_ALLOW",
    "ENVS_DIR",
    "FIX",
    "REDACTED",
    "SCHEMA_VERSION",
    "SECRET_WORDS",
    "ContainerInfo",
    "CpuInfo",
    "EnvironmentSnapshot",
    "GpuDevice",
    "GpuInfo",
    "PlatformInfo",
    "PythonInfo",
    "allow_list",
    "canonical_bytes",
    "check_digest",
    "digest_of",
    "dumps",
    "filter_env",
    "from_json",
    "loads",
    "looks_secret",
    "normalise_name",
    "package_list",
    "redact_value",
    "snapshot_path",
    "summary",
    "to_json",
]

SCHEMA_VERSION = 1
ENVS_DIR = ".gitprov/envs"
FIX = "Restore it from git history (environment snapshots are written by gitprov, never edited)"


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


# --- parsing -------------------------------------------------------------------------


def loads(data: bytes, *, source: str) -> EnvironmentSnapshot:
    """Parse stored snapshot bytes; ``source`` names the file in errors."""
    try:
        raw = json.loads(data)
    # RecursionError: arrays nested ~1000 deep, only ever in a hostile file (issue 9).
    except (ValueError, RecursionError) as exc:
        raise RecordFormatError(f"{source} is not valid JSON ({exc})", FIX) from None
    if not isinstance(raw, dict):
        raise RecordFormatError(f"{source} is not a JSON object", FIX)
    return from_json(raw, source=source)


def from_json(raw: Mapping[str, Any], *, source: str) -> EnvironmentSnapshot:
    """Check and convert a snapshot's JSON object; RecordFormatError says what is wrong."""
    if raw.get("schema") != SCHEMA_VERSION:
        raise RecordFormatError(
            f"{source} has environment-snapshot schema {repr(raw.get('schema'))[:40]}; "
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
