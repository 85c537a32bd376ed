"""Signed approvals of checkpoints: record one, and verify the ones in the history.

An approval is a note record on HEAD (DESIGN §3, lineage notes), signed with the user's
git SSH signing key. Verification asks ssh-keygen, against the committed
``.gitprov/allowed_signers``, at the record's own time, then checks the role against the
committed ``.gitprov/owners.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gitprov.adapters import git, git_notes, signing
from gitprov.errors import ConfigError, GitprovError, UsageError
from gitprov.model import approval as model
from gitprov.model.notes import format_at, make_record, parse_lines
from gitprov.services import trust
from gitprov.services.workspace import Tracked, Workspace, find, open_workspace

VALID = "valid"
TAMPERED = "tampered"
UNKNOWN_KEY = "unknown_key"
OUTSIDE_WINDOW = "outside_window"
NOT_IN_ROLE = "not_in_role"


@dataclass(frozen=True)
class Approval:
    """One approval record as found in the notes."""

    id: str
    at: str
    commit: str  # the commit whose note holds it
    checkpoint: str
    digest: str
    role: str
    approver: str
    comment: str


@dataclass(frozen=True)
class VerifiedApproval:
    """An approval and the verdict on it: ``status`` is one of the constants above."""

    approval: Approval
    status: str
    detail: str

    @property
    def valid(self) -> bool:
        return self.status == VALID


def _checkpoint(cwd: Path, checkpoint: str) -> tuple[Workspace, Tracked]:
    ws = open_workspace(cwd)
    return ws, find(ws, cwd, [checkpoint])[0]


def load_owners(top: Path) -> dict[str, tuple[str, ...]]:
    """The roles of ``.gitprov/owners.toml`` as committed at HEAD (a ConfigError with the
    fix when it is not committed: an uncommitted role would never verify)."""
    found = trust.at_commit(top)
    if not found.has_owners:
        raise ConfigError(
            f"{model.OWNERS_PATH} is not committed, so no role can approve",
            "Create it from templates/owners.toml (docs/approvals.md) and commit it",
        )
    return found.roles


def approve(*, cwd: Path, checkpoint: str, role: str, comment: str = "") -> Approval:
    """Sign and append an approval of ``checkpoint``'s current digest by the git user."""
    ws, tracked = _checkpoint(cwd, checkpoint)
    roles = load_owners(ws.top)
    if role not in roles:
        known = ", ".join(sorted(roles)) or "none"
        raise UsageError(
            f"role '{role}' is not in {model.OWNERS_PATH} (roles: {known})",
            f"Use one of its roles, or add '{role}' to {model.OWNERS_PATH} and commit it",
        )
    identity = git.user_identity(ws.top)
    if not identity:
        raise GitprovError(
            "git has no user identity to approve as",
            "Run 'git config user.name NAME' and 'git config user.email EMAIL'",
        )
    if not model.in_role(identity, roles[role]):
        raise GitprovError(
            f"{identity} is not in role '{role}' in {model.OWNERS_PATH}",
            f"Ask an owner to add you to '{role}' there, or approve as a role you hold",
        )
    head = git.head_commit(ws.top)
    if head is None:
        raise GitprovError("the repository has no commit to record on", "Commit first")
    key = signing.signing_key(ws.top)
    fields = model.approval_fields(
        checkpoint=ws.display(tracked.artifact),
        digest=tracked.pointer.digest,
        role=role,
        approver=identity,
        comment=comment,
        commit=head,
    )
    # The time is fixed before signing so that the signed bytes carry the record's `at`;
    # hence make_record + append rather than notes_sync.append_record (same effect).
    when = datetime.now(UTC)
    payload = model.signed_payload({**fields, "at": format_at(when), "type": model.TYPE})
    signature = signing.ssh_sign(key, payload, namespace=model.NAMESPACE, cwd=ws.top)
    line = make_record(model.TYPE, {**fields, "signature": signature}, at=when)
    git_notes.append(ws.top, head, [line])
    return _approval(parse_lines(line)[0], head)


def _approval(record: dict[str, object], commit: str) -> Approval:
    def text(name: str) -> str:
        value = record.get(name)
        return value if isinstance(value, str) else ""

    return Approval(
        id=text("id"),
        at=text("at"),
        commit=commit,
        checkpoint=text("checkpoint"),
        digest=text("digest"),
        role=text("role"),
        approver=text("approver"),
        comment=text("comment"),
    )


def _refusal(
    signature: str, principal: str, at: str, signers: list[model.Signer]
) -> tuple[str, str]:
    """Why ssh-keygen refused a signature: the key, its validity window, or the bytes."""
    key = model.signature_key(signature)
    allowed = model.signers_for(signers, principal, key) if key else []
    if not allowed:
        return UNKNOWN_KEY, f"the signing key is not allowed for {principal} in namespace gitprov"
    if not any(model.within_window(s, model.parse_at(at)) for s in allowed):
        return OUTSIDE_WINDOW, f"the key of {principal} was not valid at {at}"
    return TAMPERED, "the signature does not match the record"


def verify_signature(
    record: dict[str, object], *, signer: str, at: str, top: Path, trusted: trust.Trust
) -> tuple[str, str]:
    """(status, detail) of a signed note record (an approval, a release) made by
    ``signer`` ("Name <email>") at ``at``, against the allowed signers of ``trusted``:
    VALID, TAMPERED, UNKNOWN_KEY or OUTSIDE_WINDOW."""
    signature = record.get("signature")
    if not isinstance(signature, str):
        return TAMPERED, "the record has no signature"
    try:
        model.parse_at(at)
    except ValueError:
        return TAMPERED, f"the record's time {at!r} is malformed"
    signers = trusted.signers
    if signers is None or trusted.signers_text is None:
        return UNKNOWN_KEY, f"no {model.ALLOWED_SIGNERS_PATH} is committed to verify it with"
    principal = model.email_of(signer)
    result = signing.ssh_verify(
        allowed_signers=trusted.signers_text,
        principal=principal,
        namespace=model.NAMESPACE,
        signature=signature,
        data=model.signed_payload(record),
        verify_time=model.verify_time(at),
        cwd=top,
    )
    return (VALID, result.detail) if result.ok else _refusal(signature, principal, at, signers)


def _verify(
    record: dict[str, object],
    found: Approval,
    *,
    top: Path,
    trusted: trust.Trust,
) -> VerifiedApproval:
    status, detail = verify_signature(
        record, signer=found.approver, at=found.at, top=top, trusted=trusted
    )
    # The role is checked only for a good signature: a forged record's role means nothing.
    if status == VALID and not model.in_role(found.approver, trusted.roles.get(found.role, ())):
        status = NOT_IN_ROLE
        detail = f"{found.approver} is not in role '{found.role}' in {model.OWNERS_PATH}"
    return VerifiedApproval(found, status, detail)


def verified_approvals(cwd: Path, checkpoint: str) -> list[VerifiedApproval]:
    """Every approval of ``checkpoint``'s current digest in the notes of HEAD's history,
    oldest first, each verified (signature, key validity at its time, role)."""
    ws, tracked = _checkpoint(cwd, checkpoint)
    return verified_for_digest(ws.top, tracked.pointer.digest)


def verified_for_digest(
    top: Path, digest: str, *, at: str = "HEAD", trust_at: str | None = None
) -> list[VerifiedApproval]:
    """Every approval of ``digest`` in the notes of ``at``'s history, oldest first, each
    verified against the owners and allowed signers committed at ``trust_at`` (default
    ``at``; a review passes its base, so that a pull request cannot trust itself)."""
    return _verified(top, digest, at=at, trust_at=trust_at)


def verified_all(top: Path, *, at: str = "HEAD") -> list[VerifiedApproval]:
    """Every approval record of any checkpoint in the notes of ``at``'s history, verified
    (``gitprov verify`` trusts no record it has not checked)."""
    return _verified(top, None, at=at, trust_at=None)


def _verified(
    top: Path, digest: str | None, *, at: str, trust_at: str | None
) -> list[VerifiedApproval]:
    trusted = trust.at_commit(top, trust_at or at)
    commits = git.rev_list(top, [at]) if git.resolve_commit(top, at) else []
    notes = git_notes.read_notes(top, commits)
    verdicts = []
    for commit in reversed(commits):
        for record in parse_lines(notes.get(commit, "")):
            if record.get("type") != model.TYPE:
                continue
            if digest is not None and record.get("digest") != digest:
                continue
            found = _approval(record, commit)
            verdicts.append(_verify(record, found, top=top, trusted=trusted))
    verdicts.sort(key=lambda v: v.approval.at)
    return verdicts
