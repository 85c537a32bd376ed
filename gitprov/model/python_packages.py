"""The installed Python distributions of a snapshot: ``name==version``, one per name.

Names are compared in their PEP 503 normal form, so one distribution is one entry however
its metadata spells it, and the list is sorted so that twin environments give twin bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def normalise_name(name: str) -> str:
    """PEP 503 normal form, so ``Foo_Bar`` and ``foo-bar`` are one distribution."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def package_list(found: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """``name==version`` for distributions found in ``sys.path`` order, sorted by name.

    When a name is installed twice (a user site and a venv, say), the first one on
    ``sys.path`` is the one Python imports, so it is the one recorded.
    """
    first: dict[str, str] = {}
    for name, version in found:
        key = normalise_name(name)
        if key and version.strip() and key not in first:
            first[key] = version.strip()
    return tuple(f"{name}=={first[name]}" for name in sorted(first))
