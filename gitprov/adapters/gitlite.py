"""git for the hook path: started with ``os.posix_spawnp``, no ``subprocess`` import.

The pre-push hook runs on every push; importing ``subprocess`` (and with it locale, re,
signal handling) costs more than the git calls it makes. This runs one git command and
returns its standard output, or None when git fails: callers use it only to decide
whether the full (``adapters.git``) path is needed, so a failure means "yes, look".
"""

from __future__ import annotations

import os


def output(args: list[str]) -> str | None:
    """``git ARGS`` in the current directory: stdout, or None on any failure."""
    read_end, write_end = os.pipe()
    null = os.open(os.devnull, os.O_RDWR)
    actions = [
        (os.POSIX_SPAWN_DUP2, null, 0),
        (os.POSIX_SPAWN_DUP2, write_end, 1),
        (os.POSIX_SPAWN_DUP2, null, 2),
        (os.POSIX_SPAWN_CLOSE, read_end),
    ]
    try:
        pid = os.posix_spawnp("git", ["git", *args], os.environ, file_actions=actions)
    except OSError:
        os.close(read_end)
        return None
    finally:
        os.close(write_end)
        os.close(null)
    chunks = []
    with os.fdopen(read_end, "rb") as reader:
        while chunk := reader.read(1 << 16):
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    return b"".join(chunks).decode("utf-8", errors="surrogateescape")
