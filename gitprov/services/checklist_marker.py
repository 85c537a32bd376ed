"""The pre-commit hook's note to post-commit: "I let this tree through".

``<git-dir>/gitprov/checklist-passed`` holds the tree the pre-commit hook accepted (the
index as it will be committed: ``git write-tree`` honours ``GIT_INDEX_FILE``, so ``git
commit -a`` and ``git commit PATH`` are marked right). post-commit takes it and records
``passed`` when the commit's tree is that tree, else ``skipped``: ``--no-verify`` skips
pre-commit, so nothing marks the tree. A stale marker (a commit aborted after pre-commit)
can only name a tree that did pass. Standard library and ``gitlite`` only: this runs on
every commit.
"""

from __future__ import annotations

import os

from gitprov.adapters import gitlite

MARKER = "checklist-passed"


def _path(git_dir: str) -> str:
    return os.path.join(git_dir, "gitprov", MARKER)


def mark_passed() -> None:
    """Remember the tree about to be committed."""
    git_dir = gitlite.git_dir()
    tree = gitlite.output(["write-tree"])
    if git_dir is None or tree is None:
        return  # post-commit will then record 'skipped': never a false 'passed'
    os.makedirs(os.path.join(git_dir, "gitprov"), exist_ok=True)
    temp = _path(git_dir) + f".{os.getpid()}.tmp"
    with open(temp, "w", encoding="ascii") as out:
        out.write(tree.strip())
    os.replace(temp, _path(git_dir))  # a hint, not data: no fsync needed


def take(git_dir: str) -> str | None:
    """The marked tree, removing the marker (None when there is none)."""
    try:
        with open(_path(git_dir), encoding="ascii") as handle:
            tree = handle.read().strip()
        os.unlink(_path(git_dir))
    except OSError:
        return None
    return tree
