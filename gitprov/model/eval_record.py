"""The ``eval`` note record: one evaluation of one checkpoint on one dataset split.

Evaluations are post-hoc facts (DESIGN §3): a note line on the commit that holds the
checkpoint, appended, never rewritten. Its fields::

    checkpoint  {"path": "models/m.pt", "digest": "sha256:..."}
    dataset     {"path": "data/test", "snapshot": "sha256:...", "split": "test"}
    metrics     {"accuracy": {"value", "ci_low", "ci_high", "ci_level", "method", "n",
                              "seed", "resamples"}, ...}
    slices      {"column": "lang", "values": {"en": {<metrics as above>}, ...}}  (optional)
    scores      {"digest": "sha256:...", "path": "eval/scores.jsonl", "format": "jsonl",
                 "ids": true}  (per-example scores, kept in the local object cache)
    code        {"commit": "<HEAD>", "dirty": false, "diff_digest": null}
    by          the evaluation command, as text ("" when not given)
    env         an environment snapshot id (sha256:...) or null
    who         "Name <email>"
    schema      1

Reading is tolerant (a foreign or damaged line is skipped by the caller), writing is
strict: ``to_fields`` refuses NaN, which canonical JSON cannot hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitprov.model import digest as digests
from gitprov.model.eval_stats import Estimate

TYPE = "eval"
SCHEMA = 1


class EvalRecordError(ValueError):
    """A note line of type ``eval`` that does not have the fields this version reads."""


@dataclass(frozen=True)
class ScoresRef:
    """Where the per-example scores of an evaluation are: a digest in the object cache."""

    digest: str
    path: str
    format: str
    ids: bool  # the file has an id column, so it can be paired with another evaluation


@dataclass(frozen=True)
class EvalRecord:
    """One evaluation, as recorded. ``commit`` is the commit whose note holds it (the
    commit that set the checkpoint's pointer to ``digest``)."""

    id: str
    at: str
    commit: str
    checkpoint: str  # the checkpoint's path when it was evaluated
    digest: str  # the checkpoint's digest
    dataset: str  # the dataset's path ("" when named by snapshot only)
    dataset_snapshot: str  # the dataset's digest (sha256:...)
    split: str
    metrics: dict[str, Estimate]
    slice_column: str | None = None
    slices: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    scores: ScoresRef | None = None
    code_commit: str | None = None
    code_dirty: bool = False
    diff_digest: str | None = None
    by: str = ""
    env: str | None = None
    who: str = ""

    @property
    def snapshot_id(self) -> str:
        """The dataset snapshot shown short: ``ds:<12 hex>``."""
        if digests.is_digest(self.dataset_snapshot):
            return digests.snapshot_id(self.dataset_snapshot)
        return self.dataset_snapshot


def _estimate_fields(e: Estimate) -> dict[str, Any]:
    return {
        "value": e.value,
        "ci_low": e.ci_low,
        "ci_high": e.ci_high,
        "ci_level": e.ci_level,
        "method": e.method,
        "n": e.n,
        "seed": e.seed,
        "resamples": e.resamples,
    }


def to_fields(
    *,
    checkpoint: str,
    digest: str,
    dataset: str,
    dataset_snapshot: str,
    split: str,
    metrics: Mapping[str, Estimate],
    slice_column: str | None = None,
    slices: Mapping[str, Mapping[str, Estimate]] | None = None,
    scores: ScoresRef | None = None,
    code_commit: str | None,
    code_dirty: bool = False,
    diff_digest: str | None = None,
    by: str = "",
    env: str | None = None,
    who: str = "",
) -> dict[str, object]:
    """The fields of an ``eval`` record, for ``notes.make_record(TYPE, fields)``."""
    fields: dict[str, object] = {
        "schema": SCHEMA,
        "checkpoint": {"path": checkpoint, "digest": digest},
        "dataset": {"path": dataset, "snapshot": dataset_snapshot, "split": split},
        "metrics": {name: _estimate_fields(e) for name, e in metrics.items()},
        "code": {"commit": code_commit, "dirty": code_dirty, "diff_digest": diff_digest},
        "by": by,
        "env": env,
        "who": who,
    }
    if slice_column and slices:
        fields["slices"] = {
            "column": slice_column,
            "values": {
                label: {name: _estimate_fields(e) for name, e in per.items()}
                for label, per in slices.items()
            },
        }
    if scores is not None:
        fields["scores"] = {
            "digest": scores.digest,
            "path": scores.path,
            "format": scores.format,
            "ids": scores.ids,
        }
    return fields


def _obj(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EvalRecordError(f"{what} is not an object")
    return value


def _text(value: object, what: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise EvalRecordError(f"{what} is not text")
    return value


def _num(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvalRecordError(f"{what} is not a number")
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits in a hostile note (issue 9)
        raise EvalRecordError(f"{what} is out of range") from None


def _int(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise EvalRecordError(f"{what} is not an integer")
    return value


def _estimate(raw: object, what: str) -> Estimate:
    data = _obj(raw, what)
    value = _num(data.get("value"), f"{what}.value")
    if value is None:
        raise EvalRecordError(f"{what} has no value")
    return Estimate(
        value=value,
        ci_low=_num(data.get("ci_low"), f"{what}.ci_low"),
        ci_high=_num(data.get("ci_high"), f"{what}.ci_high"),
        ci_level=_num(data.get("ci_level"), f"{what}.ci_level"),
        method=_text(data.get("method"), f"{what}.method"),
        n=_int(data.get("n"), f"{what}.n"),
        seed=_int(data.get("seed"), f"{what}.seed"),
        resamples=_int(data.get("resamples"), f"{what}.resamples"),
    )


def _metrics(raw: object, what: str) -> dict[str, Estimate]:
    return {str(k): _estimate(v, f"{what}.{k}") for k, v in _obj(raw, what).items()}


def from_record(record: Mapping[str, object], commit: str) -> EvalRecord:
    """The ``EvalRecord`` of one parsed note line (EvalRecordError when malformed)."""
    if record.get("type") != TYPE:
        raise EvalRecordError("not an eval record")
    checkpoint = _obj(record.get("checkpoint"), "checkpoint")
    dataset = _obj(record.get("dataset"), "dataset")
    code = _obj(record.get("code") or {}, "code")
    slices_raw = record.get("slices")
    slice_column: str | None = None
    slices: dict[str, dict[str, Estimate]] = {}
    if slices_raw is not None:
        data = _obj(slices_raw, "slices")
        slice_column = _text(data.get("column"), "slices.column")
        slices = {
            str(label): _metrics(per, f"slices.{label}")
            for label, per in _obj(data.get("values"), "slices.values").items()
        }
    scores_raw = record.get("scores")
    scores = None
    if scores_raw is not None:
        data = _obj(scores_raw, "scores")
        scores = ScoresRef(
            digest=_text(data.get("digest"), "scores.digest"),
            path=_text(data.get("path"), "scores.path", optional=True),
            format=_text(data.get("format"), "scores.format"),
            ids=data.get("ids") is True,
        )
    env = record.get("env")
    return EvalRecord(
        id=_text(record.get("id"), "id"),
        at=_text(record.get("at"), "at"),
        commit=commit,
        checkpoint=_text(checkpoint.get("path"), "checkpoint.path", optional=True),
        digest=_text(checkpoint.get("digest"), "checkpoint.digest"),
        dataset=_text(dataset.get("path"), "dataset.path", optional=True),
        dataset_snapshot=_text(dataset.get("snapshot"), "dataset.snapshot"),
        split=_text(dataset.get("split"), "dataset.split", optional=True),
        metrics=_metrics(record.get("metrics"), "metrics"),
        slice_column=slice_column,
        slices=slices,
        scores=scores,
        code_commit=_text(code.get("commit"), "code.commit", optional=True) or None,
        code_dirty=code.get("dirty") is True,
        diff_digest=_text(code.get("diff_digest"), "code.diff_digest", optional=True) or None,
        by=_text(record.get("by"), "by", optional=True),
        env=env if isinstance(env, str) and env else None,
        who=_text(record.get("who"), "who", optional=True),
    )


def format_estimate(e: Estimate, *, digits: int = 4) -> str:
    """``0.8120 [0.7880, 0.8340] 95% wilson n=1000``, or ``0.8120 (no CI)``."""
    text = f"{e.value:.{digits}f}"
    if e.ci_low is not None and e.ci_high is not None:
        level = f" {e.ci_level * 100:g}%" if e.ci_level is not None else ""
        text += f" [{e.ci_low:.{digits}f}, {e.ci_high:.{digits}f}]{level} {e.method}"
    else:
        text += " (no CI)"
    return text + (f" n={e.n}" if e.n is not None else "")


def model_index_metrics(rec: EvalRecord) -> list[dict[str, object]]:
    """The record's metrics as Hugging Face ``model-index`` metric entries, the interval in
    ``args`` (what the model card writes under ``results: - metrics:``)::

        {"type": "accuracy", "name": "accuracy", "value": 0.81,
         "args": {"ci_low": 0.78, "ci_high": 0.83, "ci_level": 0.95, "method": "wilson",
                  "n": 1000}}
    """
    entries: list[dict[str, object]] = []
    for name, e in rec.metrics.items():
        args: dict[str, object] = {"method": e.method}
        if e.ci_low is not None and e.ci_high is not None:
            args.update(ci_low=e.ci_low, ci_high=e.ci_high, ci_level=e.ci_level)
        if e.n is not None:
            args["n"] = e.n
        if e.seed is not None:
            args.update(seed=e.seed, resamples=e.resamples)
        entries.append({"type": name, "name": name, "value": e.value, "args": args})
    return entries
