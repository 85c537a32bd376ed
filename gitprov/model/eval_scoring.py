"""Scoring a parsed scores file: every metric's estimate, overall and per slice."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gitprov.errors import UsageError
from gitprov.model import eval_stats
from gitprov.model.eval_stats import Estimate
from gitprov.model.scores import ScoresError, ScoreTable

MAX_SLICES = 200  # distinct slice values one record holds (it is one note line)


def _estimate(
    name: str, values: Sequence[float], *, level: float, resamples: int, seed: int
) -> Estimate:
    try:
        found = eval_stats.estimate(values, level=level, resamples=resamples, seed=seed)
    except OverflowError:  # math.fsum of values near the float maximum
        found = None
    ends = (found.value, found.ci_low or 0.0, found.ci_high or 0.0) if found else (math.inf,)
    if found is None or not all(math.isfinite(x) for x in ends):
        raise ScoresError(
            f"the values of '{name}' are too large to average (they overflow a float)",
            "Rescale the metric (e.g. divide by 1e6) before recording it",
        )
    return found


def score_table(
    table: ScoreTable,
    *,
    level: float = eval_stats.DEFAULT_LEVEL,
    resamples: int = eval_stats.DEFAULT_RESAMPLES,
    seed: int = eval_stats.DEFAULT_SEED,
) -> tuple[dict[str, Estimate], dict[str, dict[str, Estimate]]]:
    """``(overall, per slice)``: each metric's mean with its interval (Wilson for 0/1
    values, the seeded percentile bootstrap otherwise); slices in sorted order."""

    def est(name: str, values: Sequence[float]) -> Estimate:
        return _estimate(name, values, level=level, resamples=resamples, seed=seed)

    overall = {name: est(name, values) for name, values in table.metrics.items()}
    per_slice: dict[str, dict[str, Estimate]] = {}
    if table.slices is None:
        return overall, per_slice
    groups: dict[str, list[int]] = {}
    for i, label in enumerate(table.slices):
        groups.setdefault(label, []).append(i)
    if len(groups) > MAX_SLICES:
        raise UsageError(
            f"the slice column '{table.slice_column}' has {len(groups)} distinct values "
            f"(at most {MAX_SLICES})",
            "Slice by a coarser column (language, source, length bucket)",
        )
    for label in sorted(groups):
        rows = groups[label]
        per_slice[label] = {
            name: est(name, [values[i] for i in rows]) for name, values in table.metrics.items()
        }
    return overall, per_slice
