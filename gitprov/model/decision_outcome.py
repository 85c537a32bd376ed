"""A decision's outcome: the measured value of each metric it named, against the value before.

Pure: the caller (``services.decision_links``) gives the runs the record links to, every
run of the history with the runs that produced its input checkpoints, and any values
measured by hand (``--metric NAME=VALUE``).

**The baseline rule**, per metric:

- *after* is the value given with ``--metric``, else the value of the latest linked run
  (by start time) that records the metric;
- *before* is the value of the earliest linked run that records it, when that is not the
  run *after* came from; else the nearest run upstream of the *after* run (the run that
  wrote one of its input checkpoints, then that run's producers, and so on) that records
  it: the checkpoint a fine-tuning run started from is what it should beat;
- with neither, there is no baseline: *after* is recorded, with ``baseline = "none"``,
  and neither ``delta`` nor ``met``.

``met`` is true when the metric moved the expected way: ``delta > 0`` for ``increase``,
``delta < 0`` for ``decrease`` (no change is not met).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitprov.model.decision import DecisionError

MANUAL = "manual"  # the source of a value given with --metric


@dataclass(frozen=True)
class RunInfo:
    """What the outcome needs of a run: when it started, its metrics (file -> JSON) and
    the runs that wrote its input checkpoints."""

    id: str
    started_at: str
    metrics: Mapping[str, Any]
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class MetricOutcome:
    name: str
    expect: str  # increase | decrease
    after: float
    after_source: str  # a run id, or "manual"
    before: float | None = None
    before_run: str | None = None

    @property
    def delta(self) -> float | None:
        if self.before is None:
            return None
        return float(f"{self.after - self.before:.12g}")  # no 0.41000000000000003

    @property
    def met(self) -> bool | None:
        delta = self.delta
        if delta is None:
            return None
        return delta > 0 if self.expect == "increase" else delta < 0

    @property
    def runs(self) -> tuple[str, ...]:
        """The run ids the values came from, before first."""
        found = [self.before_run, self.after_source]
        return tuple(r for r in found if r is not None and r != MANUAL)

    def to_toml(self) -> dict[str, Any]:
        """The ``[[outcome.metrics]]`` entry (TOML has no null: absent keys say "none")."""
        entry: dict[str, Any] = {"name": self.name, "expect": self.expect}
        if self.before is not None:
            entry["before"] = self.before
        entry["after"] = self.after
        if self.before is None:
            entry["baseline"] = "none"
        else:
            entry["delta"] = self.delta
            entry["met"] = self.met
        entry["source"] = self.after_source
        if self.before_run is not None:
            entry["baseline_run"] = self.before_run
        entry["runs"] = list(self.runs)
        return entry


def parse_override(text: str) -> tuple[str, float] | None:
    """``acc=0.93`` -> ``("acc", 0.93)``; None when it is not NAME=NUMBER."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return (name.strip(), number) if math.isfinite(number) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _leaves(data: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    else:
        yield path, data


def find_metric(metrics: Mapping[str, Any], name: str, *, source: str) -> float | None:
    """The value of metric ``name`` in a run's metrics (metrics file -> its JSON).

    ``name`` is a dotted path inside a file's JSON (``eval.acc``) or a leaf key (``acc``)
    found once; a leaf found with different values in several places is an error that
    lists them (name the dotted path instead).

    >>> find_metric({"m.json": {"eval": {"acc": 0.9}}}, "acc", source="run X")
    0.9
    """
    for file in sorted(metrics):
        node: Any = metrics[file]
        for part in name.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if (value := _number(node)) is not None:
            return value
    hits: dict[str, float] = {}
    for file in sorted(metrics):
        for path, value in _leaves(metrics[file], ""):
            number = _number(value)
            if number is not None and path.rpartition(".")[2] == name:
                hits[f"{file}:{path}"] = number
    if len(set(hits.values())) > 1:
        raise DecisionError(
            f"metric {name!r} of {source} is ambiguous: {', '.join(sorted(hits))}",
            "Name it by its dotted path in the metrics file, e.g. in the record's 'metrics'",
        )
    return next(iter(hits.values()), None)


def _upstream(runs: Mapping[str, RunInfo], start: str) -> Iterator[RunInfo]:
    """The runs upstream of ``start``, nearest first (breadth first, each once)."""
    seen = {start}
    queue = list(runs[start].parents) if start in runs else []
    while queue:
        ident = queue.pop(0)
        if ident in seen or ident not in runs:
            continue
        seen.add(ident)
        yield runs[ident]
        queue.extend(runs[ident].parents)


def compute(
    expectations: Sequence[tuple[str, str]],
    *,
    linked: Sequence[str],
    runs: Mapping[str, RunInfo],
    overrides: Mapping[str, float],
) -> list[MetricOutcome]:
    """One outcome per expected ``(name, expect)``, by the module's baseline rule.

    ``linked``: the run ids the record links to (all in ``runs``). A metric no linked
    run records and no override gives is an error that says how to supply it.
    """
    ordered = sorted((runs[r] for r in linked), key=lambda r: (r.started_at, r.id))
    outcomes = []
    for name, expect in expectations:
        having = [
            (run, value)
            for run in ordered
            if (value := find_metric(run.metrics, name, source=f"run {run.id}")) is not None
        ]
        if name in overrides:
            after, after_source = overrides[name], MANUAL
        elif having:
            after, after_source = having[-1][1], having[-1][0].id
        else:
            raise DecisionError(
                f"no linked run records metric {name!r}"
                + ("" if linked else " (the decision links no runs)"),
                f"Link the run that measured it ('gitprov decision link ID --run RUN'), "
                f"or give the value: --metric {name}=VALUE",
            )
        before: float | None = None
        before_run: str | None = None
        if having and having[0][0].id != after_source:
            before_run, before = having[0][0].id, having[0][1]
        elif after_source != MANUAL:
            for run in _upstream(runs, after_source):
                value = find_metric(run.metrics, name, source=f"run {run.id}")
                if value is not None:
                    before_run, before = run.id, value
                    break
        outcomes.append(MetricOutcome(name, expect, after, after_source, before, before_run))
    return outcomes


SECTION = "## Planned vs. actually changed"
PLACEHOLDER = "What was planned; what actually changed, and why they differ."


def actual_text(actual: str | None, why: str | None) -> str:
    """The planned-vs-actual paragraph from ``--actual`` and ``--why`` ("" for neither)."""
    parts = []
    if actual and actual.strip():
        parts.append(f"Actually changed: {actual.strip()}")
    if why and why.strip():
        parts.append(f"Why it differs from the plan: {why.strip()}")
    return "\n\n".join(parts)


def add_to_body(body: str, text: str, *, date: str) -> str:
    """``body`` with ``text`` in its "Planned vs. actually changed" section.

    The template's placeholder is replaced; anything else in the section is the team's
    prose and stays as written: ``text`` goes after it, under a line
    ``Outcome recorded on <date>:``. Without the section, it is added at the end. The
    body's line ends (LF or CRLF) are kept.
    """
    if not text:
        return body
    cr = "\r" if "\r\n" in body else ""
    lines = body.split("\n")
    new = text.replace("\r\n", "\n").split("\n")
    heading = next((i for i, line in enumerate(lines) if line.strip() == SECTION), None)
    if heading is None:
        nl = cr + "\n"
        base = body if body.endswith("\n") or not body else body + nl
        return base + nl.join(["", SECTION, "", *new]) + nl
    end = next(
        (
            i
            for i in range(heading + 1, len(lines))
            if lines[i].startswith(("# ", "## ")) and lines[i].strip()
        ),
        len(lines),
    )
    content = [line.rstrip("\r") for line in lines[heading + 1 : end]]
    if "\n".join(content).strip() in (PLACEHOLDER, ""):
        replacement = ["", *new, ""]
    else:
        while content and not content[-1].strip():
            content.pop()
        replacement = [*content, "", f"Outcome recorded on {date}:", "", *new, ""]
    replaced = [line + cr for line in replacement]
    if end == len(lines):  # the last section: what follows the body's last line end
        replaced[-1:] = [""] if body.endswith("\n") else []
    lines[heading + 1 : end] = replaced
    return "\n".join(lines)
