"""Hostile input (issue 9, point 4): path tricks against track, checkout and pull.

A repository is data from someone else: its pointer files, the snapshot nodes in an
artifact store and the symlinks committed beside them are all crafted here by hand.
Whatever they say, gitprov writes nothing outside the repository and its cache: the tmp
folder around the repository is listed (names, bytes, link targets) before and after
every command, and must not change. Each refusal is exit 1 or 2 and one line on stderr.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitprov.model import digest as digests
from gitprov.model import pointer as pointers
from gitprov.model import tree
from gitprov.services import workspace
from tests.conftest import Result, gen, git

pytestmark = pytest.mark.reliability

Gitprov = Callable[..., Result]
PAYLOAD = b"hostile payload\n"


def around(tmp_path: Path, repo: Path) -> dict[str, str]:
    """Everything in the tmp folder around ``repo`` (``repo`` itself left out)."""
    seen: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(tmp_path):
        here = Path(dirpath)
        if here == tmp_path and repo.name in dirnames:
            dirnames.remove(repo.name)
        for name in dirnames + filenames:
            path = here / name
            rel = str(path.relative_to(tmp_path))
            if path.is_symlink():
                seen[rel] = "link -> " + os.readlink(path)
            elif path.is_file():
                seen[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[rel] = "dir"
    return seen


@pytest.fixture
def project(git_repo: Path, gitprov: Gitprov) -> Path:
    """An initialised repository, with a folder ``outside`` beside it holding a victim."""
    assert gitprov("init").exit_code == 0
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "init")
    gen(git_repo.parent, {"outside/victim": "do not touch\n"})
    return git_repo


@contextlib.contextmanager
def case(name: str) -> Iterator[None]:
    """Name the case of a loop in its failure (one repository serves many cases: fast)."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"case {name!r}: {exc}") from None


def refused(result: Result) -> None:
    """A clean refusal: exit 1 or 2, one line on stderr, no traceback."""
    assert result.exit_code in (1, 2), (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gitprov: error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def cached(repo: Path, data: bytes) -> str:
    """Put ``data`` in the repository's object cache; its digest."""
    return workspace.open_workspace(repo).cache.add_bytes(data)


def node(entries: list[dict[str, object]]) -> bytes:
    """A directory node as a hostile store would hold it: canonical JSON, any names."""
    ordered = sorted(entries, key=lambda e: str(e["name"]))
    doc = {"entries": ordered, "format": tree.FORMAT}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def file_entry(name: str, digest: str) -> dict[str, object]:
    return {"digest": digest, "exec": False, "name": name, "size": len(PAYLOAD), "type": "file"}


def link_entry(name: str, target: str) -> dict[str, object]:
    data = target.encode()
    return {
        "digest": digests.from_hex(hashlib.sha256(data).hexdigest()),
        "exec": False,
        "name": name,
        "size": len(data),
        "target": target,
        "type": "link",
    }


def dataset_pointer(repo: Path, name: str, root: str, files: int = 1) -> Path:
    path = repo / pointers.pointer_name(name)
    pointer = pointers.Pointer("dataset", name, root, len(PAYLOAD), files, "dir")
    path.write_text(pointers.render(pointer))
    return path


# --- pointers crafted by hand --------------------------------------------------------------

POINTER_PATHS = [
    "../../outside/x",
    "../outside/victim",
    "/tmp/x",
    "OUTSIDE_ABSOLUTE",  # replaced by the absolute path of outside/victim
    "a/../../x",
    "..",
    ".",
    ".git",
    ".gitprov",
    "sub/x",
    "C:\\\\Windows\\\\x",
    "a\\u0000b",
    "evil\\n",
    "",
]


def test_a_pointer_whose_path_leaves_its_place_is_refused(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    digest = cached(project, PAYLOAD)
    for raw in POINTER_PATHS:
        path = str(tmp_path / "outside" / "victim") if raw == "OUTSIDE_ABSOLUTE" else raw
        (project / "evil.gitprov").write_text(
            f'kind = "checkpoint"\npath = "{path}"\ndigest = "{digest}"\nsize = {len(PAYLOAD)}\n'
        )
        git(project, "add", "-f", "evil.gitprov")
        before = around(tmp_path, project)
        with case(raw):
            refused(gitprov("checkout", "evil"))
            refused(gitprov("checkout", "--force"))
            refused(gitprov("status"))
            assert around(tmp_path, project) == before


def test_a_pointer_reached_through_a_symlink_out_of_the_repository_is_refused(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    digest = cached(project, PAYLOAD)
    pointer = pointers.Pointer("checkpoint", "m.pt", digest, len(PAYLOAD))
    (tmp_path / "outside" / "m.pt.gitprov").write_text(pointers.render(pointer))
    (project / "link").symlink_to(tmp_path / "outside")
    before = around(tmp_path, project)
    refused(gitprov("checkout", "link/m.pt"))
    refused(gitprov("checkout", "--force", "link/m.pt.gitprov"))
    assert around(tmp_path, project) == before
    assert not (tmp_path / "outside" / "m.pt").exists()


def test_an_artifact_that_is_a_symlink_out_of_the_tree_is_replaced_not_written_through(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    digest = cached(project, PAYLOAD)
    pointer = pointers.Pointer("checkpoint", "m.pt", digest, len(PAYLOAD))
    (project / "m.pt.gitprov").write_text(pointers.render(pointer))
    (project / "m.pt").symlink_to(tmp_path / "outside" / "victim")
    before = around(tmp_path, project)
    refused(gitprov("checkout", "m.pt"))  # a local change: refused without --force
    assert gitprov("checkout", "--force", "m.pt").exit_code == 0
    assert around(tmp_path, project) == before
    assert not (project / "m.pt").is_symlink()
    assert (project / "m.pt").read_bytes() == PAYLOAD


# --- snapshot nodes crafted by hand (a hostile cache or store) --------------------------------

HOSTILE_ENTRIES: dict[str, Callable[[str], list[dict[str, object]]]] = {
    "name ..": lambda d: [file_entry("..", d)],
    "name ../x": lambda d: [file_entry("../x", d)],
    "name ../../outside/x": lambda d: [file_entry("../../outside/x", d)],
    "name /abs": lambda d: [file_entry("/tmp/gitprov-hostile", d)],
    "name with NUL": lambda d: [file_entry("a\0b", d)],
    "name .": lambda d: [file_entry(".", d)],
    "empty name": lambda d: [file_entry("", d)],
    "link to ../../outside": lambda d: [link_entry("l", "../../outside")],
    "link to an absolute path": lambda d: [link_entry("l", "/etc")],
    "link to ..": lambda d: [link_entry("l", "..")],
    "link target with NUL": lambda d: [link_entry("l", "a\0b")],
    "duplicate names": lambda d: [file_entry("a", d), file_entry("a", d)],
}


def test_a_snapshot_node_naming_a_path_outside_is_refused_by_checkout(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    digest = cached(project, PAYLOAD)
    for name in sorted(HOSTILE_ENTRIES):
        root = cached(project, node(HOSTILE_ENTRIES[name](digest)))
        dataset_pointer(project, "data", root)
        git(project, "add", "-f", "data.gitprov")
        before = around(tmp_path, project)
        with case(name):
            refused(gitprov("checkout", "data"))
            refused(gitprov("checkout", "--force"))
            assert around(tmp_path, project) == before
            assert not (project / "data").exists() or not any((project / "data").iterdir())
    assert not Path("/tmp/gitprov-hostile").exists()


def test_a_nested_link_leaving_the_snapshot_is_refused(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    """``d/l -> ../..`` stays inside ``d``'s parent's parent: outside the snapshot."""
    digest = cached(project, PAYLOAD)
    sub = cached(project, node([link_entry("l", "../.."), file_entry("f", digest)]))
    root = cached(
        project,
        node([{"digest": sub, "exec": False, "files": 2, "name": "d", "size": 5, "type": "dir"}]),
    )
    dataset_pointer(project, "data", root, files=2)
    before = around(tmp_path, project)
    refused(gitprov("checkout", "data"))
    assert around(tmp_path, project) == before


def test_a_committed_symlink_inside_the_dataset_folder_is_not_written_through(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    """The work tree has ``data/sub -> ../outside`` (e.g. committed with ``git add -f``);
    the snapshot wants ``data/sub/victim``: checkout --force must replace the link."""
    digest = cached(project, PAYLOAD)
    sub = cached(project, node([file_entry("victim", digest)]))
    root = cached(
        project,
        node(
            [{"digest": sub, "exec": False, "files": 1, "name": "sub", "size": 16, "type": "dir"}]
        ),
    )
    dataset_pointer(project, "data", root)
    (project / "data").mkdir()
    (project / "data" / "sub").symlink_to(tmp_path / "outside")
    before = around(tmp_path, project)
    refused(gitprov("checkout", "data"))  # a local change (an added link): refused
    gitprov("checkout", "--force", "data")
    assert around(tmp_path, project) == before
    assert (tmp_path / "outside" / "victim").read_text() == "do not touch\n"


# --- pull from a hostile store ------------------------------------------------------------


def put_in_store(store: Path, data: bytes) -> str:
    digest = digests.from_hex(hashlib.sha256(data).hexdigest())
    hexes = digest.removeprefix("sha256:")
    path = store / "sha256" / hexes[:2] / hexes[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def test_pull_of_a_hostile_snapshot_writes_nothing_outside(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    assert gitprov("remote", "add", "store", str(store)).exit_code == 0
    digest = put_in_store(store, PAYLOAD)
    for name in ["name ../../outside/x", "link to ../../outside", "name ../x", "name with NUL"]:
        root = put_in_store(store, node(HOSTILE_ENTRIES[name](digest)))
        dataset_pointer(project, "data", root)
        git(project, "add", "-f", "data.gitprov", ".gitprov")
        git(project, "commit", "-q", "-m", f"hostile dataset: {name}")
        before = {k: v for k, v in around(tmp_path, project).items() if not k.startswith("store")}
        with case(name):
            refused(gitprov("pull"))
            after = around(tmp_path, project)
            assert {k: v for k, v in after.items() if not k.startswith("store")} == before


def test_pull_of_a_hostile_pointer_path_writes_nothing_outside(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    assert gitprov("remote", "add", "store", str(store)).exit_code == 0
    digest = put_in_store(store, PAYLOAD)
    (project / "evil.gitprov").write_text(
        f'kind = "checkpoint"\npath = "../outside/x"\ndigest = "{digest}"\nsize = 16\n'
    )
    git(project, "add", "-f", "evil.gitprov", ".gitprov")
    git(project, "commit", "-q", "-m", "hostile pointer")
    before = {k: v for k, v in around(tmp_path, project).items() if not k.startswith("store")}
    refused(gitprov("pull"))
    after = {k: v for k, v in around(tmp_path, project).items() if not k.startswith("store")}
    assert after == before


# --- track --------------------------------------------------------------------------------


def test_track_refuses_a_symlink_inside_the_folder_that_points_outside(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    gen(project, {"data/a.csv": "1\n"})
    (project / "data" / "escape").symlink_to(tmp_path / "outside")
    (project / "data" / "victim").symlink_to(tmp_path / "outside" / "victim")
    before = around(tmp_path, project)
    refused(gitprov("track", "data"))
    assert around(tmp_path, project) == before
    assert not (project / "data.gitprov").exists()


def test_track_refuses_paths_outside_the_work_tree(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    before = around(tmp_path, project)
    for target in ["../outside", "../outside/victim", ".git", ".git/config", ".", "/", "a\0b"]:
        with case(target):
            refused(gitprov("track", target))
    refused(gitprov("track", str(tmp_path / "outside" / "victim")))
    assert around(tmp_path, project) == before


def test_track_refuses_a_symlink_to_outside_named_directly(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    (project / "m.pt").symlink_to(tmp_path / "outside" / "victim")
    (project / "d").symlink_to(tmp_path / "outside")
    before = around(tmp_path, project)
    refused(gitprov("track", "m.pt"))
    refused(gitprov("track", "d"))
    refused(gitprov("track", "d/victim"))
    assert around(tmp_path, project) == before


def test_odd_names_round_trip_inside_the_repository(
    project: Path, gitprov: Gitprov, tmp_path: Path
) -> None:
    """Newlines, case-folding twins, a leading dash, unicode: tracked, removed and put
    back byte for byte, with nothing appearing outside."""
    names = {
        "data/line\nbreak.bin": b"1",
        "data/Model.bin": b"2",
        "data/model.bin": b"3",
        "data/MODEL.BIN": b"4",
        "data/-rf": b"5",
        "data/caf\u00e9/\u00e9t\u00e9.txt": b"6",
        "data/cafe\u0301/x": b"7",  # the NFD twin of caf\u00e9
        "data/ .txt": b"8",
    }
    gen(project, names)
    before = around(tmp_path, project)
    assert gitprov("track", "data").exit_code == 0
    for name in names:
        (project / name).unlink()
    result = gitprov("checkout", "data")
    assert result.exit_code == 0, result.stderr
    for name, content in names.items():
        assert (project / name).read_bytes() == content
    assert around(tmp_path, project) == before
