"""``gitprov ci init github|gitlab``: write the review workflow into the user's repository.

The workflows are packaged templates (``templates/ci/``). GitHub runs any file in
``.github/workflows/``; GitLab runs one ``.gitlab-ci.yml``, so the GitLab job is written
to its own file and included from ``.gitlab-ci.yml`` (created when there is none; an
existing one is left alone and the include line to add is returned).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters import git, resources
from gitprov.adapters.fs import atomic_write
from gitprov.errors import GitprovError, UsageError

PROVIDERS = ("github", "gitlab")
TEMPLATES = {"github": "ci/github-review.yml", "gitlab": "ci/gitlab-review.yml"}
TARGETS = {"github": ".github/workflows/gitprov-review.yml", "gitlab": ".gitlab/gitprov-review.yml"}
GITLAB_CI = ".gitlab-ci.yml"
GITLAB_INCLUDE = f"include:\n  - local: {TARGETS['gitlab']}\n"


@dataclass(frozen=True)
class Written:
    """What ``init`` wrote (paths from the top), and what is left for the user to do."""

    provider: str
    written: tuple[str, ...]
    todo: tuple[str, ...]


def template(provider: str) -> str:
    """The packaged workflow for ``provider``."""
    if provider not in PROVIDERS:
        raise UsageError(f"unknown CI provider '{provider}'", f"Use one of: {', '.join(PROVIDERS)}")
    return resources.template(TEMPLATES[provider])


_BRANCH = re.compile(r"[A-Za-z0-9._/-]+")
GITHUB_BRANCHES = "branches: [main]"


def default_branch(top: Path) -> str:
    """The remote's default branch (``origin/HEAD``), else the current one, else main."""
    for args in (
        ["symbolic-ref", "--short", "refs/remotes/origin/HEAD"],
        ["branch", "--show-current"],
    ):
        name = git.git(args, cwd=top, check=False).stdout.strip()
        if name:
            return name.removeprefix("origin/")
    return "main"


def init(*, cwd: Path, provider: str, branch: str | None = None, force: bool = False) -> Written:
    """Write ``provider``'s review workflow into the repository at ``cwd`` (not staged).

    GitHub's post-merge job runs on pushes to ``branch`` (default: :func:`default_branch`);
    GitLab's uses ``$CI_DEFAULT_BRANCH`` and ignores it.
    """
    text = template(provider)
    top = git.discover(cwd).worktree
    if provider == "github":
        name = branch or default_branch(top)
        if not _BRANCH.fullmatch(name) or name.startswith("-"):
            raise UsageError(
                f"{name!r} is not a branch name the workflow can use",
                "Pass --branch with letters, digits and . _ / - only",
            )
        text = text.replace(GITHUB_BRANCHES, f"branches: [{name}]")
    target = top / TARGETS[provider]
    if target.exists() and not force and target.read_text(encoding="utf-8") != text:
        raise GitprovError(
            f"{TARGETS[provider]} already exists and differs from gitprov's template",
            "Keep your edits, or overwrite it with 'gitprov ci init "
            f"{provider} --force' (then compare with 'git diff')",
        )
    written = [TARGETS[provider]]
    atomic_write(target, text.encode("utf-8"))
    todo = []
    if provider == "gitlab":
        main = top / GITLAB_CI
        if not main.exists():
            atomic_write(main, GITLAB_INCLUDE.encode("utf-8"))
            written.append(GITLAB_CI)
        elif TARGETS["gitlab"] not in main.read_text(encoding="utf-8"):
            todo.append(f"add to {GITLAB_CI}: include: [{{local: {TARGETS['gitlab']}}}]")
        todo.append(
            "add a CI/CD variable GITPROV_TOKEN (project access token: api, write_repository)"
        )
    todo.append(f"commit {' and '.join(written)}")
    return Written(provider, tuple(written), tuple(todo))
