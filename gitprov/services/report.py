"""``gitprov report``: the repository's provenance as a static HTML site.

Everything is read by ``services.report_data`` from the services the CLI uses; pages are
rendered by ``services.report_pages``/``report_checkpoint``/``report_graph`` with the
pure helpers of ``model.report_html``; the style sheet and the script
(``templates/report/``) are inlined in every page, and each page's data is embedded as
JSON, so the site opens from disk or as a CI artifact without a server or a network.

Layout of the site::

    index.html                 overview
    lineage.html               the lineage graph (pan, zoom, click a node)
    decisions.html             the decision log; decisions/<id>.html one decision
    checkpoints/<path>.html    one checkpoint: card, evaluations, approvals, releases...
    runs/<run id>.html         one run
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitprov import __version__
from gitprov.adapters import git, resources
from gitprov.errors import GitprovError
from gitprov.model import decision as decision_model
from gitprov.model import report_html as h
from gitprov.services import report_checkpoint, report_graph, report_pages
from gitprov.services.report_data import CheckpointFacts, ReportData, gather

MARKER = ".gitprov-report"  # says a folder holds a report, so writing over it is safe
MAX_RUN_PAGES = 1000  # the newest runs get a page each; all are counted on the overview


@dataclass(frozen=True)
class ReportSite:
    """What was written: the folder, its pages (relative paths), and what they show."""

    out: Path
    pages: tuple[str, ...]
    runs: int
    checkpoints: int
    decisions: int
    graph_nodes: int
    graph_total: int

    @property
    def index(self) -> Path:
        return self.out / "index.html"


def write_report(*, cwd: Path, out: Path, rev_range: str | None = None) -> ReportSite:
    """Write the report of ``rev_range`` (all of HEAD's history) into ``out``.

    ``out`` must be empty, missing, or a previous report (it holds ``.gitprov-report``).
    """
    top = git.discover(cwd).worktree
    _check_out(out)
    data = gather(top=top, rev_range=rev_range)
    writer = _Writer(out, data)
    return writer.write_all()


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise GitprovError(f"{out} is a file", "Pass --out a folder for the report")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise GitprovError(
            f"{out} is not empty and holds no gitprov report",
            "Pass --out a new or empty folder (a previous report is overwritten)",
        )


class _Writer:
    def __init__(self, out: Path, data: ReportData) -> None:
        self.out = out
        self.data = data
        self.css = resources.template("report/report.css")
        self.js = resources.template("report/report.js")
        self.generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.pages: list[str] = []
        self.links = self._links()

    def _links(self) -> dict[str, str]:
        """Page of each graph node, relative to the root: checkpoints by their digests."""
        links: dict[str, str] = {}
        for row in self.data.runs[:MAX_RUN_PAGES]:
            links[row.view.id] = report_pages.run_href(row.view.id)
        for path, versions in self.data.versions.items():
            if self.data.kinds[path] == "checkpoint":
                for v in versions:
                    if v.digest:
                        links[v.digest] = report_pages.checkpoint_href(path)
        return links

    def page(self, rel: str, title: str, body: str, extra: dict[str, Any] | None = None) -> None:
        depth = rel.count("/")
        text = h.page(
            title=title,
            body=body,
            css=self.css,
            js=self.js,
            data=extra or {},
            depth=depth,
            version=__version__,
            source=self.data.top.name,
            generated=self.generated,
        )
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # A plain write, not atomic_write: a report is rebuilt from the repository at will,
        # and a thousand fsyncs took 8 of the 17 s of a 10,000-commit report.
        path.write_bytes(text.encode("utf-8"))
        self.pages.append(rel)

    def write_all(self) -> ReportSite:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / MARKER).write_bytes(b"gitprov report\n")
        data = self.data
        self.page("index.html", "Overview", report_pages.overview(data))
        nodes, total = self._lineage()
        self.page("decisions.html", "Decisions", report_pages.decisions_index(data.decisions))
        for view in data.decisions:
            d = view.record.decision
            text = view.record.path.read_text(encoding="utf-8")
            _, body = decision_model.split(text, source=view.record.path.name)
            self.page(
                report_pages.decision_href(d.id),
                f"Decision {d.id}: {d.title}",
                report_pages.decision_page(view, body),
            )
        for row in data.runs[:MAX_RUN_PAGES]:
            self.page(
                report_pages.run_href(row.view.id),
                f"Run {row.view.id}",
                report_pages.run_page(row),
            )
        for facts in data.checkpoints:
            self._checkpoint(facts)
        return ReportSite(
            self.out,
            tuple(self.pages),
            len(data.runs),
            len(data.checkpoints),
            len(data.decisions),
            nodes,
            total,
        )

    def _lineage(self) -> tuple[int, int]:
        index = self.data.index
        if index is None or not (index.graph.runs or index.graph.artifacts):
            body = '<p class="empty">No run or tracked artifact in this history yet.</p>'
            self.page("lineage.html", "Lineage", body)
            return 0, 0
        drawing = report_graph.draw(
            index.graph, label="Lineage of the whole history", links=self.links, up=""
        )
        intro = (
            "<p>Datasets on the left, what was made from them to the right. Runs read the "
            "artifacts on their left and wrote those on their right.</p>"
        )
        self.page(
            "lineage.html",
            "Lineage",
            intro + report_graph.section(drawing),
            {"records": drawing.records},
        )
        return drawing.nodes, drawing.total

    def _checkpoint(self, facts: CheckpointFacts) -> None:
        index = self.data.index
        graph = report_graph.upstream_of(index, facts.digest) if index and facts.digest else None
        extra: dict[str, Any] = {}
        if graph is None:
            section = '<p class="empty">This version has no lineage in the history.</p>'
        else:
            drawing = report_graph.draw(
                graph, label=f"Upstream lineage of {facts.path}", links=self.links, up="../"
            )
            section = report_graph.section(drawing)
            extra = {"records": drawing.records, "focus": facts.digest}
        self.page(
            report_pages.checkpoint_href(facts.path),
            f"Checkpoint {facts.path}",
            report_checkpoint.body(facts, section),
            extra,
        )
