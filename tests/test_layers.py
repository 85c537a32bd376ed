"""The architecture holds: imports point down the layers, and the hook path stays thin.

DESIGN §2: cli -> services -> adapters -> model -> errors, only the CLI talks to typer and
rich, and the hook entry point (run by git on every commit and push) loads no heavy
third-party module while it has nothing to do. These run in subprocesses so that what
the test suite itself imported cannot hide or fake a module load.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, gen, git

# import-linter's own console script, run with this interpreter. ('python -m importlinter.cli'
# is no substitute: that module has no __main__ block, so it exits 0 without checking.)
LINT_IMPORTS = [
    sys.executable,
    "-c",
    "import sys, importlinter.cli as cli; sys.exit(cli.lint_imports_command())",
    "--no-logo",
    # No cache: it would write .import_linter_cache into the working tree.
    "--no-cache",
]

# Modules the hook path must not load (nor any submodule of them): the CLI stack, the git
# and storage libraries, and tomlkit (for editing config; reading it needs only tomllib).
# Each costs tens to hundreds of milliseconds on every commit.
HEAVY = frozenset(
    {
        *("typer", "rich", "click"),
        *("pygit2", "fsspec", "s3fs", "botocore", "boto3", "aiobotocore"),
        "tomlkit",
        # Pulls in locale, re and enum: ~10-30 ms. The legacy hook is started with
        # os.posix_spawn instead.
        "subprocess",
    }
)

# Runs one hook through the entry point's Python API in a fresh interpreter, then reports
# the modules that were loaded after startup (a site .pth file is not gitprov's doing).
# argv[1]: JSON list of hook arguments; argv[2]: stdin text; argv[3]: JSON list of extra
# modules to import afterwards (for the control case).
PROBE = """
import importlib, json, sys
at_startup = set(sys.modules)
import gitprov.hookrun
rc = gitprov.hookrun.run(json.loads(sys.argv[1]), stdin=sys.argv[2].encode())
for name in json.loads(sys.argv[3]):
    importlib.import_module(name)
print(json.dumps({"exit": rc, "loaded": sorted(set(sys.modules) - at_startup)}))
"""


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(LINT_IMPORTS, cwd=cwd, capture_output=True, text=True, check=False)


def contract_name(contract_type: str) -> str:
    """The name of the one ``[tool.importlinter]`` contract of ``contract_type``."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    names = [str(c["name"]) for c in contracts if c["type"] == contract_type]
    assert len(names) == 1, f"expected one {contract_type} contract in pyproject.toml: {names}"
    return names[0]


def heavy_modules(loaded: list[str]) -> list[str]:
    return [name for name in loaded if name.partition(".")[0] in HEAVY]


def run_hook_probe(
    repo: Path, argv: list[str], *, stdin: str = "", also_import: tuple[str, ...] = ()
) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), stdin, json.dumps(list(also_import))],
        cwd=repo,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"probe failed:\n{proc.stdout}\n{proc.stderr}"
    report: dict[str, object] = json.loads(proc.stdout)
    return report


@pytest.fixture
def initialised_repo(git_repo: Path) -> Path:
    """A git repository where gitprov is initialised (so hooks would have work to do)."""
    gen(git_repo, {".gitprov/config.toml": "schema = 1\n"})
    return git_repo


# --- import contracts -------------------------------------------------------------------


def test_import_contracts_in_pyproject_are_kept() -> None:
    """Every import-linter contract declared in pyproject.toml holds for the package."""
    proc = lint_imports(REPO_ROOT)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"lint-imports failed:\n{output}"
    assert "0 broken" in output, output


@pytest.mark.parametrize(
    ("module", "bad_import", "contract_type"),
    [
        pytest.param("model/__init__.py", "import gitprov.adapters", "layers", id="model-up"),
        pytest.param("services/__init__.py", "import gitprov.cli", "layers", id="services-up"),
        pytest.param("hookrun.py", "import gitprov.cli.main", "layers", id="hookrun-cli"),
        pytest.param("services/__init__.py", "import typer", "forbidden", id="services-typer"),
        pytest.param("hookrun.py", "import rich", "forbidden", id="hookrun-rich"),
    ],
)
def test_import_contracts_catch_a_violation(
    tmp_path: Path, module: str, bad_import: str, contract_type: str
) -> None:
    """The contracts are not vacuous: one wrong import in a copy of the package breaks them."""
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        REPO_ROOT / "gitprov", tmp_path / "gitprov", ignore=shutil.ignore_patterns("__pycache__")
    )
    with (tmp_path / "gitprov" / module).open("a") as source:
        source.write(f"\n{bad_import}  # injected by the test\n")

    proc = lint_imports(tmp_path)  # lint-imports analyses the package found from its cwd
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert f"{contract_name(contract_type)} BROKEN" in output, output


# --- the hook path ----------------------------------------------------------------------


def test_pre_commit_hook_loads_no_heavy_module(initialised_repo: Path) -> None:
    """A pre-commit hook run loads none of typer, rich, click, pygit2, fsspec, s3fs..."""
    report = run_hook_probe(initialised_repo, ["pre-commit"])
    assert report["exit"] == 0
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert "gitprov.hookrun" in loaded
    assert heavy_modules(loaded) == [], "the hook path must import these lazily, if at all"


def test_pre_push_hook_with_a_legacy_hook_loads_no_heavy_module(initialised_repo: Path) -> None:
    """Chaining the previous pre-push hook (args and stdin intact) stays thin as well, when
    the push can bring no new commit (a branch deletion)."""
    hooks = initialised_repo / ".git" / "hooks"
    legacy = hooks / "pre-push.gitprov-legacy"
    seen = initialised_repo.parent / "legacy-saw.txt"
    legacy.write_text(f'#!/bin/sh\necho "$1 $2" > "{seen}"\ncat >> "{seen}"\n')
    legacy.chmod(0o755)
    refs = f"(delete) {'0' * 40} refs/heads/old {'1' * 40}\n"

    report = run_hook_probe(
        initialised_repo,
        ["--shim", str(hooks / "pre-push"), "pre-push", "origin", "https://example.invalid/r.git"],
        stdin=refs,
    )

    assert report["exit"] == 0
    assert seen.read_text() == "origin https://example.invalid/r.git\n" + refs
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert heavy_modules(loaded) == [], "the hook path must import these lazily, if at all"


def test_pre_push_with_nothing_to_upload_stays_thin(initialised_repo: Path) -> None:
    """A push of commits that name no artifact asks git (with posix_spawn) and stops:
    no subprocess, tomlkit, fsspec, s3fs, botocore, pygit2 or CLI stack, and not even
    the upload service."""
    gen(initialised_repo, {"train.py": "print('hi')\n"})
    git(initialised_repo, "add", "train.py")
    git(initialised_repo, "commit", "-q", "-m", "code only")
    head = git(initialised_repo, "rev-parse", "HEAD").strip()
    refs = f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"

    report = run_hook_probe(initialised_repo, ["pre-push", "origin", "/nowhere.git"], stdin=refs)

    assert report["exit"] == 0
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert "gitprov.services.push_check" in loaded  # control: the hook did look at the commits
    assert "gitprov.services.push" not in loaded
    assert heavy_modules(loaded) == []


def test_pre_push_with_a_pointer_to_upload_goes_past_the_quick_check(
    initialised_repo: Path,
) -> None:
    """Control for the above: a pushed pointer file loads the upload service."""
    gen(initialised_repo, {"m.pt.gitprov": "not even valid\n"})
    git(initialised_repo, "add", "m.pt.gitprov")
    git(initialised_repo, "commit", "-q", "-m", "a pointer")
    head = git(initialised_repo, "rev-parse", "HEAD").strip()
    refs = f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"

    report = run_hook_probe(initialised_repo, ["pre-push", "origin", "/nowhere.git"], stdin=refs)

    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert "gitprov.services.push" in loaded
    assert report["exit"] != 0  # no artifact remote for 'origin': the push is refused


def test_probe_sees_heavy_modules_when_they_are_loaded(initialised_repo: Path) -> None:
    """Control: the probe does report typer once the CLI is imported after the hook ran."""
    report = run_hook_probe(initialised_repo, ["pre-commit"], also_import=("gitprov.cli.main",))
    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert "typer" in heavy_modules(loaded)


# --- usage ------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [[], ["--shim"]], ids=["no-arguments", "shim-without-path"])
def test_hook_entry_point_without_a_hook_is_a_usage_error(tmp_path: Path, argv: list[str]) -> None:
    """``python -m gitprov.hookrun`` with no hook exits 2 and prints its usage on stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "gitprov.hookrun", *argv],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("usage: python -m gitprov.hookrun "), proc.stderr
    assert "HOOK" in proc.stderr.splitlines()[0]
