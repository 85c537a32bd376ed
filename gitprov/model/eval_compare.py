"""Comparing two evaluations metric by metric: the delta and whether it is significant.

The method is chosen per metric and always reported:

- ``paired-bootstrap`` when both evaluations kept per-example scores with example ids,
  on the same dataset snapshot and split: the interval of the mean per-example
  difference over the examples both scored; significant when it excludes 0;
- ``interval-overlap`` otherwise, when both values have an interval: significant when
  the two intervals do not overlap (conservative: it can miss a real difference);
- ``none`` when either value has no interval: significance is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitprov.model import eval_stats
from gitprov.model.eval_record import EvalRecord
from gitprov.model.eval_stats import Estimate, PairedDifference
from gitprov.model.scores import ScoreTable


@dataclass(frozen=True)
class MetricComparison:
    """One metric of A and B. ``delta`` is B minus A; ``significant`` is None when it
    cannot be told; ``paired`` holds the paired bootstrap when it was used."""

    metric: str
    a: Estimate
    b: Estimate
    delta: float
    method: str
    significant: bool | None
    why: str  # the reason for the method, in words
    paired: PairedDifference | None = None


@dataclass(frozen=True)
class Comparison:
    """Two evaluations compared; ``only_a``/``only_b``: metrics the other lacks."""

    a: EvalRecord
    b: EvalRecord
    metrics: tuple[MetricComparison, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def pairing_problem(a: EvalRecord, b: EvalRecord) -> str | None:
    """Why per-example pairing is impossible for these records, or None if it may work."""
    if a.dataset_snapshot != b.dataset_snapshot or a.split != b.split:
        return "the evaluations used different dataset snapshots or splits"
    if a.scores is None or b.scores is None:
        return "per-example scores were not recorded for both (--metrics files)"
    if not (a.scores.ids and b.scores.ids):
        return "the scores files have no 'id' column to pair examples by"
    return None


def _overlap(name: str, a: Estimate, b: Estimate, why: str) -> MetricComparison:
    delta = b.value - a.value
    if None in (a.ci_low, a.ci_high, b.ci_low, b.ci_high):
        return MetricComparison(
            name, a, b, delta, eval_stats.NO_CI, None, f"{why}; and a value has no interval"
        )
    overlap = eval_stats.intervals_overlap(
        (a.ci_low or 0.0, a.ci_high or 0.0), (b.ci_low or 0.0, b.ci_high or 0.0)
    )
    return MetricComparison(name, a, b, delta, eval_stats.OVERLAP, not overlap, why)


def _paired_values(
    name: str, table_a: ScoreTable, table_b: ScoreTable
) -> tuple[list[float], list[float]] | None:
    if name not in table_a.metrics or name not in table_b.metrics:
        return None
    if table_a.ids is None or table_b.ids is None:
        return None
    b_by_id = dict(zip(table_b.ids, table_b.metrics[name], strict=True))
    xs, ys = [], []
    for example, value in zip(table_a.ids, table_a.metrics[name], strict=True):
        other = b_by_id.get(example)
        if other is not None:
            xs.append(value)
            ys.append(other)
    return xs, ys


def compare(
    a: EvalRecord,
    b: EvalRecord,
    *,
    tables: tuple[ScoreTable, ScoreTable] | None = None,
    unavailable: str | None = None,
    level: float = eval_stats.DEFAULT_LEVEL,
    resamples: int = eval_stats.DEFAULT_RESAMPLES,
    seed: int = eval_stats.DEFAULT_SEED,
) -> Comparison:
    """Compare every metric both records have. ``tables`` are their per-example scores
    when both could be read (then the paired bootstrap is used where examples are
    shared); ``unavailable`` says why not, for the report."""
    why = unavailable or pairing_problem(a, b) or "per-example scores could not be read"
    results = []
    for name in [m for m in a.metrics if m in b.metrics]:
        pairs = _paired_values(name, *tables) if tables is not None else None
        if pairs is None or len(pairs[0]) < 2:
            reason = why if pairs is None else "fewer than 2 examples are shared"
            results.append(_overlap(name, a.metrics[name], b.metrics[name], reason))
            continue
        diff = eval_stats.paired_bootstrap(
            pairs[0], pairs[1], level=level, resamples=resamples, seed=seed
        )
        shared = f"{diff.n} examples scored by both"
        if diff.n < max(a.metrics[name].n or 0, b.metrics[name].n or 0):
            shared += " (fewer than either evaluation scored: delta and interval are theirs)"
        results.append(
            MetricComparison(
                name,
                a.metrics[name],
                b.metrics[name],
                # The paired delta, over the shared examples: the interval and the verdict
                # are about it, and the two overall values may cover other examples.
                diff.delta,
                eval_stats.PAIRED,
                diff.significant,
                shared,
                diff,
            )
        )
    warnings = []
    if (a.dataset_snapshot, a.split) != (b.dataset_snapshot, b.split):
        warnings.append(
            f"A and B were evaluated on different data ({_data(a)} and {_data(b)}): the "
            "delta mixes the models' difference with the data's"
        )
    return Comparison(
        a,
        b,
        tuple(results),
        tuple(m for m in a.metrics if m not in b.metrics),
        tuple(m for m in b.metrics if m not in a.metrics),
        tuple(warnings),
    )


def _data(rec: EvalRecord) -> str:
    return rec.snapshot_id + (f"/{rec.split}" if rec.split else "")
