"""Checks on the model card: present, complete, uses, limitations, lineage, evaluation."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gitprov.model import card as cards
from gitprov.model import markdown_sections as md
from gitprov.model.checklist import Config
from gitprov.model.checks.subject import Evaluation, Subject, Verdict

_DIRECT_USE = ("Direct Use", "Intended Use", "Intended Uses", "Uses")
_OUT_OF_SCOPE = ("Out-of-Scope Use", "Out of Scope Use", "Out-of-Scope Uses", "Misuse")
_LIMITATIONS = (
    "Bias, Risks, and Limitations",
    "Limitations",
    "Known Limitations",
    "Risks and Limitations",
    "Failure Modes",
)
_SHOWN = 5


def _card(subject: Subject) -> tuple[dict[str, Any], str] | Verdict:
    """The card's (front matter, body), or the verdict for a card that cannot be read."""
    if subject.card_text is None or subject.card_source is None:
        return Verdict("skip", "no model card (see card-present)")
    try:
        return cards.parse(subject.card_text, source=subject.card_source)
    except cards.CardError:
        return Verdict("skip", "the card does not parse (see card-present)")


def _listing(items: Sequence[str]) -> str:
    more = f", +{len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return "; ".join(items[:_SHOWN]) + more


def card_present(subject: Subject, config: Config) -> Verdict:
    if subject.card_text is None:
        where = f" ({subject.card_source} does not exist)" if subject.card_source else ""
        return Verdict(
            "fail",
            f"{subject.checkpoint} has no model card{where}",
            f"Write one with 'gitprov card new {subject.checkpoint}', fill it in, commit it",
        )
    try:
        cards.parse(subject.card_text, source=subject.card_source or "card")
    except cards.CardError as exc:
        return Verdict("fail", exc.problem, exc.fix)
    return Verdict("pass", f"{subject.card_source}")


def _unfilled(
    body: str, titles: Sequence[str], *, own: bool = False
) -> tuple[md.Section | None, bool]:
    """The section found under one of ``titles`` and whether it is written: its own text
    is, or (unless ``own``) it has none and its whole text, subsections included, is."""
    section = md.find(md.sections(body), titles)
    if section is None:
        return None, False
    text = md.prose(section.own)
    if not text and not own:
        text = md.prose(section.text)
    return section, bool(text) and cards.PLACEHOLDER not in text


def card_complete(subject: Subject, config: Config) -> Verdict:
    parsed = _card(subject)
    if isinstance(parsed, Verdict):
        return parsed
    _, body = parsed
    missing = []
    for title in config.required_sections:
        section, written = _unfilled(body, (title,))
        if section is None:
            missing.append(f"section '{title}' is missing")
        elif not written:
            missing.append(
                f"section '{title}' (line {_body_line(subject, body, section)}) is empty"
            )
    left = [
        f"placeholder at line {line} ({where})"
        for line, where in cards.placeholders(subject.card_text or "")
    ]
    if missing or left:
        return Verdict("fail", f"{subject.card_source}: {_listing(missing + left)}")
    return Verdict("pass", f"{len(config.required_sections)} required sections written")


def _body_line(subject: Subject, body: str, section: md.Section) -> int:
    """The line of ``section`` in the whole card file (the body follows the front matter)."""
    text = subject.card_text or ""
    return section.line + text.count("\n") - body.count("\n")


def _sections_written(
    subject: Subject, wanted: Mapping[str, Sequence[str]], *, own: bool = False
) -> Verdict:
    parsed = _card(subject)
    if isinstance(parsed, Verdict):
        return parsed
    _, body = parsed
    problems = []
    for label, titles in wanted.items():
        section, written = _unfilled(body, titles, own=own)
        if section is None:
            problems.append(f"no '{label}' section")
        elif not written:
            problems.append(
                f"'{section.title}' (line {_body_line(subject, body, section)}) is not written"
            )
    if problems:
        return Verdict("fail", f"{subject.card_source}: {_listing(problems)}")
    return Verdict("pass", ", ".join(wanted))


def intended_use(subject: Subject, config: Config) -> Verdict:
    return _sections_written(
        subject, {"Direct Use": _DIRECT_USE, "Out-of-Scope Use": _OUT_OF_SCOPE}
    )


def limitations(subject: Subject, config: Config) -> Verdict:
    # Its own words: a filled 'Recommendations' subsection does not make up for them.
    return _sections_written(subject, {"Bias, Risks, and Limitations": _LIMITATIONS}, own=True)


def lineage_consistent(subject: Subject, config: Config) -> Verdict:
    parsed = _card(subject)
    if isinstance(parsed, Verdict):
        return parsed
    front, _ = parsed
    source = subject.card_source or "card"
    if subject.facts is None:
        block = front.get("gitprov")
        checkpoint = block.get("checkpoint") if isinstance(block, Mapping) else None
        pinned = checkpoint.get("digest") if isinstance(checkpoint, Mapping) else None
        if pinned != subject.digest:
            return Verdict(
                "fail",
                f"{source}: gitprov.checkpoint.digest is {pinned}, the checkpoint is "
                f"{subject.digest}",
            )
        return Verdict(
            "pass", "digest matches; no run recorded, so datasets and base model are unchecked"
        )
    problems = cards.check(front, subject.facts, source=source, command=subject.checkpoint)
    if problems:
        return Verdict("fail", _listing([p.problem for p in problems]), problems[0].fix)
    return Verdict("pass", "digest, datasets, base model and run agree with the lineage")


def _metric_problems(metric: str, found: Sequence[Evaluation], config: Config) -> str | None:
    """Why none of ``found`` (one metric from its sources) is a complete evaluation."""
    reasons = []
    for item in found:
        why = []
        if item.value is None:
            why.append("no value")
        if item.ci_low is None or item.ci_high is None:
            why.append("no confidence interval")
        elif item.value is not None and not item.ci_low <= item.value <= item.ci_high:
            why.append(f"value {item.value} outside its interval [{item.ci_low}, {item.ci_high}]")
        if item.n is None:
            why.append("no sample size")
        elif item.n < config.min_sample_size:
            why.append(f"n={item.n} < min_sample_size {config.min_sample_size}")
        if not item.environment:
            why.append("no evaluation environment")
        if not why:
            return None
        reasons.append(f"{', '.join(why)} ({item.source})")
    return f"{metric}: {reasons[0]}" if reasons else None


def evaluation(subject: Subject, config: Config) -> Verdict:
    if not subject.evaluations:
        return Verdict(
            "fail",
            "no metric is recorded for this checkpoint (card model-index or eval records)",
        )
    # Every number the card publishes must carry its own uncertainty: an evaluation record
    # of the same metric on other data does not vouch for it. Without card metrics, the
    # evaluation records are the evidence: each metric needs one complete record.
    published = [item for item in subject.evaluations if item.source == "card"]
    groups: dict[str, list[Evaluation]] = {}
    if published:
        for number, item in enumerate(published):  # each row on its own
            groups[f"{number}"] = [item]
    else:
        for item in subject.evaluations:
            groups.setdefault(item.metric, []).append(item)
    problems = [
        why
        for found in groups.values()
        if (why := _metric_problems(found[0].metric, found, config)) is not None
    ]
    if problems:
        return Verdict("fail", _listing(problems))
    count = len(groups)
    return Verdict("pass", f"{count} metric{'s' * (count != 1)} with interval, n and environment")


CHECKS: Mapping[str, Callable[[Subject, Config], Verdict]] = {
    "card-present": card_present,
    "card-complete": card_complete,
    "intended-use": intended_use,
    "limitations": limitations,
    "lineage-consistent": lineage_consistent,
    "evaluation": evaluation,
}
