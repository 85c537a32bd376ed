"""Content digests: ``sha256:<64 hex>`` everywhere, the algorithm always written.

The same form as git-lfs, OCI and in-toto, so a gitprov digest can be checked against
those systems; the prefix leaves room for another algorithm without a migration.
"""

from __future__ import annotations

import re

ALGORITHM = "sha256"
PREFIX = f"{ALGORITHM}:"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def from_hex(hexdigest: str) -> str:
    """``sha256:<hex>`` from a hex digest."""
    return PREFIX + hexdigest


def is_digest(text: str) -> bool:
    """Whether ``text`` is a well-formed gitprov digest (lower-case hex)."""
    return _DIGEST.fullmatch(text) is not None


def hex_part(digest: str) -> str:
    """The 64 hex characters of a digest."""
    return digest[len(PREFIX) :]


def short(digest: str) -> str:
    """A short form for humans: ``sha256:9f86d081884c``."""
    return digest[: len(PREFIX) + 12]


def snapshot_id(digest: str) -> str:
    """The dataset snapshot ID of a directory's root digest: ``ds:<12 hex>``."""
    return "ds:" + hex_part(digest)[:12]
