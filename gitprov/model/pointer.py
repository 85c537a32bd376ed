"""Pointer files ``<path>.gitprov``: the committed stand-in for an artifact's bytes.

Parsed and written with tomlkit, so comments, key order and the user's ``[meta]`` table
survive every update; only the fields gitprov owns are rewritten.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, get_args

from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model import input_limits

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

# tomlkit is imported by the functions that parse or write pointers, not here: the
# pre-push hook needs this module's names on every push, and tomlkit only when a push
# carries pointers.

SUFFIX = ".gitprov"
Kind = Literal["checkpoint", "dataset", "artifact"]
ArtifactType = Literal["file", "dir"]
Access = Literal["public", "internal", "restricted"]
KINDS: tuple[str, ...] = get_args(Kind)
ACCESS_LEVELS: tuple[str, ...] = get_args(Access)

HEADER = "# Written by gitprov: the bytes of {path} live in the artifact store, not in git.\n"


class PointerError(GitprovError):
    """A pointer file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Pointer:
    """The fields gitprov reads from a pointer (``[meta]`` stays in the document)."""

    kind: Kind
    path: str  # the artifact's name, beside the pointer file: "m.pt" for "m.pt.gitprov"
    digest: str
    size: int
    files: int = 1
    type: ArtifactType = "file"  # "dir": digest is a Merkle snapshot root
    access: Access = "internal"
    produced_by: str | None = None
    card: str | None = None
    stage: str | None = None  # "release": the release checklist guards every commit of it

    @property
    def is_tree(self) -> bool:
        return self.type == "dir"


def _line_of(text: str, key: str) -> int:
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, flags=re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


RESERVED_NAMES = frozenset({"", ".", "..", ".git", ".gitprov"})


def check_relative_path(path: str) -> str | None:
    """Why ``path`` is not a safe artifact name (None when it is).

    An artifact always sits beside its pointer, so ``path`` is one plain name: anything
    else (a separator, '..', '.git') could make checkout write outside the artifact's
    own place, e.g. over the repository or into .git/hooks.
    """
    if "\0" in path:
        return "contains NUL"
    if path.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", path):
        return "is absolute"
    if ".." in posixpath.normpath(path).split("/") or ".." in path.split("/"):
        return "contains '..'"
    if "/" in path or path in RESERVED_NAMES:
        return "must be the artifact's own name, beside the pointer"
    return None


def parse(text: str, *, source: str) -> tuple[Pointer, TOMLDocument]:
    """Parse pointer text; errors say ``<source>:<line>: <problem>`` and how to fix it."""
    import tomlkit  # noqa: PLC0415 - see the note at the top
    from tomlkit.exceptions import ParseError, TOMLKitError  # noqa: PLC0415

    fix = f"Fix {source} by hand, or re-create it with 'gitprov track'"
    check_size(len(text), source=source)
    try:
        doc = tomlkit.parse(text)
    except ParseError as exc:
        raise PointerError(f"{source}:{exc.line}: not valid TOML (column {exc.col})", fix) from None
    except TOMLKitError as exc:  # a key repeated inside a table: KeyAlreadyPresent (issue 9)
        raise PointerError(f"{source}: not valid TOML ({exc})", fix) from None
    return _validated(doc.unwrap(), text, source), doc


def parse_fields(text: str, *, source: str) -> Pointer:
    """Parse pointer text with the standard library's tomllib (no document kept).

    For readers that never write the pointer back, e.g. the post-commit hook, where
    importing tomlkit would cost more than the hook's whole budget.
    """
    import tomllib  # noqa: PLC0415

    check_size(len(text), source=source)
    try:
        values = tomllib.loads(text)
    # ValueError: an integer of more than 4300 digits; RecursionError: arrays nested
    # ~1000 deep. Both come from hostile files, not from gitprov (issue 9).
    except (ValueError, RecursionError) as exc:
        raise PointerError(
            f"{source}: not valid TOML ({exc})",
            f"Fix {source} by hand, or re-create it with 'gitprov track'",
        ) from None
    return _validated(values, text, source)


def check_size(size: int, *, source: str) -> None:
    """Refuse a pointer too large to be one (a hostile 100 MB file) before parsing it;
    readers call it with the file's size before reading it."""
    problem = input_limits.size_problem(size, input_limits.MAX_POINTER_BYTES)
    if problem is not None:
        raise PointerError(
            f"{source} {problem}: it is not a pointer file",
            f"Re-create it with 'gitprov track', or remove {source}",
        )


def _validated(values: dict[str, Any], text: str, source: str) -> Pointer:
    """The checked ``Pointer`` of parsed ``values``; errors name ``source`` and the line."""
    fix = f"Fix {source} by hand, or re-create it with 'gitprov track'"

    def fail(key: str, problem: str) -> PointerError:
        return PointerError(f"{source}:{_line_of(text, key)}: '{key}' {problem}", fix)

    for key in ("kind", "path", "digest", "size"):
        if key not in values:
            raise PointerError(f"{source}:1: required key '{key}' is missing", fix)
    kind, path, digest, size = values["kind"], values["path"], values["digest"], values["size"]
    files, access = values.get("files", 1), values.get("access", "internal")
    # Pointers written before the explicit 'type' field: a dataset or many files is a tree.
    art_type = values.get("type", "dir" if kind == "dataset" or files != 1 else "file")
    if kind not in KINDS:
        raise fail("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    if not isinstance(path, str) or (why := check_relative_path(path)) is not None:
        raise fail(
            "path",
            "must be a relative path inside the repository"
            + (f" ({why})" if isinstance(path, str) else ""),
        )
    if not isinstance(digest, str) or not digests.is_digest(digest):
        raise fail("digest", "must be 'sha256:' followed by 64 lower-case hex digits")
    for key, value in (("size", size), ("files", files)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise fail(key, "must be a whole number >= 0")
    if art_type not in ("file", "dir"):
        raise fail("type", f"must be 'file' or 'dir', not {art_type!r}")
    if access not in ACCESS_LEVELS:
        raise fail("access", f"must be one of {', '.join(ACCESS_LEVELS)}, not {access!r}")
    _check_optional(values, fail)
    return Pointer(
        kind,
        path,
        digest,
        size,
        files,
        art_type,
        access,
        produced_by=values.get("produced_by"),
        card=values.get("card"),
        stage=values.get("stage"),
    )


def _check_optional(values: dict[str, object], fail: Callable[[str, str], PointerError]) -> None:
    for key in ("produced_by", "card", "stage"):
        value = values.get(key)
        if value is not None and not isinstance(value, str):
            raise fail(key, "must be a string")
    card = values.get("card")
    # The card sits beside the pointer, like the artifact: 'card' is written to by 'card
    # new/sync' and 'deprecate', so a path out of the folder would write outside the repo.
    if isinstance(card, str) and (why := check_relative_path(card)) is not None:
        raise fail("card", f"{why} (write a file name beside the pointer, e.g. m.card.md)")
    if "meta" in values and not isinstance(values["meta"], dict):
        raise fail("meta", "must be a table ([meta])")


def render(pointer: Pointer, doc: TOMLDocument | None = None) -> str:
    """Pointer text: a fresh file, or ``doc`` updated with comments and ``[meta]`` kept."""
    import tomlkit  # noqa: PLC0415 - see the note at the top

    if doc is None:
        doc = tomlkit.document()
        # A comment ends at a line break, so control characters in a name are shown as '?'.
        shown = "".join("?" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in pointer.path)
        doc.add(tomlkit.comment(HEADER.format(path=shown).strip()[2:]))
    fields: dict[str, object] = {
        "kind": pointer.kind,
        "path": pointer.path,
        "digest": pointer.digest,
        "size": pointer.size,
        "files": pointer.files,
        "type": pointer.type,
        "access": pointer.access,
        "produced_by": pointer.produced_by,
        "card": pointer.card,
        "stage": pointer.stage,
    }
    for key, value in fields.items():
        if value is None:
            doc.pop(key, None)
        elif doc.get(key) != value:
            doc[key] = value
    if "meta" not in doc:
        doc.add(tomlkit.nl())
        meta = tomlkit.table()
        meta.comment("free-form, yours to edit: gitprov keeps it and its comments")
        doc.add("meta", meta)
    return tomlkit.dumps(doc)


def updated(pointer: Pointer, **changes: object) -> Pointer:
    """A copy of ``pointer`` with fields changed (type-checked by dataclasses.replace)."""
    return replace(pointer, **changes)  # type: ignore[arg-type]


def pointer_name(artifact_name: str) -> str:
    """The pointer file name for an artifact file or directory name."""
    return artifact_name + SUFFIX
