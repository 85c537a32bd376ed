"""The body of a checkpoint's report page: card, evaluations, approvals, releases,
deprecation, and the upstream lineage graph (drawn by ``services.report_graph``)."""

from __future__ import annotations

from html import escape

from gitprov.model import card as cards
from gitprov.model import report_charts
from gitprov.model import report_html as h
from gitprov.model.eval_record import EvalRecord
from gitprov.services.report_data import CheckpointFacts


def body(facts: CheckpointFacts, graph_section: str) -> str:
    """The whole page but its shell; ``graph_section``: the drawn upstream graph."""
    deprecated = bool(facts.deprecations)
    status = [
        ("path", facts.path),
        ("latest version", facts.digest or "deleted"),
        ("card", facts.card.display or "none"),
        ("evaluations", str(len(facts.evaluations))),
        ("valid approvals", str(sum(1 for a in facts.approvals if a.valid))),
        ("releases", ", ".join(r.tag for r in facts.releases) or "none"),
    ]
    parts = [
        h.badge("deprecated", False) if deprecated else h.badge("active", True),
        h.pairs(status),
        "<h2>Model card</h2>",
        _card(facts),
        "<h2>Evaluations</h2>",
        _evaluations(facts.evaluations),
        "<h2>Approvals</h2>",
        h.table(
            ["role", "approver", "when", "version", "signature", "detail"],
            [
                [
                    escape(v.approval.role),
                    escape(v.approval.approver),
                    escape(v.approval.at[:16]),
                    h.code(v.approval.digest[:19]),
                    h.badge(v.status.replace("_", " "), v.valid),
                    escape(v.detail),
                ]
                for v in facts.approvals
            ],
            caption="Signed approvals, verified against .gitprov/allowed_signers",
            raw=True,
        ),
        "<h2>Releases</h2>",
        h.table(
            ["tag", "version", "checkpoint version", "verdict", "detail"],
            [
                [
                    escape(r.tag),
                    escape(r.release.version if r.release else ""),
                    h.code(r.release.digest[:19] if r.release else ""),
                    h.badge(r.status.replace("_", " "), r.valid),
                    escape(r.detail),
                ]
                for r in facts.releases
            ],
            caption="Release tags, verified",
            raw=True,
        ),
        "<h2>Deprecation</h2>",
        h.table(
            ["version", "since", "by", "reason", "replaced by", "sunset"],
            [
                [
                    d.digest[:19],
                    d.day,
                    d.by,
                    d.reason,
                    f"{d.superseded_by.path} {d.superseded_by.digest[:19]}"
                    if d.superseded_by
                    else "",
                    d.sunset or "",
                ]
                for d in facts.deprecations
            ],
            caption="Deprecations of this checkpoint",
        ),
        "<h2>Upstream lineage</h2>",
        graph_section,
    ]
    if facts.notes:
        parts.append(
            "<h2>Left out</h2><ul>"
            + "".join(f"<li>{escape(n)}</li>" for n in facts.notes)
            + "</ul>"
        )
    return "".join(parts)


def _card(facts: CheckpointFacts) -> str:
    card = facts.card
    if card.text is None:
        return f'<p class="empty">No model card: {escape(card.missing)}</p>'
    problems = "".join(f"<li>{escape(p)}</li>" for p in card.problems)
    warn = (
        f"<p>{h.badge('disagrees with lineage', False)}</p><ul>{problems}</ul>" if problems else ""
    )
    try:
        front, text = cards.split(card.text.replace("\r\n", "\n"), source=card.display)
    except cards.CardError as exc:
        return f"{warn}<p>{escape(exc.problem)}</p><pre><code>{escape(card.text)}</code></pre>"
    return (
        f"{warn}<details><summary>Front matter (YAML)</summary>"
        f"<pre><code>{escape(front)}</code></pre></details>"
        f'<div class="card" id="card">{h.markdown(text)}</div>'
    )


def _evaluations(records: tuple[EvalRecord, ...]) -> str:
    if not records:
        return '<p class="empty">No evaluation recorded (gitprov eval run).</p>'
    rows = []
    series: dict[tuple[str, str, str], list[report_charts.Point]] = {}
    for r in records:
        dataset = r.dataset or r.dataset_snapshot[:19]
        for name, est in sorted(r.metrics.items()):
            ci = (
                f"[{est.ci_low:.4g}, {est.ci_high:.4g}] ({est.ci_level:g})"
                if est.ci_low is not None and est.ci_high is not None and est.ci_level
                else "none"
            )
            rows.append(
                [
                    r.at[:16],
                    r.digest[:19],
                    f"{dataset} ({r.split})",
                    name,
                    f"{est.value:.4g}",
                    ci,
                    str(est.n or ""),
                    est.method,
                ]
            )
            series.setdefault((name, dataset, r.split), []).append(
                report_charts.Point(r.digest.split(":")[-1][:7], est.value, est.ci_low, est.ci_high)
            )
    charts = "".join(
        f"<h3>{escape(name)} on {escape(dataset)} ({escape(split)})</h3>"
        + report_charts.intervals(f"{name} on {dataset} ({split})", points)
        for (name, dataset, split), points in sorted(series.items())
    )
    table = h.table(
        ["when", "version", "dataset", "metric", "value", "interval", "n", "method"],
        rows,
        caption="Evaluation records, oldest first",
    )
    return charts + table
