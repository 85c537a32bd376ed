"""The stat cache: (path, inode, size, mtime_ns) -> digest, in stdlib sqlite3.

It lets re-snapshots and ``status`` skip re-reading files whose stat is unchanged. To
avoid git's "racy" problem (a file rewritten within the file system's timestamp
granularity right after it was hashed keeps its mtime), an entry is only recorded when
the file's mtime is older than the moment hashing began minus ``RACY_WINDOW_NS``; such
young files are simply hashed again next time.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from gitprov.adapters.hashing import FileStat

RACY_WINDOW_NS = 1_000_000_000
# v2 added ctime_ns; a v1 table is simply left unused (the cache only saves work).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files_v2 (
    path TEXT PRIMARY KEY,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    digest TEXT NOT NULL
) WITHOUT ROWID
"""
Row = tuple[int, int, int, int, str]
# Snapshots whose every object was seen in the object cache: 'status' need not look
# again. Cleared by anything that removes objects (gc).
_COMPLETE_SCHEMA = "CREATE TABLE IF NOT EXISTS complete_snapshots (digest TEXT PRIMARY KEY)"
# Merkle root digests by the sha256 of everything the tree is built from (see
# snapshot.listing_key): an unchanged folder's digest without rebuilding its tree.
_TREES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS trees "
    "(listing TEXT PRIMARY KEY, digest TEXT NOT NULL, size INTEGER NOT NULL, "
    "files INTEGER NOT NULL)"
)
_TREES_KEPT = 1000  # a few per tracked folder is all that is ever useful


class StatCache:
    """A connection to one repository's stat cache (``.git/gitprov/statcache.sqlite3``)."""

    def __init__(self, db_path: Path) -> None:
        # The cache only saves work: if its file cannot be used (disk full, damaged,
        # read-only), gitprov carries on with an in-memory one and re-hashes.
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(db_path, timeout=30, isolation_level=None)
            # WAL lets a status read while a track writes; NORMAL sync is safe with WAL
            # (a crash may lose the last entries, which only costs a re-hash).
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._create()
        except (sqlite3.Error, OSError):
            self._db = sqlite3.connect(":memory:", isolation_level=None)
            self._create()

    def _create(self) -> None:
        for schema in (_SCHEMA, _COMPLETE_SCHEMA, _TREES_SCHEMA):
            self._db.execute(schema)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StatCache:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def under(self, directory: Path) -> dict[str, Row]:
        """Every entry at or below ``directory``: path -> (inode, size, mtime, ctime, digest)."""
        prefix = str(directory).rstrip("/") + "/"
        try:
            rows = self._db.execute(
                "SELECT path, inode, size, mtime_ns, ctime_ns, digest FROM files_v2 "
                "WHERE path = ? OR (path >= ? AND path < ?)",
                (str(directory), prefix, prefix[:-1] + "0"),  # '0' sorts right after '/'
            ).fetchall()
        except sqlite3.Error:
            return {}
        return {
            path: (inode, size, mtime, ctime, digest)
            for path, inode, size, mtime, ctime, digest in rows
        }

    def lookup(self, entries: dict[str, Row], path: str, stat: FileStat) -> str | None:
        """The cached digest of ``path`` if its stat is unchanged (from ``under()``)."""
        row = entries.get(path)
        if row is None or row[:4] != (stat.inode, stat.size, stat.mtime_ns, stat.ctime_ns):
            return None
        return row[4]

    def record(self, items: Iterable[tuple[str, FileStat, str]], *, hashed_since_ns: int) -> None:
        """Remember digests of files hashed after ``hashed_since_ns`` (time.time_ns())."""
        rows = [
            (path, stat.inode, stat.size, stat.mtime_ns, stat.ctime_ns, digest)
            for path, stat, digest in items
            if stat.mtime_ns < hashed_since_ns - RACY_WINDOW_NS
        ]
        if not rows:
            return
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT OR REPLACE INTO files_v2 VALUES (?, ?, ?, ?, ?, ?)", rows
                )
        except sqlite3.Error:
            pass  # not remembered: the files are simply hashed again next time

    def is_complete(self, digest: str) -> bool:
        """Whether a snapshot was found complete in the object cache since the last gc."""
        try:
            row = self._db.execute(
                "SELECT 1 FROM complete_snapshots WHERE digest = ?", (digest,)
            ).fetchone()
        except sqlite3.Error:
            return False
        return row is not None

    def mark_complete(self, digest: str) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("INSERT OR IGNORE INTO complete_snapshots VALUES (?)", (digest,))

    def tree(self, listing: str) -> tuple[str, int, int] | None:
        """(root digest, size, files) remembered for a listing key, if any."""
        try:
            row = self._db.execute(
                "SELECT digest, size, files FROM trees WHERE listing = ?", (listing,)
            ).fetchone()
        except sqlite3.Error:
            return None
        return (str(row[0]), int(row[1]), int(row[2])) if row else None

    def remember_tree(self, listing: str, digest: str, size: int, files: int) -> None:
        with contextlib.suppress(sqlite3.Error), self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO trees VALUES (?, ?, ?, ?)", (listing, digest, size, files)
            )
            self._db.execute(
                "DELETE FROM trees WHERE rowid <= (SELECT MAX(rowid) FROM trees) - ?",
                (_TREES_KEPT,),
            )

    def forget_complete(self) -> None:
        """Objects were removed: every snapshot must be checked again."""
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("DELETE FROM complete_snapshots")
