"""What a ``gitprov lineage`` target names: the node of the lineage index to start from.

A target is a path or ``path@rev`` (the artifact version its pointer names there, or the
DVC output of that path), a digest (``sha256:<hex>``, a unique prefix of one,
``ds:<12 hex>``, ``md5:<hex>``), or a run (``run:<ULID>`` or a unique prefix,
``dvc:<stage>``). A target that names nothing, or more than one thing, raises
``LineageTargetError`` (exit 2) with the fix.
"""

from __future__ import annotations

from pathlib import Path

from gitprov.adapters.history import History
from gitprov.errors import UsageError
from gitprov.model import digest as digests
from gitprov.model import dvclock, runrecord
from gitprov.model import pointer as pointers
from gitprov.model.lineage_graph import LineageGraph
from gitprov.services.lineage_dvc import dvc_path, pointer_digest
from gitprov.services.lineage_index import LineageIndex
from gitprov.services.log_args import relative_path

_MIN_PREFIX = 6  # hex digits (or ULID characters) a short digest or run id needs


class LineageTargetError(UsageError):
    """The lineage target names nothing, or more than one thing (exit 2)."""


def path_revision(history: History, target: str) -> str | None:
    """The commit of a ``path@rev`` target (None for other targets)."""
    if "@" not in target or target.startswith(_ID_PREFIXES):
        return None
    return history.resolve(target.split("@", 1)[1])


_ID_PREFIXES = (runrecord.RUN_PREFIX, "dvc:", digests.PREFIX, "ds:", dvclock.MD5_PREFIX)


def resolve_target(
    history: History, index: LineageIndex, cwd: Path, target: str, *, at: str
) -> str:
    """The node of ``index`` (digest or run id) that ``target`` names: a path, digest or
    run, written as the module docstring says.

    A path is read at ``at`` unless written ``path@rev``: its pointer there, else the
    ``dvc.lock`` entry of that path there (by the gitprov digest of the same bytes when
    gitprov knows one, see ``LineageIndex.aliases``).
    """
    graph = index.graph
    if target.startswith((runrecord.RUN_PREFIX, "dvc:")) or _is_ulid(target):
        return _unique_run(graph, target)
    if target.startswith((digests.PREFIX, "ds:", dvclock.MD5_PREFIX)):
        return _unique_digest(graph, target)
    path, _, rev = target.partition("@")
    rev = rev or at
    commit = history.resolve(rev)
    rel = relative_path(history.top or cwd, cwd, path)
    digest = pointer_digest(history, commit, rel)
    if digest is None:
        digest = dvc_path(history, commit, rel, index.lock_paths)
        same = sorted(index.aliases.get(digest, ())) if digest else []
        if len(same) == 1:  # a DVC output that gitprov knows by its sha256 too
            digest = same[0]
    if digest is not None and digest in graph.artifacts:
        return digest
    explicit = "@" in target
    where = f" at {rev}" if explicit else ""
    tracked_here = (history.top or cwd).joinpath(rel + pointers.SUFFIX).is_file()
    if digest is None and not explicit and tracked_here:
        raise LineageTargetError(
            f"{rel} is tracked in the work tree but not in commit {rev}",
            f"Commit {rel}{pointers.SUFFIX} first: lineage reads committed records only",
        )
    raise LineageTargetError(
        f"{rel} is not a tracked artifact{where} (no {rel}{pointers.SUFFIX} and no "
        "dvc.lock output of that path there)",
        f"Name a tracked path (see 'gitprov status'), a commit where it was tracked "
        f"('{rel}@<rev>'; 'git log -- {rel}{pointers.SUFFIX}' lists them), a digest or "
        "a run:<id>",
    )


def _is_ulid(text: str) -> bool:
    from gitprov.model.notes import CROCKFORD, ULID_LENGTH  # noqa: PLC0415

    return len(text) == ULID_LENGTH and all(c in CROCKFORD for c in text.upper())


def _unique_run(graph: LineageGraph, target: str) -> str:
    wanted = runrecord.run_id_of(target).upper() if not target.startswith("dvc:") else target
    if wanted in graph.runs:
        return wanted
    matches = sorted(r for r in graph.runs if r.startswith(wanted) or r.upper() == wanted)
    if len(matches) == 1 and (len(wanted) >= _MIN_PREFIX or wanted.startswith("dvc:")):
        return matches[0]
    if len(matches) > 1:
        raise LineageTargetError(
            f"'{target}' matches {len(matches)} runs: {', '.join(matches[:5])}"
            + (", ..." if len(matches) > 5 else ""),
            "Give more characters of the run id",
        )
    raise LineageTargetError(
        f"no run '{target}' in the history of this commit",
        "Check the id with 'gitprov log' (run ids are listed under each commit)",
    )


def _unique_digest(graph: LineageGraph, target: str) -> str:
    if target in graph.artifacts:
        return target
    ds = target.startswith("ds:")
    prefix = digests.PREFIX + target[3:].lower() if ds else target.lower()
    hex_length = len(prefix.partition(":")[2])
    matches = sorted(d for d in graph.artifacts if d.startswith(prefix))
    if len(matches) == 1 and hex_length >= _MIN_PREFIX:
        return matches[0]
    if len(matches) > 1:
        shown = ", ".join(f"{d[:19]} ({graph.artifacts[d].path})" for d in matches[:5])
        raise LineageTargetError(
            f"'{target}' matches {len(matches)} artifacts: {shown}"
            + (", ..." if len(matches) > 5 else ""),
            "Give more digits of the digest, or name the path",
        )
    if matches:
        raise LineageTargetError(
            f"'{target}' is too short to name an artifact",
            f"Give at least {_MIN_PREFIX} hex digits",
        )
    raise LineageTargetError(
        f"no artifact with digest '{target}' in the history of this commit",
        "Check the digest with 'gitprov status' or 'gitprov log', or name the path",
    )
