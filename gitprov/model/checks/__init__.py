"""The built-in release checks: pure functions from a :class:`Subject` to a :class:`Verdict`.

``services.checklist`` gathers a :class:`Subject` (the card, the lineage, approvals,
remote presence, the texts to scan) and runs every enabled check in :data:`REGISTRY`;
no check does I/O. Each module owns a family of checks and registers them here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gitprov.model.checks.subject import Subject, Verdict

Check = Callable[..., Verdict]  # (subject: Subject, config: checklist.Config) -> Verdict


def registry() -> Mapping[str, Check]:
    """Check id -> its function, for every built-in check (imported on first use)."""
    from gitprov.model.checks import (  # noqa: PLC0415
        card_checks,
        license_checks,
        provenance_checks,
        secret_checks,
    )

    return {
        **card_checks.CHECKS,
        **license_checks.CHECKS,
        **provenance_checks.CHECKS,
        **secret_checks.CHECKS,
    }


__all__ = ["Check", "Subject", "Verdict", "registry"]
