"""``gitprov report``: the provenance of a repository as a static HTML site."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json


@handles_errors
def report(
    rev_range: Annotated[
        str | None,
        typer.Argument(
            metavar="[REV-RANGE]",
            help="The commits whose runs and artifact versions to show (default: all of HEAD).",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="The folder to write (new, empty, or a previous report)."),
    ] = Path("gitprov-report"),
    open_it: Annotated[
        bool, typer.Option("--open", help="Open the overview in the default web browser.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Write a self-contained HTML site: overview of runs and artifacts, an interactive
    lineage graph, and a page per checkpoint, decision and run.

    Nothing in it is fetched from a network when it is viewed: open OUT/index.html from
    disk, or publish the folder as a CI artifact (docs/report.md).
    """
    from gitprov.services import report as service

    site = service.write_report(cwd=Path.cwd(), out=out, rev_range=rev_range)
    if json_output:
        print_json(
            {
                "out": str(site.out),
                "index": str(site.index),
                "pages": list(site.pages),
                "runs": site.runs,
                "checkpoints": site.checkpoints,
                "decisions": site.decisions,
                "graph_nodes": site.graph_nodes,
                "graph_total": site.graph_total,
            }
        )
    else:
        typer.echo(
            f"Wrote {len(site.pages)} pages to {site.out}: {site.runs} runs, "
            f"{site.checkpoints} checkpoints, {site.decisions} decisions."
        )
        typer.echo(f"Open {site.index}")
    if open_it:
        import webbrowser

        if not webbrowser.open(site.index.resolve().as_uri()):
            typer.echo("No web browser could be started: open the file above by hand.", err=True)
