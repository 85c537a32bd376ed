"""Charts of the HTML report, rendered server-side as inline SVG (no script, no library).

Each chart carries a ``<title>`` and an ``aria-label`` that say what it shows, and its
numbers are also in a table on the same page, so nothing is only in the picture.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
HEIGHT = 200
LEFT = 40
BOTTOM = 30
OK_COLOUR = "#1b6e3a"  # >= 4.5:1 against white, like every text colour in the report
FAIL_COLOUR = "#a4161a"
POINT_COLOUR = "#1d4f91"


def runs_over_time(days: Sequence[tuple[str, bool]]) -> str:
    """A bar per day (``YYYY-MM-DD``): succeeded runs in green, failed ones stacked in red.

    ``days``: one (day, succeeded) pair per run, in any order.
    """
    ok = Counter(day for day, good in days if good)
    failed = Counter(day for day, good in days if not good)
    labels = sorted(set(ok) | set(failed))
    label = f"Runs per day: {len(days)} runs on {len(labels)} days"
    if not labels:
        return f'<p class="empty">{escape(label)}.</p>'
    top = max(ok[d] + failed[d] for d in labels)
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - 10
    step = plot_w / len(labels)
    bar = min(40.0, max(1.0, step * 0.8))  # one day is a bar, not a wall
    parts = [_open(label), _axis(top, plot_h)]
    for i, day in enumerate(labels):
        x = LEFT + i * step
        h_ok = plot_h * ok[day] / top
        h_fail = plot_h * failed[day] / top
        base = 10 + plot_h
        tip = f"{day}: {ok[day]} succeeded, {failed[day]} failed"
        parts.append(
            f'<g class="bar"><title>{escape(tip)}</title>'
            f'<rect x="{x:.1f}" y="{base - h_ok:.1f}" width="{bar:.1f}" height="{h_ok:.1f}" '
            f'fill="{OK_COLOUR}"/>'
            f'<rect x="{x:.1f}" y="{base - h_ok - h_fail:.1f}" width="{bar:.1f}" '
            f'height="{h_fail:.1f}" fill="{FAIL_COLOUR}"/></g>'
        )
    for i in sorted({0, len(labels) // 2, len(labels) - 1}):
        x = LEFT + i * step
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 8}" class="tick">{escape(labels[i])}</text>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Point:
    """One evaluation of one metric: ``version`` labels the x axis (a short digest)."""

    version: str
    value: float
    low: float | None
    high: float | None


def intervals(title: str, points: Sequence[Point]) -> str:
    """A metric across checkpoint versions: a dot per evaluation and its interval as a bar."""
    label = f"{title} across {len(points)} evaluations, with confidence intervals"
    if not points:
        return f'<p class="empty">{escape(label)}.</p>'
    values = [v for p in points for v in (p.value, p.low, p.high) if v is not None]
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.1
    lo, hi = lo - pad, hi + pad
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - 10
    step = plot_w / len(points)

    def y(v: float) -> float:
        return 10 + plot_h * (hi - v) / (hi - lo)

    parts = [
        _open(label, css="chart eval-chart"),
        f'<line x1="{LEFT}" y1="10" x2="{LEFT}" y2="{10 + plot_h}" class="axis"/>',
        f'<text x="2" y="{y(hi - pad) + 4:.1f}" class="tick">{hi - pad:.3g}</text>',
        f'<text x="2" y="{y(lo + pad) + 4:.1f}" class="tick">{lo + pad:.3g}</text>',
    ]
    for i, p in enumerate(points):
        cx = LEFT + (i + 0.5) * step
        ci = f" [{p.low:.4g}, {p.high:.4g}]" if p.low is not None and p.high is not None else ""
        parts.append(f'<g class="point"><title>{escape(p.version)}: {p.value:.4g}{ci}</title>')
        if p.low is not None and p.high is not None:
            parts.append(
                f'<line x1="{cx:.1f}" y1="{y(p.high):.1f}" x2="{cx:.1f}" y2="{y(p.low):.1f}" '
                f'stroke="{POINT_COLOUR}" stroke-width="2"/>'
            )
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{y(p.value):.1f}" r="4" fill="{POINT_COLOUR}"/></g>'
            f'<text x="{cx - 20:.1f}" y="{HEIGHT - 8}" class="tick">{escape(p.version)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(label: str, css: str = "chart") -> str:
    return (
        f'<svg class="{css}" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>"
    )


def _axis(top: int, plot_h: int) -> str:
    return (
        f'<line x1="{LEFT}" y1="10" x2="{LEFT}" y2="{10 + plot_h}" class="axis"/>'
        f'<line x1="{LEFT}" y1="{10 + plot_h}" x2="{WIDTH - 10}" y2="{10 + plot_h}" class="axis"/>'
        f'<text x="4" y="18" class="tick">{top}</text>'
        f'<text x="4" y="{10 + plot_h}" class="tick">0</text>'
    )
