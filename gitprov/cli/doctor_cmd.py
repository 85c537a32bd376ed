"""``gitprov doctor``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_changes, print_json
from gitprov.errors import ExitCode
from gitprov.services import doctor as doctor_service


@handles_errors
def doctor(
    fix: Annotated[
        bool, typer.Option("--fix", help="Repair what 'gitprov init' would have set.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Check hooks, notes settings, refspecs per remote and the config file.

    Exits 1 when anything needs attention, and says how to fix it.
    """
    report = doctor_service.diagnose(cwd=Path.cwd(), python=sys.executable, fix=fix)
    if json_output:
        print_json({"ok": report.ok, **report.__dict__})
    else:
        if report.fixed:
            typer.echo("Fixed:")
            print_changes(report.fixed)
        width = max(len(check.subject) for check in report.checks)
        for check in report.checks:
            mark = "ok  " if check.ok else "FAIL"
            line = f"{mark}  {check.area:<9}  {check.subject.ljust(width)}  {check.detail}"
            typer.echo(line + ("" if check.ok else f": {check.fix}"))
        problems = sum(not check.ok for check in report.checks)
        typer.echo("All good." if report.ok else f"{problems} problem(s) found.")
    if not report.ok:
        raise typer.Exit(int(ExitCode.FAILED))
