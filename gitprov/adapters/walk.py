"""Walking a directory to snapshot: every regular file, link and folder, safely.

Symlinks are recorded, not followed; one whose target is absolute or leaves the
snapshot root is refused. Devices, sockets and FIFOs are refused. Temp files of
gitprov's interrupted writes are skipped.
"""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass, field
from pathlib import Path

from gitprov.adapters.fs import TEMP_INFIX
from gitprov.adapters.hashing import FileStat, unreadable
from gitprov.errors import GitprovError
from gitprov.model.tree import TreeFormatError, check_link_target


@dataclass
class Listing:
    """Everything under a root, by path relative to it (POSIX separators)."""

    files: dict[str, FileStat] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # relative path -> target
    dirs: list[str] = field(default_factory=list)  # every folder, "" for the root


def walk(root: Path) -> Listing:
    """List ``root`` recursively; raise a GitprovError for anything that cannot be tracked."""
    listing = Listing()
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        listing.dirs.append(rel_dir)
        folder = root / rel_dir if rel_dir else root
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise unreadable(folder, exc) from None
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.name.startswith(".") and TEMP_INFIX in entry.name:
                continue
            if entry.is_symlink():
                target = os.readlink(entry.path)
                try:
                    check_link_target(rel, target)
                except TreeFormatError:
                    raise GitprovError(
                        f"{root / rel} is a symlink to {target}, outside the tracked folder",
                        "Replace it with a copy of what it points to, or make it point inside "
                        f"{root.name}",
                    ) from None
                listing.links[rel] = target
            elif entry.is_dir(follow_symlinks=False):
                pending.append(rel)
            elif entry.is_file(follow_symlinks=False):
                listing.files[rel] = FileStat.of(entry.stat(follow_symlinks=False))
            else:
                mode = entry.stat(follow_symlinks=False).st_mode
                kind = "FIFO" if stat_module.S_ISFIFO(mode) else "special file"
                raise GitprovError(
                    f"{root / rel} is a {kind}, which cannot be tracked",
                    "Move it out of the tracked folder",
                )
    return listing
