"""``gitprov init`` and ``gitprov uninstall``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_changes, print_json
from gitprov.services import setup


@handles_errors
def init(json_output: JsonOutput = False) -> None:
    """Set gitprov up in this repository: config, .gitignore rules, notes settings, hooks.

    Safe to run again: it changes only what is missing. Existing hooks are kept and
    still run.
    """
    report = setup.init(cwd=Path.cwd(), python=sys.executable)
    if json_output:
        print_json(report)
        return
    if not report.changes:
        typer.echo(f"gitprov is already set up in {report.worktree}: nothing to change.")
        return
    typer.echo(f"gitprov set up in {report.worktree} (hooks in {report.hooks_dir}):")
    print_changes(report.changes)
    typer.echo(
        "Commit .gitprov/config.toml, .gitprov/checklist.toml and .gitignore so that your team "
        "shares them."
    )


@handles_errors
def uninstall(json_output: JsonOutput = False) -> None:
    """Remove gitprov's hooks and git settings, restoring exactly what was there before.

    Committed files (.gitprov/, the .gitignore block) and lineage notes are kept.
    """
    report = setup.uninstall(cwd=Path.cwd())
    if json_output:
        print_json(report)
        return
    if not report.changes:
        typer.echo(f"gitprov has no hooks or settings in {report.worktree}: nothing to remove.")
        return
    typer.echo(f"gitprov removed from {report.worktree}:")
    print_changes(report.changes)
