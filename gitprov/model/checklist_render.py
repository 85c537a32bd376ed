"""The release checklist's report as text lines, for ``gitprov check`` and the hook."""

from __future__ import annotations

from gitprov.model.checklist import Report, Result

_MARK = {"pass": "PASS", "fail": "FAIL", "skip": "skip", "waived": "WAIVED"}


def headline(report: Report) -> str:
    errors = sum(1 for r in report.results if r.blocking)
    warnings = sum(1 for r in report.results if r.status == "fail" and not r.blocking)
    verdict = "passed" if report.passed else "FAILED"
    counts = []
    if errors:
        counts.append(f"{errors} error{'s' * (errors != 1)}")
    if warnings:
        counts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    where = {"": "", "worktree": "", "index": ", staged"}.get(report.at, f" at {report.at[:12]}")
    tail = f" ({', '.join(counts)})" if counts else ""
    return f"{report.checkpoint} ({report.digest[:19]}{where}): release checklist {verdict}{tail}"


def result_lines(result: Result) -> list[str]:
    label = _MARK[result.status]
    if result.status == "fail" and not result.blocking:
        label = "WARN"
    lines = [f"  {label:<6} {result.check}: {result.detail or result.title}"]
    if result.fix:
        lines.append(f"         fix: {result.fix}")
    return lines


def lines(report: Report, *, only_failures: bool = False) -> list[str]:
    out = [headline(report)]
    for result in report.results:
        if only_failures and result.status != "fail":
            continue
        out += result_lines(result)
    return out
