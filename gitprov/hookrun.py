"""The thin git hook entry point: ``python -m gitprov.hookrun [--shim PATH] HOOK [ARGS...]``.

Every installed hook shim execs this module, so it is on the path of every commit,
checkout and push. It imports only the standard library up front (no typer, rich,
pygit2, s3fs or botocore; a test checks) and loads gitprov's services only when a hook
has work to do in a repository where gitprov is initialised.

Order of work:
1. Read stdin once, if git sends any to this hook (pre-push, post-rewrite).
2. With ``--shim PATH``, run the hook that was installed before gitprov
   (``PATH.gitprov-legacy``) with the same arguments and stdin. A failing legacy
   pre-commit or pre-push still blocks.
3. Outside an initialised repository (no ``.gitprov/config.toml``), stop there.
4. Run gitprov's own handler for the hook, if this version has one.

``GITPROV_TRACE=FILE`` appends one JSON line per hook run to FILE (hook, arguments,
whether gitprov is initialised, elapsed milliseconds): useful to see that hooks run.
"""

from __future__ import annotations

import errno
import os
import sys
import time
from collections.abc import Callable, Sequence

from gitprov.model.hookshim import BLOCKING_HOOKS, LEGACY_SUFFIX, STDIN_HOOKS

# Imported lazily, per hook, so that a hook with nothing to do stays cheap. Each entry
# maps a hook name to "module:function"; the function takes (args, stdin) and returns
# an exit code. gitprov's own hook work arrives with the capabilities that need it
# (lineage notes, the release checklist); until a capability has landed its hook only
# chains the legacy hook. docs/hooks.md lists what each hook does.
HANDLERS: dict[str, str] = {
    "pre-commit": "gitprov.commit_hooks:pre_commit",
    "post-commit": "gitprov.commit_hooks:post_commit",
    "post-rewrite": "gitprov.commit_hooks:post_rewrite",
    "post-merge": "gitprov.commit_hooks:post_merge",
    "pre-push": "gitprov.hookcmds:pre_push",
}

_USAGE = "usage: python -m gitprov.hookrun [--shim PATH] HOOK [ARGS...]"


def _initialised() -> bool:
    # git runs hooks from the top of the work tree, so the relative path is enough and
    # saves a 'git rev-parse' subprocess on every commit.
    return os.path.isfile(os.path.join(".gitprov", "config.toml"))


def _read_stdin() -> bytes:
    # git always gives these hooks a pipe. A terminal means a person ran the hook by hand
    # (e.g. 'pre-commit run --hook-stage pre-push'): reading it would hang.
    if sys.stdin is None or sys.stdin.isatty():
        return b""
    return sys.stdin.buffer.read()


def _spawn(argv: list[str], stdin: bytes) -> int:
    """Run ``argv`` with ``stdin`` on its standard input; return its exit code.

    os.posix_spawn rather than subprocess: importing subprocess (locale, re, enum) costs
    more than the whole hook entry point. Like git, a script without a #! line (ENOEXEC)
    is run with /bin/sh.
    """
    read_end, write_end = os.pipe()
    actions = [
        (os.POSIX_SPAWN_DUP2, read_end, 0),
        (os.POSIX_SPAWN_CLOSE, read_end),
        (os.POSIX_SPAWN_CLOSE, write_end),
    ]
    try:
        try:
            pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        except OSError as exc:
            if exc.errno != errno.ENOEXEC:
                raise
            pid = os.posix_spawn("/bin/sh", ["/bin/sh", *argv], os.environ, file_actions=actions)
    finally:
        os.close(read_end)
    try:
        view = memoryview(stdin)
        while view:
            view = view[os.write(write_end, view) :]
    except BrokenPipeError:
        pass  # the hook exited without reading all of stdin, as git allows
    finally:
        os.close(write_end)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code  # killed by a signal: 128 + its number


def _run_legacy(shim: str, hook: str, args: Sequence[str], stdin: bytes) -> int:
    legacy = shim + LEGACY_SUFFIX
    if not os.access(legacy, os.X_OK) or os.path.isdir(legacy):
        return 0
    try:
        return _spawn([legacy, *args], stdin)
    except OSError as exc:
        sys.stderr.write(
            f"gitprov: could not run the previous {hook} hook {legacy}: {exc.strerror}. "
            f"Make it executable with a valid #! line, or remove it.\n"
        )
        return 1


def _handler(hook: str) -> Callable[[Sequence[str], bytes], int] | None:
    target = HANDLERS.get(hook)
    if target is None:
        return None
    import importlib  # noqa: PLC0415

    module, _, function = target.partition(":")
    handler: Callable[[Sequence[str], bytes], int] = getattr(
        importlib.import_module(module), function
    )
    return handler


def _trace(hook: str, args: Sequence[str], initialised: bool, rc: int, started: float) -> None:
    path = os.environ.get("GITPROV_TRACE")
    if not path:
        return
    import json  # noqa: PLC0415

    record = {
        "hook": hook,
        "args": list(args),
        "initialised": initialised,
        "exit": rc,
        "ms": round((time.perf_counter() - started) * 1000, 3),
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


def run(argv: Sequence[str], stdin: bytes | None = None) -> int:
    """Run one hook; ``argv`` is everything after the module name."""
    started = time.perf_counter()
    args = list(argv)
    shim = None
    if args[:1] == ["--shim"]:
        if len(args) < 2:
            sys.stderr.write(_USAGE + "\n")
            return 2
        shim = os.path.abspath(args[1])
        args = args[2:]
    if not args:
        sys.stderr.write(_USAGE + "\n")
        return 2
    hook, hook_args = args[0], args[1:]
    if stdin is None:
        stdin = _read_stdin() if hook in STDIN_HOOKS else b""

    rc = _run_legacy(shim, hook, hook_args, stdin) if shim else 0
    initialised = _initialised()
    if initialised and not (rc and hook in BLOCKING_HOOKS):
        handler = _handler(hook)
        if handler is not None:
            own = handler(hook_args, stdin)
            rc = rc or own
    _trace(hook, hook_args, initialised, rc, started)
    # git ignores the exit code of the post-* hooks; report it anyway for the trace.
    return rc


def main() -> int:
    """Console-script entry point (``gitprov-hook``)."""
    return run(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
