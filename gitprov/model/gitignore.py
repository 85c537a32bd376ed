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


def _lines(text: str) -> list[str]:
    """Lines as git reads a .gitignore: split on LF only, a CR kept on its line."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _bare(line: str) -> str:
    return line[:-1] if line.endswith("\r") else line


def _block_span(lines: list[str]) -> tuple[int, int] | None:
    """Indexes of the BEGIN and END marker lines (END may be missing: then the last line)."""
    bare = [_bare(line) for line in lines]
    if BEGIN not in bare:
        return None
    begin = bare.index(BEGIN)
    end = bare.index(END, begin) if END in bare[begin:] else len(lines)
    return begin, end


def block_rules(text: str) -> list[str]:
    """The rules inside the gitprov block, in order (empty when there is no block)."""
    lines = _lines(text)
    span = _block_span(lines)
    if span is None:
        return []
    inside = (_bare(line) for line in lines[span[0] + 1 : span[1]])
    return [line for line in inside if line and not line.startswith("#")]


def with_rules(text: str, rules: Iterable[str]) -> str:
    """``text`` with every rule in ``rules`` present in the gitprov block.

    Existing block rules keep their order; new ones are appended. The block is created at
    the end of the file when missing. Returns ``text`` unchanged when nothing is missing.
    """
    lines = _lines(text)
    span = _block_span(lines)
    present = block_rules(text)
    missing = [rule for rule in dict.fromkeys(rules) if rule not in present]
    if not missing and span is not None:
        return text
    nl = _newline(text)
    block = nl.join([BEGIN, *present, *missing, END]) + nl
    if span is not None:
        head = "".join(line + "\n" for line in lines[: span[0]])
        tail_lines = lines[span[1] + 1 :]
        tail = "\n".join(tail_lines) + ("\n" if text.endswith("\n") and tail_lines else "")
        return head + block + tail
    prefix = text
    if prefix and not prefix.endswith("\n"):
        prefix += nl
    if prefix and not prefix.endswith(nl * 2):
        prefix += nl  # one blank line between the user's rules and gitprov's block
    return prefix + block


def rule_for(rel_path: str) -> str:
    """An anchored rule ignoring exactly the file or folder ``rel_path`` (POSIX, relative).

    Glob characters, backslashes and trailing spaces are escaped. A line break cannot be
    written in a .gitignore at all, so it becomes ``?`` (any one character): the rule may
    then also ignore a sibling that differs only there, never miss the artifact.
    """
    out = []
    for char in rel_path:
        if char in "\\*?[":
            out.append("\\" + char)
        elif char in "\r\n":
            out.append("?")
        else:
            out.append(char)
    rule = "/" + "".join(out)
    stripped = rule.rstrip(" ")
    return stripped + "\\ " * (len(rule) - len(stripped))


def without_rules(text: str, rules: Iterable[str]) -> str:
    """``text`` with ``rules`` removed from the gitprov block (nothing else touched)."""
    lines = _lines(text)
    span = _block_span(lines)
    drop = set(rules)
    if span is None or not drop & set(block_rules(text)):
        return text
    kept = [
        line
        for index, line in enumerate(lines)
        if not (span[0] < index < span[1] and _bare(line) in drop)
    ]
    return "\n".join(kept) + ("\n" if text.endswith("\n") else "")


def outside_block(text: str) -> str:
    """``text`` without the gitprov block: the part of .gitignore that is the user's.

    >>> outside_block(f"a\\n{BEGIN}\\n/x\\n{END}\\nb\\n")
    'a\\nb\\n'
    """
    lines = _lines(text)
    span = _block_span(lines)
    if span is not None:
        lines = lines[: span[0]] + lines[span[1] + 1 :]
    return "".join(f"{line}\n" for line in lines)
