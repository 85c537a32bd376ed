"""Plain-text and JSON rendering shared by commands."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from gitprov.model.progress import human_size
from gitprov.services.changes import Change

__all__ = ["human_size", "print_changes", "print_json"]


def _default(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(payload: Any) -> None:
    """Write ``payload`` (dataclasses and paths allowed) as JSON to stdout."""
    typer.echo(json.dumps(payload, default=_default, indent=2, sort_keys=True))


def print_changes(changes: Sequence[Change]) -> None:
    """One line per change, aligned."""
    width = max((len(change.target) for change in changes), default=0)
    for change in changes:
        typer.echo(f"  {change.target.ljust(width)}  {change.action}")
