"""What one commit changed for lineage, read from git with a handful of processes.

Shared by the post-commit hook, post-rewrite, ``notes rebuild`` and ``notes reattach``.
It runs git through ``adapters.gitlite`` (posix_spawn, no ``subprocess`` import) and parses
pointers with tomllib, so the post-commit hook stays within its budget of tens of
milliseconds: one ``git diff-tree`` for the commit and its changes, and one ``git cat-file
--batch`` for the pointers and run records it touched.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass

from gitprov.adapters import gitlite
from gitprov.errors import GitCommandError, GitprovError
from gitprov.model import pointer as pointers
from gitprov.model.commit_record import ArtifactChange, Change
from gitprov.model.pushrefs import is_pointer_path

RUNS_DIR = ".gitprov/runs"  # = model.runrecord.RUNS_DIR (a test keeps them equal)
_STATUS: dict[str, Change] = {"A": "added", "M": "modified", "D": "deleted", "T": "modified"}


@dataclass(frozen=True)
class CommitFacts:
    """The lineage-relevant content of one commit, diffed against its first parent."""

    commit: str
    tree: str
    message: str
    artifacts: tuple[ArtifactChange, ...]
    runs: tuple[str, ...]  # run ids whose records this commit added
    env: str | None  # the environment snapshot of the (last) run it added


@dataclass(frozen=True)
class _Entry:
    old: str
    new: str
    status: str
    path: str


def _parse_raw(raw: str) -> list[_Entry]:
    """``git diff-tree --raw -z`` entries: ``:<modes> <old> <new> <status>\\0<path>\\0``."""
    entries: list[_Entry] = []
    fields = raw.split("\0")
    i = 0
    while i + 1 < len(fields):
        meta = fields[i].lstrip("\n")
        if not meta.startswith(":"):
            i += 1
            continue
        parts = meta[1:].split(" ")
        entries.append(_Entry(parts[2], parts[3], parts[4][:1], fields[i + 1]))
        i += 2
    return entries


def _run_id(path: str) -> str | None:
    folder, name = posixpath.split(path)
    if folder == RUNS_DIR and name.endswith(".json"):
        return name.removesuffix(".json")
    return None


def read(rev: str, *, cwd: str | None = None) -> CommitFacts:
    """The facts of commit ``rev``, from git run in ``cwd`` (default: the current directory)."""
    out = gitlite.output(
        [
            "diff-tree",
            "-r",
            "-z",
            "--root",
            "-m",
            "--first-parent",
            "--no-abbrev",
            "--no-renames",
            "--always",
            "--format=%H%x00%T%x00%B%x00",
            rev,
            "--",
        ],
        cwd=cwd,
    )
    if out is None:
        raise GitCommandError(
            f"git could not read commit {rev!r}",
            "Check the name with 'git log --oneline', then retry",
        )
    commit, tree, message, raw = [*out.split("\0", 3), "", "", ""][:4]
    entries = _parse_raw(raw)
    pointer_entries = [e for e in entries if is_pointer_path(e.path)]
    run_entries = [e for e in entries if e.status == "A" and _run_id(e.path)]
    wanted = [e.old if e.status == "D" else e.new for e in pointer_entries]
    wanted += [e.new for e in run_entries]
    blobs = gitlite.read_blobs(sorted(set(wanted)), cwd=cwd)
    if blobs is None:
        raise GitCommandError(
            f"git could not read the pointers of commit {commit[:12]}",
            "Run 'git fsck' to check the repository, then retry",
        )
    artifacts: list[ArtifactChange] = []
    for e in pointer_entries:
        oid = e.old if e.status == "D" else e.new
        try:
            p = pointers.parse_fields(blobs[oid].decode("utf-8"), source=f"{e.path}@{commit[:12]}")
        except (GitprovError, UnicodeDecodeError):
            continue  # a broken pointer is reported by 'gitprov verify', not by a hook
        path = posixpath.join(posixpath.dirname(e.path), p.path)
        change = _STATUS.get(e.status, "modified")
        digest = None if change == "deleted" else p.digest
        artifacts.append(ArtifactChange(path, p.kind, digest, change))
    runs: list[str] = []
    env: str | None = None
    for e in run_entries:
        runs.append(_run_id(e.path) or "")
        try:
            value = json.loads(blobs[e.new]).get("env")
        except (ValueError, AttributeError):
            continue
        env = value if isinstance(value, str) else env
    return CommitFacts(commit, tree, message, tuple(artifacts), tuple(runs), env)
