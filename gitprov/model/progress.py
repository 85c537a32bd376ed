"""Transfer progress as one redrawn line, shared by the CLI and the hooks (which print it
themselves: this module only decides what to show, and when)."""

from __future__ import annotations

import time


def human_size(size: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


class ProgressLine:
    """``\\r<verb> 12/40 objects, 3.0 MiB of 9.5 MiB``, at most every ``interval`` s.

    Call it with each update; it returns the text to write (ending in a newline when
    everything is done), or None when redrawing now would only flicker.
    """

    def __init__(self, verb: str, *, interval: float = 0.1) -> None:
        self._verb = verb
        self._interval = interval
        self._last = 0.0

    def __call__(self, done: int, total: int, done_bytes: int, total_bytes: int) -> str | None:
        now = time.monotonic()
        finished = done >= total
        if not finished and now - self._last < self._interval:
            return None
        self._last = now
        of = f" of {human_size(total_bytes)}" if total_bytes else ""
        text = f"\r{self._verb} {done}/{total} objects, {human_size(done_bytes)}{of}"
        return text + "\n" if finished else text
