"""The release checklist and the approvals of the release-marked checkpoints a review touches.

Both are read at the head of the range, from the history (``checklist_targets.Source`` of
that commit): the checklist judges the checkpoint version, card and config committed
there, and approvals are verified for that version's digest. Nothing is checked out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gitprov.errors import GitprovError
from gitprov.model.checklist import Report as ChecklistReport
from gitprov.model.review_report import ApprovalStatus
from gitprov.services import approvals, checklist
from gitprov.services import checklist_targets as targets
from gitprov.services.workspace import open_workspace


@dataclass(frozen=True)
class Checks:
    reports: tuple[ChecklistReport, ...] = ()
    approvals: tuple[ApprovalStatus, ...] = ()


def gather(
    *, cwd: Path, head: str, trust_at: str, pointer_paths: Sequence[str], notes: list[str]
) -> Checks:
    """Checklist reports and verified approvals of the release-marked checkpoints among
    ``pointer_paths`` (pointer files, from the top), at commit ``head``. Approvals are
    verified against the owners and signers committed at ``trust_at`` (the base: a pull
    request cannot add the key that vouches for it)."""
    if not pointer_paths:
        return Checks()
    try:
        ws = open_workspace(cwd)
    except GitprovError as exc:
        notes.append(f"release checklist not run: {exc}")
        return Checks()
    source = targets.Source(ws.top, head)
    reports: list[ChecklistReport] = []
    found: list[ApprovalStatus] = []
    for path in pointer_paths:
        try:
            target = targets.load_target(source, path)
            if target is None or not target.released:
                continue
            reports.append(checklist.check_target(ws, target))
            verdicts = approvals.verified_for_digest(
                ws.top, target.pointer.digest, at=head, trust_at=trust_at
            )
        except GitprovError as exc:
            notes.append(f"release checklist of {path}: {exc}")
            continue
        found += [
            ApprovalStatus(
                target.checkpoint, v.approval.role, v.approval.approver, v.status, v.approval.at
            )
            for v in verdicts
        ]
    return Checks(tuple(reports), tuple(found))
