"""DVC's ``dvc.lock``, read as plain YAML (no dvc import): pipeline stages as lineage.

Each stage DVC ran is a run: its ``cmd``, the ``deps`` it read and the ``outs`` it wrote,
each with the ``md5`` DVC recorded (``<hex>.dir`` for a folder), plus its ``params``.
Both the current format (``schema: '2.0'``, stages under ``stages:``) and DVC 1's
(stages at the top level) are read. Paths are relative to the ``dvc.lock``'s folder and
are returned relative to the repository top.
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitprov.model import input_limits

MD5_PREFIX = "md5:"
LOCK_NAME = "dvc.lock"

# libyaml's loader is ~10x faster; the pure-Python one reads the same documents.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class DvcRef:
    """A file or folder a stage read or wrote, by DVC's md5."""

    path: str  # relative to the repository top
    md5: str  # hex, without DVC's ".dir" suffix
    is_dir: bool
    size: int | None = None

    @property
    def artifact_id(self) -> str:
        """How the lineage graph names this content: ``md5:<hex>``."""
        return MD5_PREFIX + self.md5


@dataclass(frozen=True)
class DvcStage:
    """One stage of a ``dvc.lock``."""

    name: str  # e.g. "train", or "train@small" for a foreach stage
    command: str  # as DVC shows it (several commands joined with " && ")
    deps: tuple[DvcRef, ...] = ()
    outs: tuple[DvcRef, ...] = ()
    params: dict[str, str] = field(default_factory=dict)

    @property
    def argv(self) -> tuple[str, ...]:
        """The command split as a shell would (one element when it cannot be split)."""
        try:
            return tuple(shlex.split(self.command))
        except ValueError:
            return (self.command,)

    def key(self) -> tuple[object, ...]:
        """What makes two lock entries the same run (a stage unchanged across commits)."""
        return (self.name, self.command, self.deps, self.outs, tuple(sorted(self.params.items())))


def _refs(items: object, base: str) -> tuple[DvcRef, ...]:
    refs = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        path, md5 = item.get("path"), item.get("md5")
        if not isinstance(path, str) or not isinstance(md5, str) or not md5:
            continue  # cloud-versioned or hash-less entries carry no md5 to link by
        full = posixpath.normpath(posixpath.join(base, path))
        if full == ".." or full.startswith(("../", "/")):
            continue  # outside the repository
        size = item.get("size")
        refs.append(
            DvcRef(
                path=full,
                md5=md5.removesuffix(".dir"),
                is_dir=md5.endswith(".dir"),
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            )
        )
    return tuple(refs)


def _params(value: object) -> dict[str, str]:
    """``{file: {key: value}}`` flattened: ``key`` for params.yaml, ``file:key`` otherwise."""
    flat: dict[str, str] = {}
    for file, entries in value.items() if isinstance(value, dict) else []:
        if not isinstance(entries, dict):
            continue
        for key, item in entries.items():
            name = str(key) if file == "params.yaml" else f"{file}:{key}"
            flat[name] = item if isinstance(item, str) else yaml.safe_dump(item).strip()
    return flat


def _command(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return " && ".join(value)
    return None


def parse(text: str, *, lock_path: str = LOCK_NAME) -> list[DvcStage]:
    """The stages of a ``dvc.lock`` at ``lock_path`` (relative to the repository top).

    Raises ValueError with a readable reason when the text is not YAML. Entries that are
    not stages (no ``cmd``) are skipped.

    >>> lock = "schema: '2.0'\\nstages:\\n  train:\\n    cmd: python t.py\\n    outs:\\n"
    >>> lock += "    - path: m.pkl\\n      md5: 0a1b\\n"
    >>> [(s.name, s.outs[0].artifact_id) for s in parse(lock)]
    [('train', 'md5:0a1b')]
    """
    # libyaml's C composer recurses without a limit: ~30,000 nested '[' crash the whole
    # process (SIGSEGV), so depth is checked first, on the iterative event stream.
    if input_limits.yaml_depth(text) > input_limits.MAX_YAML_DEPTH:
        raise ValueError(f"nested more than {input_limits.MAX_YAML_DEPTH} levels deep")
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader (C or Python)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from None
    # Aliases are shared by the loader but expanded by safe_dump in _params: refuse a
    # "billion laughs" lock before walking it.
    if input_limits.too_many_nodes(data):
        raise ValueError(f"expands to more than {input_limits.MAX_YAML_NODES:,} values (aliases)")
    if not isinstance(data, dict):
        return []
    stages = data.get("stages") if "schema" in data else data
    base = posixpath.dirname(lock_path)
    result = []
    for name, body in stages.items() if isinstance(stages, dict) else []:
        if not isinstance(body, dict):
            continue
        command = _command(body.get("cmd"))
        if command is None:
            continue
        result.append(
            DvcStage(
                name=str(name),
                command=command,
                deps=_refs(body.get("deps"), base),
                outs=_refs(body.get("outs"), base),
                params=_params(body.get("params")),
            )
        )
    return result
