"""The bodies of the report's overview, run and decision pages (HTML, escaped).

Each function takes what ``services.report_data`` gathered and returns the HTML of
one page's main content; ``services.report`` wraps it in the page shell and writes it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from html import escape
from statistics import median

from gitprov.model import report_charts
from gitprov.model import report_html as h
from gitprov.services.decision_queries import DecisionView
from gitprov.services.report_data import ReportData, RunRow

MAX_RUN_ROWS = 50  # runs listed on the overview (all of them are counted and charted)


def run_href(run_id: str) -> str:
    return f"runs/{h.slug(run_id)}.html"


def checkpoint_href(path: str) -> str:
    return f"checkpoints/{h.slug(path)}.html"


def decision_href(ident: str) -> str:
    return f"decisions/{h.slug(ident)}.html"


def duration(row: RunRow) -> float | None:
    """Seconds the run took, from its record's start and end (None when unknown)."""
    node = row.node
    if node is None or not node.started_at or not node.ended_at:
        return None
    try:
        start = datetime.fromisoformat(node.started_at)
        end = datetime.fromisoformat(node.ended_at)
    except ValueError:
        return None
    return (end - start).total_seconds()


def _seconds(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:.1f} s" if value < 120 else f"{value / 60:.1f} min"


def _who(row: RunRow) -> str:
    return (row.node.user if row.node and row.node.user else "") or row.entry.author


def _ok(row: RunRow) -> bool:
    return row.view.exit_code == 0


def overview(data: ReportData) -> str:
    """Runs over time, success rate, durations, who ran them; artifacts and their latest
    versions; the release checklist; deprecated checkpoints."""
    runs = data.runs
    ok = sum(1 for r in runs if _ok(r))
    times = [d for d in (duration(r) for r in runs) if d is not None]
    people = Counter(_who(r) for r in runs)
    rate = f"{100 * ok / len(runs):.0f}%" if runs else "n/a"
    stats = [
        (str(len(runs)), "runs"),
        (rate, "succeeded"),
        (_seconds(median(times)) if times else "n/a", "median duration"),
        (_seconds(max(times)) if times else "n/a", "longest run"),
        (str(len(people)), "people"),
        (str(len(data.checkpoints)), "checkpoints"),
        (str(len(data.decisions)), "decisions"),
    ]
    parts = [
        f"<p>Provenance of <code>{escape(str(data.top))}</code>, revisions "
        f"<code>{escape(data.rev_range)}</code>.</p>",
        '<ul class="stats" aria-label="Summary">'
        + "".join(
            f"<li><strong>{escape(v)}</strong><span>{escape(k)}</span></li>" for v, k in stats
        )
        + "</ul>",
        "<h2>Runs over time</h2>",
        report_charts.runs_over_time([(r.entry.date[:10], _ok(r)) for r in runs]),
        "<h2>Who ran them</h2>",
        h.table(
            ["who", "runs", "succeeded", "median duration"],
            [
                [
                    who,
                    str(n),
                    str(sum(1 for r in runs if _who(r) == who and _ok(r))),
                    _seconds(_median([duration(r) for r in runs if _who(r) == who])),
                ]
                for who, n in people.most_common()
            ],
            caption="Runs per person",
        ),
        "<h2>Latest runs</h2>",
        _run_table(runs[:MAX_RUN_ROWS], up=""),
        "<h2>Checkpoints and datasets</h2>",
        _artifact_table(data),
        "<h2>Release checklist</h2>",
        h.table(
            ["checkpoint", "digest", "status", "failing checks"],
            [
                [
                    h.code(r.checkpoint),
                    h.code(r.digest[:19]),
                    h.badge("passed" if r.passed else "blocked", r.passed),
                    escape("; ".join(f.title for f in r.failures)) or "none",
                ]
                for r in data.checklist
            ],
            caption="Checkpoints marked for release",
            raw=True,
        ),
        "<h2>Releases</h2>",
        h.table(
            ["tag", "checkpoint", "version", "verdict"],
            [
                [
                    escape(r.tag),
                    h.link(checkpoint_href(c.path), c.path),
                    escape(r.release.version if r.release else ""),
                    h.badge(r.status.replace("_", " "), r.valid),
                ]
                for c in data.checkpoints
                for r in c.releases
            ],
            caption="Release tags, each verified",
            raw=True,
        ),
        "<h2>Deprecated checkpoints</h2>",
        h.table(
            ["checkpoint", "digest", "since", "reason", "replaced by"],
            [
                [
                    d.checkpoint,
                    d.digest[:19],
                    d.day,
                    d.reason,
                    d.superseded_by.path if d.superseded_by else "",
                ]
                for d in data.deprecations
            ],
            caption="Deprecations",
        ),
    ]
    if data.warnings:
        parts += ["<h2>Records that could not be read</h2>", _list(data.warnings)]
    return "".join(parts)


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return median(known) if known else None


def _list(items: tuple[str, ...] | list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def _run_table(rows: tuple[RunRow, ...] | list[RunRow], *, up: str) -> str:
    return h.table(
        ["when", "run", "command", "exit", "duration", "who"],
        [
            [
                escape(r.entry.date[:16].replace("T", " ")),
                h.link(up + run_href(r.view.id), r.view.id[:10]),
                h.code(" ".join(r.view.argv)),
                h.badge(str(r.view.exit_code), _ok(r)),
                escape(_seconds(duration(r))),
                escape(_who(r)),
            ]
            for r in rows
        ],
        caption="Runs, newest first",
        raw=True,
    )


def _artifact_table(data: ReportData) -> str:
    pages = {c.path for c in data.checkpoints}
    rows = []
    for path, versions in sorted(data.versions.items()):
        latest = versions[0]
        name = h.link(checkpoint_href(path), path) if path in pages else escape(path)
        rows.append(
            [
                name,
                escape(data.kinds[path]),
                h.code(latest.digest[:19]) if latest.digest else h.badge("deleted", None),
                escape(latest.date[:10]),
                str(len(versions)),
            ]
        )
    return h.table(
        ["path", "kind", "latest version", "since", "versions"],
        rows,
        caption="Tracked artifacts changed in the range",
        raw=True,
    )


def run_page(row: RunRow) -> str:
    """Command, parameters, seeds, inputs and outputs, environment, times, commit."""
    view, node, entry = row.view, row.node, row.entry
    facts = [
        ("command", " ".join(view.argv)),
        ("exit code", str(view.exit_code)),
        ("parameters", ", ".join(f"{k}={v}" for k, v in sorted(view.params.items())) or "none"),
        ("seeds", ", ".join(view.seeds) or "none"),
        ("environment", view.env or "not recorded"),
        ("environment summary", view.env_summary or ""),
        ("started", node.started_at if node and node.started_at else "unknown"),
        ("duration", _seconds(duration(row))),
        ("by", _who(row)),
        ("commit", f"{entry.commit[:12]} {entry.subject}"),
        ("decisions", ", ".join(entry.decisions) or "none"),
    ]
    refs = [
        [role, a.path, a.kind, a.digest]
        for role, group in (("input", view.inputs), ("output", view.outputs))
        for a in group
    ]
    metrics = sorted((node.metrics if node else {}).items())
    return (
        h.pairs(facts)
        + "<h2>Inputs and outputs</h2>"
        + h.table(["role", "path", "kind", "digest"], refs, caption="Artifacts, by content")
        + "<h2>Metrics</h2>"
        + (
            "".join(
                f"<h3>{escape(name)}</h3><pre><code>{escape(str(v))}</code></pre>"
                for name, v in metrics
            )
            or '<p class="empty">No metrics file recorded.</p>'
        )
        + "<h2>Reruns</h2><p class='empty'>Rerun results are printed by 'gitprov rerun' and "
        "not recorded, so the report cannot show them.</p>"
    )


def decisions_index(views: tuple[DecisionView, ...]) -> str:
    rows = [
        [
            h.link(decision_href(v.record.decision.id), v.record.decision.id),
            escape(v.record.decision.title),
            escape(v.record.decision.status),
            escape(v.record.decision.created[:10]),
        ]
        for v in views
    ]
    return h.table(["id", "title", "status", "created"], rows, caption="Decisions", raw=True)


def decision_page(view: DecisionView, body: str) -> str:
    """The record, its links, the supersede chain, planned vs. actual."""
    d = view.record.decision
    facts = [
        ("status", d.status),
        ("created", d.created),
        ("authors", ", ".join(d.authors) or "none"),
        ("expected", ", ".join(f"{n}: {e}" for n, e in d.metrics) or "none"),
    ]
    chain = " → ".join(
        f"<strong>{escape(i)}</strong>" if i == d.id else h.link(f"{h.slug(i)}.html", i)
        for i in view.chain
    )
    outcome = [(str(k), str(v)) for k, v in sorted(view.outcome.items())]
    return (
        h.pairs(facts)
        + f"<h2>Supersede chain</h2><p>{chain}</p>"
        + "<h2>Planned vs. actual</h2>"
        + (h.pairs(outcome) if outcome else '<p class="empty">No outcome recorded yet.</p>')
        + "<h2>Links</h2>"
        + h.table(
            ["commit", "subject"],
            [[c["commit"][:12], c["subject"] or "(not in this history)"] for c in view.commits],
            caption="Commits",
        )
        + h.table(
            ["run", "command", "params"],
            [
                [
                    h.link("../" + run_href(r["id"]), r["id"][:10])
                    if r["found"]
                    else escape(r["id"]),
                    h.code(" ".join(r["argv"])),
                    escape(", ".join(f"{k}={v}" for k, v in sorted(r["params"].items()))),
                ]
                for r in view.runs
            ],
            caption="Runs",
            raw=True,
        )
        + h.table(
            ["path", "digest", "kind"],
            [
                [a["path"], a["digest"][:19], a["kind"] or "(not in this history)"]
                for a in view.artifacts
            ],
            caption="Artifacts",
        )
        + f'<h2>Record</h2><div class="card">{h.markdown(body)}</div>'
    )
