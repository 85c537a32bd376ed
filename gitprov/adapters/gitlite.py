"""git for the hook path: started with ``os.posix_spawnp``, no ``subprocess`` import.

The pre-push hook runs on every push; importing ``subprocess`` (and with it locale, re,
signal handling) costs more than the git calls it makes. This runs one git command and
returns its standard output, or None when git fails: callers use it only to decide
whether the full (``adapters.git``) path is needed, so a failure means "yes, look".
"""

from __future__ import annotations

import os


def output(args: list[str], stdin: bytes = b"", *, cwd: str | None = None) -> str | None:
    """``git ARGS`` in the current directory: stdout, or None on any failure.

    ``stdin`` is written by a thread when it is large, so that git filling its output
    pipe while we are still writing cannot deadlock the two processes.
    """
    raw = output_bytes(args, stdin, cwd=cwd)
    return None if raw is None else raw.decode("utf-8", errors="surrogateescape")


def output_bytes(args: list[str], stdin: bytes = b"", *, cwd: str | None = None) -> bytes | None:
    """Like ``output``, undecoded (``cat-file --batch`` output is binary-safe only so).

    ``cwd``: run git there (``git -C``; posix_spawn has no working-directory argument).
    """
    code, out = run(args, stdin, cwd=cwd)
    return out if code == 0 else None


def run(args: list[str], stdin: bytes = b"", *, cwd: str | None = None) -> tuple[int, bytes]:
    """``git ARGS``: its exit code (-1: git could not be started) and standard output."""
    if cwd is not None:
        args = ["-C", cwd, *args]
    read_end, write_end = os.pipe()
    in_read, in_write = os.pipe() if stdin else (os.open(os.devnull, os.O_RDONLY), -1)
    null = os.open(os.devnull, os.O_RDWR)
    actions = [
        (os.POSIX_SPAWN_DUP2, in_read, 0),
        (os.POSIX_SPAWN_DUP2, write_end, 1),
        (os.POSIX_SPAWN_DUP2, null, 2),
        (os.POSIX_SPAWN_CLOSE, read_end),
    ]
    if in_write >= 0:
        actions.append((os.POSIX_SPAWN_CLOSE, in_write))
    try:
        pid = os.posix_spawnp("git", ["git", *args], os.environ, file_actions=actions)
    except OSError:
        os.close(read_end)
        if in_write >= 0:
            os.close(in_write)
        return -1, b""
    finally:
        os.close(write_end)
        os.close(null)
        os.close(in_read)
    writer = None
    if in_write >= 0:
        if len(stdin) <= _PIPE_SAFE:
            _write_all(in_write, stdin)
        else:
            import threading  # noqa: PLC0415 - only for large inputs

            writer = threading.Thread(target=_write_all, args=(in_write, stdin), daemon=True)
            writer.start()
    chunks = []
    with os.fdopen(read_end, "rb") as reader:
        while chunk := reader.read(1 << 16):
            chunks.append(chunk)
    if writer is not None:
        writer.join()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks)


# Below the pipe buffer (64 KiB on Linux, 16 KiB on some systems): written before reading.
_PIPE_SAFE = 8192


def _write_all(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BrokenPipeError:
        pass  # git failed early; its exit status says so
    finally:
        os.close(fd)


def read_blobs(oids: list[str], *, cwd: str | None = None) -> dict[str, bytes] | None:
    """The contents of blobs ``oids`` in one ``git cat-file --batch`` (None on failure)."""
    if not oids:
        return {}
    raw = output_bytes(["cat-file", "--batch"], "".join(f"{o}\n" for o in oids).encode(), cwd=cwd)
    if raw is None:
        return None
    blobs: dict[str, bytes] = {}
    pos = 0
    for oid in oids:
        end = raw.index(b"\n", pos)
        header = raw[pos:end].split(b" ")
        pos = end + 1
        if len(header) != 3:  # "<oid> missing"
            return None
        size = int(header[2])
        blobs[oid] = raw[pos : pos + size]
        pos += size + 1  # the content is followed by a newline
    return blobs


def git_dir() -> str | None:
    """This work tree's own git directory, found without running git (None: unknown).

    Hooks run at the top of the work tree: ``$GIT_DIR`` when git set it, else ``.git``
    itself or, in a linked worktree or submodule, the ``gitdir:`` line of the ``.git`` file.
    """
    env = os.environ.get("GIT_DIR")
    if env:
        return os.path.abspath(env)
    if os.path.isdir(".git"):
        return os.path.abspath(".git")
    try:
        with open(".git", encoding="utf-8") as handle:
            line = handle.readline().strip()
    except OSError:
        return None
    if not line.startswith("gitdir:"):
        return None
    return os.path.abspath(line.removeprefix("gitdir:").strip())
