"""``gitprov check``: run the release checklist and show every check with its fix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json
from gitprov.errors import ExitCode, UsageError


@handles_errors
def check(
    checkpoints: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[CHECKPOINT]...",
            help="Checkpoints to check as they are in the work tree (any stage).",
        ),
    ] = None,
    staged: Annotated[
        bool,
        typer.Option(
            "--staged",
            help="Check the release-marked checkpoints the index changes (as committed).",
        ),
    ] = False,
    rev_range: Annotated[
        str | None,
        typer.Option(
            "--range",
            metavar="BASE..HEAD",
            help="Check, at each commit of the range, the release-marked checkpoints it changed.",
        ),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Run the release checklist (.gitprov/checklist.toml): every check with pass, fail,
    skip or waived, and the fix for each failure. Without arguments, every checkpoint
    whose pointer says stage = "release". Exits 1 when a check of severity 'error' fails."""
    from gitprov.model import checklist_render
    from gitprov.services import checklist

    chosen = sum(bool(x) for x in (checkpoints, staged, rev_range))
    if chosen > 1:
        raise UsageError(
            "CHECKPOINT, --staged and --range choose what to check: give only one",
            "Run 'gitprov check --help'",
        )
    reports = checklist.run(
        cwd=Path.cwd(), checkpoints=checkpoints or (), staged=staged, rev_range=rev_range
    )
    if json_output:
        print_json([r.to_json() for r in reports])
    else:
        if not reports:
            typer.echo(
                'nothing to check: no checkpoint is marked stage = "release" here '
                "(name checkpoints to check them anyway)",
                err=True,
            )
        for report in reports:
            typer.echo("\n".join(checklist_render.lines(report)))
    if any(not r.passed for r in reports):
        raise typer.Exit(int(ExitCode.FAILED))
