"""Linking decision records to what they are about, and recording their outcome.

``link`` checks every target before writing anything, then adds it to the record's
``[links]`` table (through ``services.decisions.rewrite``: comments, body and line ends
kept):

- a commit is stored as its full hash (it must exist in this repository);
- a run as its ULID (it must be in the history of HEAD: ``lineage.find_run``);
- an artifact as ``path@digest``: a tracked path with the digest its pointer names now,
  or a digest (``sha256:...``, a unique prefix, ``ds:...``) known to the history of HEAD,
  with the path it was tracked at.

A value that cannot be a target is a usage error (exit 2); a well-formed one that names
nothing is a gitprov error (exit 1). ``outcome`` computes the measured effect by the rule
in ``model.decision_outcome`` and writes the ``[outcome]`` table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitprov.adapters import git
from gitprov.adapters.fs import atomic_write
from gitprov.adapters.history import History
from gitprov.errors import GitprovError, UsageError
from gitprov.model import decision_outcome as outcomes
from gitprov.model import digest as digests
from gitprov.model.decision_outcome import MetricOutcome, RunInfo
from gitprov.model.notes import CROCKFORD, ULID_LENGTH
from gitprov.services import decisions, lineage, workspace
from gitprov.services.decisions import Record

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

LINK_KINDS = ("commits", "runs", "artifacts")
_RUN = re.compile(rf"[{CROCKFORD}]{{6,{ULID_LENGTH}}}")
_DIGEST = re.compile(r"(sha256:|ds:)[0-9a-f]{6,64}")


class LinkTargetNotFound(GitprovError):
    """A well-formed link target that names nothing in this repository (exit 1)."""


@dataclass(frozen=True)
class Linked:
    record: Record
    added: Mapping[str, tuple[str, ...]]  # kind -> the values added (already there: left out)


@dataclass(frozen=True)
class Outcome:
    record: Record
    metrics: tuple[MetricOutcome, ...]
    body_changed: bool


def _commit(top: Path, rev: str) -> str:
    if not rev.strip() or rev.startswith("-") or any(not c.isprintable() for c in rev):
        raise UsageError(f"--commit {rev!r} is not a revision", "Give a commit hash, tag or branch")
    commit = git.resolve_commit(top, rev)
    if commit is None:
        raise LinkTargetNotFound(
            f"--commit {rev}: no such commit in this repository",
            "Check it with 'git log' (fetch it first if it is on another clone)",
        )
    return commit


def _run(top: Path, run: str) -> str:
    ident = run.removeprefix("run:").upper()
    if not _RUN.fullmatch(ident):
        raise UsageError(
            f"--run {run!r} is not a run id",
            "Give the ULID (or 6+ of its first characters) that 'gitprov log' lists",
        )
    try:
        record, _ = lineage.find_run(cwd=top, run=ident)
    except lineage.LineageTargetError as exc:  # well formed: it names no single run
        raise LinkTargetNotFound(f"--run {run}: {exc.problem}", exc.fix) from None
    return record.id


def _artifact(ws: workspace.Workspace, cwd: Path, target: str) -> str:
    if target.startswith((digests.PREFIX, "ds:")):
        if not _DIGEST.fullmatch(target):
            raise UsageError(
                f"--artifact {target!r} is not a digest",
                "Write sha256:<hex> (6+ digits), ds:<12 hex>, or a tracked path",
            )
        history = History(ws.top)
        index = lineage.build_index(history, [history.resolve("HEAD")])
        try:
            digest = lineage.resolve_target(history, index, cwd, target, at="HEAD")
        except lineage.LineageTargetError as exc:
            raise LinkTargetNotFound(f"--artifact {target}: {exc.problem}", exc.fix) from None
        return f"{index.graph.artifacts[digest].path}@{digest}"
    (tracked,) = workspace.find(ws, cwd, [target])  # exit 2 outside the work tree, 1 untracked
    return f"{ws.display(tracked.artifact)}@{tracked.pointer.digest}"


def _set_links(doc: TOMLDocument, links: Mapping[str, list[str]]) -> None:
    import tomlkit  # noqa: PLC0415

    table = doc.get("links")
    if table is None:
        table = tomlkit.table()
        doc["links"] = table
    for kind, values in links.items():
        items = tomlkit.array()
        items.extend(values)
        table[kind] = items


def link(
    *,
    cwd: Path,
    ident: str,
    commits: Sequence[str] = (),
    runs: Sequence[str] = (),
    artifacts: Sequence[str] = (),
) -> Linked:
    """Add links to decision ``ident``; every target is checked before anything is written."""
    if not (commits or runs or artifacts):
        raise UsageError(
            "nothing to link", "Give --commit REV, --run RUN or --artifact PATH|DIGEST"
        )
    ws = workspace.open_workspace(cwd)
    record = decisions.find(ws.top, ident)
    wanted = {
        "commits": [_commit(ws.top, c) for c in commits],
        "runs": [_run(ws.top, r) for r in runs],
        "artifacts": [_artifact(ws, cwd, a) for a in artifacts],
    }
    merged: dict[str, list[str]] = {}
    added: dict[str, tuple[str, ...]] = {}
    for kind in LINK_KINDS:
        have = list(record.decision.links.get(kind, ()))
        new = [v for v in dict.fromkeys(wanted[kind]) if v not in have]
        added[kind] = tuple(new)
        if new or kind in record.decision.links:
            merged[kind] = have + new

    def edit(doc: TOMLDocument, body: str) -> str:
        _set_links(doc, merged)
        return body

    updated, text = decisions.rewrite(record, ws.top, edit)
    atomic_write(record.path, text.encode("utf-8"))
    return Linked(updated, added)


def _runs(cwd: Path) -> dict[str, RunInfo]:
    """Every gitprov run in the history of HEAD, with the runs that wrote its input
    checkpoints (for the baseline rule)."""
    index = lineage.full_graph(cwd=cwd)
    graph = index.graph
    infos = {}
    for run in graph.runs.values():
        parents = tuple(
            sorted(
                {
                    producer.id
                    for artifact in graph.inputs_of(run.id)
                    if artifact.kind == "checkpoint"
                    for producer in graph.producers_of(artifact.digest)
                }
                - {run.id}
            )
        )
        infos[run.id] = RunInfo(run.id, run.started_at or "", run.metrics, parents)
    return infos


def outcome(
    *,
    cwd: Path,
    ident: str,
    overrides: Sequence[str] = (),
    actual: str | None = None,
    why: str | None = None,
) -> Outcome:
    """Record decision ``ident``'s measured outcome: ``[outcome]`` in its front matter and
    the planned-vs-actual text in its body (``model.decision_outcome`` has the rules)."""
    given: dict[str, float] = {}
    for text in overrides:
        parsed = outcomes.parse_override(text)
        if parsed is None:
            raise UsageError(
                f"--metric {text!r} is not NAME=NUMBER", "Write e.g. --metric val_loss=0.31"
            )
        given[parsed[0]] = parsed[1]
    ws = workspace.open_workspace(cwd)
    record = decisions.find(ws.top, ident)
    expected = dict(record.decision.metrics)
    unknown = sorted(set(given) - set(expected))
    if unknown:
        raise UsageError(
            f"--metric {unknown[0]} is not one of decision {record.decision.id}'s metrics "
            f"({', '.join(expected) or 'it names none'})",
            "Add it to 'metrics' in the record's front matter (name and expect), then retry",
        )
    linked = list(record.decision.links.get("runs", ()))
    runs = _runs(ws.top) if linked else {}
    missing = [r for r in linked if r not in runs]
    if missing:
        raise LinkTargetNotFound(
            f"decision {record.decision.id} links run {missing[0]}, which is not in the "
            "history of HEAD",
            "Check out or merge the branch that has it, or fix [links] runs",
        )
    results = outcomes.compute(record.decision.metrics, linked=linked, runs=runs, overrides=given)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    paragraph = outcomes.actual_text(actual, why)

    def edit(doc: TOMLDocument, body: str) -> str:
        import tomlkit  # noqa: PLC0415

        table = tomlkit.table()
        table["recorded"] = today
        entries = tomlkit.aot()
        for item in results:
            entries.append(item.to_toml())
        table["metrics"] = entries
        if "outcome" in doc:
            del doc["outcome"]
        doc["outcome"] = table
        return outcomes.add_to_body(body, paragraph, date=today)

    updated, text = decisions.rewrite(record, ws.top, edit)
    atomic_write(record.path, text.encode("utf-8"))
    return Outcome(updated, tuple(results), bool(paragraph))
