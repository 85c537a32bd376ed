"""Property-based tests of the formats: Merkle snapshots and pointer files."""

from __future__ import annotations

import json
import random

import pytest
import tomlkit
from hypothesis import given
from hypothesis import strategies as st

from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model import pointer as pointers
from gitprov.model import tree
from gitprov.services import snapshot
from gitprov.services.snapshot import FileRecord, build_tree

names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"),
    min_size=1,
    max_size=8,
).filter(lambda n: n not in (".", ".."))
hexes = st.from_regex(r"[0-9a-f]{64}", fullmatch=True).map(digests.from_hex)
records = st.builds(
    FileRecord, type=st.just("file"), digest=hexes, size=st.integers(0, 2**40), exec=st.booleans()
)
paths = st.lists(names, min_size=1, max_size=3).map("/".join)


@st.composite
def trees(draw: st.DrawFn) -> dict[str, FileRecord]:
    """A file tree: no path is both a file and a folder."""
    files: dict[str, FileRecord] = {}
    for path in draw(st.lists(paths, min_size=1, max_size=12, unique=True)):
        parts = path.split("/")
        prefixes = {"/".join(parts[:i]) for i in range(1, len(parts))}
        if prefixes & set(files) or any(f.startswith(path + "/") for f in files):
            continue
        files[path] = draw(records)
    return files


@given(trees(), st.randoms())
def test_root_digest_does_not_depend_on_order(
    files: dict[str, FileRecord], rnd: random.Random
) -> None:
    items = list(files.items())
    rnd.shuffle(items)
    assert build_tree(dict(items), []).digest == build_tree(files, []).digest


@given(trees(), st.data())
def test_any_change_to_any_file_changes_the_root(
    files: dict[str, FileRecord], data: st.DataObject
) -> None:
    before = build_tree(files, []).digest
    path = data.draw(st.sampled_from(sorted(files)))
    old = files[path]
    change = data.draw(st.sampled_from(["digest", "exec", "size", "remove", "rename"]))
    changed = dict(files)
    if change == "digest":
        changed[path] = FileRecord(
            "file", data.draw(hexes.filter(lambda d: d != old.digest)), old.size, old.exec
        )
    elif change == "exec":
        changed[path] = FileRecord("file", old.digest, old.size, not old.exec)
    elif change == "size":
        changed[path] = FileRecord("file", old.digest, old.size + 1, old.exec)
    elif change == "remove":
        del changed[path]
    else:
        del changed[path]
        changed[path + "~"] = old
    assert build_tree(changed, []).digest != before


@given(trees())
def test_identical_trees_share_digests_and_subtrees(files: dict[str, FileRecord]) -> None:
    one, two = build_tree(files, []), build_tree(dict(files), [])
    assert one.digest == two.digest
    assert one.nodes == two.nodes
    # The same subtree under two roots is stored once: its node digest is the same.
    nested = build_tree({f"x/{p}": r for p, r in files.items()}, [])
    assert one.digest in nested.nodes


@given(trees())
def test_nodes_round_trip_and_are_canonical(files: dict[str, FileRecord]) -> None:
    snap = build_tree(files, [])
    for digest, data in snap.nodes.items():
        assert tree.node_digest(data) == digest
        assert tree.encode(tree.decode(data)) == data
        # The hand-assembled encoder gives exactly the bytes of canonical json.dumps.
        as_json = {"entries": [e.as_json() for e in tree.decode(data)], "format": tree.FORMAT}
        assert (
            data
            == json.dumps(
                as_json, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        )


@pytest.mark.parametrize(
    "node",
    [
        b'{"entries":[],"format":"gitprov.tree/1"} ',  # trailing space: not canonical
        b'{"format":"gitprov.tree/1","entries":[]}',  # key order: not canonical
        b'{"entries":[{"digest":"sha256:00","exec":false,"name":"a","size":1,"type":"file"}],'
        b'"format":"gitprov.tree/1"}',
        b'{"entries":[],"format":"other"}',
        b"\xff",
    ],
)
def test_non_canonical_nodes_are_rejected(node: bytes) -> None:
    with pytest.raises(tree.TreeFormatError):
        tree.decode(node)


@pytest.mark.parametrize(
    ("link", "target", "ok"),
    [
        ("a/l", "../b", True),
        ("a/l", "../../b", False),
        ("l", "/etc/passwd", False),
        ("a/b/l", "../../c/./d", True),
        ("l", "x/../../y", False),
    ],
)
def test_link_targets_must_stay_inside(link: str, target: str, ok: bool) -> None:
    if ok:
        tree.check_link_target(link, target)
    else:
        with pytest.raises(tree.TreeFormatError):
            tree.check_link_target(link, target)


pointers_strategy = st.builds(
    pointers.Pointer,
    kind=st.sampled_from(pointers.KINDS),
    path=names.filter(lambda n: "\\" not in n),
    digest=hexes,
    size=st.integers(0, 2**50),
    files=st.integers(0, 10**6),
    type=st.sampled_from(["file", "dir"]),
    access=st.sampled_from(pointers.ACCESS_LEVELS),
    produced_by=st.none() | st.text(max_size=20),
    # A card is a file name beside the pointer, like the artifact (pointer.parse refuses
    # anything else); stage is free text, "release" among it.
    card=st.none() | names.filter(lambda n: "\\" not in n),
    stage=st.none() | st.sampled_from(["release", "candidate"]) | st.text(max_size=20),
)


printable = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@given(pointers_strategy, pointers_strategy, printable, st.text(max_size=20))
def test_pointer_round_trip_keeps_comments_and_meta(
    first: pointers.Pointer, second: pointers.Pointer, comment: str, meta_value: str
) -> None:
    text = pointers.render(first)
    assert pointers.parse(text, source="p")[0] == first
    # A user annotates the pointer and adds to [meta] ...
    _, doc = pointers.parse(text.replace("[meta]", f"# {comment}\n[meta]"), source="p")
    doc["meta"]["note"] = meta_value  # type: ignore[index]
    edited = tomlkit.dumps(doc)
    # ... then gitprov rewrites every field it owns.
    _, doc = pointers.parse(edited, source="p")
    rewritten = pointers.render(second, doc)
    parsed, doc2 = pointers.parse(rewritten, source="p")
    assert parsed == second
    assert doc2["meta"]["note"] == meta_value  # type: ignore[index]
    assert f"# {comment}" in rewritten


@given(st.text(max_size=200))
def test_pointer_parser_never_crashes(text: str) -> None:
    try:
        pointers.parse(text, source="x.gitprov")
    except GitprovError as exc:
        problem = exc.problem
    else:
        return
    assert problem.startswith("x.gitprov:")


# --- the remembered-tree key ------------------------------------------------------------

_BASE = {
    "a.csv": FileRecord("file", "sha256:" + "a" * 64, 3),
    "sub/b.csv": FileRecord("file", "sha256:" + "b" * 64, 4, exec=True),
    "ln": FileRecord("link", "sha256:" + "c" * 64, 5, target="a.csv"),
}


@pytest.mark.parametrize(
    ("records", "dirs"),
    [
        pytest.param(
            {**_BASE, "a.csv": FileRecord("file", "sha256:" + "d" * 64, 3)}, None, id="digest"
        ),
        pytest.param(
            {**_BASE, "a.csv": FileRecord("file", "sha256:" + "a" * 64, 9)}, None, id="size"
        ),
        pytest.param(
            {**_BASE, "sub/b.csv": FileRecord("file", "sha256:" + "b" * 64, 4)}, None, id="exec"
        ),
        pytest.param(
            {**_BASE, "ln": FileRecord("link", "sha256:" + "c" * 64, 5, target="x")},
            None,
            id="target",
        ),
        pytest.param({k.replace("a.csv", "A.csv"): v for k, v in _BASE.items()}, None, id="name"),
        pytest.param(_BASE, ["", "sub", "empty"], id="empty-folder"),
    ],
)
def test_a_remembered_tree_is_found_only_for_exactly_the_same_listing(
    records: dict[str, FileRecord], dirs: list[str] | None
) -> None:
    """status reuses a root digest by this key: any difference build_tree would see must
    change it, and the same listing in another order must not."""
    base_key = snapshot.listing_key(_BASE, ["", "sub"])
    assert snapshot.listing_key(dict(reversed(_BASE.items())), ["sub", ""]) == base_key
    assert snapshot.listing_key(records, dirs or ["", "sub"]) != base_key
