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
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.errors import ExitCode
from gitprov.model import digest as digests
from gitprov.model.runrecord import ArtifactRef

if TYPE_CHECKING:  # the services themselves load when a command runs
    from gitprov.services.lineage_log import LogEntry, RunView


def _warn(message: str) -> None:
    typer.echo(f"gitprov: warning: {message}", err=True)


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
        yield render_entry(entry)


def _json_chunks(entries: Iterator[LogEntry]) -> Iterator[str]:
    yield "["
    for number, entry in enumerate(entries):
        for warning in entry.warnings:
            _warn(warning)
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


Format = Literal["text", "json", "mermaid", "dot", "prov-json", "intoto", "openlineage"]
