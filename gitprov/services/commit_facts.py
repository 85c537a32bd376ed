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

from gitprov.adapters import gitlite
from gitprov.errors import GitCommandError, GitprovError
from gitprov.model.commit_record import ArtifactChange
from gitprov.model.paths import is_pointer_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without the typing import (hook start-up)
if TYPE_CHECKING:
    from gitprov.model.commit_record import Change

RUNS_DIR = ".gitprov/runs"  # = model.runrecord.RUNS_DIR (a test keeps them equal)
_STATUS: dict[str, Change] = {"A": "added", "M": "modified", "D": "deleted", "T": "modified"}


class CommitFacts:
    """The lineage-relevant content of one commit, diffed against its first parent.

    A plain class: ``dataclasses`` (with ``inspect``) is too slow an import for a hook.
    """

    __slots__ = ("artifacts", "commit", "env", "message", "runs", "tree")

    def __init__(
        self,
        *,
        commit: str,
        tree: str,
        message: str,
        artifacts: tuple[ArtifactChange, ...],
        runs: tuple[str, ...],
        env: str | None,
    ) -> None:
        self.commit = commit
        self.tree = tree
        self.message = message
        self.artifacts = artifacts
        self.runs = runs  # run ids whose records this commit added
        self.env = env  # the environment snapshot of the (last) run it added


# One ``git diff-tree --raw`` entry: (old blob, new blob, status letter, path).
_Entry = tuple[str, str, str, str]


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
        entries.append((parts[2], parts[3], parts[4][:1], fields[i + 1]))
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
    pointer_entries = [e for e in entries if is_pointer_path(e[3])]
    run_entries = [e for e in entries if e[2] == "A" and _run_id(e[3])]
    wanted = [e[0] if e[2] == "D" else e[1] for e in pointer_entries]
    wanted += [e[1] for e in run_entries]
    blobs = gitlite.read_blobs(sorted(set(wanted)), cwd=cwd)
    if blobs is None:
        raise GitCommandError(
            f"git could not read the pointers of commit {commit[:12]}",
            "Run 'git fsck' to check the repository, then retry",
        )
    artifacts: list[ArtifactChange] = []
    if pointer_entries:
        # Only commits that touch pointers pay for the pointer parser (and dataclasses).
        from gitprov.model import pointer as pointers  # noqa: PLC0415
    for e in pointer_entries:
        oid = e[0] if e[2] == "D" else e[1]
        try:
            p = pointers.parse_fields(blobs[oid].decode("utf-8"), source=f"{e[3]}@{commit[:12]}")
        except (GitprovError, UnicodeDecodeError):
            continue  # a broken pointer is reported by 'gitprov verify', not by a hook
        path = posixpath.join(posixpath.dirname(e[3]), p.path)
        change = _STATUS.get(e[2], "modified")
        digest = None if change == "deleted" else p.digest
        artifacts.append(ArtifactChange(path, p.kind, digest, change))
    runs: list[str] = []
    env: str | None = None
    for e in run_entries:
        runs.append(_run_id(e[3]) or "")
        try:
            value = json.loads(blobs[e[1]]).get("env")
        except (ValueError, AttributeError, RecursionError):  # a hostile run record
            continue
        env = value if isinstance(value, str) else env
    return CommitFacts(
        commit=commit,
        tree=tree,
        message=message,
        artifacts=tuple(artifacts),
        runs=tuple(runs),
        env=env,
    )
