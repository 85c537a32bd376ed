"""The git hook shims gitprov installs: which hooks, how a shim is rendered and recognised.

A shim is a few lines of POSIX sh (template ``hooks/shim.sh``) that execs the thin hook
entry point with the Python that ran ``gitprov init``. A hook that was there before is
kept beside it as ``<hook>.gitprov-legacy`` and run by the entry point, so installing
gitprov never silences a team's existing hook.
"""

from __future__ import annotations

# No module-level imports beyond this: the hook entry point imports this module on every
# git hook, so shlex is imported only by the functions that need it.

# The hooks the design needs (DESIGN §4): checklist, lineage record, note rewriting,
# artifact upload, and the two that see new commits arrive.
HOOK_NAMES: tuple[str, ...] = (
    "pre-commit",
    "post-commit",
    "post-rewrite",
    "pre-push",
    "post-merge",
    "post-checkout",
)

# Hooks whose failure makes git abort the operation; the others only report.
BLOCKING_HOOKS: frozenset[str] = frozenset({"pre-commit", "pre-push"})

# Hooks to which git writes data on standard input (pre-push: refs; post-rewrite: old/new).
STDIN_HOOKS: frozenset[str] = frozenset({"pre-push", "post-rewrite"})

SHIM_MARKER = "gitprov-hook-shim"
LEGACY_SUFFIX = ".gitprov-legacy"

_PYTHON_ASSIGNMENT = "GITPROV_PYTHON="


def render_shim(template: str, *, hook: str, python: str) -> str:
    """Fill the shim template for ``hook``, running gitprov with interpreter ``python``.

    >>> render_shim("P=@PYTHON@ run @HOOK@", hook="pre-push", python="/opt/my env/python")
    "P='/opt/my env/python' run pre-push"
    """
    if hook not in HOOK_NAMES:
        raise ValueError(f"not a gitprov hook: {hook!r}")
    import shlex  # noqa: PLC0415

    return template.replace("@PYTHON@", shlex.quote(python)).replace("@HOOK@", hook)


def is_shim(content: bytes) -> bool:
    """Whether a hook file's bytes are a gitprov shim (of any version)."""
    return SHIM_MARKER.encode() in content


def shim_python(content: str) -> str | None:
    """The interpreter path a shim execs, or None when the shim names none."""
    import shlex  # noqa: PLC0415

    # Split on "\n" only: str.splitlines would also break on \x1c-\x1e, \x85 and
    # \u2028, which sh treats as ordinary characters (and a path may contain them).
    for line_start, line in _lines_with_offsets(content):
        if line.startswith(_PYTHON_ASSIGNMENT):
            # The quoted value may span lines (a path with a newline), so lex from here.
            lexer = shlex.shlex(content[line_start + len(_PYTHON_ASSIGNMENT) :], posix=True)
            lexer.whitespace_split = True
            try:
                token = lexer.get_token()
            except ValueError:
                return None
            return token if token != lexer.eof else None
    return None


def _lines_with_offsets(content: str) -> list[tuple[int, str]]:
    offsets, start = [], 0
    for line in content.split("\n"):
        offsets.append((start, line))
        start += len(line) + 1
    return offsets
