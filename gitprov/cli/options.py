"""Options shared by several commands, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOutput = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON (stable keys, for scripts).")
]
