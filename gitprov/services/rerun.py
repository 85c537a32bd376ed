"""``gitprov rerun``: run a recorded run again and say whether it reproduced.

Order of work, so that nothing is left behind whatever happens:

1. find the run record: in HEAD's tree, else in the history of any ref, else in the
   work tree (a run made with ``--no-commit``); a prefix must be unique;
2. refuse what cannot be reproduced before touching anything: a record made on
   uncommitted changes (unless ``allow_dirty_record``), a code commit this clone lacks,
   an input missing from the local object cache;
3. check the recorded commit out into a temporary, detached worktree under the system
   temp folder, place every input at its recorded path (copied or reflinked from the
   cache and verified, so the rerun cannot damage the cache), run the recorded argv in
   the recorded cwd;
4. compare: every output's digest (a folder's Merkle root) with the recorded one, every
   leaf of every metrics file with the recorded value (numbers within a tolerance), and
   the environment snapshot (reported, not part of the verdict);
5. remove the worktree (``try/finally``: also on an error or Ctrl-C) unless ``keep``.

The comparison rules are in ``model.rerun_compare``; the tolerances default to 0
(exact) and come from ``[runs] metric_abs_tol`` and ``metric_rel_tol`` in
``.gitprov/config.toml``, overridden per call.
"""

from __future__ import annotations

import json
import math
import os
import posixpath
import re
import shutil
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from gitprov.adapters import git, process
from gitprov.adapters.hashing import hash_file
from gitprov.adapters.objects import ObjectCache
from gitprov.errors import ConfigError, GitprovError, UsageError
from gitprov.model import digest as digests
from gitprov.model import environment as env_model
from gitprov.model import pointer as pointers
from gitprov.model import runrecord, tree
from gitprov.model.rerun_compare import (
    EnvComparison,
    MetricResult,
    OutputResult,
    OutputStatus,
    Tolerance,
    compare_metrics,
    env_changes,
    is_number,
)
from gitprov.model.runrecord import ArtifactRef, RecordFormatError, RunRecord
from gitprov.services import project_files, snapshot, workspace
from gitprov.services.workspace import Workspace

MIN_PREFIX = 6
_RUN_ID = re.compile(rf"[0-9A-HJKMNP-TV-Z]{{{MIN_PREFIX},26}}")  # Crockford base32
_TREE_START = b'{"entries":['  # how every tree node begins (model.tree.encode)


@dataclass(frozen=True)
class FoundRecord:
    record: RunRecord
    commit: str | None  # the commit that added the record; None: in the work tree only


@dataclass(frozen=True)
class RerunPlan:
    """What is about to run (for the CLI to announce before the command's output)."""

    run: str  # run:<id>
    commit: str
    worktree: Path
    cwd: Path
    argv: tuple[str, ...]


@dataclass(frozen=True)
class RerunReport:
    run_id: str
    record_commit: str | None
    commit: str  # the code state the command ran on (the record's code.head)
    worktree: Path
    kept: bool
    exit_code: int  # the command's
    compared: bool
    seconds: float
    recorded_seconds: float | None
    tolerance: Tolerance
    outputs: tuple[OutputResult, ...] = ()
    metrics: tuple[MetricResult, ...] = ()
    environment: EnvComparison | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def reproduced(self) -> bool:
        return (
            self.exit_code == 0
            and all(o.status == "identical" for o in self.outputs)
            and all(m.ok for m in self.metrics)
        )

    def to_json(self) -> dict[str, Any]:
        env = self.environment
        return {
            "run": runrecord.RUN_PREFIX + self.run_id,
            "record_commit": self.record_commit,
            "commit": self.commit,
            "worktree": str(self.worktree) if self.kept else None,
            "exit_code": self.exit_code,
            "compared": self.compared,
            "reproduced": self.reproduced if self.compared else None,
            "seconds": round(self.seconds, 3),
            "recorded_seconds": self.recorded_seconds,
            "tolerance": {"abs": self.tolerance.abs, "rel": self.tolerance.rel},
            "outputs": [vars(o) for o in self.outputs],
            "metrics": [{**vars(m), "ok": m.ok} for m in self.metrics],
            "environment": None if env is None else {**vars(env), "same": env.same},
            "warnings": list(self.warnings),
        }


# --- finding the record ----------------------------------------------------------------


def parse_run_id(raw: str) -> str:
    """The upper-case id or prefix in ``01JD3Q...``, ``run:01JD3Q...`` (UsageError if not)."""
    text = runrecord.run_id_of(raw.strip()).upper()
    if not _RUN_ID.fullmatch(text):
        raise UsageError(
            f"{raw!r} is not a run id (a ULID, run:<ULID>, or at least {MIN_PREFIX} of its "
            "first characters)",
            "Copy it from 'gitprov log --lineage' or from the Gitprov-Run trailer of its commit",
        )
    return text


def _matching(paths: list[str], prefix: str, raw: str) -> str | None:
    hits = sorted({p for p in paths if _id_of(p).startswith(prefix)})
    if len(hits) > 1:
        shown = ", ".join(_id_of(p) for p in hits[:3]) + (" ..." if len(hits) > 3 else "")
        raise UsageError(
            f"{raw!r} matches {len(hits)} runs ({shown})", "Give more characters of the id"
        )
    return hits[0] if hits else None


def _id_of(path: str) -> str:
    return posixpath.basename(path).removesuffix(".json").upper()


def find_record(ws: Workspace, raw: str) -> FoundRecord:
    """The run record ``raw`` names: HEAD's tree first, then every ref's history, then the
    work tree (uncommitted)."""
    prefix, top = parse_run_id(raw), ws.top
    path = _matching(git.tree_files(top, "HEAD", runrecord.RUNS_DIR), prefix, raw)
    if path is not None:
        added = git.commits_adding(top, path, every_ref=False)
        return _loaded(
            git.show_file(top, "HEAD", path), f"{path}@HEAD", added[0][0] if added else None
        )
    history: dict[str, str] = {}
    for commit, added_path in git.commits_adding(top, runrecord.RUNS_DIR, every_ref=True):
        history.setdefault(added_path, commit)  # newest first: the latest addition wins
    path = _matching(list(history), prefix, raw)
    if path is not None:
        commit = history[path]
        return _loaded(git.show_file(top, commit, path), f"{path}@{commit[:12]}", commit)
    local = [ws.display(p) for p in (top / runrecord.RUNS_DIR).glob("*.json")]
    path = _matching(local, prefix, raw)
    if path is not None:
        return _loaded((top / path).read_text(encoding="utf-8"), path, None)
    raise GitprovError(
        f"no run record matches {raw!r} in HEAD, in the history of any branch or tag, or in "
        "the work tree",
        "Check the id ('gitprov log --lineage' lists runs), or fetch the branch that has it",
    )


def _loaded(text: str | None, source: str, commit: str | None) -> FoundRecord:
    if text is None:  # listed a moment ago: only a concurrent history rewrite gets here
        raise GitprovError(f"cannot read {source}", "Retry; check 'git status'")
    return FoundRecord(runrecord.loads(text, source=source), commit)


# --- configuration ---------------------------------------------------------------------


def load_tolerance(top: Path, *, abs_tol: float | None, rel_tol: float | None) -> Tolerance:
    """``[runs] metric_abs_tol``/``metric_rel_tol`` (default 0), each overridden when given."""
    source = str(project_files.CONFIG_PATH)
    try:
        data = tomllib.loads((top / source).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # TOMLDecodeError, huge ints, deep nesting
        data = {}  # open_workspace has already reported an unreadable config
    section = data.get("runs", {})
    values: dict[str, float] = {}
    for key, given in (("metric_abs_tol", abs_tol), ("metric_rel_tol", rel_tol)):
        value = given if given is not None else section.get(key, 0.0)
        if not is_number(value) or not math.isfinite(value) or value < 0:
            raise ConfigError(
                f"{source}: [runs] {key} = {value!r} is not a non-negative number",
                "Set it to a number such as 0.001 (or remove it: the default 0 means exact)",
            )
        values[key] = float(value)
    return Tolerance(values["metric_abs_tol"], values["metric_rel_tol"])


# --- metrics ---------------------------------------------------------------------------


def _rerun_metrics(
    worktree: Path, record: RunRecord, tol: Tolerance, warnings: list[str]
) -> list[MetricResult]:
    results: list[MetricResult] = []
    for file, recorded in sorted(record.metrics.items()):
        try:
            now = json.loads(_inside(worktree, file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            warnings.append(f"the rerun did not write the metrics file {file}")
            now = None
        except (ValueError, UnicodeDecodeError):
            warnings.append(f"the metrics file {file} the rerun wrote is not valid JSON")
            now = None
        results += compare_metrics(file, recorded, now, tol)
    return results


# --- inputs and outputs ----------------------------------------------------------------


def _inside(worktree: Path, rel: str) -> Path:
    """``worktree/rel``, refusing a recorded path that would leave the worktree."""
    norm = posixpath.normpath(rel)
    parts = norm.split("/")
    if rel.startswith("/") or norm in (".", "..") or parts[0] in ("..", ".git"):
        raise RecordFormatError(
            f"the run record names the path {rel!r}, outside its work tree",
            "Restore the record from git history (run records are written by gitprov)",
        )
    path = worktree / norm
    top = worktree.resolve()
    if top != path.parent.resolve() and top not in path.parent.resolve().parents:
        raise RecordFormatError(
            f"{rel} is reached through a symlink leaving the work tree at the run's commit",
            "Rerun cannot place inputs or read outputs there; check the committed symlinks",
        )
    return path


def _is_tree(cache: ObjectCache, digest: str) -> bool:
    """Whether a stored object is a snapshot's root node (a folder) rather than a file."""
    try:
        with open(cache.path(digest), "rb") as stored:
            if stored.read(len(_TREE_START)) != _TREE_START:
                return False
        tree.decode(cache.read_verified(digest))
    except (OSError, ValueError, GitprovError):
        return False
    return True


def _in_cache(cache: ObjectCache, ref: ArtifactRef) -> bool:
    if not cache.has(ref.digest):
        return False
    if not _is_tree(cache, ref.digest):
        return True
    try:
        return all(cache.has(d) for d in snapshot.tree_objects(cache, ref.digest))
    except (GitprovError, ValueError):
        return False


def _missing_input(ws: Workspace, found: FoundRecord, ref: ArtifactRef) -> GitprovError:
    pull = f"gitprov pull {ref.path}"
    try:
        text = (ws.top / pointers.pointer_name(ref.path)).read_text(encoding="utf-8")
        here = pointers.parse_fields(text, source=ref.path).digest == ref.digest
    except (OSError, UnicodeDecodeError, GitprovError):
        here = False
    if here or found.commit is None:
        fix = f"Run '{pull}' (the pointer in your work tree names it), then retry"
    else:
        fix = (
            f"Run '{pull}' with the run's commit {found.commit[:12]} checked out (its "
            f"{pointers.pointer_name(ref.path)} names it), then retry"
        )
    return GitprovError(
        f"the input {ref.path} ({digests.short(ref.digest)}) is not in the local cache", fix
    )


def _place(cache: ObjectCache, ref: ArtifactRef, dest: Path) -> None:
    """Put an input at ``dest``: copies (or reflinks), never hard links to the cache."""
    if dest.is_symlink() or dest.is_file():
        dest.unlink()
    elif dest.is_dir():
        shutil.rmtree(dest)
    if not _is_tree(cache, ref.digest):
        cache.materialize(ref.digest, dest, "auto", executable=False)
        return
    dirs: list[str] = []
    records = snapshot.flatten(cache, ref.digest, dirs=dirs)
    dest.mkdir(parents=True)
    for rel in dirs:
        (dest / rel).mkdir(parents=True, exist_ok=True)
    for rel, record in records.items():
        if record.type == "link" and record.target is not None:
            tree.check_link_target(rel, record.target)
            os.symlink(record.target, dest / rel)
        else:
            cache.materialize(record.digest, dest / rel, "auto", executable=record.exec)


def _digest_now(path: Path) -> str | None:
    if not path.exists():
        return None
    if path.is_dir():
        return snapshot.snapshot_directory(path, stats=None, cache=None, mode="copy").digest
    return hash_file(path.resolve())[0]


def _outputs(worktree: Path, record: RunRecord) -> list[OutputResult]:
    results = []
    for ref in record.outputs:
        now = _digest_now(_inside(worktree, ref.path))
        status: OutputStatus = (
            "missing" if now is None else "identical" if now == ref.digest else "different"
        )
        results.append(OutputResult(ref.path, ref.kind, status, ref.digest, now))
    return results


# --- environment -----------------------------------------------------------------------


def _environment(
    ws: Workspace, found: FoundRecord, recorded_env: str, worktree: Path, cwd: Path
) -> EnvComparison:
    """The environment now (captured as ``gitprov run`` does) against the recorded one."""
    from gitprov.services import environment, runs  # noqa: PLC0415 - probes only when asked

    argv0 = found.record.argv[0]
    try:
        python = (
            process.resolve_program(argv0, cwd)
            if posixpath.basename(argv0).startswith("python")
            else None
        )
        now = environment.capture(
            top=worktree,
            git_dir=ws.layout.common_dir,
            python=python,
            extra_env_allow=runs.env_allow_from_config(ws.top),
        )
    except GitprovError as exc:
        return EnvComparison(recorded_env, None, (f"not captured: {exc.problem}",))
    if now.digest == recorded_env:
        return EnvComparison(recorded_env, now.digest)
    recorded = _recorded_env(ws, found.commit, recorded_env)
    if recorded is None:
        return EnvComparison(recorded_env, now.digest, ("the recorded snapshot is unreadable",))
    return EnvComparison(recorded_env, now.digest, env_changes(recorded, now.snapshot))


def _recorded_env(ws: Workspace, commit: str | None, digest: str) -> dict[str, Any] | None:
    """The recorded snapshot: in the work tree, else in the commit that added the record
    (it is committed with its first run), checked against its name; None if neither."""
    path = env_model.snapshot_path(digest)
    for rev in [None, commit] if commit else [None]:
        try:
            if rev is None:
                data = (ws.top / path).read_bytes()
            else:
                text = git.show_file(ws.top, rev, path)
                if text is None:
                    continue
                data = text.encode()
            env_model.check_digest(data, digest, source=path)
            raw: dict[str, Any] = json.loads(data)
            return raw
        except (OSError, ValueError, GitprovError):
            continue
    return None


# --- the rerun -------------------------------------------------------------------------


def _recorded_seconds(record: RunRecord) -> float | None:
    try:
        start = datetime.fromisoformat(record.started_at)
        end = datetime.fromisoformat(record.ended_at)
    except ValueError:
        return None
    return round((end - start).total_seconds(), 3)


def _check_runnable(ws: Workspace, found: FoundRecord, allow_dirty_record: bool) -> str:
    record = found.record
    if not record.argv:
        raise RecordFormatError(f"{record.path} records no command", "Restore it from git history")
    if record.head is None:
        raise GitprovError(
            f"{record.ref} ran before the repository's first commit: no code state to check out",
            "It cannot be rerun; record a new run with 'gitprov run'",
        )
    if record.dirty and not allow_dirty_record:
        raise GitprovError(
            f"{record.ref} ran on uncommitted changes (dirty: true) that are in no commit, "
            "so it cannot be reproduced exactly",
            f"Pass --allow-dirty-record to rerun it at {record.head[:12]} without them",
        )
    if git.resolve_commit(ws.top, record.head) is None:
        raise GitprovError(
            f"the run's code commit {record.head[:12]} is not in this clone",
            "Fetch it ('git fetch --all'), then retry",
        )
    for ref in record.inputs:
        if not _in_cache(ws.cache, ref):
            raise _missing_input(ws, found, ref)
    return record.head


def rerun(
    *,
    cwd: Path,
    run_id: str,
    compare: bool = True,
    keep: bool = False,
    allow_dirty_record: bool = False,
    abs_tol: float | None = None,
    rel_tol: float | None = None,
    on_start: Callable[[RerunPlan], None] | None = None,
) -> RerunReport:
    """Rerun ``run_id`` in a temporary worktree; see the module docstring."""
    ws = workspace.open_workspace(cwd)
    found = find_record(ws, run_id)
    record = found.record
    tol = load_tolerance(ws.top, abs_tol=abs_tol, rel_tol=rel_tol)
    head = _check_runnable(ws, found, allow_dirty_record)
    warnings: list[str] = []
    if record.dirty:
        warnings.append(
            f"{record.ref} ran on uncommitted changes: rerun at {head[:12]} without them, "
            "so a difference may come from the code"
        )
    # The worktree is the temp folder itself: 'git worktree remove' leaves nothing behind.
    worktree = Path(tempfile.mkdtemp(prefix=f"gitprov-rerun-{record.id[:10].lower()}-"))
    kept = False  # --keep applies once the command has run: an earlier error cleans up
    try:
        git.add_worktree(ws.top, worktree, head)
        for ref in record.inputs:
            _place(ws.cache, ref, _inside(worktree, ref.path))
        run_cwd = worktree if record.cwd == "." else _inside(worktree, record.cwd)
        try:
            process.resolve_program(record.argv[0], run_cwd)
        except UsageError as exc:
            raise GitprovError(
                f"the recorded command cannot start: {exc.problem}", exc.fix
            ) from None
        if on_start is not None:
            on_start(RerunPlan(record.ref, head, worktree, run_cwd, record.argv))
        kept = keep
        started = time.monotonic()
        code = process.run_command(record.argv, cwd=run_cwd)
        report = RerunReport(
            run_id=record.id,
            record_commit=found.commit,
            commit=head,
            worktree=worktree,
            kept=keep,
            exit_code=code,
            compared=compare and code == 0,
            seconds=time.monotonic() - started,
            recorded_seconds=_recorded_seconds(record),
            tolerance=tol,
            warnings=tuple(warnings),
        )
        if not report.compared:
            return report
        outputs = tuple(_outputs(worktree, record))
        metrics = tuple(_rerun_metrics(worktree, record, tol, warnings))
        env = _environment(ws, found, record.env, worktree, run_cwd) if record.env else None
        return replace(
            report, outputs=outputs, metrics=metrics, environment=env, warnings=tuple(warnings)
        )
    finally:
        if not kept:
            git.remove_worktree(ws.top, worktree)
            shutil.rmtree(worktree, ignore_errors=True)  # if 'git worktree add' failed
