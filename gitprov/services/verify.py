"""``gitprov verify``: re-hash everything against its name and its pointer, and check every
signed record (approvals, releases) in the history; trust nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitprov.adapters import git
from gitprov.adapters.hashing import hash_file
from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.services import approvals, release_verify, snapshot, workspace
from gitprov.services.workspace import Tracked, Workspace


@dataclass(frozen=True)
class Problem:
    path: str  # what the user tracks (or the cache object, for --all)
    problem: str


@dataclass
class VerifyReport:
    objects_checked: int = 0
    files_checked: int = 0
    records_checked: int = 0  # signed note records: approvals and release tags
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_object(ws: Workspace, digest: str, label: str, report: VerifyReport) -> None:
    report.objects_checked += 1
    if not ws.cache.has(digest):
        report.problems.append(Problem(label, f"missing from the cache ({digests.short(digest)})"))
    elif not ws.cache.verify(digest):
        report.problems.append(Problem(label, f"cache object {digests.short(digest)} is corrupt"))


def _check_work_file(path: Path, expected: str, label: str, report: VerifyReport) -> None:
    if not path.exists():
        report.problems.append(Problem(label, "missing from the work tree"))
        return
    report.files_checked += 1
    try:
        actual, _ = hash_file(path)
    except GitprovError as exc:
        report.problems.append(Problem(label, exc.problem))
        return
    if actual != expected:
        report.problems.append(
            Problem(
                label,
                f"work tree has {digests.short(actual)}, pointer says {digests.short(expected)}",
            )
        )


def _verify_tracked(ws: Workspace, item: Tracked, report: VerifyReport) -> None:
    label = ws.display(item.artifact)
    pointer = item.pointer
    if not pointer.is_tree:
        _check_object(ws, pointer.digest, label, report)
        _check_work_file(item.artifact, pointer.digest, label, report)
        return
    _check_object(ws, pointer.digest, f"{label}/ (snapshot root)", report)
    try:
        records = snapshot.flatten(ws.cache, pointer.digest)
        needed = snapshot.tree_objects(ws.cache, pointer.digest)
    except (GitprovError, ValueError) as exc:
        report.problems.append(Problem(label, f"snapshot cannot be read: {exc}"))
        return
    for rel, record in records.items():
        if record.type == "file":
            _check_object(ws, record.digest, f"{label}/{rel}", report)
    file_digests = {record.digest for record in records.values()}
    for node in needed - file_digests - {pointer.digest}:
        _check_object(ws, node, f"{label}/ (tree node)", report)
    if not item.artifact.is_dir() or item.artifact.is_symlink():
        report.problems.append(Problem(label, "missing from the work tree (or not a folder)"))
        return
    try:  # every file read again: no stat cache
        current = snapshot.snapshot_directory(item.artifact, stats=None, cache=None, mode="auto")
    except GitprovError as exc:
        report.problems.append(Problem(label, exc.problem))
        return
    report.files_checked += current.files
    if current.digest != pointer.digest:
        _report_differences(label, records, current.records, report)


def _report_differences(
    label: str,
    records: dict[str, snapshot.FileRecord],
    new: dict[str, snapshot.FileRecord],
    report: VerifyReport,
) -> None:
    for rel in sorted(set(records) | set(new)):
        if rel not in new:
            report.problems.append(Problem(f"{label}/{rel}", "missing from the work tree"))
        elif rel not in records:
            report.problems.append(Problem(f"{label}/{rel}", "not in the snapshot"))
        elif records[rel].digest != new[rel].digest:
            report.problems.append(
                Problem(
                    f"{label}/{rel}",
                    f"work tree has {digests.short(new[rel].digest)}, "
                    f"snapshot says {digests.short(records[rel].digest)}",
                )
            )
        elif records[rel] != new[rel]:
            report.problems.append(
                Problem(f"{label}/{rel}", "executable bit or link target differs")
            )
    if set(records) == set(new) and all(records[r] == new[r] for r in records):
        report.problems.append(Problem(label, "folders differ from the snapshot (empty folders)"))


def verify(*, cwd: Path, paths: list[str], all_objects: bool = False) -> VerifyReport:
    """Check the named artifacts (all when none are named); with ``all_objects`` also every
    object in the cache against its name."""
    ws = workspace.open_workspace(cwd)
    report = VerifyReport()
    for item in workspace.find(ws, cwd, paths):
        _verify_tracked(ws, item, report)
    _verify_records(ws, report)
    if all_objects:
        for digest in ws.cache.iter_digests():
            report.objects_checked += 1
            if not ws.cache.verify(digest):
                report.problems.append(
                    Problem(str(ws.cache.path(digest)), "corrupt: its bytes do not match its name")
                )
    return report


def _verify_records(ws: Workspace, report: VerifyReport) -> None:
    """Every signed record of HEAD's history: approvals (signature, key validity, role)
    and release tags (signature, the commit, tag and digest they name, a passing
    checklist). A tampered, forged or replayed record is a problem like a corrupt object."""
    if git.head_commit(ws.top) is None:
        return
    for verdict in approvals.verified_all(ws.top):
        report.records_checked += 1
        if not verdict.valid:
            found = verdict.approval
            report.problems.append(
                Problem(
                    f"approval {found.id} of {found.checkpoint or '?'} ({found.role or '?'})",
                    f"{verdict.status}: {verdict.detail}",
                )
            )
    for release in release_verify.releases(cwd=ws.top):
        report.records_checked += 1
        if not release.valid:
            report.problems.append(
                Problem(f"release tag {release.tag}", f"{release.status}: {release.detail}")
            )
