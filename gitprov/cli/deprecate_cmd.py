"""``gitprov deprecate`` and ``gitprov deprecations``: retire a checkpoint, list the retired."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json
from gitprov.errors import UsageError
from gitprov.model import digest as digests

CheckpointArg = Annotated[
    str, typer.Argument(metavar="CHECKPOINT", help="A tracked checkpoint (its path or pointer).")
]


@handles_errors
def deprecate(
    checkpoint: CheckpointArg,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why it should no longer be used.")
    ] = None,
    superseded_by: Annotated[
        str | None,
        typer.Option(
            "--superseded-by", metavar="CHECKPOINT", help="The checkpoint to use instead."
        ),
    ] = None,
    sunset: Annotated[
        str | None,
        typer.Option("--sunset", metavar="YYYY-MM-DD", help="When it will be removed."),
    ] = None,
    undo: Annotated[
        bool, typer.Option("--undo", help="Take back the deprecations of CHECKPOINT.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Deprecate the current digest of CHECKPOINT: a note record on HEAD, and its model
    card marked (new_version, deprecated).

    gitprov lineage and gitprov log then warn wherever a run or a descendant still uses
    it. --undo retracts it (tombstone records) and unmarks the card.
    """
    from gitprov.services import deprecation as service

    if undo:
        if reason is not None or superseded_by is not None or sunset is not None:
            raise UsageError(
                "--undo takes no --reason, --superseded-by or --sunset",
                f"Run 'gitprov deprecate --undo {checkpoint}' alone",
            )
        undone = service.undeprecate(cwd=Path.cwd(), checkpoint=checkpoint)
        if json_output:
            print_json(undone)
            return
        for found in undone.retracted:
            typer.echo(f"retracted the deprecation of {found.checkpoint} from {found.day}")
        if undone.card:
            typer.echo(f"unmarked {undone.card}")
        return
    if reason is None:
        raise UsageError(
            "--reason is required", f"Run 'gitprov deprecate {checkpoint} --reason TEXT'"
        )
    done = service.deprecate(
        cwd=Path.cwd(),
        checkpoint=checkpoint,
        reason=reason,
        superseded_by=superseded_by,
        sunset=sunset,
    )
    if json_output:
        print_json(done)
        return
    found = done.deprecation
    short = digests.short(found.digest)
    line = f"deprecated {found.checkpoint} ({short}), recorded on {found.commit[:12]}"
    if found.superseded_by:
        line += f"; superseded by {found.superseded_by.path}"
    typer.echo(line)
    if found.sunset:
        when = "already past" if done.sunset_passed else "ahead"
        typer.echo(f"sunset {found.sunset} ({when})")
    if done.card:
        typer.echo(f"marked {done.card}")


@handles_errors
def deprecations(json_output: JsonOutput = False) -> None:
    """List the deprecated checkpoints (every deprecation in the notes not taken back)."""
    from gitprov.services import deprecation as service

    found = service.deprecations(cwd=Path.cwd())
    if json_output:
        print_json(found)
        return
    if not found:
        typer.echo("no deprecated checkpoints")
        return
    today = datetime.now(UTC).date().isoformat()
    for dep in found:
        extra = []
        if dep.sunset:
            extra.append(f"sunset {dep.sunset}" + (" (past)" if dep.sunset < today else ""))
        if dep.superseded_by:
            extra.append(f"superseded by {dep.superseded_by.path}")
        tail = f"  ({'; '.join(extra)})" if extra else ""
        typer.echo(f"{dep.checkpoint}  {digests.short(dep.digest)}  {dep.day}  {dep.by}{tail}")
        typer.echo(f"    {dep.reason}")
