"""Whether a push needs gitprov's pre-push work at all, decided cheaply.

Most pushes carry code, not artifacts. This answers with at most two git processes
(``adapters.gitlite``) and the standard library, so such a push pays milliseconds, not
the import of the upload machinery. It errs on the side of "yes": anything it cannot
tell goes to ``services.push``, which decides exactly.
"""

from __future__ import annotations

from gitprov.adapters import gitlite
from gitprov.model.pushrefs import RefUpdate, is_dvc_path, is_pointer_path, missing_commits_args

NOTES_REF = "refs/notes/gitprov"  # the same as services.notes_setup.NOTES_REF (tested)
# The line a release tag's message carries (model.release.MARKER, tested).
RELEASE_MARKER = b"\nGitprov-Release:"


def needs_work(updates: list[RefUpdate], git_remote: str | None) -> bool:
    """True unless the pushed commits bring no pointer or DVC file and the local notes
    are absent or exactly what was last fetched from ``git_remote``."""
    listing = gitlite.output(
        ["rev-list", "--objects", "--ignore-missing", *missing_commits_args(updates, git_remote)]
    )
    if listing is None:
        return True
    for line in listing.splitlines():
        _, sep, path = line.partition(" ")
        if sep and (is_pointer_path(path) or is_dvc_path(path)):
            return True
    if not git_remote:
        return False  # notes are synced with named remotes only
    tracking = f"refs/notes/remotes/{git_remote}/gitprov"
    refs = gitlite.output(
        ["for-each-ref", "--format=%(refname) %(objectname)", NOTES_REF, tracking]
    )
    if refs is None:
        return True
    values = dict(line.split(" ", 1) for line in refs.splitlines() if " " in line)
    local = values.get(NOTES_REF)
    return local is not None and local != values.get(tracking)


def release_tags(updates: list[RefUpdate]) -> list[tuple[str, str]]:
    """(remote ref, object) of each pushed tag that may be a gitprov release tag: an
    annotated tag whose message has the marker line. One ``git cat-file --batch`` for
    all the pushed tags; none at all when no tag is pushed."""
    tags = [u for u in updates if u.remote_ref.startswith("refs/tags/")]
    if not tags:
        return []
    raw = gitlite.output_bytes(
        ["cat-file", "--batch"], "".join(f"{u.local_sha}\n" for u in tags).encode()
    )
    if raw is None:
        return [(u.remote_ref, u.local_sha) for u in tags]  # cannot tell: let the guard look
    found, pos = [], 0
    for update in tags:
        end = raw.find(b"\n", pos)
        header = raw[pos:end].split()
        pos = end + 1
        if len(header) != 3:
            continue  # "<sha> missing"
        size = int(header[2])
        body = raw[pos : pos + size]
        pos += size + 1
        if header[1] == b"tag" and RELEASE_MARKER in body:
            found.append((update.remote_ref, update.local_sha))
    return found
