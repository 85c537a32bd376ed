"""gitprov's work in the commit hooks: pre-commit, post-commit and post-rewrite.

These run on every commit, so this module imports nothing heavy at the top and each
hook loads only what it uses (``hookrun`` times them with ``GITPROV_TRACE``). Output goes
to standard error, one line per problem; a post-* hook can no longer stop the commit, so
a failure says how to add the missing record afterwards.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from gitprov.errors import ExitCode, GitprovError


def _say(message: str) -> None:
    sys.stderr.write(f"gitprov: {message}\n")


def pre_commit(args: Sequence[str], stdin: bytes) -> int:
    """Check staged decision records and, when the commit touches a release-marked
    checkpoint or its card, the release checklist; block on a failure. Otherwise let the
    commit through and remember its tree, so post-commit records 'passed' (a commit made
    with --no-verify is recorded as 'skipped')."""
    from gitprov.services import checklist_marker, decision_check, release_gate  # noqa: PLC0415

    changes = release_gate.staged_changes()
    try:
        problems = decision_check.check(release_gate.present(changes))
    except GitprovError as exc:
        problems = [str(exc)]
    if problems:
        for problem in problems:
            _say(problem)
        _say("the commit was blocked: fix the decision records above, 'git add' them, retry")
        return int(ExitCode.FAILED)
    blocked, lines = release_gate.check(changes)
    for line in lines:
        _say(line)
    if blocked:
        _say(
            "the commit was blocked by the release checklist: fix the failures above, "
            "'git add' the files, retry ('gitprov check --staged' shows every check)"
        )
        return int(ExitCode.FAILED)
    checklist_marker.mark_passed()
    return 0


def post_commit(args: Sequence[str], stdin: bytes) -> int:
    """Append the new commit's lineage record; never fails the (already made) commit."""

    def work() -> object:
        from gitprov.services import commit_lineage  # noqa: PLC0415 - hooks import on demand

        return commit_lineage.post_commit(cwd=os.getcwd())

    return _guarded("record lineage for the commit", work)


def post_rewrite(args: Sequence[str], stdin: bytes) -> int:
    """Give every amended or rebased commit its own lineage record."""

    def work() -> object:
        from pathlib import Path  # noqa: PLC0415

        from gitprov.services import commit_lineage, lineage_repair  # noqa: PLC0415

        pairs = commit_lineage.parse_rewrite_stdin(stdin.decode("ascii", errors="replace"))
        if not pairs:  # run by a hook manager that does not pass git's stdin on
            command = args[0] if args else os.environ.get("PRE_COMMIT_REWRITE_COMMAND", "")
            if command == "amend":  # only HEAD was rewritten (ORIG_HEAD is not set by amend)
                return commit_lineage.post_commit(cwd=os.getcwd())
            return lineage_repair.record_rewritten_without_pairs(cwd=Path.cwd())
        return lineage_repair.post_rewrite(cwd=Path.cwd(), pairs=pairs)

    return _guarded("record lineage for the rewritten commits", work)


def post_merge(args: Sequence[str], stdin: bytes) -> int:
    """A merge commit made by ``git merge``/``git pull`` runs post-merge, not post-commit:
    record it the same way (a fast-forward brings no new commit: nothing is added)."""
    if args[:1] == ["1"]:
        return 0  # a squash merge made no commit yet; 'git commit' will run post-commit

    def work() -> object:
        from gitprov.services import commit_lineage  # noqa: PLC0415

        return commit_lineage.post_commit(cwd=os.getcwd())

    return _guarded("record lineage for the merge", work)


def _guarded(what: str, work: Callable[[], object]) -> int:
    """Run a post-* hook's work (its imports included, so that even a broken install is
    one line, not a traceback in git's output): a failure says how to repair it."""
    try:
        work()
    except GitprovError as exc:
        _say(f"could not {what}: {exc}")
        _say("the commit is made; run 'gitprov notes rebuild' to add the missing record")
        return int(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug must not print a traceback into git's output
        _say(
            f"internal error ({type(exc).__name__}: {str(exc)[:200]}) while trying to {what}: "
            "this is a bug in gitprov, please report it; 'gitprov notes rebuild' adds the record"
        )
        return int(ExitCode.BUG)
    return 0
