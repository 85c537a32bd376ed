"""The pre-commit hook's note to post-commit: "I let this tree through, for this commit".

``<git-dir>/gitprov/checklist-passed`` holds the tree the pre-commit hook accepted (the
index as it will be committed: ``git write-tree`` honours ``GIT_INDEX_FILE``, so ``git
commit -a`` and ``git commit PATH`` are marked right) and the process ID of the ``git``
process running the hooks. post-commit takes it and records ``passed`` only when both
match: same tree, same ``git commit``. A marker left by a commit that was aborted after
pre-commit (an empty message, a later hook failing) therefore never makes a following
``git commit --no-verify`` look checked. Where ``/proc`` does not exist the git process
cannot be found and the tree alone decides (documented in docs/runs.md).

Standard library and ``gitlite`` only: this runs on every commit. Failing to write the
marker never blocks a commit: the commit is then recorded as ``skipped``.
"""

from __future__ import annotations

import os

from gitprov.adapters import gitlite

MARKER = "checklist-passed"
PICK = "cherry-pick"  # CHERRY_PICK_HEAD as pre-commit saw it: git removes it before post-commit
_ANCESTORS = 4  # git -> [sh shim] -> [hook manager] -> python: git is at most this far up


def _path(git_dir: str) -> str:
    return os.path.join(git_dir, "gitprov", MARKER)


def _git_pid() -> int | None:
    """The nearest ancestor process named ``git`` (None when /proc cannot tell)."""
    pid = os.getppid()
    for _ in range(_ANCESTORS):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                text = stat.read()
        except OSError:
            return None
        # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
        comm = text[text.find("(") + 1 : text.rfind(")")]
        if comm == "git":
            return pid
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) < 2 or not fields[1].isdigit() or int(fields[1]) <= 1:
            return None
        pid = int(fields[1])
    return None


def _stamp(tree: str) -> str:
    pid = _git_pid()
    return f"{tree} {pid}" if pid is not None else tree


def mark_passed() -> None:
    """Remember the tree about to be committed, by this ``git commit``."""
    git_dir = gitlite.git_dir()
    if git_dir is None:
        return
    take(git_dir)  # a stale marker must not survive a failure below
    take_pick(git_dir)
    _remember_pick(git_dir)
    tree = gitlite.output(["write-tree"])
    if tree is None:
        return  # post-commit will then record 'skipped': never a false 'passed'
    temp = _path(git_dir) + f".{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.join(git_dir, "gitprov"), exist_ok=True)
        with open(temp, "w", encoding="ascii") as out:
            out.write(_stamp(tree.strip()))
        os.replace(temp, _path(git_dir))  # a hint, not data: no fsync needed
    except OSError:
        # Disk full, a read-only or foreign-owned .git/gitprov: the commit goes on and
        # is recorded as 'skipped', which is true as far as anyone can prove.
        try:  # noqa: SIM105 - contextlib would be one more import on every commit
            os.unlink(temp)
        except OSError:
            pass


def _take_file(path: str) -> str | None:
    """The content of a one-shot note file, removing it (None when there is none)."""
    try:
        with open(path, encoding="ascii") as handle:
            value = handle.read().strip()
        os.unlink(path)
    except OSError:
        return None
    return value


def take(git_dir: str) -> str | None:
    """The marker's content, removing the marker (None when there is none)."""
    return _take_file(_path(git_dir))


def passed(marker: str | None, tree: str) -> bool:
    """Whether ``marker`` (from ``take``) vouches for committing ``tree`` in this process."""
    return marker is not None and marker == _stamp(tree)


def _remember_pick(git_dir: str) -> None:
    """Save CHERRY_PICK_HEAD for post-commit when committing a conflicted cherry-pick."""
    try:
        with open(os.path.join(git_dir, "CHERRY_PICK_HEAD"), encoding="ascii") as head:
            picked = head.read().strip()
        os.makedirs(os.path.join(git_dir, "gitprov"), exist_ok=True)
        with open(os.path.join(git_dir, "gitprov", PICK), "w", encoding="ascii") as out:
            out.write(picked)
    except OSError:
        return  # no cherry-pick in progress (the usual case), or nowhere to write


def take_pick(git_dir: str) -> str | None:
    """The cherry-picked commit pre-commit saw, removing the note (None: none)."""
    value = _take_file(os.path.join(git_dir, "gitprov", PICK))
    return value if value is not None and len(value) in (40, 64) else None
