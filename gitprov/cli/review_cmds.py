"""``gitprov review`` (a pull request's models, cards and lineage as one Markdown comment)
and ``gitprov ci init`` (the CI workflow that posts it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.render import print_json
from gitprov.errors import UsageError

ci_app = typer.Typer(help="CI workflows: post 'gitprov review' on pull requests.")

DEFAULT_MAX_CHARS = 65_000  # model.review_markdown.DEFAULT_MAX_CHARS (a test keeps them equal)


@handles_errors
def review(
    rev_range: Annotated[
        str,
        typer.Argument(
            metavar="BASE..HEAD", help="The pull request's range, e.g. origin/main..HEAD."
        ),
    ],
    output_format: Annotated[
        Literal["md", "json"],
        typer.Option("--format", help="md: one Markdown comment; json: the same facts."),
    ] = "md",
    max_chars: Annotated[
        int,
        typer.Option(
            "--max-chars",
            metavar="N",
            help="Keep the Markdown under N characters, cutting the least important parts "
            "first (default: fits a GitHub comment).",
        ),
    ] = DEFAULT_MAX_CHARS,
) -> None:
    """Review what BASE..HEAD changes: artifacts, model cards (fields and prose), metric
    deltas with their significance, the lineage of changed checkpoints (Mermaid),
    decisions, the release checklist and approvals, commits without lineage.

    Diffs go from the merge base of BASE and HEAD to HEAD, as a pull request shows them.
    Nothing is checked out or uploaded. Exits 0 whatever the report says ('gitprov verify
    --range' is the check that fails CI).
    """
    from gitprov.model import review_markdown
    from gitprov.services import review as service

    if max_chars < review_markdown.MIN_MAX_CHARS:
        raise UsageError(
            f"--max-chars {max_chars} is too small for a report",
            f"Pass at least {review_markdown.MIN_MAX_CHARS}",
        )
    report = service.review(cwd=Path.cwd(), rev_range=rev_range)
    if output_format == "json":
        print_json(report.to_json())
        return
    sys.stdout.write(review_markdown.render(report, max_chars=max_chars))


@ci_app.command("init")
@handles_errors
def ci_init(
    provider: Annotated[
        Literal["github", "gitlab"],
        typer.Argument(help="github: a GitHub Actions workflow; gitlab: a GitLab CI job."),
    ],
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch",
            metavar="NAME",
            help="GitHub: the branch whose merges get their notes reattached (default: "
            "origin's default branch, else the current one).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite a workflow file you have edited.")
    ] = False,
) -> None:
    """Write the review workflow into this repository: on each pull request it fetches
    the lineage notes, runs 'gitprov verify --range' and posts 'gitprov review' as one
    comment it keeps up to date; after a merge it runs 'gitprov notes reattach'."""
    from gitprov.services import ci_templates

    done = ci_templates.init(cwd=Path.cwd(), provider=provider, branch=branch, force=force)
    for path in done.written:
        typer.echo(f"wrote {path}")
    for step in done.todo:
        typer.echo(f"next: {step}")
