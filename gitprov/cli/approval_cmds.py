"""``gitprov approve`` and ``gitprov approvals``: signed approvals of checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json

CheckpointArg = Annotated[
    str, typer.Argument(metavar="CHECKPOINT", help="A tracked artifact (its path or pointer).")
]


@handles_errors
def approve(
    checkpoint: CheckpointArg,
    role: Annotated[
        str, typer.Option("--role", help="The role you approve in (.gitprov/owners.toml).")
    ],
    comment: Annotated[str, typer.Option("--comment", help="Why, or what you checked.")] = "",
    json_output: JsonOutput = False,
) -> None:
    """Approve CHECKPOINT's current digest in ROLE, signed with your git SSH key.

    The approval is a note record on HEAD, signed with git's user.signingkey
    (gpg.format ssh). ROLE and you must be in .gitprov/owners.toml.
    """
    from gitprov.services import approvals

    found = approvals.approve(cwd=Path.cwd(), checkpoint=checkpoint, role=role, comment=comment)
    if json_output:
        print_json(found)
        return
    typer.echo(
        f"approved {found.checkpoint} ({found.digest[:19]}) as {found.role}: "
        f"{found.approver}, signed, recorded on {found.commit[:12]}"
    )


@handles_errors
def approvals(checkpoint: CheckpointArg, json_output: JsonOutput = False) -> None:
    """List and verify the approvals of CHECKPOINT's current digest.

    Each is valid, tampered, unknown_key, outside_window or not_in_role, checked
    against .gitprov/allowed_signers at the record's time and .gitprov/owners.toml.
    """
    from gitprov.services import approvals as service

    verdicts = service.verified_approvals(Path.cwd(), checkpoint)
    if json_output:
        print_json(
            [
                {**vars(v.approval), "status": v.status, "valid": v.valid, "detail": v.detail}
                for v in verdicts
            ]
        )
        return
    if not verdicts:
        typer.echo(f"no approvals of {checkpoint} at its current digest")
        return
    for v in verdicts:
        a = v.approval
        line = f"{v.status:<14} {a.role:<16} {a.approver}  {a.at}  {v.detail}"
        typer.echo(line + (f"\n{'':<15}{a.comment}" if a.comment else ""))
