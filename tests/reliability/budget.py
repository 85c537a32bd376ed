"""How much each reliability scenario does: bounded in CI, larger on request.

``GITPROV_RELIABILITY=full`` runs every scenario at its full size (docs/reliability.md
gives the command and how long it takes); ``GITPROV_RELIABILITY_SEED`` changes the seed
of every seeded scenario, so a failure found with one seed is replayed exactly with it.
"""

from __future__ import annotations

import os

FULL = os.environ.get("GITPROV_RELIABILITY", "") == "full"
SEED = int(os.environ.get("GITPROV_RELIABILITY_SEED", "20261123"))


def trials(ci: int, full: int) -> int:
    """``ci`` trials in the normal test run, ``full`` with GITPROV_RELIABILITY=full."""
    return full if FULL else ci
