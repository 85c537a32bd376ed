"""``gitprov run``: run a command and commit what it produced, with its lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json
from gitprov.model import digest as digests


@handles_errors
def run(
    command: Annotated[
        list[str], typer.Argument(help="The command and its arguments, after '--'.")
    ],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="A file or folder the command reads (repeatable)."),
    ] = None,
    outputs: Annotated[
        list[str] | None,
        typer.Option("--output", "-o", help="A file or folder the command writes (repeatable)."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A parameter KEY=VALUE, recorded as text (repeatable)."),
    ] = None,
    seed: Annotated[
        list[str] | None,
        typer.Option("--seed", help="A random seed, recorded as text (repeatable)."),
    ] = None,
    metrics: Annotated[
        list[str] | None,
        typer.Option("--metrics", help="A JSON file of metrics the command writes (repeatable)."),
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Commit message (default: the command).")
    ] = None,
    allow_dirty: Annotated[
        bool,
        typer.Option(
            "--allow-dirty", help="Run with uncommitted changes; a digest of the diff is recorded."
        ),
    ] = False,
    no_commit: Annotated[
        bool, typer.Option("--no-commit", help="Stage the record and pointers, do not commit.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Run a command and commit its outputs with a run record.

    Inputs are recorded by digest (an input not tracked yet is tracked first); outputs
    are tracked with produced_by = run:<id>. The record (.gitprov/runs/<id>.json) and the
    environment snapshot are committed with a 'Gitprov-Run: <id>' trailer. The command's
    output streams through and its exit code is gitprov's; a failed command records
    nothing.

    Example: gitprov run -i data -o model.pt -p lr=0.001 --seed 7 -- python train.py
    """
    from gitprov.services import runs

    cwd = Path.cwd()
    result = runs.run(
        cwd=cwd,
        argv=command,
        inputs=inputs or [],
        outputs=outputs or [],
        params=runs.parse_params(param or []),
        seeds=seed or [],
        metrics=metrics or [],
        message=message,
        allow_dirty=allow_dirty,
        commit=not no_commit,
        env_allow=runs.env_allow_from_config(cwd),
    )
    record = result.record
    if record is None:
        typer.echo(
            f"gitprov: the command failed (exit {result.exit_code}): nothing was recorded",
            err=True,
        )
        raise typer.Exit(result.exit_code)
    for warning in result.warnings:
        typer.echo(f"gitprov: warning: {warning}", err=True)
    if json_output:
        print_json(
            {
                "run": record.to_json(),
                "commit": result.commit,
                "staged": list(result.staged),
                "warnings": list(result.warnings),
            }
        )
        return
    typer.echo(f"run:{record.id}  {record.path}", err=True)
    for ref in record.outputs:
        ident = (
            digests.snapshot_id(ref.digest) if ref.kind == "dataset" else digests.short(ref.digest)
        )
        typer.echo(f"  produced {ref.path}  {ref.kind}  {ident}", err=True)
    if result.commit:
        typer.echo(
            f"committed {result.commit[:12]} with trailer Gitprov-Run: {record.id}", err=True
        )
    else:
        typer.echo(f"staged {', '.join(result.staged)} (not committed: --no-commit)", err=True)
