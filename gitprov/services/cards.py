"""Model cards: create one from a checkpoint's lineage, keep it in step, check it, render it.

The facts come from the committed lineage of the checkpoint's current digest
(``services.lineage``): the run that produced it, that run's input datasets and parent
checkpoint, its parameters and metrics, its environment snapshot. ``model.card`` turns
them into front matter and a body; this module reads and writes the files. Writes are
atomic; ``sync`` rewrites the front matter only, so the body stays byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitprov.adapters import git, resources
from gitprov.adapters.fs import atomic_write
from gitprov.errors import GitprovError, UsageError
from gitprov.model import card as cards
from gitprov.model import digest as digests
from gitprov.model import pointer as pointers
from gitprov.model.card import Dataset, Facts, Problem
from gitprov.services import environment, lineage, workspace


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
    rel = PurePosixPath(tracked.artifact.relative_to(ws.top).as_posix())
    name = rel.stem if rel.suffix else rel.name
    digest = tracked.pointer.digest
    base = Facts(name=name, path=str(rel), digest=digest)
    try:
        graph = lineage.lineage(cwd=ws.top, target=digest, depth=1).graph
    except lineage.LineageTargetError:
        return base  # tracked but never recorded by a committed run: nothing to pre-fill
    producers = [r for r in graph.producers_of(digest) if r.source == "gitprov"]
    wanted = tracked.pointer.produced_by
    chosen = [r for r in producers if f"run:{r.id}" == wanted] or producers[-1:]
    if not chosen:
        return base
    run = chosen[0]
    inputs = list(graph.inputs_of(run.id))
    datasets = tuple(
        Dataset(
            a.path,
            a.digest,
            digests.snapshot_id(a.digest) if digests.is_digest(a.digest) else a.digest,
        )
        for a in inputs
        if a.kind == "dataset"
    )
    parents = [a for a in inputs if a.kind == "checkpoint"]
    env = None
    if run.env:
        try:
            env = environment.summary(environment.load(top=ws.top, digest=run.env))
        except GitprovError:
            env = None
    return Facts(
        name=name,
        path=str(rel),
        digest=digest,
        run=f"run:{run.id}",
        commit=run.commit,
        code=run.head,
        datasets=datasets,
        base_model=(parents[0].path, parents[0].digest) if parents else None,
        params=dict(run.params),
        seeds=tuple(run.seeds),
        metrics=dict(run.metrics),
        environment=env,
        command=tuple(run.argv),
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
