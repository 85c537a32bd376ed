"""``gitprov verify``: re-hash everything against its name and its pointer; trust nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gitprov.adapters.hashing import hash_file
from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.services import snapshot, workspace
from gitprov.services.workspace import Tracked, Workspace


@dataclass(frozen=True)
class Problem:
    path: str  # what the user tracks (or the cache object, for --all)
    problem: str


@dataclass
class VerifyReport:
    objects_checked: int = 0
    files_checked: int = 0
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
        for node in snapshot.tree_objects(ws.cache, pointer.digest) - {pointer.digest}:
            if node not in {r.digest for r in records.values()}:
                _check_object(ws, node, f"{label}/ (tree node)", report)
    except (GitprovError, ValueError) as exc:
        report.problems.append(Problem(label, f"snapshot cannot be read: {exc}"))
        return
    for rel, record in records.items():
        file_label = f"{label}/{rel}"
        if record.type == "file":
            _check_object(ws, record.digest, file_label, report)
            _check_work_file(item.artifact / rel, record.digest, file_label, report)
    if item.artifact.is_dir():
        extra = {
            p.relative_to(item.artifact).as_posix()
            for p in item.artifact.rglob("*")
            if (p.is_file() or p.is_symlink()) and ".gitprov-tmp-" not in p.name
        } - set(records)
        report.problems += [
            Problem(f"{label}/{rel}", "not in the snapshot") for rel in sorted(extra)
        ]


def verify(*, cwd: Path, paths: list[str], all_objects: bool = False) -> VerifyReport:
    """Check the named artifacts (all when none are named); with ``all_objects`` also every
    object in the cache against its name."""
    ws = workspace.open_workspace(cwd)
    report = VerifyReport()
    for item in workspace.find(ws, cwd, paths):
        _verify_tracked(ws, item, report)
    if all_objects:
        for digest in ws.cache.iter_digests():
            report.objects_checked += 1
            if not ws.cache.verify(digest):
                report.problems.append(
                    Problem(str(ws.cache.path(digest)), "corrupt: its bytes do not match its name")
                )
    return report
