"""The review as one Markdown comment: summary first, then the sections a reviewer needs.

GitHub refuses a comment over 65,536 characters, so the comment is kept under
``max_chars`` (default :data:`DEFAULT_MAX_CHARS`): when it is too long, the least important
parts are shortened first (:data:`CUT_ORDER`: card prose diffs, the lineage diagram, then
tables), and a line under the summary says what was cut. The summary is never cut.

Every piece of user text (paths, titles, field values, subjects) is escaped
(``model.review_format``), so a path with a ``|`` cannot break a table and a title with
``*`` or ``<`` stays literal. No images, no links to third parties: the diagram is a
``mermaid`` block GitHub renders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gitprov.model.progress import human_size
from gitprov.model.review_format import (
    code,
    fenced,
    plural,
    short,
    signed,
    table,
    text,
    with_ci,
)
from gitprov.model.review_report import (
    ArtifactChange,
    CardDiff,
    CommitWithoutLineage,
    MetricDelta,
    ReviewReport,
)

MARKER = "<!-- gitprov-review -->"  # CI finds and updates its own comment by this line
DEFAULT_MAX_CHARS = 65_000  # under GitHub's 65,536 with room for a CI's own footer
MIN_MAX_CHARS = 1000  # the summary and the note of what was cut always fit
ROWS_SHORT = 10  # rows kept in a table's shortened form
# Cut first -> last; the summary is not in it: it is never cut.
CUT_ORDER = (
    "prose",
    "lineage",
    "notes",
    "artifacts",
    "fields",
    "decisions",
    "approvals",
    "commits",
    "checklist",  # its details only: the table of results is never cut
    "metrics",
)


# -- sections ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """A part of the report, fullest form first; the last form is what is left when it is
    cut entirely (often nothing). ``cut`` names, for each shorter form, what it drops."""

    key: str
    forms: tuple[str, ...]
    cut: tuple[str, ...]


def summary(report: ReviewReport) -> str:
    counts = [
        plural(report.changed("checkpoint"), "checkpoint") + " changed",
        plural(report.changed("dataset"), "dataset") + " changed",
        plural(report.checks_failing, "check") + " failing",
    ]
    tail = plural(report.commits, "commit")
    if report.without_lineage:
        tail += f", {len(report.without_lineage)} without a lineage record"
    head = f"## gitprov review of {code(report.base + '..' + report.head)}"
    return f"{MARKER}\n{head}\n\n**{' · '.join(counts)}** ({tail})"


def _artifacts(report: ReviewReport) -> Section | None:
    if not report.artifacts:
        return None

    def rows(items: Sequence[ArtifactChange]) -> list[list[str]]:
        return [
            [
                a.change,
                code(a.path) + (" (release)" if a.release else ""),
                a.kind,
                f"{code(short(a.old_digest)) if a.old_digest else '—'} → "
                f"{code(short(a.new_digest)) if a.new_digest else '—'}",
                _size(a.old_size, a.new_size),
            ]
            for a in items
        ]

    header = ["change", "path", "kind", "digest", "size"]
    title = "### Artifacts\n\n"
    full = title + table(header, rows(report.artifacts))
    forms = [full]
    cut = []
    if len(report.artifacts) > ROWS_SHORT:
        more = len(report.artifacts) - ROWS_SHORT
        forms.append(
            title
            + table(header, rows(report.artifacts[:ROWS_SHORT]))
            + f"\n\n*… and {plural(more, 'more artifact')}.*"
        )
        cut.append(f"{plural(more, 'artifact row')}")
    forms.append("")
    cut.append("the artifacts table")
    return Section("artifacts", tuple(forms), tuple(cut))


def _size(old: int | None, new: int | None) -> str:
    if old is None or new is None:
        return human_size(new if new is not None else old or 0)
    if old == new:
        return human_size(new)
    change = new - old
    sign = "+" if change > 0 else "-"
    return f"{human_size(old)} → {human_size(new)} ({sign}{human_size(abs(change))})"


def _metrics(report: ReviewReport) -> Section | None:
    if not report.metrics:
        return None
    header = ["checkpoint", "dataset", "metric", "base", "head", "Δ", "significance"]

    def rows(items: Sequence[MetricDelta]) -> list[list[str]]:
        return [
            [
                code(m.checkpoint),
                text(m.dataset) if m.dataset else "—",
                code(m.metric),
                with_ci(m.base, m.base_ci),
                with_ci(m.head, m.head_ci),
                signed(m.delta) if m.delta is not None else ("new" if m.base is None else "gone"),
                "**significant**" if m.significance == "significant" else m.significance,
            ]
            for m in items
        ]

    title = "### Metrics\n\n"
    legend = (
        "\n\nValues as `value [CI low, CI high]`. Overlapping confidence intervals are "
        "*not significant*; a value without an interval is *no CI*."
    )
    forms = [title + table(header, rows(report.metrics)) + legend]
    cut = []
    changed = [m for m in report.metrics if m.delta != 0 or m.base_ci != m.head_ci]
    if len(changed) < len(report.metrics):
        forms.append(title + table(header, rows(changed)) + legend)
        cut.append("unchanged metric rows")
    forms.append("")
    cut.append("the metrics table")
    return Section("metrics", tuple(forms), tuple(cut))


def _card_title(card: CardDiff) -> str:
    return f"#### {code(card.path)} ({card.change})"


def _fields(report: ReviewReport) -> Section | None:
    cards = [c for c in report.cards if c.fields]
    if not cards:
        return None
    parts = ["### Model card fields"]
    for card in cards:
        rows = [
            [
                code(f.key),
                code(f.old) if f.old is not None else "—",
                code(f.new) if f.new is not None else "—",
            ]
            for f in card.fields
        ]
        parts += [_card_title(card), table(["field", "base", "head"], rows)]
    return Section("fields", ("\n\n".join(parts), ""), ("the card field changes",))


def _prose(report: ReviewReport) -> Section | None:
    cards = [c for c in report.cards if c.sections]
    if not cards:
        return None
    full = ["### Model card prose"]
    names = ["### Model card prose"]
    for card in cards:
        full.append(_card_title(card))
        names.append(_card_title(card))
        for s in card.sections:
            full.append(f"**{text(s.heading)}** ({s.change})\n\n" + fenced(s.diff, "diff"))
        names.append("\n".join(f"- {text(s.heading)} ({s.change})" for s in card.sections))
    count = sum(len(c.sections) for c in cards)
    return Section(
        "prose",
        ("\n\n".join(full), "\n\n".join(names), ""),
        (f"the prose diffs of {plural(count, 'card section')}", "the changed card sections"),
    )


def _lineage(report: ReviewReport) -> Section | None:
    if report.lineage is None:
        return None
    lin = report.lineage
    more = f" ({lin.hidden} more left out)" if lin.hidden else ""
    body = (
        f"### Lineage\n\nUpstream of the changed checkpoints: {plural(lin.nodes, 'node')}{more}."
        f"\n\n{fenced(lin.mermaid, 'mermaid')}"
    )
    return Section("lineage", (body, ""), ("the lineage diagram",))


def _decisions(report: ReviewReport) -> Section | None:
    if not report.decisions:
        return None
    rows = [
        [
            code(d.id),
            text(d.title),
            d.status
            if d.old_status is None or d.old_status == d.status
            else f"{d.old_status} → {d.status}",
            "added" if d.old_status is None else "edited",
        ]
        for d in report.decisions
    ]
    body = "### Decisions\n\n" + table(["decision", "title", "status", "change"], rows)
    return Section("decisions", (body, ""), ("the decisions table",))


def _checklist(report: ReviewReport) -> Section | None:
    if not report.checklists:
        return None
    rows = [
        [
            code(r.checkpoint),
            code(short(r.digest)),
            "passed" if r.passed else "**failed**",
            ", ".join(
                code(f.check) + ("" if f.severity == "error" else f" ({f.severity})")
                for f in r.failures
            )
            or "—",
        ]
        for r in report.checklists
    ]
    head = "### Release checklist\n\n" + table(["checkpoint", "digest", "result", "failing"], rows)
    details = [
        f"- {code(r.checkpoint)} {code(f.check)} ({f.severity}): "
        + text((f.detail or f.title).rstrip("."))
        + (f". Fix: {text(f.fix)}" if f.fix else "")
        for r in report.checklists
        for f in r.failures
    ]
    full = head + ("\n\n" + "\n".join(details) if details else "")
    return Section("checklist", (full, head), ("the failing checks' details",))


def _approvals(report: ReviewReport) -> Section | None:
    if not report.approvals:
        return None
    rows = [
        [
            code(a.checkpoint),
            text(a.role),
            text(a.approver),
            a.status if a.status == "valid" else f"**{a.status}**",
        ]
        for a in report.approvals
    ]
    body = "### Approvals\n\n" + table(["checkpoint", "role", "approver", "signature"], rows)
    return Section("approvals", (body, ""), ("the approvals table",))


def _commits(report: ReviewReport) -> Section | None:
    if not report.without_lineage:
        return None
    title = "### Commits without a lineage record\n\n"
    fix = (
        f"\n\nRecord them with {code('gitprov notes rebuild ' + report.base + '..' + report.head)}"
        " (hooks were skipped), or after a squash or rebase merge with "
        f"{code('gitprov notes reattach')}."
    )

    def items(commits: Sequence[CommitWithoutLineage]) -> str:
        return "\n".join(f"- {code(c.commit[:12])} {text(c.subject)}" for c in commits)

    forms = [title + items(report.without_lineage) + fix]
    cut = []
    if len(report.without_lineage) > ROWS_SHORT:
        more = len(report.without_lineage) - ROWS_SHORT
        forms.append(
            title
            + items(report.without_lineage[:ROWS_SHORT])
            + f"\n- … and {plural(more, 'more commit')}"
            + fix
        )
        cut.append(plural(more, "commit line"))
    forms.append(title + f"{plural(len(report.without_lineage), 'commit')}." + fix)
    cut.append("the list of commits without lineage")
    return Section("commits", tuple(forms), tuple(cut))


def _notes(report: ReviewReport) -> Section | None:
    if not report.notes:
        return None
    body = "### Notes\n\n" + "\n".join(f"- {text(n)}" for n in report.notes)
    return Section("notes", (body, ""), ("the notes",))


# Display order (the cut order is CUT_ORDER).
_BUILDERS: tuple[Callable[[ReviewReport], Section | None], ...] = (
    _checklist,
    _metrics,
    _artifacts,
    _fields,
    _prose,
    _lineage,
    _decisions,
    _approvals,
    _commits,
    _notes,
)


# -- assembling and cutting ----------------------------------------------------------------


def render(report: ReviewReport, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The report as Markdown of at most ``max_chars`` characters."""
    if max_chars < MIN_MAX_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MAX_CHARS}")
    sections = [s for build in _BUILDERS if (s := build(report)) is not None]
    level = {s.key: 0 for s in sections}
    by_key = {s.key: s for s in sections}
    top = summary(report)
    while True:
        document = _assemble(top, sections, level, report, max_chars)
        if len(document) <= max_chars:
            return document
        for key in CUT_ORDER:
            section = by_key.get(key)
            if section is not None and level[key] < len(section.forms) - 1:
                level[key] += 1
                break
        else:
            return _hard_cut(document, max_chars)


def _assemble(
    top: str, sections: Sequence[Section], level: dict[str, int], report: ReviewReport, limit: int
) -> str:
    parts = [top]
    # Each step of a section drops more: name only its last step (it includes the others).
    dropped = [s.cut[level[s.key] - 1] for s in sections if level[s.key] > 0]
    if dropped:
        parts.append(
            f"*Shortened to fit {limit:,} characters: left out "
            + "; ".join(dropped)
            + f". Run {code('gitprov review ' + report.base + '..' + report.head)} for the full "
            "report.*"
        )
    parts += [s.forms[level[s.key]] for s in sections if s.forms[level[s.key]]]
    if not sections:
        parts.append("Nothing in this range changes a tracked artifact, card or decision.")
    return "\n\n".join(parts) + "\n"


def _hard_cut(document: str, limit: int) -> str:
    ending = f"\n\n*… cut at {limit:,} characters.*\n"
    kept = document[: limit - len(ending)]
    kept = kept[: kept.rfind("\n")] if "\n" in kept else kept
    return kept.rstrip() + ending
