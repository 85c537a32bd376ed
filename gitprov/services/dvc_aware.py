"""Respecting DVC in the same repository: its ``.dvc`` files are read, never fought."""

from __future__ import annotations

from pathlib import Path

from gitprov.adapters import git
from gitprov.errors import GitprovError
from gitprov.model import dvcfile
from gitprov.model.dvcfile import DvcOut


def dvc_outs(top: Path) -> list[DvcOut]:
    """Every output declared by a ``.dvc`` file in the work tree."""
    outs: list[DvcOut] = []
    for name in git.ls_files(top, ["*.dvc"]):
        try:
            outs += dvcfile.parse((top / name).read_text(encoding="utf-8"), dvc_file=name)
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # a broken .dvc file is DVC's to report; it tracks nothing for us
    return outs


def refuse_if_dvc_tracked(top: Path, rel: str, outs: list[DvcOut]) -> None:
    """Refuse to track a path DVC already tracks (or one inside or around such a path)."""
    for out in outs:
        if rel == out.path or rel.startswith(out.path + "/") or out.path.startswith(rel + "/"):
            raise GitprovError(
                f"{rel} is tracked by DVC ({out.dvc_file}); tracking it with gitprov too would "
                "give one path two owners and two digests",
                f"Keep it in DVC (gitprov reads {out.dvc_file} as lineage), or run "
                f"'dvc remove {out.dvc_file}' first and then 'gitprov track {rel}'",
            )
