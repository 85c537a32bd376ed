"""Which repository paths gitprov cares about, by name alone.

Standard library only and no dataclasses: the commit and push hooks import this on
every run.
"""

from __future__ import annotations

POINTER_SUFFIX = ".gitprov"  # the same as model.pointer.SUFFIX (checked by a test)


def is_pointer_path(path: str) -> bool:
    """``models/m.pt.gitprov`` is a pointer; the ``.gitprov/`` config folder is not."""
    name = path.rpartition("/")[2]
    return name.endswith(POINTER_SUFFIX) and name != POINTER_SUFFIX


def is_dvc_path(path: str) -> bool:
    """A DVC file whose outputs a push must also send (``*.dvc``, ``dvc.lock``)."""
    name = path.rpartition("/")[2]
    return name.endswith(".dvc") or name == "dvc.lock"
