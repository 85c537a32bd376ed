"""Comparing a rerun with its run record: outputs, metrics, environments (pure functions).

A number reproduces when ``abs(now - recorded) <= max(abs_tol, rel_tol * abs(recorded))``:
an absolute floor for metrics near zero, a relative bound for the rest. NaN is never
within a tolerance. Other JSON values (strings, booleans, null, empty containers) must
be equal and of the same type; a boolean is not a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

OutputStatus = Literal["identical", "different", "missing"]
MetricStatus = Literal["identical", "within", "outside", "equal", "different", "missing", "added"]
_METRIC_OK = frozenset({"identical", "within", "equal", "added"})


@dataclass(frozen=True)
class Tolerance:
    """How far a numeric metric may move: ``max(abs, rel * abs(recorded))``."""

    abs: float = 0.0
    rel: float = 0.0

    def allowed(self, recorded: float) -> float:
        return max(self.abs, self.rel * abs(recorded))


@dataclass(frozen=True)
class OutputResult:
    path: str
    kind: str
    status: OutputStatus
    recorded: str
    now: str | None  # None: the rerun did not write it


@dataclass(frozen=True)
class MetricResult:
    file: str
    key: str  # a.b[0].c inside the file; "" when the file holds a single value
    status: MetricStatus
    recorded: Any  # JSON values; None for an added or a missing side
    now: Any
    allowed: float | None = None  # the deviation allowed (numbers only)

    @property
    def ok(self) -> bool:
        return self.status in _METRIC_OK


@dataclass(frozen=True)
class EnvComparison:
    recorded: str
    now: str | None  # None: could not be captured (see changes)
    changes: tuple[str, ...] = ()

    @property
    def same(self) -> bool:
        return self.now == self.recorded


def is_number(value: object) -> bool:
    """A JSON number: an int or a float, and not a boolean (``True == 1`` in Python)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a JSON value by path: ``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}``."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, child in enumerate(value):
            out.update(flatten(child, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def compare_value(file: str, key: str, old: Any, new: Any, tol: Tolerance) -> MetricResult:
    """One leaf: numbers within the tolerance, anything else equal (same JSON type)."""
    if is_number(old) and is_number(new):
        allowed = tol.allowed(old)
        if old == new:
            return MetricResult(file, key, "identical", old, new, allowed)
        close = math.isfinite(old) and math.isfinite(new) and abs(new - old) <= allowed
        return MetricResult(file, key, "within" if close else "outside", old, new, allowed)
    same = type(old) is type(new) and old == new
    return MetricResult(file, key, "equal" if same else "different", old, new)


def compare_metrics(file: str, recorded: Any, now: Any, tol: Tolerance) -> list[MetricResult]:
    """Every recorded leaf (``missing`` when the rerun lacks it), then new leaves
    (``added``: reported, not a failure, since they contradict nothing recorded)."""
    old, new = flatten(recorded), flatten(now) if now is not None else {}
    results = [
        compare_value(file, key, value, new[key], tol)
        if key in new
        else MetricResult(file, key, "missing", value, None)
        for key, value in old.items()
    ]
    results += [MetricResult(file, k, "added", None, v) for k, v in new.items() if k not in old]
    return results


def env_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    """What differs between two environment snapshots, packages by name."""

    def packages(snap: Mapping[str, Any]) -> dict[str, str]:
        found = (str(p).partition("==") for p in snap.get("packages", []))
        return {name: version for name, _, version in found}

    changes: list[str] = []
    flat_old = flatten({k: v for k, v in old.items() if k != "packages"})
    flat_new = flatten({k: v for k, v in new.items() if k != "packages"})
    for key in sorted(set(flat_old) | set(flat_new)):
        if flat_old.get(key) != flat_new.get(key):
            was_value, now_value = flat_old.get(key, "(unset)"), flat_new.get(key, "(unset)")
            changes.append(f"{key}: {was_value} -> {now_value}")
    was, now = packages(old), packages(new)
    for name in sorted(set(was) | set(now)):
        if name not in now:
            changes.append(f"-{name}=={was[name]}")
        elif name not in was:
            changes.append(f"+{name}=={now[name]}")
        elif was[name] != now[name]:
            changes.append(f"{name} {was[name]} -> {now[name]}")
    return tuple(changes)
