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
