"""``gitprov card``: Hugging Face model cards pre-filled from lineage (new, sync, validate,
render)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json

card_app = typer.Typer(help="Model cards: Hugging Face cards that pin their lineage.")

CheckpointArg = Annotated[
    str, typer.Argument(metavar="CHECKPOINT", help="A tracked checkpoint (or its pointer).")
]


@card_app.command("new")
@handles_errors
def new(
    checkpoint: CheckpointArg,
    license: Annotated[
        str | None,
        typer.Option("--license", metavar="SPDX", help="The license's SPDX id, e.g. apache-2.0."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing card.")] = False,
) -> None:
    """Write CHECKPOINT's model card beside it, pre-filled from its lineage, and record
    it in the pointer's 'card' field."""
    from gitprov.services import cards

    card = cards.new(cwd=Path.cwd(), checkpoint=checkpoint, license=license, force=force)
    typer.echo(f"created {card.display}")
    if card.facts.run is None:
        typer.echo(
            f"{checkpoint} has no recorded run: lineage fields are empty "
            "(make it with 'gitprov run', then 'gitprov card sync')",
            err=True,
        )


@card_app.command("sync")
@handles_errors
def sync(checkpoint: CheckpointArg) -> None:
    """Refresh the card's gitprov block, datasets, base_model and model-index values from
    the current lineage; the Markdown body is left byte for byte as it is."""
    from gitprov.services import cards

    card, changed = cards.sync(cwd=Path.cwd(), checkpoint=checkpoint)
    typer.echo(f"{'updated' if changed else 'up to date:'} {card.display}")


@card_app.command("validate")
@handles_errors
def validate(checkpoint: CheckpointArg, json_output: JsonOutput = False) -> None:
    """Check the card: front matter parses, required keys are present, the gitprov block
    agrees with the pointer and the lineage. Lists the placeholders still to fill. Exits 1
    on problems (placeholders alone do not fail: the release checklist enforces them)."""
    from gitprov.services import cards

    report = cards.validate(cwd=Path.cwd(), checkpoint=checkpoint)
    if json_output:
        print_json(
            {
                "card": report.card.display,
                "ok": report.ok,
                "problems": [{"problem": p.problem, "fix": p.fix} for p in report.problems],
                "placeholders": [
                    {"line": line, "section": section} for line, section in report.placeholders
                ],
            }
        )
    else:
        for p in report.problems:
            typer.echo(f"error: {p.problem.rstrip('.')}. {p.fix}", err=True)
        for line, section in report.placeholders:
            typer.echo(f"{report.card.display}:{line}: placeholder left in '{section}'")
        if report.ok:
            typer.echo(f"{report.card.display}: consistent with the lineage")
    if not report.ok:
        raise typer.Exit(1)


@card_app.command("render")
@handles_errors
def render(
    checkpoint: CheckpointArg,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write here instead of stdout."),
    ] = None,
) -> None:
    """The card ready for the Hugging Face Hub (README.md of a model repository): the
    gitprov block is kept as its own front matter key. Refused while the card disagrees
    with the lineage."""
    from gitprov.adapters.fs import atomic_write
    from gitprov.services import cards

    text = cards.render(cwd=Path.cwd(), checkpoint=checkpoint)
    if output is None:
        sys.stdout.write(text)
        return
    atomic_write(output, text.encode("utf-8"))
    typer.echo(f"wrote {output}", err=True)
