"""The license checks: ``license-valid`` (the card's license) and ``license-compatible``
(the card's license against each training dataset's, per :mod:`gitprov.model.licenses`).

A dataset's license is the ``license`` key of the ``[meta]`` table of its pointer file.
A ``[[waivers]]`` entry with ``check = "license-compatible"`` and ``subject`` = a dataset's
path (or ``"*"``) accepts that dataset's conflict; the other datasets are still checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from gitprov.model import card, licenses
from gitprov.model.checklist import Config, Waiver
from gitprov.model.checks.subject import DatasetInput, Subject, Verdict

CHECK_VALID = "license-valid"
CHECK_COMPATIBLE = "license-compatible"


def _card_license(subject: Subject) -> licenses.License | licenses.Invalid | Verdict:
    """The card's license, why it is invalid, or a skip when there is no card to read."""
    if subject.card_text is None:
        return Verdict("skip", "no model card (card-present reports it)")
    source = subject.card_source or "the card"
    try:
        front, _ = card.parse(subject.card_text, source=source)
    except card.CardError:
        return Verdict("skip", f"{source} does not parse (card-present reports it)")
    return licenses.from_card(front)


def license_valid(subject: Subject, config: Config) -> Verdict:
    """The card's ``license`` is an SPDX expression, a Hub id, or ``other`` with a link."""
    found = _card_license(subject)
    source = subject.card_source or "the card"
    if isinstance(found, Verdict):
        return found
    if isinstance(found, licenses.Invalid):
        return Verdict("fail", f"{source}: {found.problem}", found.fix)
    return Verdict("pass", f"{source}: license {found.describe()}")


@dataclass(frozen=True)
class Conflict:
    """One dataset whose license the model's does not respect (or that has none)."""

    dataset: str
    problem: str
    fix: str


def _pointer(dataset: DatasetInput) -> str:
    return dataset.license_source or f"{dataset.path}.gitprov"


def _conflict(dataset: DatasetInput, model: licenses.License, config: Config) -> Conflict | None:
    rules = config.license_rules
    stated = (dataset.license or "").strip()
    found = licenses.dataset_license(stated, rules) if stated else None
    if found is None:
        if stated.lower() in ("", licenses.UNKNOWN):
            problem = f"{dataset.path} has no license" + (f" ({stated!r})" if stated else "")
        else:
            problem = (
                f"{dataset.path}'s license {stated!r} is not an SPDX id or expression, nor a "
                "Hugging Face license id"
            )
        return Conflict(
            dataset.path,
            problem,
            f'Set license = "<SPDX id>" in the [meta] table of {_pointer(dataset)} (the '
            f"license its source publishes it under), or name that license in a "
            f"[licenses.compatible] rule of {config.source}",
        )
    verdict = licenses.compatible(model, found, rules)
    if verdict.ok:
        return None
    return Conflict(
        dataset.path,
        f"{dataset.path}: {verdict.reason}",
        f"Change the model's license, add a [licenses.compatible] rule to {config.source}, or "
        f'a [[waivers]] entry with check = "{CHECK_COMPATIBLE}" and subject = "{dataset.path}"',
    )


def _waiver(conflict: Conflict, waivers: tuple[Waiver, ...], today: date) -> Waiver | None:
    return next(
        (w for w in waivers if w.covers(CHECK_COMPATIBLE, conflict.dataset, today=today)), None
    )


def _expired(conflict: Conflict, waivers: tuple[Waiver, ...], today: date) -> str:
    dates = [
        w.expires
        for w in waivers
        if w.check == CHECK_COMPATIBLE
        and w.subject in ("*", conflict.dataset)
        and w.expires is not None
        and w.expires < today
    ]
    return f" (a waiver expired on {max(dates).isoformat()})" if dates else ""


def license_compatible(subject: Subject, config: Config, *, today: date | None = None) -> Verdict:
    """The card's license respects every training dataset's license (the built-in table
    or the configured rules), conflicts a waiver covers on ``today`` accepted."""
    found = _card_license(subject)
    if isinstance(found, Verdict):
        return found
    if isinstance(found, licenses.Invalid):
        return Verdict("skip", "the card's license is not valid (license-valid reports it)")
    if not subject.datasets:
        return Verdict("skip", "the lineage names no training dataset")
    day = today or datetime.now(UTC).date()
    conflicts = [c for c in (_conflict(d, found, config) for d in subject.datasets) if c]
    waived = [(c, w) for c in conflicts if (w := _waiver(c, config.waivers, day)) is not None]
    open_ = [c for c in conflicts if all(c is not w[0] for w in waived)]
    accepted = "; ".join(f"{c.problem} (waived by {w.approved_by}: {w.reason})" for c, w in waived)
    if open_:
        detail = "; ".join(c.problem + _expired(c, config.waivers, day) for c in open_)
        fixes = list(dict.fromkeys(c.fix for c in open_))
        return Verdict(
            "fail", detail + (f"; accepted: {accepted}" if accepted else ""), ". ".join(fixes)
        )
    if waived:
        return Verdict("waived", accepted)
    shown = ", ".join(f"{d.path} ({d.license})" for d in subject.datasets)
    return Verdict("pass", f"{found.describe()} respects {shown}")


CHECKS: dict[str, Callable[[Subject, Config], Verdict]] = {
    CHECK_VALID: license_valid,
    CHECK_COMPATIBLE: license_compatible,
}
