"""Queries on the decision log: filtered lists, one decision with everything it links
to, and the graph of supersede chains and links.

Records are read from the work tree's ``decisions/``; what they link to (commit
subjects, runs with their command, parameters and metrics, artifacts with their kind)
is read from the history of HEAD. A link that history does not have is shown as
missing, not an error: the record may come from a branch not merged yet.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from gitprov.adapters import git
from gitprov.adapters.history import History
from gitprov.errors import UsageError
from gitprov.model import decision as decision_model
from gitprov.model.exports.decision_graph import DecisionGraph, DecisionNode
from gitprov.services import decisions, lineage, workspace
from gitprov.services.decisions import Record


def _since(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise UsageError(f"--since {text!r} is not a date", "Write it as YYYY-MM-DD") from None


def _split_artifact(link: str) -> tuple[str, str]:
    path, _, digest = link.rpartition("@")
    return (path, digest) if path else (link, "")


def _matches_artifact(record: Record, wanted: str, top: Path, cwd: Path) -> bool:
    rel = posixpath.normpath(Path(cwd, wanted).resolve().relative_to(top.resolve()).as_posix())
    for link in record.decision.links.get("artifacts", ()):
        path, digest = _split_artifact(link)
        if wanted in (link, path, digest) or path == rel:
            return True
        if wanted.startswith("ds:") and digest.startswith("sha256:" + wanted[3:]):
            return True
        if len(wanted) >= 13 and digest.startswith(wanted):  # sha256: + 6 hex digits
            return True
    return False


def list_records(
    *,
    cwd: Path,
    status: str | None = None,
    since: str | None = None,
    grep: str | None = None,
    artifact: str | None = None,
) -> list[Record]:
    """The records that pass every filter given: status; created on or after ``since``
    (YYYY-MM-DD); ``grep`` in the title or body (case-insensitive); linked to
    ``artifact`` (a path, a ``path@digest`` link, a digest or a prefix of one)."""
    start = _since(since) if since is not None else None
    found = decisions.list_records(cwd=cwd, status=status)
    top = workspace.open_workspace(cwd).top
    if start is not None:
        found = [r for r in found if r.decision.created[:10] >= start]
    if grep:
        needle = grep.casefold()
        kept = []
        for r in found:
            _, body = decision_model.split(r.path.read_bytes().decode("utf-8"), source=r.path.name)
            if needle in r.decision.title.casefold() or needle in body.casefold():
                kept.append(r)
        found = kept
    if artifact:
        try:
            found = [r for r in found if _matches_artifact(r, artifact, top, cwd)]
        except ValueError:  # a path outside the work tree: no record links to it
            found = [r for r in found if artifact in r.decision.links.get("artifacts", ())]
    return found


@dataclass(frozen=True)
class DecisionView:
    """One decision and everything it links to (``None`` where history lacks it)."""

    record: Record
    commits: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)  # supersede chain, oldest first
    outcome: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = self.record.decision
        return {
            "id": d.id,
            "title": d.title,
            "status": d.status,
            "created": d.created,
            "authors": list(d.authors),
            "supersedes": list(d.supersedes),
            "superseded_by": list(d.superseded_by),
            "metrics": [{"name": n, "expect": e} for n, e in d.metrics],
            "links": {k: list(v) for k, v in d.links.items()},
            "commits": self.commits,
            "runs": self.runs,
            "artifacts": self.artifacts,
            "chain": self.chain,
            "outcome": dict(self.outcome),
        }


def _chain(by_id: Mapping[str, Record], ident: str) -> list[str]:
    """The supersede chain through ``ident``: what it replaced, back to the first, then
    what replaced it, to the last (first link of each, cycles cut)."""
    back: list[str] = []
    current = ident
    while (r := by_id.get(current)) and r.decision.supersedes and current not in back:
        back.append(current)
        current = r.decision.supersedes[0]
    chain = [current, *reversed(back)] if back else [ident]
    current = ident
    while (r := by_id.get(current)) and r.decision.superseded_by:
        current = r.decision.superseded_by[0]
        if current in chain:
            break
        chain.append(current)
    return chain


def show(*, cwd: Path, ident: str) -> DecisionView:
    """Decision ``ident`` with its linked commits (subject), runs (command, params,
    metrics), artifacts (kind, digest), supersede chain and recorded outcome."""
    ws = workspace.open_workspace(cwd)
    record = decisions.find(ws.top, ident)
    d = record.decision
    _, doc, _ = decision_model.parse(
        record.path.read_bytes().decode("utf-8"), source=ws.display(record.path)
    )
    history = History(ws.top)
    commits = []
    for commit in d.links.get("commits", ()):
        found = git.resolve_commit(ws.top, commit)
        subject = history.commit_message(found).split("\n", 1)[0] if found else None
        commits.append({"commit": commit, "subject": subject, "found": found is not None})
    graph = lineage.full_graph(cwd=ws.top).graph if history.has_commits() else None
    runs = []
    for run_id in d.links.get("runs", ()):
        node = graph.runs.get(run_id) if graph else None
        runs.append(
            {
                "id": run_id,
                "found": node is not None,
                "argv": list(node.argv) if node else [],
                "params": dict(node.params) if node else {},
                "metrics": dict(node.metrics) if node else {},
                "commit": node.commit if node else None,
            }
        )
    artifacts = []
    for link in d.links.get("artifacts", ()):
        path, digest = _split_artifact(link)
        art = graph.artifacts.get(digest) if graph else None
        kind = art.kind if art else None
        artifacts.append({"path": path, "digest": digest, "kind": kind, "found": art is not None})
    by_id = {r.decision.id: r for r in decisions.records(ws.top)}
    outcome = doc.unwrap().get("outcome", {})
    return DecisionView(
        record,
        commits,
        runs,
        artifacts,
        _chain(by_id, d.id),
        outcome if isinstance(outcome, dict) else {},
    )


def graph(*, cwd: Path) -> DecisionGraph:
    """Every decision with its supersede links and its links to commits, runs, artifacts."""
    ws = workspace.open_workspace(cwd)
    nodes = [
        DecisionNode(
            id=r.decision.id,
            title=r.decision.title,
            status=r.decision.status,
            supersedes=r.decision.supersedes,
            commits=r.decision.links.get("commits", ()),
            runs=r.decision.links.get("runs", ()),
            artifacts=r.decision.links.get("artifacts", ()),
        )
        for r in decisions.records(ws.top)
    ]
    return DecisionGraph(nodes)
