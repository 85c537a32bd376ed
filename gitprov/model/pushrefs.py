"""What git tells a pre-push hook about the refs being pushed: parsing and filtering.

Pure and light (no subprocess, no third-party import): the hook entry point uses it to
decide, before loading anything else, whether a push can name new artifacts at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gitprov.model.paths import POINTER_SUFFIX, is_dvc_path, is_pointer_path

__all__ = [
    "POINTER_SUFFIX",
    "RefUpdate",
    "is_dvc_path",
    "is_pointer_path",
    "missing_commits_args",
    "pushed_updates",
]

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class RefUpdate:
    """One line git gives pre-push: ``<local ref> <local sha> <remote ref> <remote sha>``."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def is_deletion(self) -> bool:
        return self.local_sha.strip("0") == ""

    @property
    def is_notes(self) -> bool:
        return self.local_ref.startswith("refs/notes/") or self.remote_ref.startswith("refs/notes/")


def parse_push_stdin(text: str) -> list[RefUpdate]:
    updates = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 4:
            updates.append(RefUpdate(*fields))
    return updates


def _updates_from_env(env: Mapping[str, str]) -> list[RefUpdate]:
    """What the pre-commit framework says instead of stdin (it consumes git's stdin).

    It describes only the first pushed ref, as PRE_COMMIT_FROM_REF/TO_REF, or, when that
    ref's history starts with a root commit the remote lacks, by PRE_COMMIT_LOCAL_BRANCH
    alone (its "all files" mode).
    """
    local = env.get("PRE_COMMIT_TO_REF") or env.get("PRE_COMMIT_LOCAL_BRANCH")
    if not local:
        return []
    return [
        RefUpdate(
            env.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD"),
            local,
            env.get("PRE_COMMIT_REMOTE_BRANCH", "HEAD"),
            env.get("PRE_COMMIT_FROM_REF") or ZERO_SHA,
        )
    ]


def pushed_updates(stdin: str, env: Mapping[str, str]) -> list[RefUpdate]:
    """The ref updates that can bring new commits: no deletions, no notes refs."""
    updates = parse_push_stdin(stdin) or ([] if stdin.strip() else _updates_from_env(env))
    return [u for u in updates if not u.is_deletion and not u.is_notes]


def missing_commits_args(updates: list[RefUpdate], git_remote: str | None) -> list[str]:
    """``git rev-list`` arguments selecting the commits the remote lacks: the pushed tips,
    minus what its tracking refs and the tips it has now reach (new branches, tags and
    force-pushes included)."""
    args = [u.local_sha for u in updates]
    args.append("--not")
    if git_remote:
        args.append(f"--remotes={git_remote}")
    args += [u.remote_sha for u in updates if u.remote_sha != ZERO_SHA]
    return args
