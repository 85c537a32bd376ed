"""``gitprov rerun``: re-execute a recorded run and say whether it reproduced."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json
from gitprov.errors import ExitCode
from gitprov.model import digest as digests

if TYPE_CHECKING:
    from gitprov.model.rerun_compare import MetricResult, OutputResult
    from gitprov.services.rerun import RerunPlan, RerunReport

_CONFIG = ".gitprov/config.toml"
MAX_ENV_CHANGES = 8  # lines of environment differences shown (--json has them all)


@handles_errors
def rerun(
    run_id: Annotated[
        str,
        typer.Argument(
            metavar="RUN-ID",
            help="The run: its ULID, run:<ULID>, or a unique prefix of at least 6 characters.",
        ),
    ],
    compare: Annotated[
        bool,
        typer.Option(
            "--compare/--no-compare",
            help="Compare outputs and metrics with the record (the default). --no-compare "
            "only re-executes; the exit code is then the command's.",
        ),
    ] = True,
    tolerance: Annotated[
        float | None,
        typer.Option(
            "--tolerance",
            min=0.0,
            help=f"Absolute tolerance for numeric metrics (overrides metric_abs_tol in {_CONFIG}).",
        ),
    ] = None,
    rel_tolerance: Annotated[
        float | None,
        typer.Option(
            "--rel-tolerance",
            min=0.0,
            help=f"Relative tolerance for numeric metrics (overrides metric_rel_tol in {_CONFIG}).",
        ),
    ] = None,
    keep: Annotated[
        bool,
        typer.Option("--keep", help="Keep the temporary worktree for inspection (path printed)."),
    ] = False,
    allow_dirty_record: Annotated[
        bool,
        typer.Option(
            "--allow-dirty-record",
            help="Rerun a run recorded on uncommitted changes, at its commit without them.",
        ),
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Re-execute a recorded run and check that it reproduces.

    The run's commit (code.head) is checked out into a temporary worktree, its inputs
    are placed at their recorded paths from the local cache (verified), and its command
    runs in its recorded folder. Then each output is identical (same digest), different
    or missing, and each metric (every leaf of its metrics files) is within tolerance or
    not: |now - recorded| <= max(abs, rel * |recorded|), exact by default. The worktree
    is removed afterwards, also on failure or Ctrl-C, unless --keep.

    Exit 0 when reproduced; 1 when not (an output differs, a metric is out of
    tolerance, the command failed) or on an error; 2 for a malformed or ambiguous
    run id.

    Example: gitprov rerun 01JD3Q --tolerance 0.005
    """
    from gitprov.services import rerun as service

    report = service.rerun(
        cwd=Path.cwd(),
        run_id=run_id,
        compare=compare,
        keep=keep,
        allow_dirty_record=allow_dirty_record,
        abs_tol=tolerance,
        rel_tol=rel_tolerance,
        on_start=_announce,
    )
    if json_output:
        print_json(report.to_json())
    else:
        _render(report, compare=compare)
    if report.kept:
        typer.echo(
            f"gitprov: kept the worktree {report.worktree} "
            f"(remove it with 'git worktree remove --force {report.worktree}')",
            err=True,
        )
    if report.exit_code == ExitCode.INTERRUPTED:
        typer.echo("gitprov: interrupted", err=True)
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if not compare:
        raise typer.Exit(report.exit_code)
    if not report.reproduced:
        raise typer.Exit(int(ExitCode.FAILED))


def _announce(plan: RerunPlan) -> None:
    typer.echo(
        f"gitprov: rerunning {plan.run} at {plan.commit[:12]} in {plan.cwd}: {' '.join(plan.argv)}",
        err=True,
    )


def _ident(digest: str | None, kind: str) -> str:
    if digest is None:
        return "(none)"
    return digests.snapshot_id(digest) if kind == "dataset" else digests.short(digest)


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)


def _output_line(out: OutputResult) -> str:
    if out.status == "identical":
        return f"identical  {out.path}  {_ident(out.recorded, out.kind)}"
    now = "not written by the rerun" if out.now is None else f"now {_ident(out.now, out.kind)}"
    return f"{out.status.ljust(9)}  {out.path}  recorded {_ident(out.recorded, out.kind)} {now}"


def _metric_line(metric: MetricResult) -> str:
    name = f"{metric.file}:{metric.key}" if metric.key else metric.file
    old, new = _value(metric.recorded), _value(metric.now)
    allowed = f"{metric.allowed:g}" if metric.allowed is not None else "?"
    verdict = {
        "within": f"within tolerance {allowed}",
        "outside": f"outside tolerance {allowed}",
        "missing": "missing from the rerun",
        "added": "new in the rerun (not recorded)",
    }.get(metric.status, metric.status)
    if metric.status == "missing":
        return f"metric     {name}  {old}  {verdict}"
    if metric.status == "added":
        return f"metric     {name}  {new}  {verdict}"
    return f"metric     {name}  {old} -> {new}  {verdict}"


def _render(report: RerunReport, *, compare: bool) -> None:
    for warning in report.warnings:
        typer.echo(f"gitprov: warning: {warning}", err=True)
    if report.exit_code != 0:
        failed = f"the command failed (exit {report.exit_code})"
        typer.echo(f"not reproduced: {failed}" if compare else failed)
        return
    if not compare:
        typer.echo(f"ran run:{report.run_id} again in {report.seconds:.1f} s (not compared)")
        return
    for out in report.outputs:
        typer.echo(_output_line(out))
    for metric in report.metrics:
        typer.echo(_metric_line(metric))
    env = report.environment
    if env is not None:
        if env.same:
            typer.echo(f"environment  same as recorded  {digests.short(env.recorded)}")
        else:
            shown = list(env.changes[:MAX_ENV_CHANGES])
            if len(env.changes) > MAX_ENV_CHANGES:
                shown.append(f"and {len(env.changes) - MAX_ENV_CHANGES} more (--json)")
            typer.echo(f"environment  differs from the recorded one: {'; '.join(shown)}")
    typer.echo(_verdict(report))


def _verdict(report: RerunReport) -> str:
    if report.reproduced:
        checked = sum(m.status != "added" for m in report.metrics)
        return (
            f"reproduced: {_plural(len(report.outputs), 'output')} identical, "
            f"{_plural(checked, 'metric')} within tolerance"
        )
    outputs = Counter(o.status for o in report.outputs if o.status != "identical")
    metrics = Counter(m.status for m in report.metrics if not m.ok)
    labels = {"outside": "outside tolerance", "different": "different", "missing": "missing"}
    parts = [f"{_plural(n, 'output')} {status}" for status, n in sorted(outputs.items())]
    parts += [f"{_plural(n, 'metric')} {labels[s]}" for s, n in sorted(metrics.items())]
    return "not reproduced: " + ", ".join(parts)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
