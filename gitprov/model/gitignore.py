"""The gitprov block inside a ``.gitignore``: added to, never disturbing the user's lines.

gitprov owns exactly the lines between its two markers. Everything outside them is
returned byte for byte, including the file's line endings (LF or CRLF) and whether it
ended with a newline.
"""

from __future__ import annotations

from collections.abc import Iterable

BEGIN = "# >>> gitprov: managed by gitprov, edit outside this block >>>"
END = "# <<< gitprov <<<"

# Temp files of interrupted atomic writes (see gitprov.adapters.fs); the next run removes them.
TEMP_FILE_RULE = ".*.gitprov-tmp-*"


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def block_rules(text: str) -> list[str]:
    """The rules inside the gitprov block, in order (empty when there is no block)."""
    lines = text.splitlines()
    if BEGIN not in lines:
        return []
    start = lines.index(BEGIN) + 1
    end = lines.index(END, start) if END in lines[start:] else len(lines)
    return [line for line in lines[start:end] if line and not line.startswith("#")]


def with_rules(text: str, rules: Iterable[str]) -> str:
    """``text`` with every rule in ``rules`` present in the gitprov block.

    Existing block rules keep their order; new ones are appended. The block is created at
    the end of the file when missing. Returns ``text`` unchanged when nothing is missing.
    """
    present = block_rules(text)
    missing = [rule for rule in dict.fromkeys(rules) if rule not in present]
    if not missing and BEGIN in text.splitlines():
        return text
    nl = _newline(text)
    lines = text.splitlines()
    if BEGIN in lines:
        start = lines.index(BEGIN)
        end = lines.index(END, start) if END in lines[start:] else len(lines)
        new_block = [BEGIN, *present, *missing, END]
        head, tail = lines[:start], lines[end + 1 :]
        trailing = nl if text.endswith(("\n", "\r")) or tail == [] else ""
        return nl.join([*head, *new_block, *tail]) + trailing
    prefix = text
    if prefix and not prefix.endswith("\n"):
        prefix += nl
    if prefix and not prefix.endswith(nl * 2):
        prefix += nl  # one blank line between the user's rules and gitprov's block
    return prefix + nl.join([BEGIN, *missing, END]) + nl
