"""Evaluations of checkpoints with intervals: record, run, list (compare: eval_comparison).

An evaluation is a post-hoc fact, so it is an ``eval`` note record (model/eval_record.py)
on the commit that holds the checkpoint: the commit that set the checkpoint's pointer to
the evaluated digest. Per-example scores are kept in the local object cache by digest,
so that ``compare`` can pair two evaluations example by example.

API for consumers (the model card, the release checklist, the review)::

    from gitprov.services.evals import records_for
    for rec in records_for(cwd=Path.cwd(), digest=tracked.pointer.digest):
        acc = rec.metrics["accuracy"]      # an eval_stats.Estimate
        acc.value, acc.ci_low, acc.ci_high, acc.ci_level, acc.method, acc.n
        rec.dataset_snapshot, rec.snapshot_id, rec.split, rec.env, rec.at

``records_for(*, cwd: Path, digest: str) -> list[EvalRecord]`` returns every evaluation
of that checkpoint digest found in the notes of HEAD's history, oldest first (by the
record's time). It needs a git repository, not ``gitprov init``, reads notes only (no
work-tree file), and skips note lines it cannot read. ``EvalRecord`` is a frozen
dataclass; ``ci_low``/``ci_high`` are None when a value came without an interval
(method ``none``).
"""

from __future__ import annotations

import shlex
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters import git, git_notes, process
from gitprov.adapters.history import History
from gitprov.errors import GitprovError, UsageError
from gitprov.model import digest as digests
from gitprov.model import env_vars, eval_scoring, eval_stats, scores
from gitprov.model import eval_record as model
from gitprov.model.eval_record import EvalRecord, EvalRecordError, ScoresRef
from gitprov.model.eval_stats import Estimate
from gitprov.model.notes import make_record, parse_lines
from gitprov.services import runs, workspace
from gitprov.services.lineage_dvc import pointer_digest
from gitprov.services.workspace import Tracked, Workspace


@dataclass(frozen=True)
class Settings:
    """How intervals are computed (recorded with every bootstrap interval)."""

    level: float = eval_stats.DEFAULT_LEVEL
    resamples: int = eval_stats.DEFAULT_RESAMPLES
    seed: int = eval_stats.DEFAULT_SEED


@dataclass(frozen=True)
class Recorded:
    """A recorded evaluation and what the user should know about it."""

    record: EvalRecord
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalRun:
    """What ``run`` did: ``recorded`` is None when the command failed (nothing recorded)."""

    exit_code: int
    recorded: Recorded | None


def check_settings(settings: Settings) -> None:
    """UsageError for a level outside (0, 1) or a resample count out of range."""
    if not 0 < settings.level < 1:
        raise UsageError(
            f"--ci {settings.level} is not a confidence level", "Give one like 0.95 or 0.9"
        )
    if not 100 <= settings.resamples <= eval_stats.MAX_RESAMPLES:
        raise UsageError(
            f"--bootstrap {settings.resamples} is out of range",
            f"Give between 100 and {eval_stats.MAX_RESAMPLES} resamples (1000 is usual)",
        )


# --- what is evaluated, on what ---------------------------------------------------------


def checkpoint_of(ws: Workspace, cwd: Path, raw: str) -> tuple[Tracked, str]:
    (tracked,) = workspace.find(ws, cwd, [raw])
    if tracked.pointer.kind != "checkpoint":
        raise UsageError(
            f"{raw} is a {tracked.pointer.kind}, not a checkpoint",
            "Evaluate a file tracked with 'gitprov track PATH --kind checkpoint'",
        )
    return tracked, ws.display(tracked.artifact)


def holding_commit(top: Path, rel: str, digest: str) -> str:
    """The commit in HEAD's history that set ``rel``'s pointer to ``digest`` (the oldest
    of the newest unbroken run of commits whose pointer names it)."""
    history = History(top)
    found: str | None = None
    if history.has_commits():
        for info in history.walk([history.resolve("HEAD")], paths=[rel]):
            if pointer_digest(history, info.id, rel) == digest:
                found = info.id
            elif found is not None:
                break
    if found is None:
        raise GitprovError(
            f"{rel} at {digests.short(digest)} is not in any commit of HEAD's history, so "
            "there is no commit to record its evaluation on",
            f"Commit its pointer first: git add {rel}.gitprov && git commit",
        )
    return found


def dataset_of(ws: Workspace, cwd: Path, raw: str) -> tuple[str, str]:
    """``(path, snapshot digest)`` of ``--dataset``: a tracked path, a digest, or ``ds:``."""
    if digests.is_digest(raw):
        return "", raw
    if raw.startswith("ds:"):
        matches = {
            (ws.display(t.artifact), t.pointer.digest)
            for t in workspace.find(ws, cwd, [])
            if digests.snapshot_id(t.pointer.digest).startswith(raw.lower())
        }
        if len(matches) != 1:
            raise UsageError(
                f"{raw} names {len(matches) or 'no'} tracked dataset"
                + ("s" if len(matches) != 1 else "")
                + " in this work tree",
                "Name the dataset by path, or give its full digest (sha256:...)",
            )
        return matches.pop()
    (tracked,) = workspace.find(ws, cwd, [raw])
    return ws.display(tracked.artifact), tracked.pointer.digest


# --- scoring ----------------------------------------------------------------------------


def _read(path: Path, shown: str) -> bytes:
    try:
        info = path.stat()
        size = info.st_size
        # /dev/zero or a FIFO has no size and never ends: only regular files are read.
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise scores.ScoresError(f"{shown} is {what}", "Name the scores file")
        if size > scores.MAX_BYTES:
            raise scores.ScoresError(
                f"{shown} is {size} bytes (more than {scores.MAX_BYTES})",
                "Evaluate a sample, or record aggregated values with --metrics",
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise scores.ScoresError(f"{shown} does not exist", "Check the path") from None
    except IsADirectoryError:
        raise scores.ScoresError(f"{shown} is a folder", "Name the scores file") from None
    except OSError as exc:
        raise scores.ScoresError(f"cannot read {shown}: {exc.strerror}", "Check it") from None


def decode(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise scores.ScoresError(
            f"{shown} is not UTF-8 text (byte {exc.start})", "Save it as UTF-8"
        ) from None


def _scores_display(ws: Workspace, path: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(ws.top.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def record(
    *,
    cwd: Path,
    checkpoint: str,
    dataset: str,
    split: str = "",
    scores_file: str | None = None,
    metrics_file: str | None = None,
    metric_names: Sequence[str] = (),
    slice_column: str | None = None,
    settings: Settings = Settings(),
    by: str = "",
    env: str | None = None,
    _code: tuple[bool, str | None] | None = None,
) -> Recorded:
    """Compute (``scores_file``) or take (``metrics_file``) the metrics and append an
    ``eval`` record to the commit that holds ``checkpoint``'s current digest."""
    if (scores_file is None) == (metrics_file is None):
        raise UsageError(
            "give exactly one of --scores and --metrics",
            "--scores for per-example results (intervals computed), --metrics for "
            "aggregated values",
        )
    if slice_column and scores_file is None:
        raise UsageError("--slice needs --scores", "Slices are computed from per-example rows")
    check_settings(settings)
    ws = workspace.open_workspace(cwd)
    tracked, rel = checkpoint_of(ws, cwd, checkpoint)
    digest = tracked.pointer.digest
    commit = holding_commit(ws.top, rel, digest)
    dataset_path, snapshot = dataset_of(ws, cwd, dataset)
    if env is not None and not digests.is_digest(env):
        raise UsageError(f"--env {env} is not an environment snapshot id", "Give sha256:<hex>")
    warnings: list[str] = []
    safe_by = _redact_command(by)
    if safe_by != by:
        warnings.append("credentials in --by were masked in the record")
    slices: dict[str, dict[str, Estimate]] = {}
    ref = None
    path = Path(cwd, scores_file or metrics_file or "")
    shown = _scores_display(ws, path)
    data = _read(path, shown)
    if scores_file is not None:
        fmt = scores.format_of(path.name)
        table = scores.parse(
            decode(data, shown),
            source=shown,
            fmt=fmt,
            metrics=metric_names,
            slice_column=slice_column,
        )
        metrics, slices = eval_scoring.score_table(
            table, level=settings.level, resamples=settings.resamples, seed=settings.seed
        )
        ref = ScoresRef(ws.cache.add_bytes(data), shown, fmt, table.ids is not None)
        if table.ids is None:
            warnings.append(
                f"{shown} has no 'id' column: 'gitprov eval compare' cannot pair its "
                "examples with another evaluation's and will compare intervals instead"
            )
    else:
        metrics = scores.parse_aggregated(decode(data, shown), source=shown, metrics=metric_names)
        unknown = [n for n, e in metrics.items() if e.ci_low is None]
        if unknown:
            warnings.append(f"recorded without a confidence interval: {', '.join(unknown)}")
    if _code is None:  # the code state as found; 'run' knows it better and passes it
        _code = (bool(runs.uncommitted_changes(ws, [shown])), None)
    dirty, diff_digest = _code
    fields = model.to_fields(
        checkpoint=rel,
        digest=digest,
        dataset=dataset_path,
        dataset_snapshot=snapshot,
        split=split,
        metrics=metrics,
        slice_column=slice_column if slices else None,
        slices=slices,
        scores=ref,
        code_commit=git.head_commit(ws.top),
        code_dirty=dirty,
        diff_digest=diff_digest,
        by=safe_by,
        env=env,
        who=git.user_identity(ws.top),
    )
    line = make_record(model.TYPE, fields)
    git_notes.append(ws.top, commit, [line])
    return Recorded(model.from_record(parse_lines(line)[0], commit), tuple(warnings))


def _redact_command(command: str) -> str:
    """``command`` with credentials masked as in run records (the record is pushed)."""
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: mask token shapes in the text as it is
        return env_vars.redact_value(command)
    safe, masked = env_vars.redact_argv(words)
    return shlex.join(safe) if masked else command


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def run(
    *,
    cwd: Path,
    checkpoint: str,
    dataset: str,
    argv: Sequence[str],
    scores_file: str,
    split: str = "",
    metric_names: Sequence[str] = (),
    slice_column: str | None = None,
    settings: Settings = Settings(),
    allow_dirty: bool = False,
    env_allow: Sequence[str] = (),
) -> EvalRun:
    """Run ``argv``, which writes ``scores_file``, then record it like ``record`` does,
    with the command, the code state and the environment (the rules of ``gitprov run``:
    a dirty work tree is refused unless ``allow_dirty``, which records a diff digest)."""
    if not argv:
        raise UsageError(
            "no command given", "Put it after '--': gitprov eval run M --dataset D -- python x.py"
        )
    check_settings(settings)
    ws = workspace.open_workspace(cwd)
    tracked, rel = checkpoint_of(ws, cwd, checkpoint)
    holding_commit(ws.top, rel, tracked.pointer.digest)  # refused before a long evaluation
    dataset_of(ws, cwd, dataset)
    scores.format_of(scores_file)
    process.resolve_program(argv[0], cwd)
    out = Path(cwd, scores_file)
    # The scores file and environment snapshots (content-addressed data, written by the
    # evaluations themselves) do not make the code dirty.
    dirty = runs.uncommitted_changes(ws, [_scores_display(ws, out)])
    if dirty and not allow_dirty:
        more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
        raise GitprovError(
            f"the work tree has uncommitted changes ({dirty[0]}{more}): an evaluation record "
            "must name the code it ran",
            "Commit or stash them first, or pass --allow-dirty to record a digest of the diff",
        )
    diff_digest = runs.diff_digest_of(ws, git.head_commit(ws.top), dirty) if dirty else None
    before = _stamp(out)
    code = process.run_command(argv, cwd=cwd)
    if code != 0:
        return EvalRun(code, None)
    if _stamp(out) is None or _stamp(out) == before:
        raise GitprovError(
            f"the command succeeded but did not write the scores file {scores_file}",
            "Nothing was recorded: fix the --scores path (or the script), then rerun",
        )
    env_digest, env_path, warnings = runs.capture_env(ws, argv, cwd, env_allow)
    if env_path and not git.is_tracked(ws.top, ws.top / env_path):
        warnings.append(
            f"the environment snapshot {env_path} is new: commit it so that other clones "
            "can read the record's environment"
        )
    safe_argv, _ = env_vars.redact_argv(list(argv))
    recorded = record(
        cwd=cwd,
        checkpoint=checkpoint,
        dataset=dataset,
        split=split,
        scores_file=scores_file,
        metric_names=metric_names,
        slice_column=slice_column,
        settings=settings,
        by=shlex.join(safe_argv),
        env=env_digest,
        _code=(bool(dirty), diff_digest),
    )
    return EvalRun(code, Recorded(recorded.record, (*warnings, *recorded.warnings)))


# --- reading ----------------------------------------------------------------------------


def all_records(top: Path) -> list[EvalRecord]:
    """Every readable eval record in the notes of HEAD's history, oldest first."""
    commits = git.rev_list(top, ["HEAD"]) if git.head_commit(top) else []
    notes = git_notes.read_notes(top, commits)
    found = []
    seen: set[str] = set()
    for commit in reversed(commits):
        for line in parse_lines(notes.get(commit, "")):
            # A note copied with its commit (a rebase keeping the old commit reachable, a
            # cherry-pick) repeats a record: one evaluation is listed once.
            if line.get("type") != model.TYPE or line.get("id") in seen:
                continue
            try:
                found.append(model.from_record(line, commit))
            except EvalRecordError:
                continue  # a damaged or future-format line must not hide the others
            seen.add(found[-1].id)
    found.sort(key=lambda r: (r.at, r.id))
    return found


def records_for(*, cwd: Path, digest: str) -> list[EvalRecord]:
    """Every evaluation of checkpoint ``digest`` in HEAD's history notes, oldest first."""
    top = git.discover(cwd).worktree
    return [r for r in all_records(top) if r.digest == digest]


def list_evals(*, cwd: Path, checkpoint: str | None = None) -> list[EvalRecord]:
    """Evaluations of ``checkpoint``'s current digest, or of every checkpoint."""
    ws = workspace.open_workspace(cwd)
    if checkpoint is None:
        return all_records(ws.top)
    tracked, _ = checkpoint_of(ws, cwd, checkpoint)
    return records_for(cwd=ws.top, digest=tracked.pointer.digest)
