"""Metric values of a checkpoint at a commit, for the review's base-vs-head table.

Where a value comes from: the checkpoint's model card (``model-index``, intervals in each
metric's ``args``), else the run that produced it (its metrics files, ``*_ci_low``/
``*_ci_high`` as intervals); evaluation records (``gitprov eval``, notes) of that exact
digest are added on top, the latest per dataset snapshot, split and metric, and win over
the card's row for the same measurement (``review_cards.dataset_label`` names both alike).
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitprov.adapters.history import History
from gitprov.errors import GitprovError
from gitprov.model import card as cards
from gitprov.model import runrecord
from gitprov.model.eval_record import EvalRecord
from gitprov.model.review_report import Interval, MetricDelta
from gitprov.services.review_artifacts import read_pointer
from gitprov.services.review_cards import dataset_label, metric_rows, parsed_front

Key = tuple[str, str]  # (dataset, metric)


@dataclass(frozen=True)
class Value:
    value: float
    ci: Interval | None
    source: str


def number(value: Any) -> float | None:
    """``value`` as a finite float; None for placeholders, text, booleans and NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    as_float = float(value)
    return as_float if math.isfinite(as_float) else None


def interval(low: Any, high: Any) -> Interval | None:
    lo, hi = number(low), number(high)
    if lo is None or hi is None:
        return None
    return Interval(min(lo, hi), max(lo, hi))


SAMPLE_SIZE_KEYS = ("n", "sample_size", "samples", "num_samples")


def is_sample_size(name: str) -> bool:
    """Whether a metrics-file key is a sample size (``n``, ``acc_n``): not a metric."""
    leaf = name.rsplit(".", 1)[-1]
    return leaf in SAMPLE_SIZE_KEYS or leaf.endswith("_n")


def card_path(pointer_path: str, card: str | None) -> str:
    """Where a checkpoint's card is: the pointer's ``card``, else ``<stem>.card.md``."""
    folder = posixpath.dirname(pointer_path)
    if card:
        return posixpath.join(folder, card)
    name = posixpath.basename(pointer_path)[: -len(".gitprov")]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return posixpath.join(folder, stem + cards.SUFFIX)


def from_card(text: str, source: str) -> dict[Key, Value]:
    del source  # the text is enough: an unparsable card gives no metrics
    front = parsed_front(text)
    if front is None:
        return {}
    out: dict[Key, Value] = {}
    for dataset, metric, value, low, high in metric_rows(front):
        as_number = number(value)
        if as_number is not None:
            out[(dataset, metric)] = Value(as_number, interval(low, high), "card")
    return out


def from_run(history: History, commit: str, produced_by: str | None) -> dict[Key, Value]:
    if not produced_by or not produced_by.startswith(runrecord.RUN_PREFIX):
        return {}
    path = runrecord.record_path(runrecord.run_id_of(produced_by))
    data = history.blob_at(commit, path)
    if data is None:
        return {}
    try:
        record = runrecord.loads(data, source=path)
    except GitprovError:
        return {}
    out: dict[Key, Value] = {}
    for row in cards.metric_rows(record.metrics):
        if is_sample_size(row["name"]):
            continue
        as_number = number(row["value"])
        if as_number is not None:
            ci = interval(row["args"]["ci_low"], row["args"]["ci_high"])
            out[("", row["name"])] = Value(as_number, ci, "run")
    return out


def metrics_at(history: History, commit: str, pointer_path: str) -> dict[Key, Value]:
    """The metrics of the checkpoint version ``pointer_path`` names at ``commit``."""
    entry = history.entry_at(commit, pointer_path)
    ptr = read_pointer(history, entry[0] if entry and entry[1] == "blob" else None, pointer_path)
    card = history.blob_at(commit, card_path(pointer_path, ptr.card if ptr else None))
    if card is not None:
        found = from_card(card.decode("utf-8", errors="replace"), pointer_path)
        if found:
            return found
    return from_run(history, commit, ptr.produced_by if ptr else None)


def from_evals(records: Sequence[EvalRecord]) -> dict[Key, Value]:
    """The latest evaluation per (dataset snapshot and split, metric); records oldest
    first. The snapshot is part of the label: values measured on different data are not
    a change of the model, so they are not put side by side."""
    out: dict[Key, Value] = {}
    for record in records:
        label = dataset_label(
            record.dataset or record.snapshot_id, record.split, record.snapshot_id
        )
        for name, estimate in record.metrics.items():
            value = number(estimate.value)
            if value is not None:
                ci = interval(estimate.ci_low, estimate.ci_high)
                out[(label, name)] = Value(value, ci, "eval")
    return out


def deltas(checkpoint: str, base: dict[Key, Value], head: dict[Key, Value]) -> list[MetricDelta]:
    """One row per (dataset, metric) on either side, in a stable order; unchanged values
    with unchanged intervals are kept too: "no change" is worth seeing for a new model."""
    rows = []
    for key in sorted(base.keys() | head.keys()):
        b, h = base.get(key), head.get(key)
        either = h or b
        rows.append(
            MetricDelta(
                checkpoint=checkpoint,
                dataset=key[0],
                metric=key[1],
                base=b.value if b else None,
                head=h.value if h else None,
                base_ci=b.ci if b else None,
                head_ci=h.ci if h else None,
                source=either.source if either else "",
            )
        )
    return rows
