"""``gitprov run``: run a command and commit what it produced, with its full lineage.

Order of work, so that a failure at any step leaves nothing half-recorded:

1. refuse a dirty work tree (code that is not in a commit cannot be named by a run
   record) unless ``allow_dirty``, which records a digest of the uncommitted diff;
2. snapshot the inputs (an input not tracked yet is tracked first: a run must name what it
   read by content, and tracking is what gives it a digest);
3. run the command with the terminal; a non-zero exit records nothing and is returned;
4. read the metrics files (JSON), track the outputs with ``produced_by = run:<id>``,
   capture the environment, write the run record;
5. commit the record, the environment snapshot, the pointers and ``.gitignore`` with a
   ``Gitprov-Run: <id>`` trailer (the hooks run: post-commit writes the commit's lineage
   note), or leave them staged with ``commit=False``.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitprov.adapters import git, process, run_journal
from gitprov.adapters.fs import atomic_write
from gitprov.errors import GitprovError, UsageError
from gitprov.model import digest as digests
from gitprov.model import env_vars, gitignore, runrecord
from gitprov.model import environment as env_model
from gitprov.model import pointer as pointers
from gitprov.model.notes import format_at, new_ulid
from gitprov.model.runrecord import ArtifactRef, RunRecord
from gitprov.services import project_files, track, workspace
from gitprov.services.workspace import Workspace


@dataclass(frozen=True)
class RunResult:
    """What ``run`` did. ``record`` is None when the command failed (nothing recorded)."""

    exit_code: int
    record: RunRecord | None
    commit: str | None  # the commit made (None with commit=False or on failure)
    staged: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def parse_params(items: Sequence[str]) -> dict[str, str]:
    """``K=V`` strings as a mapping; values stay strings (``lr=1e-3`` is not a float)."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {item!r} is not KEY=VALUE", "Write it as --param lr=0.001")
        if key.strip() in params:
            raise UsageError(f"--param {key.strip()} is given twice", "Give each parameter once")
        params[key.strip()] = value
    return params


def uncommitted_changes(ws: Workspace, exempt: Sequence[str]) -> list[str]:
    """Paths with uncommitted changes, except the run's own inputs and outputs."""
    prefixes = tuple(p.rstrip("/") for p in exempt)

    def own(path: str) -> bool:
        plain = path.removesuffix(pointers.SUFFIX)
        return any(plain == p or plain.startswith(p + "/") for p in prefixes)

    # Environment snapshots are content-addressed data gitprov writes and checks on every
    # read, never code: one left by an interrupted run does not make the tree dirty.
    changed = [
        p
        for p in git.changed_paths(ws.top)
        if not own(p) and not (p.startswith(env_model.ENVS_DIR + "/") and p.endswith(".json"))
    ]
    ignore_file = str(project_files.GITIGNORE_PATH)
    if ignore_file in changed and _only_gitprov_rules_changed(ws):
        changed.remove(ignore_file)
    return changed


def _only_gitprov_rules_changed(ws: Workspace) -> bool:
    """Whether .gitignore differs from HEAD only inside gitprov's block (rules that
    tracking adds, e.g. for an input a failed run tracked): not a code change."""
    path = ws.top / project_files.GITIGNORE_PATH
    before = git.show_file(ws.top, "HEAD", str(project_files.GITIGNORE_PATH)) or ""
    now = path.read_text(encoding="utf-8") if path.is_file() else ""
    return gitignore.outside_block(before) == gitignore.outside_block(now)


def diff_digest_of(ws: Workspace, head: str | None, dirty: Sequence[str]) -> str:
    """sha256 over the tracked diff and every untracked file's name and content."""
    h = hashlib.sha256(git.diff_bytes(ws.top, head))
    tracked = set(git.ls_files(ws.top, list(dirty), others=False)) if dirty else set()
    for path in sorted(set(dirty) - tracked):
        file = ws.top / path
        if file.is_file():
            h.update(b"\0untracked\0" + path.encode() + b"\0")
            h.update(hashlib.sha256(file.read_bytes()).digest())
    return digests.from_hex(h.hexdigest())


def _rel(ws: Workspace, cwd: Path, raw: str) -> str:
    return ws.display(workspace.inside_worktree(ws, cwd, raw))


def _read_metrics(ws: Workspace, cwd: Path, files: Sequence[str]) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for raw in files:
        path = workspace.inside_worktree(ws, cwd, raw)
        rel = ws.display(path)
        try:
            metrics[rel] = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_nan)
        except FileNotFoundError:
            raise GitprovError(
                f"the command succeeded but did not write the metrics file {rel}",
                "Nothing was recorded: fix the --metrics path (or the script), then rerun",
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise GitprovError(
                f"the metrics file {rel} is not valid JSON ({str(exc)[:80]})",
                "Nothing was recorded: make the script write JSON there, then rerun",
            ) from None
    return metrics


def _no_nan(name: str) -> Any:
    # Python's json reads NaN and Infinity, but they are not JSON: no other tool could read
    # the run record back. A metric that diverged should be recorded as text, not NaN.
    raise ValueError(f'{name} is not a JSON number (write it as a string, e.g. "{name}")')


def _refs(report: track.TrackReport) -> tuple[ArtifactRef, ...]:
    return tuple(ArtifactRef(r.path, r.kind, r.digest) for r in report.results)


def _python_for(argv: Sequence[str], cwd: Path) -> str | None:
    """The interpreter the command runs, when it is a Python: its packages are the ones
    that matter. Otherwise None (the environment probe then uses the first on PATH)."""
    name = posixpath.basename(argv[0])
    if name.startswith("python"):
        return process.resolve_program(argv[0], cwd)
    return None


def capture_env(
    ws: Workspace, argv: Sequence[str], cwd: Path, env_allow: Sequence[str]
) -> tuple[str | None, str | None, list[str]]:
    """(snapshot digest, its repository path, warnings). A probe failure is a warning:
    the command (maybe hours of training) succeeded, and its record must not be lost."""
    from gitprov.adapters.environment_probe import EnvironmentProbeError  # noqa: PLC0415
    from gitprov.services import environment  # noqa: PLC0415 - probes only after success

    try:
        env = environment.capture(
            top=ws.top,
            git_dir=ws.layout.common_dir,
            python=_python_for(argv, cwd),
            extra_env_allow=env_allow,
        )
    except EnvironmentProbeError as exc:
        return None, None, [f"the environment could not be captured ({exc}); recorded without it"]
    return env.digest, env.path, list(env.warnings)


def run(
    *,
    cwd: Path,
    argv: Sequence[str],
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    params: Mapping[str, str] | None = None,
    seeds: Sequence[str] = (),
    metrics: Sequence[str] = (),
    message: str | None = None,
    allow_dirty: bool = False,
    commit: bool = True,
    env_allow: Sequence[str] = (),
) -> RunResult:
    """Run ``argv`` and record it; see the module docstring for the order of work."""
    if not argv:
        raise UsageError("no command given", "Put it after '--': gitprov run -o out -- python x.py")
    ws = workspace.open_workspace(cwd)
    input_paths = [_rel(ws, cwd, raw) for raw in inputs]
    output_paths = [_rel(ws, cwd, raw) for raw in outputs]
    _check_paths(ws, input_paths, output_paths)
    process.resolve_program(argv[0], cwd)  # a typo fails before anything else happens
    head = git.head_commit(ws.top)
    rolled_back = _roll_back_dead_runs(ws)
    dirty = uncommitted_changes(ws, [*input_paths, *output_paths])
    if dirty and not allow_dirty:
        more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
        raise GitprovError(
            f"the work tree has uncommitted changes ({dirty[0]}{more}): a run record must "
            "name the code it ran",
            "Commit or stash them first, or pass --allow-dirty to record a digest of the diff",
        )
    diff_digest = diff_digest_of(ws, head, dirty) if dirty else None
    run_id = new_ulid()
    ref = runrecord.RUN_PREFIX + run_id
    in_report = track.track(cwd=ws.top, paths=input_paths) if input_paths else None

    started = datetime.now(UTC)
    code = process.run_command(argv, cwd=cwd)
    ended = datetime.now(UTC)
    if code != 0:
        return RunResult(code, None, None)

    metric_values = _read_metrics(ws, cwd, metrics)
    missing = [p for p in output_paths if not (ws.top / p).exists()]
    if missing:
        raise GitprovError(
            f"the command succeeded but did not write the output {missing[0]}",
            "Nothing was recorded: fix the -o path (or the script), then rerun",
        )
    out_report = (
        track.track(cwd=ws.top, paths=output_paths, produced_by=ref) if output_paths else None
    )
    # From here to the commit, a kill would leave the record and the environment snapshot
    # behind: the journal lets the next run roll them back.
    run_journal.begin(ws.layout.gitprov_dir, run_id, [runrecord.record_path(run_id)])
    env_digest, env_path, warnings = capture_env(ws, argv, cwd, env_allow)
    warnings = [*rolled_back, *warnings]
    safe_argv, masked = env_vars.redact_argv(list(argv))
    safe_params = {
        k: ("***" if env_vars.looks_secret(k) else env_vars.redact_value(v))
        for k, v in (params or {}).items()
    }
    if masked or safe_params != dict(params or {}):
        warnings.append(
            "credentials on the command line or in --param were masked in the run record "
            "(pass secrets through environment variables; 'gitprov rerun' cannot replay them)"
        )
    record = RunRecord(
        id=run_id,
        argv=tuple(safe_argv),
        cwd=ws.display(cwd.resolve()) if cwd.resolve() != ws.top.resolve() else ".",
        started_at=format_at(started),
        ended_at=format_at(ended),
        exit_code=code,
        head=head,
        dirty=bool(dirty),
        diff_digest=diff_digest,
        params=safe_params,
        seeds=tuple(seeds),
        inputs=_refs(in_report) if in_report else (),
        outputs=_refs(out_report) if out_report else (),
        metrics=metric_values,
        env=env_digest,
        user=git.user_identity(ws.top),
        message=message or "",
    )
    record_file = ws.top / record.path
    record_file.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(record_file, runrecord.dumps(record))
    staged = [record.path] + ([env_path] if env_path else [])
    for report in (in_report, out_report):
        if report is not None:
            staged += report.staged
    staged = sorted(set(staged))
    subject = message or f"Run {' '.join(safe_argv)}"[:72]
    # One lock across staging and the commit: two runs finishing together take turns
    # instead of one failing on git's index.lock after its command has run.
    with ws.worktree_lock():
        git.stage(ws.top, [ws.top / p for p in staged])
        if not commit:
            run_journal.end(ws.layout.gitprov_dir, run_id)  # staged on purpose: kept
            return RunResult(code, record, None, tuple(staged), tuple(warnings))
        made = git.commit_paths(ws.top, staged, subject, [f"{runrecord.TRAILER}: {run_id}"])
        run_journal.end(ws.layout.gitprov_dir, run_id)
    return RunResult(code, record, made, tuple(staged), tuple(warnings))


def _check_paths(ws: Workspace, input_paths: list[str], output_paths: list[str]) -> None:
    """Refused before the command runs: a long training run must not be lost to them."""
    both = sorted(set(input_paths) & set(output_paths))
    if both:
        raise UsageError(
            f"{both[0]} is both an input and an output",
            "A run that updates a file in place reads one version and writes another: "
            "write the output to a new path",
        )
    for rel in [*input_paths, *output_paths]:
        if git.is_tracked(ws.top, ws.top / rel):
            raise GitprovError(
                f"git already tracks {rel}; gitprov keeps artifact bytes out of git",
                f"Run 'git rm -r --cached {rel}' (the files stay on disk), then rerun",
            )


def _roll_back_dead_runs(ws: Workspace) -> list[str]:
    """Remove the run record of each run killed before its commit (its own file, named by
    its ULID, never committed). Returns one warning per run rolled back. Its outputs stay
    tracked; an environment snapshot it wrote is content-addressed data that
    ``uncommitted_changes`` does not count as a change, and is left alone."""
    said = []
    with ws.worktree_lock():
        for pending in run_journal.dead(ws.layout.gitprov_dir):
            for rel in pending.paths:
                if git.show_file(ws.top, "HEAD", rel) is not None:
                    continue  # committed: not ours to remove
                git.unstage_and_forget(ws.top, ws.top / rel)
                (ws.top / rel).unlink(missing_ok=True)
            run_journal.end(ws.layout.gitprov_dir, pending.run_id)
            said.append(
                f"rolled back run:{pending.run_id}, killed before its commit "
                "(its record was never committed; its outputs stay tracked)"
            )
    return said


def env_allow_from_config(top: Path) -> list[str]:
    """``[runs] env_allow`` from the committed config (extra environment variable names)."""
    import tomllib  # noqa: PLC0415

    path = top / project_files.CONFIG_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return []
    names = data.get("runs", {}).get("env_allow", [])
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
