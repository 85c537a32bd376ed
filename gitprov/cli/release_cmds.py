"""``gitprov release`` and ``gitprov releases``: signed releases of checkpoints, as tags."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json
from gitprov.errors import ExitCode


@handles_errors
def release(
    checkpoint: Annotated[
        str, typer.Argument(metavar="CHECKPOINT", help="A tracked checkpoint (path or pointer).")
    ],
    version: Annotated[
        str, typer.Option("--version", help="The release version, SemVer: 1.0.0, 1.1.0-rc.1.")
    ],
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="First line of the tag message.")
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Release CHECKPOINT as committed at HEAD: a signed release record and a tag.

    The release checklist must pass, the checkpoint must be on an artifact remote and
    its pointer and card committed. The record (an in-toto verification summary,
    signed with the git user.signingkey) goes on the note of HEAD; the annotated tag
    (NAME-vVERSION by default; release.tag_format in .gitprov/config.toml) names it.
    """
    from gitprov.services import release as service

    made = service.release(cwd=Path.cwd(), checkpoint=checkpoint, version=version, message=message)
    if json_output:
        print_json({**vars(made.release), "remote": made.remote, "record": made.record})
        return
    r = made.release
    typer.echo(
        f"released {r.checkpoint} {r.version} ({r.digest[:19]}) as tag {r.tag} on "
        f"{r.commit[:12]}: checklist passed, on artifact remote '{made.remote}', "
        f"record {r.id} signed by {r.releaser}"
    )
    typer.echo(f"publish it with: git push origin {r.tag}")


@handles_errors
def releases(
    checkpoint: Annotated[
        str | None,
        typer.Argument(metavar="[CHECKPOINT]", help="Only the releases of this checkpoint."),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """List release tags, each verified against its signed release record.

    Each is valid, no_record, mismatch, not_passed, tampered, unknown_key or
    outside_window. Exits 1 when any listed release is not valid.
    """
    from gitprov.services import release_verify as service

    verdicts = service.releases(cwd=Path.cwd(), checkpoint=checkpoint)
    if json_output:
        print_json(
            [
                {
                    "tag": v.tag,
                    "commit": v.commit,
                    "record_id": v.record_id,
                    "status": v.status,
                    "valid": v.valid,
                    "detail": v.detail,
                    "release": v.release,
                }
                for v in verdicts
            ]
        )
    elif not verdicts:
        typer.echo("no release tags" + (f" for {checkpoint}" if checkpoint else ""))
    for v in [] if json_output else verdicts:
        version = v.release.version if v.release else "?"
        typer.echo(f"{v.status:<14} {v.tag:<24} {version:<12} {v.commit[:12]}  {v.detail}")
    if any(not v.valid for v in verdicts):
        raise typer.Exit(int(ExitCode.FAILED))
