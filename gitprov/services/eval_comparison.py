"""``gitprov eval compare``: which two evaluations, and their comparison.

A side names a checkpoint (its path: the current digest; ``path@rev``: the digest its
pointer named there; a digest) or one evaluation (its id or a unique prefix of 6 or more
characters). For a checkpoint the newest evaluation is taken, B's preferably on A's
dataset snapshot and split. The statistics are model/eval_compare.py's.
"""

from __future__ import annotations

from pathlib import Path

from gitprov.adapters.history import History
from gitprov.errors import GitprovError, UsageError
from gitprov.model import digest as digests
from gitprov.model import eval_compare, scores
from gitprov.model.eval_record import EvalRecord
from gitprov.services import evals, workspace
from gitprov.services.evals import Settings
from gitprov.services.lineage_dvc import pointer_digest
from gitprov.services.workspace import Workspace

DEFAULT_SETTINGS = Settings()  # frozen: safe to share as a default


def _digest_of(ws: Workspace, cwd: Path, target: str) -> str | None:
    """The checkpoint digest a compare target names, or None when it is not one."""
    if digests.is_digest(target):
        return target
    path, at, rev = target.partition("@")
    if at:
        history = History(ws.top)
        rel = ws.display(workspace.inside_worktree(ws, cwd, path))
        found = pointer_digest(history, history.resolve(rev), rel)
        if found is None:
            raise UsageError(
                f"{path} has no pointer at {rev}", f"See 'git log -- {rel}.gitprov' for commits"
            )
        return found
    plain = Path(cwd, target)
    if plain.exists() or plain.with_name(plain.name + ".gitprov").exists():
        return evals.checkpoint_of(ws, cwd, target)[0].pointer.digest
    return None


def _select(
    ws: Workspace,
    cwd: Path,
    target: str,
    *,
    everything: list[EvalRecord],
    dataset: tuple[str, str] | None,
    like: EvalRecord | None,
) -> EvalRecord:
    digest = _digest_of(ws, cwd, target)
    if digest is None:
        by_id = [r for r in everything if r.id.upper().startswith(target.upper())]
        if len(by_id) == 1 and len(target) >= 6:
            return by_id[0]
        raise UsageError(
            f"{target!r} is not a tracked checkpoint, a digest or an evaluation id"
            + (f" (it matches {len(by_id)} ids)" if len(by_id) > 1 else ""),
            "Name a checkpoint path (path@rev for an older version) or an id from "
            "'gitprov eval list'",
        )
    found = [r for r in everything if r.digest == digest]
    if dataset is not None:
        found = [r for r in found if r.dataset_snapshot == dataset[1]]
    if like is not None:
        same = [
            r for r in found if (r.dataset_snapshot, r.split) == (like.dataset_snapshot, like.split)
        ]
        found = same or found
    if not found:
        on = f" on {dataset[0] or digests.snapshot_id(dataset[1])}" if dataset else ""
        raise GitprovError(
            f"no evaluation of {target} ({digests.short(digest)}){on} in HEAD's history",
            f"Record one with 'gitprov eval record {target.partition('@')[0]} --dataset ... "
            "--scores ...'; 'gitprov eval list' shows what exists",
        )
    return found[-1]


def _tables(
    ws: Workspace, a: EvalRecord, b: EvalRecord
) -> tuple[tuple[scores.ScoreTable, scores.ScoreTable] | None, str | None]:
    problem = eval_compare.pairing_problem(a, b)
    if problem is not None or a.scores is None or b.scores is None:
        return None, problem
    tables = []
    for rec, ref in ((a, a.scores), (b, b.scores)):
        if not ws.cache.has(ref.digest):
            return None, (
                f"the per-example scores of evaluation {rec.id} are not in this clone's "
                "cache (recorded in another clone)"
            )
        text = evals.decode(ws.cache.read_verified(ref.digest), ref.path)
        tables.append(
            scores.parse(text, source=ref.path, fmt=ref.format, metrics=list(rec.metrics))
        )
    return (tables[0], tables[1]), None


def compare(
    *,
    cwd: Path,
    a: str,
    b: str,
    dataset: str | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> eval_compare.Comparison:
    """Compare the newest evaluation of ``a`` with that of ``b`` (on the same dataset
    snapshot and split when ``b`` has one), metric by metric."""
    evals.check_settings(settings)
    ws = workspace.open_workspace(cwd)
    wanted = evals.dataset_of(ws, cwd, dataset) if dataset is not None else None
    everything = evals.all_records(ws.top)
    first = _select(ws, cwd, a, everything=everything, dataset=wanted, like=None)
    second = _select(ws, cwd, b, everything=everything, dataset=wanted, like=first)
    if first.id == second.id:
        raise UsageError(
            f"{a} and {b} name the same evaluation ({first.id})",
            "Name two different checkpoints, versions (path@rev) or evaluation ids",
        )
    tables, why = _tables(ws, first, second)
    return eval_compare.compare(
        first,
        second,
        tables=tables,
        unavailable=why,
        level=settings.level,
        resamples=settings.resamples,
        seed=settings.seed,
    )
