"""Files shipped inside the package: the hook shim and the templates.

In the repository they live at the top level (``hooks/``, ``templates/``); the wheel maps
them to ``gitprov/_data/`` (pyproject ``force-include``). An editable install has no
``_data`` folder, so the repository copies are used instead.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _folder(name: str) -> Traversable:
    packaged = resources.files("gitprov").joinpath("_data", name)
    if packaged.is_dir():
        return packaged
    return _REPO_ROOT / name


def hook_file(name: str) -> str:
    """Text of ``hooks/<name>``."""
    return _folder("hooks").joinpath(name).read_text(encoding="utf-8")


def template(name: str) -> str:
    """Text of ``templates/<name>``."""
    return _folder("templates").joinpath(name).read_text(encoding="utf-8")
