"""Lineage commands: ``log`` (every commit with its lineage) and ``lineage`` (the graph).

Both stream or render what their service returns; warnings about bad records go to
stderr as they are met, and the output goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shlex
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.errors import ExitCode, UsageError
from gitprov.model import digest as digests
from gitprov.model.runrecord import ArtifactRef

if TYPE_CHECKING:  # the services themselves load when a command runs
    from gitprov.model.deprecation import DeprecatedUse
    from gitprov.model.lineage_graph import ArtifactNode, RunNode
    from gitprov.services.lineage import LineageResult
    from gitprov.services.lineage_log import LogEntry, RunView


def _warn(message: str) -> None:
    typer.echo(f"gitprov: warning: {message}", err=True)


def _warn_deprecated(uses: tuple[DeprecatedUse, ...]) -> None:
    if not uses:
        return
    from gitprov.model.deprecation import describe

    today = datetime.now(UTC).date()
    for use in uses:
        _warn(describe(use, today=today))


def _ident(digest: str | None, kind: str) -> str:
    if digest is None:
        return "-"
    if kind == "dataset" and digests.is_digest(digest):
        return digests.snapshot_id(digest)
    return digests.short(digest) if digests.is_digest(digest) else digest


def _ref(ref: ArtifactRef) -> str:
    return f"{ref.path}  {ref.kind}  {_ident(ref.digest, ref.kind)}"


_CHANGE_MARK = {"added": "+", "modified": "~", "deleted": "-"}


def _run_lines(run: RunView) -> list[str]:
    if not run.found:
        return [f"    run {run.id}  (record not readable in this commit)"]
    status = "" if run.exit_code == 0 else f"  (exit {run.exit_code})"
    lines = [f"    run {run.id}  {shlex.join(run.argv)}{status}"]
    if run.params:
        lines.append("        params   " + " ".join(f"{k}={v}" for k, v in run.params.items()))
    if run.seeds:
        lines.append("        seeds    " + " ".join(run.seeds))
    lines += [f"        input    {_ref(r)}" for r in run.inputs]
    lines += [f"        output   {_ref(r)}" for r in run.outputs]
    if run.env_summary:
        lines.append(f"        env      {run.env_summary}")
    return lines


def render_entry(entry: LogEntry) -> str:
    """One commit of ``gitprov log`` as text (several lines, a blank line after)."""
    lines = [
        f"commit {entry.commit}",
        f"Author: {entry.author} <{entry.email}>",
        f"Date:   {entry.date}",
        "",
        f"    {entry.subject}",
    ]
    if entry.record is None:
        why = "no lineage record"
        if entry.copied_from:
            names = ", ".join(c[:12] for c in entry.copied_from)
            why += f"; ignored the record copied from rewritten commit {names}"
        if entry.runs_from_tree:
            why += "; runs read from the tree"
        lines.append(f"    ({why})")
    lines += [line for run in entry.runs for line in _run_lines(run)]
    for change in entry.artifacts:
        mark = _CHANGE_MARK.get(change.change, "?")
        ident = _ident(change.digest, change.kind)
        lines.append(f"    artifact {mark} {change.path}  {change.kind}  {ident}")
    if entry.decisions:
        lines.append("    decisions " + ", ".join(entry.decisions))
    if entry.env_summary and all(run.env != entry.env for run in entry.runs):
        lines.append(f"    env      {entry.env_summary}")
    if entry.checklist:
        lines.append(f"    checklist {entry.checklist}")
    if entry.other_records:
        counts: dict[str, int] = {}
        for record in entry.other_records:
            kind = str(record.get("type"))
            counts[kind] = counts.get(kind, 0) + 1
        lines.append("    notes    " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return "\n".join(lines) + "\n\n"


def _json_default(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _write(out: Any, chunks: Iterator[str]) -> None:
    """Write ``chunks`` to ``out``; a reader that went away (``| head``) ends it quietly."""
    try:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at nowhere.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        raise typer.Exit(int(ExitCode.OK)) from None


def _text_chunks(entries: Iterator[LogEntry]) -> Iterator[str]:
    for entry in entries:
        for warning in entry.warnings:
            _warn(warning)
        _warn_deprecated(entry.deprecations)
        yield render_entry(entry)


def _json_chunks(entries: Iterator[LogEntry]) -> Iterator[str]:
    yield "["
    for number, entry in enumerate(entries):
        for warning in entry.warnings:
            _warn(warning)
        _warn_deprecated(entry.deprecations)
        text = json.dumps(entry, default=_json_default, indent=2, sort_keys=True)
        yield ("\n" if number == 0 else ",\n") + text
    yield "\n]\n"


@handles_errors
def log(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="REV-RANGE|PATH",
            help="A revision or range (A..B, A...B; default HEAD), then paths: only commits "
            "that change them (a path matches its .gitprov pointer). As in git, a name "
            "that is both a revision and a path is refused: write ./PATH for the path.",
            show_default=False,
        ),
    ] = None,
    lineage: Annotated[
        bool,
        typer.Option(
            "--lineage",
            help="Show each commit's lineage (the default, and the only mode: accepted so "
            "that 'gitprov log --lineage' reads as documented).",
            show_default=False,
        ),
    ] = True,
    max_count: Annotated[
        int | None,
        typer.Option("--max-count", "-n", min=1, help="Show at most this many commits."),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Every commit with its lineage, newest first, like 'git log'.

    For each commit: its runs (command, parameters, seeds, inputs with dataset snapshot
    IDs, outputs, environment), the artifacts it changed, the decisions it references
    and the release checklist state, from its lineage note. Commits without a record say
    so. A malformed record is a warning on stderr; the log goes on.
    """
    del lineage  # always on: see the option's help
    from gitprov.services import lineage_log

    entries = lineage_log.log(cwd=Path.cwd(), args=args or [], max_count=max_count)
    chunks = _json_chunks(entries) if json_output else _text_chunks(entries)
    _write(sys.stdout, chunks)


# --- gitprov lineage ----------------------------------------------------------------------

Format = Literal["text", "json", "mermaid", "dot", "prov-json", "intoto", "openlineage"]


def _artifact_line(node: ArtifactNode) -> str:
    commit = f"  (commit {node.commit[:12]})" if node.commit else ""
    return f"{node.kind} {node.path}  {_ident(node.digest, node.kind)}{commit}"


def _run_line(run: RunNode) -> str:
    details = [f"commit {run.commit[:12]}"] if run.commit else []
    if run.seeds:
        details.append("seed " + " ".join(run.seeds))
    if run.decisions:
        details.append("decisions " + " ".join(run.decisions))
    extra = f"  ({', '.join(details)})" if details else ""
    return f"run {run.id}  {shlex.join(run.argv)}{extra}"


def render_tree(result: LineageResult) -> str:
    """The graph as an indented tree from the target: upstream, each artifact's producing
    runs and each run's inputs; downstream, consumers and outputs. A node met again is
    marked "(see above)" and not expanded twice (so cycles end)."""
    graph = result.graph
    upstream = graph.direction == "upstream"
    children: dict[str, list[str]] = {}
    for edge in graph.edges:
        if (edge.role == "output") == upstream:  # artifact -> the run on its far side
            children.setdefault(edge.artifact, []).append(edge.run)
        else:  # run -> the artifact on its far side
            children.setdefault(edge.run, []).append(edge.artifact)

    def order(node: str) -> tuple[str, str]:
        if node in graph.runs:
            return (graph.runs[node].started_at or "", node)
        return (graph.artifacts[node].path, node)

    def label(node: str) -> str:
        if node in graph.runs:
            return _run_line(graph.runs[node])
        return _artifact_line(graph.artifacts[node])

    lines: list[str] = []
    shown: set[str] = set()

    def visit(node: str, prefix: str, branch: str, rest: str) -> None:
        note = ""
        if node in shown:
            note = "  (see above)"
        elif node in result.truncated:
            note = "  ... (more beyond --depth)"
        lines.append(f"{prefix}{branch}{label(node)}{note}")
        if node in shown:
            return
        shown.add(node)
        kids = sorted(set(children.get(node, [])) - {node}, key=order)
        for number, kid in enumerate(kids):
            last = number == len(kids) - 1
            visit(kid, prefix + rest, "└── " if last else "├── ", "    " if last else "│   ")

    visit(result.target, "", "", "")
    if result.target in graph.runs:  # the run's other side, which the tree does not show
        role, verb = ("output", "wrote") if upstream else ("input", "read")
        names = sorted(
            {
                graph.artifacts[e.artifact].path
                for e in graph.edges
                if e.run == result.target and e.role == role
            }
        )
        if names:
            lines.insert(1, f"    ({verb} {', '.join(names)})")
    return "\n".join(lines) + "\n"


@handles_errors
def lineage(
    target: Annotated[
        str,
        typer.Argument(
            help="A path or path@REV (the version its pointer names there), a digest "
            "(sha256:..., a unique prefix, ds:..., md5:...) or a run (run:ID, dvc:STAGE).",
            show_default=False,
        ),
    ],
    downstream: Annotated[
        bool,
        typer.Option(
            "--downstream",
            help="Everything made from TARGET, instead of what TARGET was made from.",
        ),
    ] = False,
    depth: Annotated[
        int | None,
        typer.Option("--depth", min=1, help="Follow at most N runs away from TARGET."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="REV", help="Read the history of this commit (default HEAD)."),
    ] = None,
    fmt: Annotated[
        Format,
        typer.Option("--format", "-f", help="text: an indented tree; the others: docs/exports.md."),
    ] = "text",
    json_output: JsonOutput = False,
) -> None:
    """The lineage graph of a checkpoint, dataset or run, across commits.

    Upstream (the default): the runs that made TARGET and what they read, back to the
    roots. Downstream: every run that read TARGET and what they wrote, to the leaves.
    Built from committed run records, pointers and dvc.lock files (DVC stages are runs).
    """
    if json_output and fmt not in ("text", "json"):
        raise UsageError(f"--json and --format {fmt} disagree", "Pass one of them")
    from gitprov.services import lineage as lineage_service

    direction: Literal["upstream", "downstream"] = "downstream" if downstream else "upstream"
    result = lineage_service.lineage(
        cwd=Path.cwd(), target=target, direction=direction, depth=depth, at=at, deprecations=True
    )
    for warning in result.warnings:
        _warn(warning)
    _warn_deprecated(result.deprecated)
    chosen = "json" if json_output else fmt
    if chosen == "text":
        _write(sys.stdout, iter([render_tree(result)]))
        return
    from gitprov import __version__
    from gitprov.model import exports

    context = exports.ExportContext(
        repository=result.repository, commit=result.at, version=__version__, now=datetime.now(UTC)
    )
    _write(sys.stdout, iter([exports.render(result.graph, context, chosen)]))
