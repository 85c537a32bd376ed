"""DVC's ``.dvc`` files, read as plain YAML (no dvc import), to show and respect them.

A ``.dvc`` file lists ``outs``, each with a ``path`` relative to the file, an ``md5``
(ending in ``.dir`` for a folder), ``size`` and, for folders, ``nfiles``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class DvcOut:
    """One output a ``.dvc`` file tracks; ``path`` relative to the repository top."""

    path: str
    md5: str | None
    size: int | None
    nfiles: int | None
    dvc_file: str

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))

    @property
    def alias(self) -> str:
        """The DVC md5 shown as an alias ID: ``dvc:md5:<hex>``."""
        return f"dvc:md5:{(self.md5 or '?').removesuffix('.dir')}"


def parse(text: str, *, dvc_file: str) -> list[DvcOut]:
    """The outs of a ``.dvc`` file at ``dvc_file`` (relative path); [] when it has none.

    Raises ValueError with a readable reason for malformed YAML.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from None
    except RecursionError:  # nested ~1000 deep: a hostile file (issue 9)
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict):
        return []
    outs = data.get("outs") or []
    base = posixpath.dirname(dvc_file)
    result = []
    for out in outs if isinstance(outs, list) else []:
        if not isinstance(out, dict) or not isinstance(out.get("path"), str):
            continue
        path = posixpath.normpath(posixpath.join(base, out["path"]))
        if path.startswith(("../", "/")) or path == "..":
            continue  # outside the repository: not ours to show or protect
        md5, size, nfiles = out.get("md5"), out.get("size"), out.get("nfiles")
        result.append(
            DvcOut(
                path=path,
                md5=md5 if isinstance(md5, str) else None,
                size=size if isinstance(size, int) else None,
                nfiles=nfiles if isinstance(nfiles, int) else None,
                dvc_file=dvc_file,
            )
        )
    return result
