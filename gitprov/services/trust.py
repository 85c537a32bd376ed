"""Who is trusted: ``.gitprov/owners.toml`` and ``.gitprov/allowed_signers`` as committed.

Signatures (approvals, releases) are verified against these files as a commit holds
them, never as the work tree has them: an uncommitted line in ``allowed_signers`` must
not make a key trusted, and a pull request must not vouch for itself (a review reads the
files of its base). Changing who is trusted is a commit, reviewed like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitprov.adapters import git
from gitprov.model import approval as model


@dataclass(frozen=True)
class Trust:
    """The trust files of one commit (``at`` None: the repository has no commit)."""

    at: str | None
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    has_owners: bool = False
    signers_text: str | None = None  # allowed_signers' content, for ssh-keygen

    @property
    def signers(self) -> list[model.Signer] | None:
        if self.signers_text is None:
            return None
        return model.parse_allowed_signers(self.signers_text)


def at_commit(top: Path, rev: str = "HEAD") -> Trust:
    """The trust files committed at ``rev`` (missing files: no roles, no signers)."""
    commit = git.resolve_commit(top, rev)
    if commit is None:
        return Trust(None)
    owners = git.show_file(top, commit, model.OWNERS_PATH)
    roles = model.parse_owners(owners, source=model.OWNERS_PATH) if owners is not None else {}
    signers = git.show_file(top, commit, model.ALLOWED_SIGNERS_PATH)
    return Trust(commit, roles, owners is not None, signers)
