"""The wheel carries everything gitprov reads at run time, and an installed copy reads it.

``hooks/`` and ``templates/`` sit at the top of the repository (DESIGN §2); the wheel maps
them into ``gitprov/_data/`` and an installed gitprov reads them from there with
importlib.resources. The rest of the suite runs against the editable install, which falls
back to the repository's folders, so only a real wheel, installed away from the source
tree, can catch a packaging mistake (a lost force-include, a renamed entry point).
"""

from __future__ import annotations

import configparser
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import gitprov
from gitprov.model.hookshim import render_shim, shim_python
from tests.conftest import REPO_ROOT, git

pytestmark = pytest.mark.slow

DATA_FOLDERS = ("hooks", "templates")

# The wheel alone: no dependencies, no index, nothing cached in the user's home.
PIP_INSTALL = [
    *(sys.executable, "-m", "pip", "install", "--quiet"),
    *("--no-deps", "--no-index", "--no-cache-dir"),
]

CONSOLE_SCRIPTS = {
    "gitprov": "gitprov.cli.main:main",
    "gitprov-hook": "gitprov.hookrun:main",
}

# Runs in a fresh interpreter (-I: no PYTHONPATH, no user site, no cwd on sys.path) with the
# installed copy first on sys.path; the venv's editable gitprov is still importable behind
# it, which is exactly what must not be picked up. argv[1]: the install target.
INSTALLED_PROBE = """
import importlib.metadata, importlib.resources, json, sys
sys.path.insert(0, sys.argv[1])
import gitprov
from gitprov.adapters import resources

data = importlib.resources.files("gitprov").joinpath("_data")
(dist,) = importlib.metadata.distributions(path=[sys.argv[1]])
scripts = {ep.name: ep for ep in dist.entry_points if ep.group == "console_scripts"}
print(json.dumps({
    "gitprov": gitprov.__file__,
    "resources": resources.__file__,
    "packaged": {
        "hooks/shim.sh": data.joinpath("hooks", "shim.sh").is_file(),
        "templates/config.toml": data.joinpath("templates", "config.toml").is_file(),
    },
    "hook_file": resources.hook_file("shim.sh"),
    "template": resources.template("config.toml"),
    "scripts": {name: ep.value for name, ep in scripts.items()},
    "scripts_callable": {name: callable(ep.load()) for name, ep in scripts.items()},
}))
"""

# Runs the installed copy's CLI with the given arguments (argv[1]: the install target).
INSTALLED_CLI = """
import sys
target = sys.argv.pop(1)
sys.path.insert(0, target)
from gitprov.cli.main import main
main()
"""


def data_files() -> list[Path]:
    """Every file under the repository's hooks/ and templates/, relative to the root."""
    return sorted(
        path.relative_to(REPO_ROOT)
        for folder in DATA_FOLDERS
        for path in (REPO_ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gitprov's wheel, built once from the working tree with the venv's hatchling."""
    outdir = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir)],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stdout}\n{proc.stderr}")
    (built,) = outdir.glob("*.whl")
    return built


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed with pip into a folder of its own, far from the source tree."""
    target = tmp_path_factory.mktemp("installed") / "site"
    proc = subprocess.run(
        [*PIP_INSTALL, "--target", str(target), str(wheel)],
        cwd=target.parent,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"pip install of {wheel.name} failed:\n{proc.stdout}\n{proc.stderr}")
    return target


def wheel_member(wheel: Path, suffix: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(suffix)]
        return zf.read(name).decode()


# --- the wheel --------------------------------------------------------------------------


def test_wheel_ships_hooks_templates_and_the_typing_marker(wheel: Path) -> None:
    """hooks/ and templates/ land in gitprov/_data/ byte for byte; py.typed ships too."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert {
            "gitprov/_data/hooks/shim.sh",
            "gitprov/_data/templates/config.toml",
            "gitprov/py.typed",
        } <= names
        for relative in data_files():
            member = f"gitprov/_data/{relative.as_posix()}"
            assert member in names, f"{relative} is not in the wheel"
            assert zf.read(member) == (REPO_ROOT / relative).read_bytes(), relative


def test_wheel_ships_every_module_and_only_the_gitprov_package(wheel: Path) -> None:
    """All of gitprov/*.py is inside; nothing else lands at the top of site-packages."""
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    sources = {
        path.relative_to(REPO_ROOT).as_posix() for path in (REPO_ROOT / "gitprov").rglob("*.py")
    }
    assert sources - names == set()
    dist_info = f"gitprov-{gitprov.__version__}.dist-info"
    assert {name.split("/")[0] for name in names} == {"gitprov", dist_info}


def test_wheel_declares_both_console_scripts_and_the_version(wheel: Path) -> None:
    """``gitprov`` and ``gitprov-hook`` are console scripts; the version is gitprov's own."""
    entry_points = configparser.ConfigParser(delimiters=("=",))
    entry_points.read_string(wheel_member(wheel, ".dist-info/entry_points.txt"))
    scripts = dict(entry_points["console_scripts"])
    for name, target in CONSOLE_SCRIPTS.items():
        assert scripts.get(name) == target, f"console script {name}: {scripts}"

    metadata = wheel_member(wheel, ".dist-info/METADATA")
    assert re.search(rf"^Version: {re.escape(gitprov.__version__)}$", metadata, re.MULTILINE)


# --- the installed copy -----------------------------------------------------------------


def test_installed_copy_reads_its_packaged_hook_shim_and_templates(
    site: Path, tmp_path: Path
) -> None:
    """Imported from the install target, gitprov reads hooks and templates from _data/."""
    proc = subprocess.run(
        [sys.executable, "-I", "-c", INSTALLED_PROBE, str(site)],
        cwd=tmp_path,  # outside the repository
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)

    # The installed copy, not the source tree, was imported...
    assert Path(report["gitprov"]).is_relative_to(site), report["gitprov"]
    assert Path(report["resources"]).is_relative_to(site), report["resources"]
    # ...it has its own copies of the data files, so there is nothing to fall back on...
    assert report["packaged"] == {"hooks/shim.sh": True, "templates/config.toml": True}
    # ...and they are the repository's files.
    assert report["hook_file"] == (REPO_ROOT / "hooks" / "shim.sh").read_text()
    assert report["template"] == (REPO_ROOT / "templates" / "config.toml").read_text()
    # The console scripts point at functions the installed copy has.
    assert report["scripts"] == CONSOLE_SCRIPTS
    assert report["scripts_callable"] == dict.fromkeys(CONSOLE_SCRIPTS, True)


def test_installed_copy_runs_init_from_its_packaged_files(site: Path, tmp_path: Path) -> None:
    """``gitprov init`` from the installed copy writes the config and shims from _data/."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    proc = subprocess.run(
        [sys.executable, "-I", "-c", INSTALLED_CLI, str(site), "init"],
        cwd=repo,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    template = (REPO_ROOT / "templates" / "config.toml").read_text()
    assert (repo / ".gitprov" / "config.toml").read_text() == template
    shim = (repo / ".git" / "hooks" / "pre-commit").read_text()
    python = shim_python(shim)
    assert python is not None, shim
    expected = render_shim(
        (REPO_ROOT / "hooks" / "shim.sh").read_text(), hook="pre-commit", python=python
    )
    assert shim == expected
