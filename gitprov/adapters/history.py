"""History reads through pygit2: the notes map, commit walks, blobs at paths, tree scans.

``gitprov log --lineage`` and ``gitprov lineage`` read thousands of commits, notes and
records. One ``git`` process per commit would cost milliseconds each, so everything here
happens in-process with libgit2: the notes tree is read once into a map, commits come
from one revision walk, and each blob is read once from the object database. No
subprocess is started. pygit2's errors become gitprov errors here, at the boundary, and
no pygit2 type leaves this module: callers get hex ids, bytes and frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from gitprov.errors import GitprovError, NotARepositoryError, UsageError

if TYPE_CHECKING:
    import pygit2

# Same name as gitprov.adapters.git_notes.NOTES_REF (imported from there would load the
# git CLI adapter for nothing; a test keeps the two equal).
NOTES_REF = "refs/notes/gitprov"
POINTER_SUFFIX = ".gitprov"


class UnknownRevisionError(UsageError):
    """A revision or range on the command line names no commit (exit 2)."""


class HistoryError(GitprovError):
    """The repository's objects could not be read."""


class CommitInfo(NamedTuple):
    """One commit, as a log shows it (a tuple: a log makes thousands)."""

    id: str
    parents: tuple[str, ...]
    tree: str
    author: str
    email: str
    time: int  # seconds since the epoch (author date)
    offset: int  # the author's UTC offset in minutes
    message: str


@dataclass(frozen=True)
class Found:
    """A file a tree scan matched: ``blob`` at ``path``, first seen in ``commit``."""

    path: str
    blob: str
    commit: str


class History:
    """A repository opened with libgit2, for reading its history."""

    def __init__(self, cwd: Path) -> None:
        # pygit2 costs ~100 ms to import: only the commands that read history pay for it.
        import pygit2  # noqa: PLC0415

        # libgit2 re-hashes every object it reads, by default; git itself does not (that
        # is 'git fsck''s job), and on a 10,000-commit log it was a third of the time.
        pygit2.settings.enable_strict_hash_verification(False)
        self._new_oid = pygit2.Oid
        try:
            root = pygit2.discover_repository(str(cwd))
            if root is None:
                raise KeyError(str(cwd))
            self._repo = pygit2.Repository(root)
        except (KeyError, pygit2.GitError):
            raise NotARepositoryError(
                f"{cwd} is not inside a git repository",
                "cd into your repository's work tree, or create one with 'git init'",
            ) from None
        workdir = self._repo.workdir
        self.top: Path | None = Path(workdir).resolve() if workdir else None
        self._blobs: dict[str, bytes] = {}

    def remote_url(self) -> str | None:
        """The URL of remote ``origin``, else of the first remote (None: no remote)."""
        import pygit2  # noqa: PLC0415 - loaded by __init__ already

        try:
            remotes = list(self._repo.remotes)
        except pygit2.GitError:
            return None
        remotes.sort(key=lambda r: (r.name != "origin", r.name or ""))
        return remotes[0].url if remotes else None

    # -- revisions ----------------------------------------------------------------------

    def _commit_of(self, rev: str) -> pygit2.Commit:
        import pygit2  # noqa: PLC0415 - loaded by __init__ already

        try:
            obj = self._repo.revparse_single(rev)
            commit = obj.peel(pygit2.Commit)
        except (KeyError, ValueError, pygit2.GitError):
            raise UnknownRevisionError(
                f"unknown revision '{rev}'",
                "Name a commit, branch or tag that exists here (check with "
                f"'git rev-parse --verify {rev}^{{commit}}' or 'git log --oneline')",
            ) from None
        return commit

    def resolve(self, rev: str) -> str:
        """The commit id ``rev`` names; UnknownRevisionError when it names none."""
        return str(self._commit_of(rev).id)

    def is_revision(self, rev: str) -> bool:
        """Whether ``rev`` names a commit (or is a range of two that do)."""
        try:
            self.range_tips(rev)
        except UnknownRevisionError:
            return False
        return True

    def has_commits(self) -> bool:
        return not self._repo.head_is_unborn

    def range_tips(self, spec: str | None) -> tuple[list[str], list[str]]:
        """``(include, exclude)`` commit ids of a revision range, as git log reads it.

        ``A..B``: reachable from B, not from A. ``A...B``: from either, not from their
        merge base. ``A..`` or ``..B``: HEAD stands in for the missing side. One revision:
        everything reachable from it. None: HEAD.
        """
        if spec is None or spec == "HEAD":
            if self._repo.head_is_unborn:
                raise UnknownRevisionError(
                    "this repository has no commits yet", "Make a commit first ('git commit')"
                )
            return [self.resolve("HEAD")], []
        if "..." in spec:
            left, _, right = spec.partition("...")
            a, b = self.resolve(left or "HEAD"), self.resolve(right or "HEAD")
            base = self._repo.merge_base(a, b)
            return [a, b], [str(base)] if base is not None else []
        if ".." in spec:
            left, _, right = spec.partition("..")
            return [self.resolve(right or "HEAD")], [self.resolve(left or "HEAD")]
        return [self.resolve(spec)], []

    # -- notes --------------------------------------------------------------------------

    def notes_map(self, ref: str = NOTES_REF) -> dict[str, str]:
        """Commit id -> note blob id for every note on ``ref`` (empty when it has none).

        libgit2 reads the notes tree once and joins git's fan-out paths
        (``ab/cdef...``, ``ab/cd/ef...``) back into commit ids.
        """
        import pygit2  # noqa: PLC0415 - loaded by __init__ already

        try:
            if self._repo.references.get(ref) is None:
                return {}
            notes = self._repo.notes(ref)  # type: ignore[call-arg]  # the stub lacks 'ref'
            return {str(n.annotated_id): str(n.id) for n in notes}
        except pygit2.GitError as exc:
            raise HistoryError(
                f"cannot read the notes on {ref}: {exc}",
                "Check the repository with 'git fsck' and 'git notes --ref=gitprov list'",
            ) from None

    # -- walks --------------------------------------------------------------------------

    def walk(
        self,
        include: Sequence[str],
        exclude: Sequence[str] = (),
        *,
        oldest_first: bool = False,
        paths: Sequence[str] = (),
    ) -> Iterator[CommitInfo]:
        """Commits reachable from ``include`` and not from ``exclude``, newest first in
        topological order with commit time breaking ties (git log --topo-order), or the
        reverse with ``oldest_first``.

        With ``paths`` (relative to the top), only commits that change one of them
        compared with every parent (the root commit: that contain one); ``x`` matches its
        pointer ``x.gitprov`` too. Merges that take a path unchanged from one side are
        left out, but unlike git's default simplification both sides are still walked.
        """
        import pygit2  # noqa: PLC0415 - loaded by __init__ already
        from pygit2.enums import SortMode  # noqa: PLC0415

        mode = SortMode.TOPOLOGICAL | SortMode.TIME
        if oldest_first:
            mode |= SortMode.REVERSE
        watched = [p for path in paths for p in (path, path + POINTER_SUFFIX)]
        try:
            walker = self._repo.walk(None, mode)
            for tip in include:
                walker.push(self._oid(tip))
            for tip in exclude:
                walker.hide(self._oid(tip))
            for commit in walker:
                if watched and not self._touches(commit, watched):
                    continue
                author = commit.author
                yield CommitInfo(
                    id=str(commit.id),
                    parents=tuple(map(str, commit.parent_ids)),
                    tree=str(commit.tree_id),
                    author=author.name,
                    email=author.email,
                    time=author.time,
                    offset=author.offset,
                    message=commit.message,
                )
        except pygit2.GitError as exc:
            raise HistoryError(
                f"cannot walk the history: {exc}",
                "Check the repository with 'git fsck' (a shallow clone may lack old commits: "
                "'git fetch --unshallow')",
            ) from None

    def _oid(self, hexid: str) -> pygit2.Oid:
        return self._new_oid(hex=hexid)

    def _tree(self, oid: str) -> pygit2.Tree:
        import pygit2  # noqa: PLC0415 - loaded by __init__ already

        return self._repo[self._oid(oid)].peel(pygit2.Tree)

    def _entry_id(self, tree: pygit2.Tree, path: str) -> object:
        try:
            return tree[path].id
        except KeyError:
            return None

    def _touches(self, commit: pygit2.Commit, paths: Sequence[str]) -> bool:
        tree = commit.tree
        mine = [self._entry_id(tree, p) for p in paths]
        if not commit.parent_ids:
            return any(oid is not None for oid in mine)
        for parent in commit.parents:
            theirs = [self._entry_id(parent.tree, p) for p in paths]
            if theirs == mine:
                return False  # the same as one parent: nothing new here
        return True

    # -- blobs and trees ----------------------------------------------------------------

    def read_blob(self, blob: str, *, cache: bool = True) -> bytes:
        """A blob's bytes; kept for the next call unless ``cache`` is False (a note is read
        once, a run record or environment snapshot many times)."""
        data = self._blobs.get(blob)
        if data is None:
            import pygit2  # noqa: PLC0415 - loaded by __init__ already

            try:
                _, data = self._repo.odb.read(self._oid(blob))
            except (KeyError, ValueError, pygit2.GitError):
                raise HistoryError(
                    f"object {blob} is missing from the repository",
                    "Fetch it again ('git fetch') or check the repository with 'git fsck'",
                ) from None
            if cache:
                self._blobs[blob] = data
        return data

    def entry_at(self, treeish: str, path: str) -> tuple[str, str] | None:
        """``(object id, "blob" | "tree")`` at ``path`` in a commit or tree, or None."""
        tree = self._tree(treeish)
        try:
            entry = tree[path]
        except KeyError:
            return None
        return str(entry.id), entry.type_str

    def blob_at(self, treeish: str, path: str) -> bytes | None:
        """The bytes of the file at ``path`` in a commit or tree (None when absent or a
        folder). Passing the commit's tree id saves reading the commit again."""
        entry = self.entry_at(treeish, path)
        if entry is None or entry[1] != "blob":
            return None
        return self.read_blob(entry[0])

    def commit_message(self, commit: str) -> str:
        """The full message of ``commit``."""
        import pygit2  # noqa: PLC0415 - loaded by __init__ already

        return self._repo[self._oid(commit)].peel(pygit2.Commit).message

    def list_tree(self, tree: str) -> list[tuple[str, str, str]]:
        """``(name, object id, "blob" | "tree")`` of a tree's entries."""
        return [(e.name or "", str(e.id), e.type_str) for e in self._tree(tree)]

    def scan(
        self, include: Sequence[str], wanted: Callable[[str], bool], *, skip: Callable[[str], bool]
    ) -> list[Found]:
        """Every file whose path ``wanted`` accepts, in the history of ``include``, with the
        first commit (oldest first, topologically) whose tree has that blob at that path.

        Folders ``skip`` accepts (by path) are not entered. Each distinct (tree, path) is
        read once, so a long history whose commits change little costs little more than
        its newest tree.
        """
        import pygit2  # noqa: PLC0415 - loaded by __init__ already

        seen: set[tuple[object, str]] = set()
        found: list[Found] = []
        try:
            for commit in self.walk(include, oldest_first=True):
                stack: list[tuple[pygit2.Tree, str]] = [(self._tree(commit.tree), "")]
                while stack:
                    tree, prefix = stack.pop()
                    for entry in tree:
                        path = prefix + (entry.name or "")
                        key = (entry.id, path)
                        if key in seen:
                            continue
                        seen.add(key)
                        if entry.type_str == "tree":
                            if not skip(path):
                                stack.append((entry.peel(pygit2.Tree), path + "/"))
                        elif entry.type_str == "blob" and wanted(path):
                            found.append(Found(path, str(entry.id), commit.id))
        except pygit2.GitError as exc:
            raise HistoryError(
                f"cannot read the history's trees: {exc}",
                "Check the repository with 'git fsck'",
            ) from None
        return found
