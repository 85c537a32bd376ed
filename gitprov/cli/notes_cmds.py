"""``gitprov notes rebuild`` and ``gitprov notes reattach``: repair per-commit lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json


@handles_errors
def rebuild(
    revisions: Annotated[
        list[str] | None,
        typer.Argument(help="Commits or a range, as for git log (default: HEAD's history)."),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Write lineage records for commits that have none, from what their trees say.

    For history made before 'gitprov init' or with hooks skipped. The checklist state of
    a rebuilt record is 'unknown'. Commits that have a record are left alone.
    """
    from gitprov.services import lineage_repair

    report = lineage_repair.rebuild(cwd=Path.cwd(), rev_args=revisions or ["HEAD"])
    if json_output:
        print_json({"recorded": report.recorded, "already": report.already})
        return
    typer.echo(f"recorded {len(report.recorded)} commit(s); {report.already} already had a record")


@handles_errors
def reattach(
    revisions: Annotated[
        list[str], typer.Argument(help="The merged commits, e.g. origin/main~5..origin/main.")
    ],
    json_output: JsonOutput = False,
) -> None:
    """Carry the notes of squash- or rebase-merged commits to the commits that replaced them.

    A rebase merge is matched by patch-id, a squash merge by the runs its commits record
    (their Gitprov-Run trailers land in the squash message). Meant for CI after a merge.
    Exits 1 when a commit in the range still has no record.
    """
    from gitprov.services import lineage_repair

    report = lineage_repair.reattach(cwd=Path.cwd(), rev_args=revisions)
    if json_output:
        print_json(
            {
                "reattached": [
                    {"commit": r.commit, "origins": list(r.origins), "how": r.how}
                    for r in report.reattached
                ],
                "unmatched": report.unmatched,
            }
        )
    else:
        for r in report.reattached:
            typer.echo(f"{r.commit[:12]} <- {', '.join(o[:12] for o in r.origins)} ({r.how})")
        for commit in report.unmatched:
            typer.echo(f"{commit[:12]}: no original found; 'gitprov notes rebuild' can add one")
        typer.echo(f"reattached {len(report.reattached)} commit(s)")
    if report.unmatched:
        raise typer.Exit(1)
