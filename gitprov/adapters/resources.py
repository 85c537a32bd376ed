"""Files shipped inside the package: the hook shim and the templates.

In the repository they live at the top level (``hooks/``, ``templates/``); the wheel maps
them to ``gitprov/_data/`` (pyproject ``force-include``). An editable install has no
``_data`` folder, so the repository copies are used instead.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from gitprov.errors import GitprovError

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _folder(name: str) -> Traversable:
    packaged = resources.files("gitprov").joinpath("_data", name)
    if packaged.is_dir():
        return packaged
    source = _REPO_ROOT / name
    # Only a source checkout (editable install) may supply the folder: in an installed
    # copy _REPO_ROOT is site-packages, where a folder of that name is someone else's.
    if (_REPO_ROOT / "pyproject.toml").is_file() and (_REPO_ROOT / "gitprov").is_dir():
        return source
    raise GitprovError(
        f"gitprov's packaged {name}/ folder is missing from {packaged}",
        "Reinstall gitprov: pip install --force-reinstall gitprov",
    )


def hook_file(name: str) -> str:
    """Text of ``hooks/<name>``."""
    return _folder("hooks").joinpath(name).read_text(encoding="utf-8")


def template(name: str) -> str:
    """Text of ``templates/<name>``."""
    return _folder("templates").joinpath(name).read_text(encoding="utf-8")
