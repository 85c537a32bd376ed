"""What a range changed, read from two trees: files that differ, and the artifacts among them.

The review compares the head's tree with the merge base's, as a pull request's diff does.
Only subtrees whose object ids differ are entered, so a large repository whose range
touches a few folders costs a few tree reads.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from gitprov.adapters.history import History
from gitprov.errors import GitprovError
from gitprov.model import pointer as pointers
from gitprov.model.review_report import ArtifactChange, Change


@dataclass(frozen=True)
class FileChange:
    """A file whose blob differs between two trees (None: absent on that side)."""

    path: str
    old: str | None
    new: str | None

    @property
    def change(self) -> Change:
        if self.old is None:
            return "added"
        return "removed" if self.new is None else "changed"


def changed_files(history: History, old_tree: str | None, new_tree: str | None) -> list[FileChange]:
    """Every file that differs between two trees (commit or tree ids), sorted by path."""
    out: list[FileChange] = []
    _diff(history, old_tree, new_tree, "", out)
    return sorted(out, key=lambda f: f.path)


def _entries(history: History, tree: str | None) -> dict[str, tuple[str, str]]:
    if tree is None:
        return {}
    return {name: (oid, kind) for name, oid, kind in history.list_tree(tree)}


def _diff(
    history: History, old: str | None, new: str | None, prefix: str, out: list[FileChange]
) -> None:
    before, after = _entries(history, old), _entries(history, new)
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        path = prefix + name
        a_tree = a[0] if a and a[1] == "tree" else None
        b_tree = b[0] if b and b[1] == "tree" else None
        if a_tree or b_tree:
            _diff(history, a_tree, b_tree, path + "/", out)
        a_blob = a[0] if a and a[1] == "blob" else None
        b_blob = b[0] if b and b[1] == "blob" else None
        if a_blob != b_blob:
            out.append(FileChange(path, a_blob, b_blob))


def is_pointer(path: str) -> bool:
    name = posixpath.basename(path)
    return (
        name.endswith(pointers.SUFFIX)
        and name != pointers.SUFFIX
        and not path.startswith(".gitprov/")
    )


def read_pointer(history: History, blob: str | None, source: str) -> pointers.Pointer | None:
    """The pointer in ``blob`` (None when absent or unreadable)."""
    if blob is None:
        return None
    try:
        text = history.read_blob(blob).decode("utf-8")
        return pointers.parse_fields(text, source=source)
    except (GitprovError, UnicodeDecodeError):
        return None


def artifact_path(pointer_path: str, ptr: pointers.Pointer) -> str:
    """The artifact a pointer names, relative to the top."""
    return posixpath.join(posixpath.dirname(pointer_path), ptr.path)


def artifact_changes(
    history: History, files: list[FileChange], notes: list[str]
) -> list[ArtifactChange]:
    """The artifacts whose pointers ``files`` add, change or remove (kinds and digests);
    a pointer that cannot be read is noted and left out."""
    out = []
    for f in files:
        if not is_pointer(f.path):
            continue
        old = read_pointer(history, f.old, f"{f.path} (base)")
        new = read_pointer(history, f.new, f"{f.path} (head)")
        if (f.old and old is None) or (f.new and new is None):
            notes.append(f"{f.path}: a pointer that cannot be read is left out")
            continue
        ptr = new or old
        if ptr is None:  # pragma: no cover - one side exists
            continue
        if (
            old is not None
            and new is not None
            and (old.digest, old.size, old.kind)
            == (
                new.digest,
                new.size,
                new.kind,
            )
        ):
            continue  # only a [meta], card or stage edit: not a new version
        out.append(
            ArtifactChange(
                path=artifact_path(f.path, ptr),
                kind=ptr.kind,
                change=f.change,
                old_digest=old.digest if old else None,
                new_digest=new.digest if new else None,
                old_size=old.size if old else None,
                new_size=new.size if new else None,
                release=bool(new and new.stage == "release"),
            )
        )
    return out
