"""``gitprov decision``: the decision log (new, lifecycle, link, outcome, list, show, graph)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from gitprov.cli.errors import handles_errors
from gitprov.cli.options import JsonOutput
from gitprov.cli.render import print_json

decision_app = typer.Typer(help="The decision log: why models change, as versioned records.")

IdArg = Annotated[str, typer.Argument(help="The decision's ID, e.g. 7K2M9Q (any case).")]


def _relative(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


@decision_app.command("new")
@handles_errors
def new(
    title: Annotated[str, typer.Argument(help="What is being decided, in a few words.")],
    hypothesis: Annotated[
        str | None, typer.Option(help="What you expect to happen, and why.")
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="A metric the decision should move (repeatable)."),
    ] = None,
    expect: Annotated[
        list[str] | None,
        typer.Option("--expect", help="increase or decrease, one per --metric, in the same order."),
    ] = None,
    no_edit: Annotated[
        bool, typer.Option("--no-edit", help="Do not open the editor (it opens on a terminal).")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Create a proposed decision record in decisions/ from the template, and print the
    commit trailer that references it."""
    from gitprov.adapters import git, process
    from gitprov.errors import UsageError
    from gitprov.services import decisions

    metrics, expects = metric or [], expect or []
    if len(metrics) != len(expects):
        raise UsageError(
            f"{len(metrics)} --metric but {len(expects)} --expect",
            "Give one --expect increase|decrease after each --metric",
        )
    pairs = list(zip(metrics, expects, strict=True))
    record = decisions.new(cwd=Path.cwd(), title=title, hypothesis=hypothesis, metrics=pairs)
    if json_output:
        print_json(
            {"id": record.decision.id, "path": _relative(record.path), "trailer": record.trailer}
        )
        return
    typer.echo(f"created {_relative(record.path)} (proposed)")
    typer.echo(f"reference it in commits with the trailer:  {record.trailer}")
    if not no_edit and sys.stdin.isatty() and sys.stdout.isatty():
        editor = git.editor(Path.cwd())
        if editor is not None:
            process.edit(editor, record.path, cwd=Path.cwd())


def _status_command(status: str, verb: str) -> None:
    @decision_app.command(verb, help=f"Mark a decision {status} (legal moves only).")
    @handles_errors
    def command(ident: IdArg) -> None:
        from gitprov.services import decisions

        record = decisions.set_status(cwd=Path.cwd(), ident=ident, status=status)
        typer.echo(f"{record.decision.id} is now {status}: {_relative(record.path)}")


_status_command("accepted", "accept")
_status_command("rejected", "reject")
_status_command("deprecated", "deprecate")


@decision_app.command("supersede")
@handles_errors
def supersede(
    old: IdArg,
    by: Annotated[str, typer.Option("--by", help="The decision that replaces it.")],
) -> None:
    """Mark OLD superseded by another decision; both records link to each other."""
    from gitprov.services import decisions

    old_record, new_record = decisions.supersede(cwd=Path.cwd(), old=old, by=by)
    typer.echo(
        f"{old_record.decision.id} is superseded by {new_record.decision.id} "
        f"({_relative(old_record.path)}, {_relative(new_record.path)})"
    )


@decision_app.command("list")
@handles_errors
def list_(
    status: Annotated[str | None, typer.Option(help="Only decisions with this status.")] = None,
    since: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Only decisions created on or after YYYY-MM-DD."),
    ] = None,
    grep: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT", help="Only decisions whose title or body has TEXT (any case)."
        ),
    ] = None,
    artifact: Annotated[
        str | None,
        typer.Option(
            metavar="PATH|DIGEST", help="Only decisions linked to this artifact (path or digest)."
        ),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """The decisions in decisions/, oldest first."""
    from gitprov.services import decision_queries

    found = decision_queries.list_records(
        cwd=Path.cwd(), status=status, since=since, grep=grep, artifact=artifact
    )
    if json_output:
        print_json(
            [
                {
                    "id": r.decision.id,
                    "title": r.decision.title,
                    "status": r.decision.status,
                    "created": r.decision.created,
                    "supersedes": list(r.decision.supersedes),
                    "superseded_by": list(r.decision.superseded_by),
                    "path": _relative(r.path),
                }
                for r in found
            ]
        )
        return
    for r in found:
        d = r.decision
        typer.echo(f"{d.id}  {d.status:<10}  {d.created}  {d.title}")
    if not found:
        typer.echo("no decisions yet: 'gitprov decision new TITLE' creates one", err=True)


@decision_app.command("link")
@handles_errors
def link(
    ident: IdArg,
    commit: Annotated[
        list[str] | None,
        typer.Option("--commit", metavar="REV", help="A commit (stored as its full hash)."),
    ] = None,
    run: Annotated[
        list[str] | None,
        typer.Option("--run", metavar="RUN", help="A run, run:ULID or a unique prefix."),
    ] = None,
    artifact: Annotated[
        list[str] | None,
        typer.Option(
            "--artifact",
            metavar="PATH|DIGEST",
            help="A tracked path (its current digest) or a digest known to history.",
        ),
    ] = None,
    json_output: JsonOutput = False,
) -> None:
    """Link a decision to commits, runs and artifacts (each option repeatable; every
    target is checked before the record is written)."""
    from gitprov.services import decision_links

    result = decision_links.link(
        cwd=Path.cwd(), ident=ident, commits=commit or [], runs=run or [], artifacts=artifact or []
    )
    d = result.record.decision
    if json_output:
        print_json({"id": d.id, "added": {k: list(v) for k, v in result.added.items()}})
        return
    for kind, values in result.added.items():
        for value in values:
            typer.echo(f"{d.id} -> {kind[:-1]} {value}")
    if not any(result.added.values()):
        typer.echo(f"{d.id}: already linked to all of these", err=True)


@decision_app.command("outcome")
@handles_errors
def outcome(
    ident: IdArg,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            metavar="NAME=VALUE",
            help="A value measured by hand: wins over the linked runs' (repeatable).",
        ),
    ] = None,
    actual: Annotated[str | None, typer.Option(help="What actually changed.")] = None,
    why: Annotated[str | None, typer.Option(help="Why it differs from the plan.")] = None,
    json_output: JsonOutput = False,
) -> None:
    """Record a decision's measured outcome against its expected effect on its metrics
    (values from the linked runs; docs/decisions.md has the baseline rule)."""
    from gitprov.services import decision_links

    result = decision_links.outcome(
        cwd=Path.cwd(), ident=ident, overrides=metric or [], actual=actual, why=why
    )
    if json_output:
        print_json(
            {"id": result.record.decision.id, "metrics": [m.to_toml() for m in result.metrics]}
        )
        return
    for m in result.metrics:
        if m.before is None:
            typer.echo(f"{m.name}: {m.after:g} (expected to {m.expect}; no baseline)")
            continue
        verdict = "met" if m.met else "not met"
        typer.echo(
            f"{m.name}: {m.before:g} -> {m.after:g} ({m.delta:+g}; expected to {m.expect}: "
            f"{verdict})"
        )
    where = _relative(result.record.path)
    typer.echo(f"outcome recorded in {where}" + (" (and its body)" if result.body_changed else ""))


def _show_text(view: dict[str, Any]) -> list[str]:
    lines = [
        f"{view['id']}  {view['status']}  {view['created']}  {view['title']}",
        f"authors    {', '.join(view['authors']) or '-'}",
    ]
    if len(view["chain"]) > 1:
        lines.append("chain      " + " -> ".join(view["chain"]))
    for name_expect in view["metrics"]:
        lines.append(f"expects    {name_expect['name']} to {name_expect['expect']}")
    for c in view["commits"]:
        lines.append(f"commit     {c['commit'][:12]}  {c['subject'] or '(not in this repository)'}")
    for r in view["runs"]:
        if not r["found"]:
            lines.append(f"run        {r['id']}  (not in the history of HEAD)")
            continue
        lines.append(f"run        {r['id']}  {shlex.join(r['argv'])}")
        if r["params"]:
            lines.append("    params   " + " ".join(f"{k}={v}" for k, v in r["params"].items()))
        for file, values in sorted(r["metrics"].items()):
            lines.append(f"    metrics  {file} {json.dumps(values, sort_keys=True)}")
    for a in view["artifacts"]:
        lines.append(f"artifact   {a['path']}  {a['kind'] or '?'}  {a['digest']}")
    for m in view["outcome"].get("metrics", []):
        if "before" in m:
            verdict = "met" if m.get("met") else "not met"
            lines.append(
                f"outcome    {m['name']}: {m['before']:g} -> {m['after']:g} "
                f"({m['delta']:+g}; expected to {m['expect']}: {verdict})"
            )
        else:
            lines.append(f"outcome    {m['name']}: {m['after']:g} (no baseline)")
    return lines


@decision_app.command("show")
@handles_errors
def show(ident: IdArg, json_output: JsonOutput = False) -> None:
    """A decision with everything it links to: commits with their subject, runs with their
    command, parameters and metrics, artifacts, its supersede chain and its outcome."""
    from gitprov.services import decision_queries

    view = decision_queries.show(cwd=Path.cwd(), ident=ident)
    data = {**view.to_json(), "path": _relative(view.record.path)}
    if json_output:
        print_json(data)
        return
    typer.echo("\n".join([*_show_text(data), f"file       {data['path']}"]))


GraphFormat = Literal["mermaid", "dot"]


@decision_app.command("graph")
@handles_errors
def graph(
    fmt: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="mermaid (for Markdown) or dot.")
    ] = "mermaid",
) -> None:
    """The decision log as a graph: supersede chains and the links to commits, runs and
    artifacts."""
    from gitprov.model.exports import decision_graph
    from gitprov.services import decision_queries

    result = decision_queries.graph(cwd=Path.cwd())
    render = decision_graph.render_dot if fmt == "dot" else decision_graph.render_mermaid
    sys.stdout.write(render(result))
