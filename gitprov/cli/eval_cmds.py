"""``gitprov eval``: evaluations of checkpoints with confidence intervals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json

if TYPE_CHECKING:
    from gitprov.model.eval_compare import Comparison
    from gitprov.model.eval_record import EvalRecord
    from gitprov.services.evals import Recorded, Settings

eval_app = typer.Typer(
    help="Evaluations of checkpoints, with confidence intervals (note records).",
    no_args_is_help=True,
)

CheckpointArg = Annotated[
    str, typer.Argument(metavar="CHECKPOINT", help="A tracked checkpoint (its path or pointer).")
]
DatasetOpt = Annotated[
    str,
    typer.Option("--dataset", help="The evaluation data: a tracked path, its digest, or ds:<hex>."),
]
SplitOpt = Annotated[str, typer.Option("--split", help="The split evaluated, e.g. test.")]
MetricOpt = Annotated[
    list[str] | None,
    typer.Option("--metric", help="A metric column to record (repeatable; default: all)."),
]
SliceOpt = Annotated[
    str | None,
    typer.Option("--slice", help="A column of the scores file to report per-value metrics by."),
]
CiOpt = Annotated[float, typer.Option("--ci", help="Confidence level of the intervals.")]
BootstrapOpt = Annotated[
    int, typer.Option("--bootstrap", help="Bootstrap resamples (for non-0/1 metrics).")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap (recorded).")]


def _settings(ci: float, bootstrap: int, seed: int) -> Settings:
    from gitprov.services.evals import Settings

    return Settings(level=ci, resamples=bootstrap, seed=seed)


def _show_recorded(recorded: Recorded, json_output: bool) -> None:
    for warning in recorded.warnings:
        typer.echo(f"gitprov: warning: {warning}", err=True)
    if json_output:
        print_json(recorded.record)
        return
    rec = recorded.record
    typer.echo(
        f"recorded evaluation {rec.id} of {rec.checkpoint} ({rec.digest[:19]}) on "
        f"{rec.dataset or rec.snapshot_id} ({rec.snapshot_id}"
        + (f", split {rec.split}" if rec.split else "")
        + f") on commit {rec.commit[:12]}"
    )
    _show_metrics(rec)


def _show_metrics(rec: EvalRecord, indent: str = "  ") -> None:
    from gitprov.model.eval_record import format_estimate

    width = max((len(n) for n in rec.metrics), default=0)
    for name, est in rec.metrics.items():
        typer.echo(f"{indent}{name:<{width}}  {format_estimate(est)}")
    for label, per in rec.slices.items():
        for name, est in per.items():
            typer.echo(f"{indent}{rec.slice_column}={label}  {name}  {format_estimate(est)}")


@eval_app.command("record")
@handles_errors
def record(
    checkpoint: CheckpointArg,
    dataset: DatasetOpt,
    scores: Annotated[
        str | None,
        typer.Option("--scores", help="Per-example results (JSONL or CSV): intervals computed."),
    ] = None,
    metrics: Annotated[
        str | None,
        typer.Option("--metrics", help="Aggregated values (JSON), with intervals if it has them."),
    ] = None,
    split: SplitOpt = "",
    metric: MetricOpt = None,
    slice_column: SliceOpt = None,
    ci: CiOpt = 0.95,
    bootstrap: BootstrapOpt = 1000,
    seed: SeedOpt = 0,
    by: Annotated[
        str, typer.Option("--by", help="The command that produced the scores (recorded).")
    ] = "",
    env: Annotated[
        str | None,
        typer.Option("--env", help="The environment snapshot id the scores came from."),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Record an evaluation of CHECKPOINT as a note on the commit that holds it.

    With --scores, each metric's mean gets an interval: Wilson for 0/1 metrics, the
    percentile bootstrap (seeded) otherwise. Example:
    gitprov eval record models/m.pt --dataset data/test --split test --scores scores.jsonl
    """
    from gitprov.services import evals

    recorded = evals.record(
        cwd=Path.cwd(),
        checkpoint=checkpoint,
        dataset=dataset,
        split=split,
        scores_file=scores,
        metrics_file=metrics,
        metric_names=metric or [],
        slice_column=slice_column,
        settings=_settings(ci, bootstrap, seed),
        by=by,
        env=env,
    )
    _show_recorded(recorded, json_output)


@handles_errors
def run(
    checkpoint: CheckpointArg,
    command: Annotated[
        list[str], typer.Argument(help="The evaluation command and its arguments, after '--'.")
    ],
    dataset: DatasetOpt,
    scores: Annotated[
        str, typer.Option("--scores", help="The per-example results file the command writes.")
    ],
    split: SplitOpt = "",
    metric: MetricOpt = None,
    slice_column: SliceOpt = None,
    ci: CiOpt = 0.95,
    bootstrap: BootstrapOpt = 1000,
    seed: SeedOpt = 0,
    allow_dirty: Annotated[
        bool,
        typer.Option(
            "--allow-dirty", help="Run with uncommitted changes; a digest of the diff is recorded."
        ),
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Run an evaluation command that writes a scores file, then record it.

    The same rules as 'gitprov run': a dirty work tree is refused (--allow-dirty records
    a diff digest), the environment is captured, a failed command records nothing.
    Example: gitprov eval run models/m.pt --dataset data/test --scores s.jsonl -- python eval.py
    """
    from gitprov.services import evals, runs

    cwd = Path.cwd()
    result = evals.run(
        cwd=cwd,
        checkpoint=checkpoint,
        dataset=dataset,
        argv=command,
        scores_file=scores,
        split=split,
        metric_names=metric or [],
        slice_column=slice_column,
        settings=_settings(ci, bootstrap, seed),
        allow_dirty=allow_dirty,
        env_allow=runs.env_allow_from_config(cwd),
    )
    if result.recorded is None:
        typer.echo(
            f"gitprov: the command exited with {result.exit_code}; nothing was recorded", err=True
        )
        raise typer.Exit(result.exit_code)
    _show_recorded(result.recorded, json_output)


# Everything after '--' is the command's, its options included (click's rule), so the
# options of 'eval run' may come before or after CHECKPOINT, as the other commands' do.
eval_app.command("run")(run)


@eval_app.command("list")
@handles_errors
def list_(
    checkpoint: Annotated[
        str | None,
        typer.Argument(metavar="[CHECKPOINT]", help="Only this checkpoint's current digest."),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """List evaluations (of CHECKPOINT's current digest, or of every checkpoint)."""
    from gitprov.services import evals

    found = evals.list_evals(cwd=Path.cwd(), checkpoint=checkpoint)
    if json_output:
        print_json(found)
        return
    if not found:
        typer.echo(
            "no evaluations" + (f" of {checkpoint} at its current digest" if checkpoint else "")
        )
        return
    for rec in found:
        split = f"/{rec.split}" if rec.split else ""
        typer.echo(
            f"{rec.id}  {rec.at}  {rec.checkpoint} ({rec.digest[7:19]})  "
            f"{rec.dataset or '-'} {rec.snapshot_id}{split}"
        )
        _show_metrics(rec)


def _show_comparison(result: Comparison) -> None:
    from gitprov.model.eval_record import format_estimate

    for label, rec in (("A", result.a), ("B", result.b)):
        split = f"/{rec.split}" if rec.split else ""
        typer.echo(
            f"{label}: {rec.checkpoint} ({rec.digest[7:19]}) eval {rec.id} on "
            f"{rec.dataset or rec.snapshot_id} {rec.snapshot_id}{split}"
        )
    for m in result.metrics:
        verdict = {True: "significant", False: "not significant", None: "unknown"}[m.significant]
        typer.echo(f"{m.metric}:")
        typer.echo(f"  A      {format_estimate(m.a)}")
        typer.echo(f"  B      {format_estimate(m.b)}")
        delta = f"  delta  {m.delta:+.4f}"
        if m.paired is not None:
            p = m.paired
            delta += f" [{p.ci_low:+.4f}, {p.ci_high:+.4f}] {p.ci_level * 100:g}% p={p.p_value:.3g}"
        typer.echo(f"{delta}  {verdict} ({m.method}: {m.why})")
    for label, names in (("A", result.only_a), ("B", result.only_b)):
        if names:
            typer.echo(f"only in {label}: {', '.join(names)}")


@eval_app.command("compare")
@handles_errors
def compare(
    a: Annotated[str, typer.Argument(metavar="A", help="Checkpoint (path, path@rev) or eval id.")],
    b: Annotated[str, typer.Argument(metavar="B", help="Checkpoint (path, path@rev) or eval id.")],
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only evaluations on this dataset.")
    ] = None,
    ci: CiOpt = 0.95,
    bootstrap: BootstrapOpt = 1000,
    seed: SeedOpt = 0,
    json_output: JsonOutput = False,
) -> None:
    """Compare two evaluations: per metric, both intervals, B - A, and its significance.

    Paired bootstrap on the examples both scored when both kept per-example scores with
    ids on the same dataset snapshot; otherwise interval overlap. The method is shown.
    """
    from gitprov.services import eval_comparison

    result = eval_comparison.compare(
        cwd=Path.cwd(), a=a, b=b, dataset=dataset, settings=_settings(ci, bootstrap, seed)
    )
    for warning in result.warnings:
        typer.echo(f"gitprov: warning: {warning}", err=True)
    if json_output:
        print_json(result)
        return
    _show_comparison(result)
