"""The ``gitprov`` application: every command is registered here."""

from __future__ import annotations

from typing import Annotated

import typer

from gitprov import __version__
from gitprov.cli import (
    approval_cmds,
    artifacts_cmds,
    card_cmds,
    check_cmds,
    decision_cmds,
    deprecate_cmd,
    doctor_cmd,
    eval_cmds,
    lineage_cmds,
    notes_cmds,
    release_cmds,
    report_cmd,
    rerun_cmd,
    review_cmds,
    run_cmds,
    setup_cmds,
    sync_cmds,
)

app = typer.Typer(
    name="gitprov",
    help="Git-native provenance and artifact versioning: every commit carries its full lineage.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"gitprov {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print gitprov's version and exit.",
        ),
    ] = False,
) -> None:
    """Git-native provenance and artifact versioning: every commit carries its full lineage.

    Exit codes: 0 ok, 1 error or failed check, 2 usage error, 3 internal bug,
    130 interrupted (docs/errors.md).
    """


app.command("init")(setup_cmds.init)
app.command("doctor")(doctor_cmd.doctor)
app.command("uninstall")(setup_cmds.uninstall)
app.command("track")(artifacts_cmds.track)
app.command("status")(artifacts_cmds.status)
app.command("checkout")(artifacts_cmds.checkout)
app.command("verify")(artifacts_cmds.verify)
app.command("untrack")(artifacts_cmds.untrack)
app.command("gc")(artifacts_cmds.gc)
# Options after the command (gitprov run python x.py --lr 3) belong to the command.
app.command("run", context_settings={"allow_interspersed_args": False})(run_cmds.run)
app.command("rerun")(rerun_cmd.rerun)
app.command("log")(lineage_cmds.log)
app.command("lineage")(lineage_cmds.lineage)
app.add_typer(sync_cmds.remote_app, name="remote")
app.command("push")(sync_cmds.push)
app.command("fetch")(sync_cmds.fetch)
app.command("pull")(sync_cmds.pull)
sync_cmds.notes_app.command("rebuild")(notes_cmds.rebuild)
sync_cmds.notes_app.command("reattach")(notes_cmds.reattach)
app.add_typer(sync_cmds.notes_app, name="notes")
app.add_typer(decision_cmds.decision_app, name="decision")
app.add_typer(card_cmds.card_app, name="card")
app.command("approve")(approval_cmds.approve)
app.command("approvals")(approval_cmds.approvals)
app.add_typer(eval_cmds.eval_app, name="eval")
app.command("deprecate")(deprecate_cmd.deprecate)
app.command("deprecations")(deprecate_cmd.deprecations)
app.command("check")(check_cmds.check)
app.command("release")(release_cmds.release)
app.command("releases")(release_cmds.releases)
app.command("review")(review_cmds.review)
app.add_typer(review_cmds.ci_app, name="ci")
app.command("report")(report_cmd.report)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="gitprov")
