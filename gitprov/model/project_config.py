"""The committed project configuration ``.gitprov/config.toml``: parsing and checks.

tomlkit keeps comments and layout, so gitprov can edit a file users have annotated
without losing a byte of what they wrote.
"""

from __future__ import annotations

import tomlkit
from tomlkit.exceptions import ParseError, TOMLKitError
from tomlkit.toml_document import TOMLDocument

from gitprov.errors import ConfigError

SCHEMA_KEY = "schema"
SCHEMA_VERSION = 1


def parse(text: str, *, source: str) -> TOMLDocument:
    """Parse config text; a syntax error names the file, line and column.

    ``source`` is the path shown to the user.
    """
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(
            f"{source} is not valid TOML at line {exc.line}, column {exc.col}",
            "Fix that line (or delete the file and run 'gitprov init' to write a fresh one)",
        ) from None
    except TOMLKitError as exc:  # a key repeated inside a table: KeyAlreadyPresent (issue 9)
        raise ConfigError(
            f"{source} is not valid TOML ({exc})",
            "Fix it (or delete the file and run 'gitprov init' to write a fresh one)",
        ) from None


def check(doc: TOMLDocument, *, source: str) -> None:
    """Raise ConfigError unless the document is of a schema this gitprov understands."""
    schema = doc.get(SCHEMA_KEY)
    if schema is None:
        raise ConfigError(
            f"{source} has no '{SCHEMA_KEY}' key",
            f"Add '{SCHEMA_KEY} = {SCHEMA_VERSION}' at the top, or run 'gitprov doctor --fix'",
        )
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise ConfigError(
            f"{source}: '{SCHEMA_KEY}' must be a whole number, not {schema!r}",
            f"Set '{SCHEMA_KEY} = {SCHEMA_VERSION}'",
        )
    if schema > SCHEMA_VERSION:
        raise ConfigError(
            f"{source} uses schema {schema}, newer than this gitprov understands "
            f"({SCHEMA_VERSION})",
            "Upgrade gitprov: pip install --upgrade gitprov",
        )
    if schema < 1:
        raise ConfigError(
            f"{source}: '{SCHEMA_KEY}' must be {SCHEMA_VERSION}, not {schema}",
            f"Set '{SCHEMA_KEY} = {SCHEMA_VERSION}'",
        )


def with_schema(doc: TOMLDocument) -> str:
    """The document's text with the schema key added; comments and layout survive."""
    if SCHEMA_KEY not in doc:
        # tomlkit places a plain key before the first table, after any leading comments.
        doc.add(SCHEMA_KEY, SCHEMA_VERSION)
    return tomlkit.dumps(doc)
