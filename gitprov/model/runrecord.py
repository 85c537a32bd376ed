"""Run records ``.gitprov/runs/<run-id>.json``: what a ``gitprov run`` did, committed.

A run record is the authoritative answer to "what produced this checkpoint": the command,
the code state it ran on, its parameters and seeds, the digests it read and wrote, and the
environment snapshot it ran in. It is written once, in one canonical form (sorted keys,
two-space indent, UTF-8, final newline), so two runs that did the same thing produce
records that differ only in their id, times and user, and a diff in review is readable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model import input_limits

SCHEMA_VERSION = 1
RUNS_DIR = ".gitprov/runs"
RUN_PREFIX = "run:"  # how pointers and notes name a run: produced_by = "run:<ULID>"
TRAILER = "Gitprov-Run"  # the commit trailer that names the run a commit records


class RecordFormatError(GitprovError):
    """A run record (or another committed gitprov record) that cannot be read."""


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact a run read or wrote, by content: ``path`` is relative to the work tree."""

    path: str
    kind: str  # checkpoint | dataset | artifact
    digest: str  # sha256:...; for a dataset the Merkle root (its snapshot ID)

    def to_json(self) -> dict[str, str]:
        return {"digest": self.digest, "kind": self.kind, "path": self.path}


@dataclass(frozen=True)
class RunRecord:
    """One run. Times are RFC 3339 UTC; seeds and parameter values are strings, always."""

    id: str  # a ULID, without the "run:" prefix
    argv: tuple[str, ...]
    cwd: str  # relative to the work tree top ("." for the top)
    started_at: str
    ended_at: str
    exit_code: int
    head: str | None  # the commit checked out when the run started (None: no commits yet)
    dirty: bool
    diff_digest: str | None  # sha256 of `git diff HEAD` when dirty (--allow-dirty)
    params: Mapping[str, str] = field(default_factory=dict)
    seeds: tuple[str, ...] = ()
    inputs: tuple[ArtifactRef, ...] = ()
    outputs: tuple[ArtifactRef, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)  # file path -> its JSON
    env: str | None = None  # the environment snapshot's digest
    user: str = ""
    message: str = ""

    @property
    def ref(self) -> str:
        """How pointers and notes name this run: ``run:<id>``."""
        return RUN_PREFIX + self.id

    @property
    def path(self) -> str:
        """The record's path in the repository."""
        return record_path(self.id)

    def to_json(self) -> dict[str, Any]:
        return {
            "argv": list(self.argv),
            "code": {"diff_digest": self.diff_digest, "dirty": self.dirty, "head": self.head},
            "cwd": self.cwd,
            "ended_at": self.ended_at,
            "env": self.env,
            "exit_code": self.exit_code,
            "id": self.id,
            "inputs": [ref.to_json() for ref in self.inputs],
            "message": self.message,
            "metrics": dict(self.metrics),
            "outputs": [ref.to_json() for ref in self.outputs],
            "params": dict(self.params),
            "schema": SCHEMA_VERSION,
            "seeds": list(self.seeds),
            "started_at": self.started_at,
            "user": self.user,
        }


def record_path(run_id: str) -> str:
    return f"{RUNS_DIR}/{run_id}.json"


def run_id_of(ref: str) -> str:
    """``01J...`` from ``run:01J...`` or ``01J...``."""
    return ref.removeprefix(RUN_PREFIX)


def dumps(record: RunRecord) -> bytes:
    """The canonical bytes of ``record``."""
    text = json.dumps(
        record.to_json(), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False
    )
    return (text + "\n").encode("utf-8")


def _want(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RecordFormatError(
            f"{source}: field {key!r} is missing or not a {_kind_name(kind)}",
            "Restore the file from git history (run records are written by gitprov and "
            "should not be edited)",
        )
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "string", int: "number", list: "list", dict: "table", bool: "boolean"}
    return " or ".join(names.get(k, k.__name__) for k in kinds if k is not type(None)) or "null"


def _refs(items: list[Any], key: str, source: str) -> tuple[ArtifactRef, ...]:
    refs: list[ArtifactRef] = []
    for item in items:
        if not isinstance(item, dict):
            raise RecordFormatError(
                f"{source}: an entry of {key!r} is not a table",
                "Restore the file from git history",
            )
        digest = _want(item, "digest", str, source)
        if not digests.is_digest(digest):
            raise RecordFormatError(
                f"{source}: {key!r} has a malformed digest {digest[:80]!r}",
                "Restore the file from git history",
            )
        refs.append(
            ArtifactRef(_want(item, "path", str, source), _want(item, "kind", str, source), digest)
        )
    return tuple(refs)


def loads(data: bytes | str, *, source: str) -> RunRecord:
    """Parse a run record; ``source`` (a path, or ``path@commit``) names it in errors."""
    problem = input_limits.size_problem(len(data), input_limits.MAX_RECORD_BYTES)
    if problem is not None:
        raise RecordFormatError(f"{source} {problem}", "Restore the file from git history")
    try:
        raw = json.loads(data)
    # RecursionError: arrays nested ~1000 deep, only ever in a hostile file (issue 9).
    except (ValueError, RecursionError) as exc:
        raise RecordFormatError(
            f"{source} is not valid JSON ({exc})", "Restore the file from git history"
        ) from None
    if not isinstance(raw, dict):
        raise RecordFormatError(f"{source} is not a JSON object", "Restore it from git history")
    schema = raw.get("schema")
    if schema != SCHEMA_VERSION:
        raise RecordFormatError(
            f"{source} has run-record schema {repr(schema)[:40]}; "
            f"this gitprov reads {SCHEMA_VERSION}",
            "Upgrade gitprov (pip install -U gitprov)",
        )
    code = _want(raw, "code", dict, source)
    params = _want(raw, "params", dict, source)
    seeds = _want(raw, "seeds", list, source)
    if not all(isinstance(v, str) for v in [*params.values(), *seeds]):
        raise RecordFormatError(
            f"{source}: parameter values and seeds must be strings",
            "Restore the file from git history",
        )
    argv = _want(raw, "argv", list, source)
    env = raw.get("env")
    return RunRecord(
        id=_want(raw, "id", str, source),
        argv=tuple(str(a) for a in argv),
        cwd=_want(raw, "cwd", str, source),
        started_at=_want(raw, "started_at", str, source),
        ended_at=_want(raw, "ended_at", str, source),
        exit_code=_want(raw, "exit_code", int, source),
        head=code.get("head") if isinstance(code.get("head"), str) else None,
        dirty=bool(code.get("dirty")),
        diff_digest=code.get("diff_digest") if isinstance(code.get("diff_digest"), str) else None,
        params=dict(params),
        seeds=tuple(seeds),
        inputs=_refs(_want(raw, "inputs", list, source), "inputs", source),
        outputs=_refs(_want(raw, "outputs", list, source), "outputs", source),
        metrics=dict(_want(raw, "metrics", dict, source)),
        env=env if isinstance(env, str) else None,
        user=str(raw.get("user", "")),
        message=str(raw.get("message", "")),
    )
