"""Which checkpoints the release checklist looks at, and where their files are read.

A :class:`Source` reads files as they are in the work tree, in the index (what the next
commit will hold: the pre-commit hook) or in a commit (``--range``). A :class:`Target` is
one checkpoint's pointer as that source has it.
"""

from __future__ import annotations

import posixpath
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitprov.adapters import git
from gitprov.errors import GitprovError, UsageError
from gitprov.model import card as cards
from gitprov.model import pointer as pointers
from gitprov.model.checklist import RELEASE_STAGE

WORKTREE = "worktree"
INDEX = "index"


@dataclass(frozen=True)
class Source:
    """Files of the work tree (``rev`` None), the index (``rev`` ":") or a commit."""

    top: Path
    rev: str | None = None

    @property
    def label(self) -> str:
        return WORKTREE if self.rev is None else INDEX if self.rev == ":" else self.rev

    @property
    def commit(self) -> str | None:
        """The commit this source is, or None for the work tree and the index."""
        return None if self.rev in (None, ":") else self.rev

    def text(self, path: str) -> str | None:
        """The file's text, or None when it does not exist there."""
        if self.rev is None:
            try:
                return (self.top / path).read_bytes().decode("utf-8", errors="replace")
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
            except OSError as exc:
                raise GitprovError(f"cannot read {path}: {exc.strerror}", "Check it") from None
        return git.show_file(self.top, "" if self.rev == ":" else self.rev, path)

    def files(self, prefix: str) -> list[str]:
        """Paths below ``prefix`` (a folder, relative to the top)."""
        if self.rev is None:
            return git.ls_files(self.top, [prefix])
        if self.rev == ":":
            return git.ls_files(self.top, [prefix], others=False)
        return git.tree_files(self.top, self.rev, prefix)


@dataclass(frozen=True)
class Target:
    pointer_path: str  # relative to the top
    pointer: pointers.Pointer
    meta: Mapping[str, Any]
    source: Source
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def checkpoint(self) -> str:
        return posixpath.join(posixpath.dirname(self.pointer_path), self.pointer.path)

    @property
    def card_path(self) -> str:
        name = self.pointer.card
        if name is None or pointers.check_relative_path(name) is not None:
            stem = posixpath.splitext(self.pointer.path)[0] or self.pointer.path
            name = stem + cards.SUFFIX
        return posixpath.join(posixpath.dirname(self.pointer_path), name)

    @property
    def released(self) -> bool:
        return self.pointer.stage == RELEASE_STAGE


def load_target(source: Source, pointer_path: str) -> Target | None:
    """The checkpoint whose pointer is at ``pointer_path`` in ``source`` (None: not there,
    or not a checkpoint)."""
    text = source.text(pointer_path)
    if text is None:
        return None
    pointer = pointers.parse_fields(text, source=pointer_path)
    if pointer.kind != "checkpoint":
        return None
    meta = tomllib.loads(text).get("meta", {})
    return Target(pointer_path, pointer, meta if isinstance(meta, dict) else {}, source)


def dataset_license(source: Source, dataset: str) -> tuple[str | None, str]:
    """The ``[meta] license`` of the dataset at ``dataset`` and the pointer it was read from."""
    path = pointers.pointer_name(dataset)
    text = source.text(path)
    if text is None:
        return None, path
    try:
        meta = tomllib.loads(text).get("meta", {})
    except (ValueError, RecursionError):  # TOMLDecodeError, huge integers, deep nesting
        return None, path
    value = meta.get("license") if isinstance(meta, dict) else None
    return (value if isinstance(value, str) and value.strip() else None), path


def _pointer_for_card(source: Source, card_path: str) -> str | None:
    """The pointer beside ``card_path`` whose card it is."""
    folder = posixpath.dirname(card_path)
    for name in source.files(folder or "."):
        if posixpath.dirname(name) != folder or not name.endswith(pointers.SUFFIX):
            continue
        target = load_target(source, name)
        if target is not None and target.card_path == card_path:
            return name
    return None


def released_in(source: Source, changed: Iterable[str]) -> list[Target]:
    """Release-marked checkpoints among ``changed`` paths: their pointers or their cards."""
    wanted: list[str] = []
    for path in changed:
        if path.endswith(pointers.SUFFIX):
            wanted.append(path)
        elif path.endswith(cards.SUFFIX) and (found := _pointer_for_card(source, path)):
            wanted.append(found)
    targets = []
    for path in dict.fromkeys(wanted):
        target = load_target(source, path)
        if target is not None and target.released:
            targets.append(target)
    return targets


def staged(top: Path) -> list[Target]:
    """Release-marked checkpoints whose pointer or card the index changes."""
    # D: a deleted card must be checked too (its checkpoint then fails card-present);
    # --no-renames: a renamed card shows as its old name deleted and its new one added.
    names = git.git(
        ["diff", "--cached", "--name-only", "-z", "--no-renames", "--diff-filter=ACMRD"],
        cwd=top,
    ).stdout.split("\0")
    return released_in(Source(top, ":"), [n for n in names if n])


def in_range(top: Path, rev_range: str) -> list[Target]:
    """Release-marked checkpoints changed by each commit of ``rev_range`` (oldest first),
    each read at that commit."""
    if ".." not in rev_range:
        raise UsageError(
            f"--range {rev_range!r} is not a range", "Write BASE..HEAD, e.g. origin/main..HEAD"
        )
    # BASE...HEAD (what a pull request shows) is the commits of HEAD since the merge base.
    base, _, head = rev_range.partition("...") if "..." in rev_range else rev_range.partition("..")
    for rev in (base or "HEAD", head or "HEAD"):
        if git.resolve_commit(top, rev) is None:
            raise UsageError(f"--range: {rev!r} names no commit", "Check the revision")
    targets: list[Target] = []
    for commit in reversed(git.rev_list(top, [rev_range])):
        flags = ["--root", "--no-commit-id", "--name-only", "-r", "-z", "--no-renames"]
        out = git.git(["diff-tree", *flags, commit], cwd=top).stdout
        targets += released_in(Source(top, commit), [n for n in out.split("\0") if n])
    return targets


def all_released(top: Path) -> list[Target]:
    """Every release-marked checkpoint in the work tree."""
    source = Source(top)
    return [
        t
        for name in git.ls_files(top, [f"*{pointers.SUFFIX}"])
        if name.endswith(pointers.SUFFIX) and (t := load_target(source, name)) is not None
        if t.released
    ]


def named(top: Path, pointer_paths: Sequence[str], *, at: str | None = None) -> list[Target]:
    """The checkpoints at ``pointer_paths`` in the work tree (or as committed at ``at``),
    whatever their stage."""
    source = Source(top, git.resolve_commit(top, at) if at else None)
    out = []
    for path in pointer_paths:
        target = load_target(source, path)
        if target is None:
            raise UsageError(
                f"{path[: -len(pointers.SUFFIX)]} is not a checkpoint",
                "The release checklist checks checkpoints (gitprov track --kind checkpoint)",
            )
        out.append(target)
    return out
