"""Artifact commands: ``track``, ``status``, ``checkout``, ``verify``, ``untrack``, ``gc``.

Each command imports its service when it runs, so that ``gitprov status`` does not pay
for loading every other command's code.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import human_size, print_json
from gitprov.errors import ExitCode
from gitprov.model import digest as digests
from gitprov.model.pointer import Access, Kind

Paths = Annotated[list[str] | None, typer.Argument(help="Artifacts (or their .gitprov pointers).")]


@handles_errors
def track(
    paths: Annotated[list[str], typer.Argument(help="Files or folders to track.")],
    kind: Annotated[
        Kind | None,
        typer.Option(help="What it is (default: folder -> dataset, weights file -> checkpoint)."),
    ] = None,
    access: Annotated[
        Access | None, typer.Option(help="Who may receive it (default: internal).")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Hashing threads (default: cores).")
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Snapshot files or folders into the cache and stage their .gitprov pointers.

    A folder becomes a Merkle snapshot whose root digest is its dataset snapshot ID.
    Unchanged files are not read again. The artifact itself is git-ignored.
    """
    from gitprov.services import track as track_service

    report = track_service.track(cwd=Path.cwd(), paths=paths, kind=kind, access=access, jobs=jobs)
    if json_output:
        results = [{**asdict(r), "snapshot_id": r.snapshot_id} for r in report.results]
        print_json({"results": results, "staged": report.staged})
        return
    for r in report.results:
        ident = r.snapshot_id or digests.short(r.digest)
        files = f"{r.files} files, " if r.kind == "dataset" else ""
        typer.echo(
            f"{r.outcome:<9} {r.path}  {r.kind}  {ident}  {files}{human_size(r.size)}"
            f"  ({r.rehashed} hashed)"
        )
    typer.echo(f"staged {', '.join(report.staged)}")


@handles_errors
def status(paths: Paths = None, json_output: JsonOutput = False) -> None:
    """Compare tracked artifacts with their pointers (no re-hashing of unchanged files).

    Exits 0 whatever the state: use 'gitprov verify' for a check that fails.
    """
    from gitprov.services import status as status_service

    results = status_service.status(cwd=Path.cwd(), paths=paths or [])
    if json_output:
        print_json([{**asdict(s), "snapshot_id": s.snapshot_id} for s in results])
        return
    if not results:
        typer.echo("No tracked artifacts. Track one with 'gitprov track PATH'.")
    for s in results:
        ident = s.alias or s.snapshot_id or digests.short(s.digest)
        cache = "" if s.in_cache is None or s.in_cache else "  [not in cache]"
        typer.echo(f"{s.state:<9} {s.path}  {s.kind}  {ident}{cache}")
        for label, names in (("added", s.added), ("removed", s.removed), ("changed", s.changed)):
            for name in names[:20]:
                typer.echo(f"    {label}: {name}")
            if len(names) > 20:
                typer.echo(f"    ... {len(names) - 20} more {label}")
        if s.note:
            typer.echo(f"    {s.note}")


@handles_errors
def checkout(
    paths: Paths = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite local changes to tracked artifacts.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Put tracked artifacts into the work tree from the cache, verifying every byte."""
    from gitprov.services import checkout as checkout_service

    results = checkout_service.checkout(cwd=Path.cwd(), paths=paths or [], force=force)
    if json_output:
        print_json(results)
        return
    for r in results:
        detail = f" ({r.files} files written)" if r.outcome == "restored" else ""
        typer.echo(f"{r.outcome:<9} {r.path}{detail}")


@handles_errors
def verify(
    paths: Paths = None,
    all_objects: Annotated[
        bool, typer.Option("--all", help="Also re-hash every object in the cache.")
    ] = False,
    rev_range: Annotated[
        str | None,
        typer.Option(
            "--range",
            help="Instead: check that every commit in this range (e.g. main..HEAD) has a "
            "lineage record (for CI, where hooks may have been skipped).",
        ),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Re-hash cache objects and work-tree artifacts against their pointers, and check every
    signed record in the history (approvals, release tags).

    Exits 1 when anything is corrupt, missing, different, tampered or forged. With --range,
    checks lineage records instead and exits 1 when a commit has none.
    """
    if rev_range is not None:
        _verify_range(rev_range, json_output=json_output)
        return
    from gitprov.services import verify as verify_service

    report = verify_service.verify(cwd=Path.cwd(), paths=paths or [], all_objects=all_objects)
    if json_output:
        print_json({"ok": report.ok, **report.__dict__})
    else:
        for problem in report.problems:
            typer.echo(f"FAIL  {problem.path}: {problem.problem}")
        summary = f"{report.objects_checked} objects, {report.files_checked} work-tree files"
        if report.records_checked:
            summary += f", {report.records_checked} signed records"
        typer.echo(
            f"verified {summary}: all good"
            if report.ok
            else f"{len(report.problems)} problem(s) in {summary}"
        )
    if not report.ok:
        raise typer.Exit(int(ExitCode.FAILED))


def _verify_range(rev_range: str, *, json_output: bool) -> None:
    from gitprov.services import lineage_repair

    total, missing = lineage_repair.check_range(cwd=Path.cwd(), rev_args=[rev_range])
    if json_output:
        print_json({"ok": not missing, "commits": total, "missing": missing})
    else:
        for commit in missing:
            typer.echo(f"FAIL  {commit[:12]}: no lineage record")
        typer.echo(
            f"{total} commit(s) in {rev_range}: all have lineage records"
            if not missing
            else f"{len(missing)} of {total} commit(s) have no lineage record: run 'gitprov "
            f"notes rebuild {rev_range}' (or 'notes reattach' after a squash/rebase merge)"
        )
    if missing:
        raise typer.Exit(int(ExitCode.FAILED))


@handles_errors
def untrack(
    path: Annotated[str, typer.Argument(help="The artifact (or its .gitprov pointer).")],
) -> None:
    """Stop tracking an artifact: its pointer and ignore rule go, the file stays.

    Its bytes stay in the cache until 'gitprov gc'.
    """
    from gitprov.services import track as track_service

    result = track_service.untrack(cwd=Path.cwd(), path=path)
    typer.echo(f"untracked {result.path}: removed {result.pointer_path} (staged); the file stays")


@handles_errors
def gc(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed, remove nothing.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Remove cache objects that no pointer in any local ref's history, the index or the
    work tree names."""
    from gitprov.services import gc as gc_service

    report = gc_service.gc(cwd=Path.cwd(), dry_run=dry_run)
    if json_output:
        print_json({"freed": report.freed, **report.__dict__})
        return
    verb = "would remove" if dry_run else "removed"
    for digest, size in report.removed if dry_run else []:
        typer.echo(f"  {digests.short(digest)}  {human_size(size)}")
    typer.echo(
        f"{verb} {len(report.removed)} objects ({human_size(report.freed)}); kept {report.kept}"
    )
