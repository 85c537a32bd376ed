"""The arguments of ``gitprov log``: ``[REV-RANGE] [PATH...]`` split as git log splits them.

Also :func:`relative_path`, which turns a path given on the command line (relative to the
current directory) into a path relative to the work tree top; ``gitprov lineage`` targets
use it as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitprov.adapters.history import History, UnknownRevisionError
from gitprov.errors import UsageError


def split_arguments(
    history: History, cwd: Path, args: Sequence[str]
) -> tuple[str | None, list[str]]:
    """``[REV-RANGE] [PATH...]`` -> (range, paths relative to the top), as git log reads
    its arguments without ``--``: the first argument is the range when it names commits,
    every other argument is a path.

    The command line parser has already swallowed any ``--``, so a name that is both a
    revision and a path in the work tree is refused as ambiguous; ``./name`` always means
    the path. A first argument that is neither is an unknown revision (exit 2).
    """
    if not args:
        return None, []
    first, rest = args[0], list(args[1:])
    top = history.top or cwd
    forced_path = first.startswith(("./", "../", "/"))
    if not forced_path and (".." in first or history.is_revision(first)):
        if ".." not in first and _exists(cwd, first):
            raise UsageError(
                f"'{first}' is both a revision and a path in the work tree",
                f"Write './{first}' for the path, or 'refs/heads/{first}' (or the commit id) "
                "for the revision",
            )
        history.range_tips(first)  # raises for an unknown side of a range
        return first, [relative_path(top, cwd, p) for p in rest]
    if not forced_path and not _exists(cwd, first):
        raise UnknownRevisionError(
            f"unknown revision or path not in the work tree: '{first}'",
            "Name an existing commit, branch, tag or range (e.g. main~5..main); a path "
            f"that no longer exists can be given as './{first}'",
        )
    return None, [relative_path(top, cwd, p) for p in args]


def _exists(cwd: Path, name: str) -> bool:
    path = cwd / name
    return path.exists() or path.with_name(path.name + ".gitprov").exists()


def relative_path(top: Path, cwd: Path, name: str) -> str:
    """``name`` (relative to ``cwd``) relative to the work tree top, in POSIX form."""
    path = Path(name) if Path(name).is_absolute() else cwd / name
    absolute = Path(*_normalised(path.parts))
    try:
        rel = absolute.relative_to(top).as_posix()
    except ValueError:
        raise UsageError(
            f"{name} is outside the repository ({top})", "Name paths inside the work tree"
        ) from None
    rel = "" if rel == "." else rel
    return rel.removesuffix(".gitprov")


def _normalised(parts: Sequence[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            if len(out) > 1:
                out.pop()
        elif part != ".":
            out.append(part)
    return out
