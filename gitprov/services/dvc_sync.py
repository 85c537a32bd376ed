"""One ``git push`` syncs DVC too: the outputs of changed ``.dvc`` files go to DVC's remote.

Which DVC files changed is git's answer (one ``git log``), so nothing here imports dvc
until there is something to push, and without the ``dvc`` extra the result says what
was skipped instead of failing the push.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters import dvc_api, git

# git pathspecs from the top of the work tree, whatever the current directory; their '*'
# also matches '/', so they reach every folder. dvc.lock records the outputs of pipeline
# stages ('dvc repro'), which dvc pushes as it pushes the outputs of .dvc files.
_PATHSPECS = (":(top)*.dvc", ":(top)dvc.lock", ":(top)*/dvc.lock")


@dataclass(frozen=True)
class DvcSyncResult:
    """What a DVC sync did: files uploaded, the DVC files asked for, or why it was skipped."""

    pushed: int
    dvc_files: tuple[str, ...]
    skipped_reason: str | None = None


def is_dvc_file(path: str) -> bool:
    """Whether ``path`` is a ``.dvc`` file or a ``dvc.lock`` (not the ``.dvc`` folder)."""
    name = posixpath.basename(path)
    return name == "dvc.lock" or (name.endswith(".dvc") and name != ".dvc")


def dvc_files_in_commits(*, cwd: Path, rev_args: Sequence[str]) -> list[str]:
    """The ``.dvc`` files and ``dvc.lock`` files (paths from the work tree top) that the
    commits selected by ``rev_args`` add or change, and that HEAD still has.

    ``rev_args`` are ``git rev-list`` arguments, for example the commits a push sends:
    ``["<new sha>", "--not", "--remotes=origin"]``. A merge counts with what it brings
    to its first parent. Files deleted or renamed away since are left out: dvc pushes
    the outputs the work tree's DVC files name.
    """
    log = git.git(
        [
            "log",
            "--format=",
            "--name-only",
            "-z",
            "--diff-filter=d",
            "--diff-merges=first-parent",
            *rev_args,
            "--",
            *_PATHSPECS,
        ],
        cwd=cwd,
    ).stdout
    changed = sorted({name for name in log.split("\0") if name.strip() and is_dvc_file(name)})
    if not changed:
        return []
    ls_tree = ["--literal-pathspecs", "ls-tree", "-r", "-z", "--name-only", "--full-tree"]
    in_head = git.git(
        [*ls_tree, "HEAD", "--", *changed],
        cwd=cwd,
        check=False,  # an unborn HEAD has no tree: nothing of it is in HEAD
    ).stdout
    present = {name for name in in_head.split("\0") if name}
    return [name for name in changed if name in present]


def push_dvc_outputs(
    *, cwd: Path, dvc_files: Sequence[str], remote: str | None = None, jobs: int | None = None
) -> DvcSyncResult:
    """Push the outputs of ``dvc_files`` (from ``dvc_files_in_commits``) to the DVC remote
    ``remote``, DVC's default one when None.

    Does nothing, and imports nothing, when ``dvc_files`` is empty. Without dvc installed,
    returns a result whose ``skipped_reason`` says what was not pushed. Raises
    ``dvc_api.DvcPushError`` when dvc cannot push (no remote, data missing from the
    cache, remote unreachable).
    """
    files = tuple(dvc_files)
    if not files:
        return DvcSyncResult(pushed=0, dvc_files=())
    if not dvc_api.is_available():
        return DvcSyncResult(
            pushed=0,
            dvc_files=files,
            skipped_reason=(
                f"dvc is not installed: {len(files)} .dvc file(s) not pushed "
                "(pip install 'gitprov[dvc]')"
            ),
        )
    top = Path(git.git(["rev-parse", "--show-toplevel"], cwd=cwd).stdout.strip())
    pushed = dvc_api.push_outputs(top, files, remote=remote, jobs=jobs)
    return DvcSyncResult(pushed=pushed, dvc_files=files)
