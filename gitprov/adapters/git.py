"""git through its command line: repository layout, config, remotes, tracked files.

The git CLI is the reference for what users see (``core.hooksPath``, worktrees, includes
in config files), so layout and config questions go to it rather than to a library
reimplementation. Failures become gitprov errors here, at the boundary.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitprov.errors import GitCommandError, GitprovError, NotARepositoryError, UsageError

# --path-format=absolute arrived in git 2.31; --fixed-value in 2.30.
MINIMUM_GIT = (2, 31)


@dataclass(frozen=True)
class RepoLayout:
    """Where a repository keeps things, as git itself resolves them."""

    worktree: Path  # top of the current work tree (a linked worktree's own top)
    git_dir: Path  # this work tree's git dir (.git, or .git/worktrees/<name>)
    common_dir: Path  # shared by all worktrees: objects, refs, config, hooks
    hooks_dir: Path  # where git runs hooks from (honours core.hooksPath)
    hooks_path_setting: str | None  # core.hooksPath as configured, when set

    @property
    def gitprov_dir(self) -> Path:
        """gitprov's local, never-committed state, shared by all worktrees."""
        return self.common_dir / "gitprov"


def git(
    args: list[str], *, cwd: Path, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``git ARGS`` in ``cwd``; raise GitCommandError on failure when ``check``."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise GitprovError(
            "git is not installed or not on PATH",
            "Install git 2.31 or newer and make sure 'git --version' works",
        ) from None
    if check and proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        # git's own verdict is the 'fatal:'/'error:' line; a trailing 'hint:' is not.
        verdicts = [line for line in lines if line.startswith(("fatal:", "error:"))]
        detail = (verdicts or lines or [f"exit {proc.returncode}"])[0]
        raise GitCommandError(
            f"'git {' '.join(args)}' failed: {detail}",
            "Check that the repository is healthy ('git status'), then retry",
        )
    return proc


def discover(cwd: Path) -> RepoLayout:
    """Find the repository around ``cwd``; raise NotARepositoryError outside a work tree."""
    proc = git(
        [
            "rev-parse",
            "--path-format=absolute",
            "--git-dir",
            "--git-common-dir",
            "--git-path",
            "hooks",
            "--is-inside-work-tree",
        ],
        cwd=cwd,
        check=False,
    )
    if proc.returncode != 0:
        raise NotARepositoryError(
            f"{cwd} is not inside a git repository",
            "cd into your repository's work tree, or create one with 'git init'",
        )
    git_dir, common_dir, hooks_dir, inside = proc.stdout.splitlines()[:4]
    if inside != "true":
        raise NotARepositoryError(
            f"{cwd} is not inside a git work tree (bare repository or .git directory)",
            "Run gitprov from a checkout: cd into the work tree, or 'git clone' the repository",
        )
    top = git(["rev-parse", "--show-toplevel"], cwd=cwd).stdout.strip()
    return RepoLayout(
        worktree=Path(top),
        git_dir=Path(git_dir),
        common_dir=Path(common_dir),
        hooks_dir=Path(hooks_dir),
        hooks_path_setting=GitConfig(Path(top)).get("core.hooksPath"),
    )


class GitConfig:
    """The repository's own config file (``git config --local``), shared by its worktrees."""

    def __init__(self, cwd: Path) -> None:
        self._cwd = cwd

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return git(["config", "--local", *args], cwd=self._cwd, check=check)

    def get_all(self, key: str) -> list[str]:
        """Every value of ``key`` (git exits 1 when there is none)."""
        proc = self._run("--get-all", key, check=False)
        if proc.returncode == 1:
            return []
        if proc.returncode != 0:
            raise GitCommandError(
                f"cannot read git config key {key}: {proc.stderr.strip()}",
                "Check .git/config with 'git config --local --list'",
            )
        return proc.stdout.splitlines()

    def get(self, key: str) -> str | None:
        """The last value of ``key``, as git resolves it, or None."""
        values = self.get_all(key)
        return values[-1] if values else None

    def add(self, key: str, value: str) -> None:
        """Add one more value to a multi-valued key."""
        self._run("--add", key, value)

    def set(self, key: str, value: str) -> None:
        """Set a key to exactly one value, replacing every value it had."""
        self._run("--replace-all", key, value)

    def remove_value(self, key: str, value: str) -> None:
        """Remove exactly ``value`` from ``key``, leaving its other values alone."""
        self._run("--fixed-value", "--unset-all", key, value, check=False)

    def unset(self, key: str) -> None:
        """Remove ``key`` entirely (no error when it is already absent)."""
        self._run("--unset-all", key, check=False)


def remotes(cwd: Path) -> list[str]:
    """Names of the repository's git remotes."""
    return git(["remote"], cwd=cwd).stdout.split()


def tracked_files_under(cwd: Path, directory: Path) -> list[str]:
    """Files git tracks below ``directory`` (empty when none or outside the work tree)."""
    proc = git(["ls-files", "-z", "--", str(directory)], cwd=cwd, check=False)
    return [name for name in proc.stdout.split("\0") if name]


def ls_files(cwd: Path, pathspecs: list[str], *, others: bool = True) -> list[str]:
    """Paths (relative to the work tree top) of tracked and, with ``others``, untracked
    but not ignored files matching ``pathspecs``."""
    args = ["ls-files", "-z", "--full-name", "--cached"]
    if others:
        args += ["--others", "--exclude-standard"]
    proc = git([*args, "--", *pathspecs], cwd=cwd)
    return sorted({name for name in proc.stdout.split("\0") if name})


def is_tracked(cwd: Path, path: Path) -> bool:
    """Whether git tracks ``path`` (a file) or anything below it (a folder)."""
    proc = git(
        ["--literal-pathspecs", "ls-files", "-z", "--cached", "--", str(path)],
        cwd=cwd,
        check=False,
    )
    return bool(proc.stdout.strip("\0"))


def stage(cwd: Path, paths: list[Path]) -> None:
    """``git add`` exactly these paths."""
    if paths:
        git(["--literal-pathspecs", "add", "--", *map(str, paths)], cwd=cwd)


def unstage_and_forget(cwd: Path, path: Path) -> None:
    """``git rm --cached`` a path if git tracks it (the work-tree file is kept)."""
    git(
        ["--literal-pathspecs", "rm", "--cached", "-q", "--ignore-unmatch", "--", str(path)],
        cwd=cwd,
    )


def reachable_blobs(cwd: Path, suffix: str) -> dict[str, str]:
    """Blob id -> path of every blob whose path ends with ``suffix`` in the history of
    any local ref (branches, tags, notes, every stash entry), the reflogs (an amended or
    reset commit stays reachable there) and the index of every worktree."""
    objects = git(
        ["rev-list", "--objects", "--all", "--reflog", "--indexed-objects"], cwd=cwd
    ).stdout
    blobs: dict[str, str] = {}
    for line in objects.splitlines():
        oid, _, path = line.partition(" ")
        if path.endswith(suffix):
            blobs[oid] = path
    return blobs


def read_blobs(cwd: Path, oids: list[str]) -> dict[str, bytes]:
    """Contents of blobs, read in one ``git cat-file --batch`` call (other objects and
    missing ones are left out)."""
    if not oids:
        return {}
    proc = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=cwd,
        input="\n".join(oids).encode() + b"\n",
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise GitCommandError(
            f"'git cat-file --batch' failed: {proc.stderr.decode(errors='replace').strip()}",
            "Check the repository with 'git fsck', then retry",
        )
    out, blobs, pos = proc.stdout, {}, 0
    for oid in oids:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        if len(header) != 3:  # "<oid> missing"
            pos = header_end + 1
            continue
        size = int(header[2])
        if header[1] == b"blob":  # a folder can be named like a file: skip trees
            blobs[oid] = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return blobs


def worktrees(cwd: Path) -> list[Path]:
    """The top folder of every work tree of the repository that still exists."""
    listing = git(["worktree", "list", "--porcelain"], cwd=cwd).stdout
    tops = [
        Path(line[len("worktree ") :])
        for line in listing.splitlines()
        if line.startswith("worktree ")
    ]
    return [top for top in tops if top.is_dir()]


def objects_with_paths(cwd: Path, rev_args: list[str]) -> list[tuple[str, str]]:
    """``(object id, path)`` of every blob and tree the commits selected by ``rev_args``
    bring (``git rev-list --objects``): with ``--not --remotes=R``, what R lacks.

    Unknown object names (a remote tip this clone never fetched) are ignored.
    """
    out = git(["rev-list", "--objects", "--ignore-missing", *rev_args], cwd=cwd).stdout
    pairs = []
    for line in out.splitlines():
        oid, sep, path = line.partition(" ")
        if sep:
            pairs.append((oid, path))
    return pairs


def resolve_commit(cwd: Path, rev: str) -> str | None:
    """The commit id ``rev`` names, or None when it names no commit."""
    proc = git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
        cwd=cwd,
        check=False,
    )
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def head_commit(cwd: Path) -> str | None:
    """HEAD's commit, or None in a repository without commits yet."""
    proc = git(["rev-parse", "-q", "--verify", "HEAD^{commit}"], cwd=cwd, check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def changed_paths(cwd: Path) -> list[str]:
    """Paths with staged, unstaged or untracked (not ignored) changes, as git status shows."""
    out = git(["status", "--porcelain=v1", "-z", "--untracked-files=all"], cwd=cwd).stdout
    paths: list[str] = []
    entries = out.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        if len(entry) > 3:
            paths.append(entry[3:])
            if entry[0] in "RC":  # a rename's source follows as its own field
                i += 1
        i += 1
    return paths


def diff_bytes(cwd: Path, base: str | None) -> bytes:
    """``git diff --binary`` of the work tree against ``base`` (the empty tree when None)."""
    empty_tree = git(["hash-object", "-t", "tree", "/dev/null"], cwd=cwd).stdout.strip()
    return _git_bytes(
        # Fixed format: local settings (textconv, prefixes, algorithm, renames) must not
        # change the digest of the same uncommitted changes from one machine to another.
        [
            "diff",
            "--binary",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--no-renames",
            "--diff-algorithm=myers",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            base or empty_tree,
        ],
        cwd=cwd,
        fix="Check that the repository is healthy ('git status'), then retry",
    )


def _git_bytes(args: list[str], *, cwd: Path, fix: str, stdin: bytes | None = None) -> bytes:
    """``git ARGS`` with binary output (diffs and patches are not always UTF-8)."""
    proc = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip()[:200]
        raise GitCommandError(f"'git {args[0]}' failed: {detail}", fix)
    return proc.stdout


def user_identity(cwd: Path) -> str:
    """``Name <email>`` as git would sign a commit ("" when git has no identity)."""
    proc = git(["var", "GIT_AUTHOR_IDENT"], cwd=cwd, check=False)
    if proc.returncode != 0:
        return ""
    ident = proc.stdout.strip()
    return ident[: ident.rfind(">") + 1] if ">" in ident else ident


def commit_paths(cwd: Path, paths: list[str], message: str, trailers: list[str]) -> str:
    """Commit exactly ``paths`` (staged or not, other staged changes untouched); return it.

    The hooks run, as for any commit: pre-commit may refuse (GitCommandError with its
    reason), post-commit records lineage.
    """
    args = ["commit", "--quiet", "-m", message]
    for trailer in trailers:
        args += ["--trailer", trailer]
    proc = git([*args, "--", *paths], cwd=cwd, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise GitCommandError(
            "the run's commit failed: " + (detail[-1] if detail else f"exit {proc.returncode}"),
            "Its files are staged: fix what the message says, then 'git commit'",
        )
    return git(["rev-parse", "HEAD"], cwd=cwd).stdout.strip()


def rev_list(cwd: Path, rev_args: list[str]) -> list[str]:
    """``git rev-list ARGS``: commits, newest first; a bad revision is a usage error."""
    proc = git(["rev-list", *rev_args, "--"], cwd=cwd, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()
        raise UsageError(
            f"{' '.join(rev_args)} is not a revision range git knows"
            + (f" ({detail[0]})" if detail else ""),
            "Name commits or a range like main..HEAD (see 'git log --oneline')",
        )
    return proc.stdout.split()


def patch_ids(cwd: Path, commits: list[str]) -> dict[str, str]:
    """Commit -> ``git patch-id --stable`` (same change, same id; merges have none)."""
    if not commits:
        return {}
    log = _git_bytes(
        ["log", "--no-walk=unsorted", "--stdin", "-p", "--no-color", "--format=commit %H"],
        cwd=cwd,
        stdin="".join(f"{c}\n" for c in commits).encode(),
        fix="Check that the commits exist ('git cat-file -t COMMIT'), then retry",
    )
    proc = subprocess.run(
        ["git", "patch-id", "--stable"], cwd=cwd, input=log, capture_output=True, check=False
    )
    ids: dict[str, str] = {}
    for line in proc.stdout.decode().splitlines():
        parts = line.split()
        if len(parts) == 2:
            ids[parts[1]] = parts[0]
    return ids


def show_file(cwd: Path, rev: str, path: str) -> str | None:
    """The text of ``path`` at ``rev`` (None when it does not exist there)."""
    proc = git(["show", f"{rev}:{path}"], cwd=cwd, check=False)
    return proc.stdout if proc.returncode == 0 else None


# --- gitprov rerun: committed files by path, throwaway worktrees -------------------------


def tree_files(cwd: Path, rev: str, directory: str) -> list[str]:
    """Paths (from the top) of the files below ``directory`` in ``rev``'s tree; empty
    when ``rev`` names no commit (a repository without commits) or the folder is absent."""
    proc = git(
        ["ls-tree", "-r", "-z", "--full-tree", "--name-only", rev, "--", directory],
        cwd=cwd,
        check=False,
    )
    return [name for name in proc.stdout.split("\0") if name] if proc.returncode == 0 else []


def commits_adding(cwd: Path, pathspec: str, *, every_ref: bool) -> list[tuple[str, str]]:
    """``(commit, path)`` for each commit that added a file matching ``pathspec``, newest
    first: in HEAD's history, or with ``every_ref`` in that of every ref (branches, tags,
    remote-tracking branches, the stash). Empty in a repository without commits."""
    scope = ["--all"] if every_ref else ["HEAD"]
    proc = git(
        [
            *("log", *scope, "--diff-filter=A", "--no-renames", "--name-only"),
            *("--format=commit %H", "--", pathspec),
        ],
        cwd=cwd,
        check=False,
    )
    found: list[tuple[str, str]] = []
    commit = ""
    for line in proc.stdout.splitlines() if proc.returncode == 0 else []:
        if line.startswith("commit "):
            commit = line[len("commit ") :]
        elif line and commit:
            found.append((commit, line))
    return found


def add_worktree(cwd: Path, path: Path, commit: str) -> None:
    """Check ``commit`` out, detached, into a new linked worktree at ``path``.

    No hook runs (``core.hooksPath=/dev/null``): post-checkout hooks (gitprov's, the
    team's) are for a user's own checkouts, not for a throwaway copy.
    """
    proc = git(
        [
            *("-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", "--quiet"),
            *("--", str(path), commit),
        ],
        cwd=cwd,
        check=False,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise GitCommandError(
            f"cannot create a worktree of {commit[:12]} at {path}: "
            + (lines[0] if lines else f"exit {proc.returncode}"),
            "Check the free space of the temp folder ($TMPDIR) and 'git worktree list', then retry",
        )


def remove_worktree(cwd: Path, path: Path) -> bool:
    """Remove a linked worktree, changes, untracked files and locks included, and prune
    its administrative files; True when it is gone. Never raises: it runs in cleanup,
    where an error would hide the one that is being handled."""
    import shutil  # noqa: PLC0415 - only cleanup needs it

    removed = git(["worktree", "remove", "--force", "--force", str(path)], cwd=cwd, check=False)
    if removed.returncode != 0:
        shutil.rmtree(path, ignore_errors=True)
    git(["worktree", "prune"], cwd=cwd, check=False)
    return not path.exists()


def editor(cwd: Path) -> str | None:
    """The editor git would open (``git var GIT_EDITOR``: GIT_EDITOR, core.editor, VISUAL,
    EDITOR, then git's default), as a shell command line; None when there is none."""
    proc = git(["var", "GIT_EDITOR"], cwd=cwd, check=False)
    value = proc.stdout.strip()
    return value if proc.returncode == 0 and value else None
