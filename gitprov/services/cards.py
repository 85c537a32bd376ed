"""Model cards: create one from a checkpoint's lineage, keep it in step, check it, render it.

The facts come from the committed lineage of the checkpoint's current digest
(``services.lineage``): the run that produced it, that run's input datasets and parent
checkpoint, its parameters and metrics, its environment snapshot. ``model.card`` turns
them into front matter and a body; this module reads and writes the files. Writes are
atomic; ``sync`` rewrites the front matter only, so the body stays byte-identical.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from gitprov.adapters import git, resources
from gitprov.adapters.fs import atomic_write
from gitprov.errors import GitprovError, UsageError
from gitprov.model import card as cards
from gitprov.model import digest as digests
from gitprov.model import eval_record, runrecord
from gitprov.model import pointer as pointers
from gitprov.model.card import Dataset, Facts, Problem
from gitprov.services import environment, evals, lineage, workspace


@dataclass(frozen=True)
class CardFile:
    """A checkpoint's card: where it is, what its lineage says, and its text (if any)."""

    path: Path
    display: str
    facts: Facts
    checkpoint: str  # as the user named it, for fix hints


@dataclass(frozen=True)
class Report:
    card: CardFile
    problems: tuple[Problem, ...]
    placeholders: tuple[tuple[int, str], ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _facts(ws: workspace.Workspace, tracked: workspace.Tracked) -> Facts:
    rel = tracked.artifact.relative_to(ws.top).as_posix()
    return lineage_facts(ws.top, rel, tracked.pointer)


def _env(top: Path, env: str | None) -> str | None:
    if not env:
        return None
    try:
        return environment.summary(environment.load(top=top, digest=env))
    except GitprovError:
        return None


def lineage_facts(
    top: Path,
    rel: str,
    pointer: pointers.Pointer,
    *,
    at: str | None = None,
    run_record: runrecord.RunRecord | None = None,
) -> Facts:
    """What the committed lineage (read at ``at``, default HEAD) says about the checkpoint
    at ``rel`` (relative to the top) with ``pointer``. When the lineage does not know its
    digest, ``run_record`` (the pointer's ``produced_by`` run, e.g. staged in the same
    commit) is used instead."""
    path = PurePosixPath(rel)
    name = path.stem if path.suffix else path.name
    digest = pointer.digest
    base = Facts(name=name, path=rel, digest=digest, evaluations=_evaluations(top, digest))
    try:
        graph = lineage.lineage(cwd=top, target=digest, depth=1, at=at).graph
    except GitprovError:
        # Tracked but never recorded by a committed run (or no commit yet).
        if run_record is None or not any(o.digest == digest for o in run_record.outputs):
            return base
        return _record_facts(top, base, run_record)
    producers = [r for r in graph.producers_of(digest) if r.source == "gitprov"]
    wanted = pointer.produced_by
    chosen = [r for r in producers if f"run:{r.id}" == wanted] or producers[-1:]
    if not chosen:
        return base
    run = chosen[0]
    inputs = list(graph.inputs_of(run.id))
    datasets = tuple(
        Dataset(a.path, a.digest, _snapshot(a.digest)) for a in inputs if a.kind == "dataset"
    )
    parents = [a for a in inputs if a.kind == "checkpoint"]
    return replace(
        base,
        run=f"run:{run.id}",
        commit=run.commit,
        code=run.head,
        datasets=datasets,
        base_model=(parents[0].path, parents[0].digest) if parents else None,
        params=dict(run.params),
        seeds=tuple(run.seeds),
        metrics=dict(run.metrics),
        environment=_env(top, run.env),
        environment_id=run.env,
        command=tuple(run.argv),
    )


def _evaluations(top: Path, digest: str) -> tuple[dict[str, Any], ...]:
    """model-index results of the evaluations of ``digest`` (``gitprov eval``): one per
    dataset snapshot and split, holding the latest value of each metric measured there
    (the interval, n, method, environment and record id in its args)."""
    if git.head_commit(top) is None:
        return ()
    datasets: dict[tuple[str, str], dict[str, Any]] = {}
    metrics: dict[tuple[str, str], dict[str, dict[str, object]]] = {}
    for record in evals.records_for(cwd=top, digest=digest):  # oldest first: latest wins
        key = (record.dataset_snapshot, record.split)
        datasets[key] = {
            "type": record.dataset or record.snapshot_id,
            "name": record.dataset or record.snapshot_id,
            "split": record.split,
            "revision": record.snapshot_id,
        }
        for metric in eval_record.model_index_metrics(record):
            args = metric["args"]
            if isinstance(args, dict):
                args.update(environment=record.env, evaluation=f"eval:{record.id}")
            metrics.setdefault(key, {})[str(metric["name"])] = metric
    return tuple(
        {"dataset": datasets[key], "metrics": list(metrics.get(key, {}).values())}
        for key in datasets
    )


def _snapshot(digest: str) -> str:
    return digests.snapshot_id(digest) if digests.is_digest(digest) else digest


def _record_facts(top: Path, base: Facts, record: runrecord.RunRecord) -> Facts:
    parents = [a for a in record.inputs if a.kind == "checkpoint"]
    return replace(
        base,
        run=f"run:{record.id}",
        code=record.head,
        datasets=tuple(
            Dataset(a.path, a.digest, _snapshot(a.digest))
            for a in record.inputs
            if a.kind == "dataset"
        ),
        base_model=(parents[0].path, parents[0].digest) if parents else None,
        params=dict(record.params),
        seeds=tuple(record.seeds),
        metrics=dict(record.metrics),
        environment=_env(top, record.env),
        environment_id=record.env,
        command=tuple(record.argv),
    )


def _locate(cwd: Path, checkpoint: str) -> tuple[workspace.Workspace, workspace.Tracked, Path]:
    ws = workspace.open_workspace(cwd)
    (tracked,) = workspace.find(ws, cwd, [checkpoint])
    if tracked.pointer.kind != "checkpoint":
        raise UsageError(
            f"{checkpoint} is a {tracked.pointer.kind}, not a checkpoint",
            "Model cards describe checkpoints: name a file tracked with --kind checkpoint",
        )
    name = tracked.pointer.card
    if name is not None:
        if (why := pointers.check_relative_path(name)) is not None:
            raise pointers.PointerError(
                f"{ws.display(tracked.pointer_path)}: 'card' {why}",
                'Set card to a file name beside the pointer, e.g. card = "m.card.md"',
            )
    else:
        stem = PurePosixPath(tracked.pointer.path)
        name = (stem.stem if stem.suffix else stem.name) + cards.SUFFIX
    return ws, tracked, tracked.pointer_path.parent / name


def _open(cwd: Path, checkpoint: str) -> tuple[workspace.Workspace, workspace.Tracked, CardFile]:
    ws, tracked, path = _locate(cwd, checkpoint)
    return ws, tracked, CardFile(path, ws.display(path), _facts(ws, tracked), checkpoint)


def _read(card: CardFile) -> str:
    try:
        # A hostile 100 MB card is refused from its size, before it is read; so is one
        # that is not a file (a committed symlink to /dev/zero would never end).
        info = card.path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise GitprovError(f"{card.display} is not a regular file", "Replace it with the card")
        cards.check_size(info.st_size, source=card.display)
        # Bytes, decoded: read_text() would turn the team's CRLF line ends into LF.
        return card.path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise GitprovError(
            f"{card.display} does not exist",
            f"Create it with 'gitprov card new {card.checkpoint}'",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GitprovError(f"cannot read {card.display}: {exc}", "Check the file") from None


def new(*, cwd: Path, checkpoint: str, license: str | None = None, force: bool = False) -> CardFile:
    """Write a new card pre-filled from lineage; record it in the pointer's ``card`` field
    (and stage the pointer). Refuses to overwrite a card unless ``force``."""
    ws, tracked, card = _open(cwd, checkpoint)
    if card.path.exists() and not force:
        raise GitprovError(
            f"{card.display} already exists",
            f"Refresh it with 'gitprov card sync {checkpoint}', or overwrite it with --force",
        )
    front = cards.front_matter(card.facts, license=license)
    text = cards.join(front, cards.body(resources.template("model_card.md"), card.facts))
    cards.parse(text, source=card.display)  # what we write must read back
    atomic_write(card.path, text.encode("utf-8"))
    if tracked.pointer.card is None:
        updated = pointers.updated(tracked.pointer, card=card.path.name)
        atomic_write(tracked.pointer_path, pointers.render(updated, tracked.doc).encode("utf-8"))
        git.stage(ws.top, [tracked.pointer_path])
    return card


def sync(*, cwd: Path, checkpoint: str) -> tuple[CardFile, bool]:
    """Refresh the lineage-derived front matter; the body keeps its bytes. True when the
    file changed."""
    _, _, card = _open(cwd, checkpoint)
    text = _read(card)
    data, body = cards.parse(text, source=card.display)
    crlf = text.startswith(cards.FENCE + "\r\n")
    new_text = cards.join(cards.refreshed(data, card.facts), body, crlf=crlf)
    if new_text == text:
        return card, False
    atomic_write(card.path, new_text.encode("utf-8"))
    return card, True


def validate(*, cwd: Path, checkpoint: str) -> Report:
    """Problems (the card disagrees with lineage, or lacks keys) and placeholders left."""
    _, _, card = _open(cwd, checkpoint)
    text = _read(card)
    try:
        data, _ = cards.parse(text, source=card.display)
    except cards.CardError as exc:
        return Report(card, (Problem(exc.problem, exc.fix),), ())
    problems = cards.check(data, card.facts, source=card.display, command=checkpoint)
    return Report(card, tuple(problems), tuple(cards.placeholders(text)))


def render(*, cwd: Path, checkpoint: str) -> str:
    """The card as the Hub wants it (LF line ends, front matter normalised); refused when
    it disagrees with the lineage, so a stale card is never uploaded."""
    report = validate(cwd=cwd, checkpoint=checkpoint)
    if report.problems:
        first = report.problems[0]
        more = f" (and {len(report.problems) - 1} more)" if len(report.problems) > 1 else ""
        raise GitprovError(f"{first.problem}{more}", first.fix)
    text = _read(report.card).replace("\r\n", "\n")
    data, body = cards.parse(text, source=report.card.display)
    return cards.join(data, body)
