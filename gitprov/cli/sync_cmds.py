"""Remote commands: ``remote add|list|remove``, ``push``, ``fetch``, ``pull``, ``notes sync``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import human_size, print_json
from gitprov.model.progress import ProgressLine

remote_app = typer.Typer(help="Artifact remotes: where artifact bytes are pushed and pulled.")
notes_app = typer.Typer(help="Lineage notes (refs/notes/gitprov).")

RemoteArg = Annotated[
    str | None, typer.Argument(help="Artifact remote (default: the only one, or 'origin').")
]
Targets = Annotated[list[str] | None, typer.Argument(help="Paths or globs of tracked artifacts.")]


def _progress(verb: str) -> Callable[[int, int, int, int], None] | None:
    """A one-line transfer counter on stderr, on a terminal only."""
    if not sys.stderr.isatty():
        return None
    line = ProgressLine(verb)

    def show(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        text = line(done, total, done_bytes, total_bytes)
        if text is not None:
            typer.echo(text, err=True, nl=False)

    return show


@remote_app.command("add")
@handles_errors
def remote_add(
    name: Annotated[
        str, typer.Argument(help="Remote name (matched to the git remote of that name).")
    ],
    url: Annotated[
        str, typer.Argument(help="A directory path or fsspec URL (s3://bucket/prefix).")
    ],
    option: Annotated[
        list[str] | None,
        typer.Option(
            "--option", "-o", help="Backend option KEY=VALUE (endpoint_url, region, profile...)."
        ),
    ] = None,
    accept: Annotated[
        list[str] | None,
        typer.Option(help="Access level it may receive, repeatable (default: public, internal)."),
    ] = None,
    git_remote: Annotated[
        str | None, typer.Option(help="The git remote whose pushes upload here (default: NAME).")
    ] = None,
    jobs: Annotated[int | None, typer.Option(min=1, max=256, help="Parallel transfers.")] = None,
    local: Annotated[
        bool, typer.Option("--local", help="Write to the never-committed .git/gitprov/config.toml.")
    ] = False,
) -> None:
    """Add (or replace) an artifact remote in .gitprov/config.toml."""
    from gitprov.services import remotes

    spec = remotes.add(
        cwd=Path.cwd(),
        name=name,
        url=url,
        options=option or [],
        accept=accept,
        git_remote=git_remote,
        jobs=jobs,
        local=local,
    )
    where = ".git/gitprov/config.toml" if local else ".gitprov/config.toml (commit it)"
    typer.echo(f"added artifact remote '{spec.name}' -> {spec.display_url} in {where}")


@remote_app.command("list")
@handles_errors
def remote_list(json_output: JsonOutput = False) -> None:
    """List artifact remotes."""
    from gitprov.services import remotes

    specs = remotes.listing(cwd=Path.cwd())
    if json_output:
        print_json(
            [
                {
                    "name": s.name,
                    "url": s.display_url,
                    "git_remote": s.git_remote,
                    "accept": list(s.accept),
                    "jobs": s.jobs,
                    "options": sorted(s.options),
                }
                for s in specs
            ]
        )
        return
    if not specs:
        typer.echo("No artifact remotes. Add one with 'gitprov remote add NAME URL'.")
    for s in specs:
        typer.echo(
            f"{s.name}\t{s.display_url}\t(git remote {s.git_remote}; accepts {', '.join(s.accept)})"
        )


@remote_app.command("remove")
@handles_errors
def remote_remove(name: Annotated[str, typer.Argument(help="The remote to remove.")]) -> None:
    """Remove an artifact remote from the config (its stored objects are not touched)."""
    from gitprov.services import remotes

    changed = remotes.remove(cwd=Path.cwd(), name=name)
    typer.echo(f"removed artifact remote '{name}' from {', '.join(changed)}")


@handles_errors
def push(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help="[REMOTE] then a revision range or artifact paths (default: all in the work tree)."
        ),
    ] = None,
    all_history: Annotated[
        bool, typer.Option("--all", help="Every artifact any local branch, tag or reflog names.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Upload artifacts to an artifact remote (git push does this for you in its hook)."""
    from gitprov.services import push as push_service

    report = push_service.push(
        cwd=Path.cwd(),
        targets=targets or [],
        all_history=all_history,
        progress=_progress("uploading"),
    )
    if json_output:
        print_json(report)
        return
    for upload in report.uploads:
        typer.echo(
            f"{report.artifacts} artifact(s): uploaded {upload.transferred} object(s) "
            f"({human_size(upload.bytes)}) to '{upload.remote}', "
            f"{upload.already_there} already there"
        )


@handles_errors
def fetch(remote: RemoteArg = None, paths: Targets = None, json_output: JsonOutput = False) -> None:
    """Download artifacts into the local cache, verified (the work tree is not touched)."""
    from gitprov.services import pull as pull_service

    report = pull_service.fetch(
        cwd=Path.cwd(), remote=remote, paths=paths or [], progress=_progress("fetching")
    )
    if json_output:
        print_json(report)
        return
    moved = report.transfer
    typer.echo(
        f"{len(report.artifacts)} artifact(s): fetched {moved.transferred} object(s) "
        f"({human_size(moved.bytes)}) from '{report.remote}'"
    )


@handles_errors
def pull(
    remote: RemoteArg = None,
    paths: Targets = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite local changes to tracked artifacts.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Merge the remote's lineage notes, fetch artifacts, and put them in the work tree."""
    from gitprov.services import pull as pull_service

    report = pull_service.pull(
        cwd=Path.cwd(),
        remote=remote,
        paths=paths or [],
        force=force,
        progress=_progress("fetching"),
    )
    if json_output:
        print_json(report)
        return
    moved = report.transfer
    if report.notes_problem:
        typer.echo(f"gitprov: warning: notes not merged: {report.notes_problem}", err=True)
    restored = sum(r.outcome == "restored" for r in report.restored)
    typer.echo(
        f"{len(report.artifacts)} artifact(s): fetched {moved.transferred} object(s) "
        f"({human_size(moved.bytes)}) from '{report.remote}', restored {restored}"
    )
    for r in report.restored:
        if r.outcome == "restored":
            typer.echo(f"restored  {r.path}")


@notes_app.command("sync")
@handles_errors
def notes_sync(
    remote: Annotated[str, typer.Argument(help="The git remote.")] = "origin",
    json_output: JsonOutput = False,
) -> None:
    """Fetch the remote's notes, merge them (cat_sort_uniq), push back fast-forward only."""
    from gitprov.services import notes_sync as service

    result = service.sync(cwd=Path.cwd(), remote=remote, push=True)
    if json_output:
        print_json(result)
        return
    typer.echo(
        f"notes synced with '{remote}': "
        + ", ".join(
            f"{label} {'yes' if value else 'no'}"
            for label, value in (
                ("fetched", result.fetched),
                ("merged", result.merged),
                ("pushed", result.pushed),
            )
        )
    )
