"""The ``no-secrets`` check: no credential or listed PII in the texts a release carries
(the card, the linked decision records, the run record, the notes), per
:mod:`gitprov.model.secret_scan`. The detail names the file, the line and the kind of
each finding, never the value.
"""

from __future__ import annotations

from collections.abc import Callable

from gitprov.model import secret_scan
from gitprov.model.checklist import Config
from gitprov.model.checks.subject import Subject, Verdict

CHECK = "no-secrets"
SHOWN = 5  # findings named in the detail; the rest are counted


def no_secrets(subject: Subject, config: Config) -> Verdict:
    """Every ``subject.texts`` entry is free of credential shapes and configured PII."""
    if not subject.texts:
        return Verdict("skip", "nothing to scan (no card, decision, run record or note)")
    findings = secret_scan.scan(
        ((text.source, text.text) for text in subject.texts), pii=config.pii_patterns
    )
    scanned = f"{len(subject.texts)} text{'s' if len(subject.texts) != 1 else ''}"
    if not findings:
        return Verdict("pass", f"scanned {scanned}: no secrets or listed PII")
    shown = "; ".join(str(f) for f in findings[:SHOWN])
    more = f" (+{len(findings) - SHOWN} more)" if len(findings) > SHOWN else ""
    sources = sorted({f.source for f in findings})
    return Verdict(
        "fail",
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {scanned}: {shown}{more}",
        f"Remove each value from {', '.join(sources)} and rotate any credential that was "
        "real (it may already be in git history); for a known false positive, add "
        "'pragma: allowlist secret' to its line",
    )


CHECKS: dict[str, Callable[[Subject, Config], Verdict]] = {CHECK: no_secrets}
