"""Artifact remotes in isolation: config rules, the store adapter on ``memory://``, the
Merkle-aware transfer planner, and what pre-push reads from git."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

import fsspec
import pytest

from gitprov.adapters.objects import ObjectCache
from gitprov.adapters.store import RemoteStore
from gitprov.errors import ConfigError, ExitCode, GitprovError, UsageError
from gitprov.model import digest as digests
from gitprov.model import pointer as pointers
from gitprov.model import pushrefs, remote_config
from gitprov.model.progress import ProgressLine
from gitprov.model.pushrefs import pushed_updates
from gitprov.model.remote_config import RemoteSpec
from gitprov.services import notes_setup, push_check, transfer
from gitprov.services.snapshot import FileRecord, build_tree
from tests.conftest import Result

ZERO = "0" * 40


def digest_of(data: bytes) -> str:
    return digests.from_hex(hashlib.sha256(data).hexdigest())


# --- configuration ----------------------------------------------------------------------


def test_remotes_merge_local_overrides_and_default_to_safe_access() -> None:
    committed = {"remotes": {"origin": {"url": "s3://b/p", "options": {"region": "eu-west-1"}}}}
    local = {"remotes": {"origin": {"options": {"secret": "s3cr3t"}}}}

    spec = remote_config.parse_remotes(committed, local, source="config.toml")["origin"]

    assert spec.git_remote == "origin"
    assert spec.accept == ("public", "internal")  # restricted needs an explicit opt-in
    assert dict(spec.options) == {"region": "eu-west-1", "secret": "s3cr3t"}


@pytest.mark.parametrize("key", ["secret", "aws_secret_access_key", "token", "password", "key"])
def test_a_credential_in_the_committed_config_is_refused(key: str) -> None:
    committed = {"remotes": {"origin": {"url": "s3://b", "options": {key: "hunter2"}}}}
    with pytest.raises(ConfigError) as caught:
        remote_config.parse_remotes(committed, {}, source="config.toml")
    assert "looks like a credential" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_urls_with_credentials_are_refused_and_redacted() -> None:
    with pytest.raises(UsageError) as caught:
        remote_config.check_url("https://alice:hunter2@store.example.com/a")
    assert "hunter2" not in str(caught.value)
    assert remote_config.redact_url("s3://k:s@b/p") == "s3://***@b/p"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "has no url"),
        ({"url": "s3://b", "accept": ["secret"]}, "is not a list of access levels"),
        ({"url": "s3://b", "jobs": 0}, "must be a whole number"),
    ],
)
def test_malformed_remote_tables_name_the_problem(body: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        remote_config.parse_remotes({"remotes": {"r": body}}, {}, source="c.toml")


def test_remote_commands_keep_comments_and_refuse_secrets(
    committed_repo: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("init").exit_code == 0
    config = committed_repo / ".gitprov/config.toml"
    config.write_text(config.read_text() + "# our artifacts live on the NAS\n")

    added = gitprov("remote", "add", "nas", "/mnt/nas/ml", "--accept", "public", "-o", "x=1")
    refused = gitprov("remote", "add", "s3", "s3://b", "-o", "secret=hunter2")
    local = gitprov("remote", "add", "s3", "s3://b", "-o", "secret=hunter2", "--local")
    listed = gitprov("remote", "list", "--json")

    assert added.exit_code == 0, added.stderr
    assert "# our artifacts live on the NAS" in config.read_text()
    assert refused.exit_code == ExitCode.USAGE
    assert "hunter2" not in refused.stderr
    assert "--local" in refused.stderr
    assert local.exit_code == 0, local.stderr
    assert "hunter2" not in config.read_text()
    local_file = committed_repo / ".git/gitprov/config.toml"
    assert local_file.stat().st_mode & 0o077 == 0
    assert '"name": "nas"' in listed.stdout
    assert "hunter2" not in listed.stdout  # option names only, never values
    assert gitprov("remote", "remove", "nas").exit_code == 0
    assert "nas" not in config.read_text().replace("NAS", "")
    assert "# our artifacts live on the NAS" in config.read_text()


# --- what pre-push reads ----------------------------------------------------------------


def test_pre_push_input_skips_deletions_and_notes_refs() -> None:
    head = "a" * 40
    stdin = (
        f"refs/heads/main {head} refs/heads/main {ZERO}\n"
        f"(delete) {ZERO} refs/heads/old {'b' * 40}\n"
        f"refs/notes/gitprov {'c' * 40} refs/notes/gitprov {ZERO}\n"
    )
    updates = pushed_updates(stdin, {})
    assert [(u.local_ref, u.local_sha) for u in updates] == [("refs/heads/main", head)]


def test_pre_push_under_the_pre_commit_framework_uses_its_environment() -> None:
    env = {"PRE_COMMIT_TO_REF": "a" * 40, "PRE_COMMIT_FROM_REF": "b" * 40}
    [update] = pushed_updates("", env)
    assert (update.local_sha, update.remote_sha) == ("a" * 40, "b" * 40)
    assert pushed_updates("", {}) == []
    # Its "all files" mode (a new root commit) names only the local branch.
    [whole] = pushed_updates("", {"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main"})
    assert (whole.local_sha, whole.remote_sha) == ("refs/heads/main", ZERO)


# --- the store adapter on memory:// -----------------------------------------------------


@pytest.fixture
def memory_store(tmp_path: Path) -> RemoteStore:
    spec = RemoteSpec("mem", f"memory://gitprov-{uuid.uuid4().hex}", "origin")
    return RemoteStore(spec, base=tmp_path)


def test_upload_is_verified_and_never_overwrites(memory_store: RemoteStore, tmp_path: Path) -> None:
    data = b"checkpoint bytes"
    source = tmp_path / "obj"
    source.write_bytes(data)
    digest = digest_of(data)

    assert memory_store.upload(digest, source) is True
    assert memory_store.sizes({digest: len(data)}) == {digest: len(data)}
    with memory_store.open_object(digest) as reader:
        assert reader.read() == data
    assert memory_store.upload(digest, source) is False  # already there: not sent again


def test_a_local_object_that_no_longer_matches_its_name_is_not_published(
    memory_store: RemoteStore, tmp_path: Path
) -> None:
    source = tmp_path / "obj"
    source.write_bytes(b"bit-rotted")
    claimed = digest_of(b"the original bytes")

    with pytest.raises(GitprovError, match="is corrupt"):
        memory_store.upload(claimed, source)

    assert memory_store.sizes({claimed: 10}) == {}
    assert not fsspec.filesystem("memory").exists(memory_store.key(claimed))


def test_many_lookups_list_folders_instead_of_one_request_each(
    memory_store: RemoteStore, tmp_path: Path
) -> None:
    blobs = [f"object {i}".encode() for i in range(200)]
    for data in blobs[:150]:
        source = tmp_path / "obj"
        source.write_bytes(data)
        memory_store.upload(digest_of(data), source)
    before = memory_store.requests

    found = memory_store.sizes({digest_of(d): len(d) for d in blobs})

    assert set(found) == {digest_of(d) for d in blobs[:150]}
    folders = {digests.hex_part(digest_of(d))[:2] for d in blobs}
    assert memory_store.requests - before == len(folders) < len(blobs)


# --- the Merkle-aware planner -----------------------------------------------------------


def test_upload_sends_children_before_parents_and_skips_known_subtrees(
    tmp_path: Path, memory_store: RemoteStore
) -> None:
    cache = ObjectCache(tmp_path / "cache")
    files = {"a.csv": b"a", "sub/b.csv": b"b", "sub/deep/c.csv": b"c"}
    records = {}
    for rel, data in files.items():
        source = tmp_path / rel.replace("/", "_")
        source.write_bytes(data)
        digest, _ = cache.add_file(source, "copy")
        records[rel] = FileRecord("file", digest, len(data))
    snap = build_tree(records, [])
    for data in snap.nodes.values():
        cache.add_bytes(data)
    cache.flush()
    root = transfer.root_want(cache, snap.digest, snap.size, is_tree=True, label="data")
    order: list[str] = []
    real_upload = memory_store.upload

    def recording_upload(digest: str, source: Path) -> bool:
        order.append(digest)
        return real_upload(digest, source)

    memory_store.upload = recording_upload  # type: ignore[method-assign]

    first = transfer.upload(cache, memory_store, [root], jobs=1)
    second = transfer.upload(cache, memory_store, [root], jobs=1)

    assert first.transferred == 3 + 3  # three files, three folders
    assert order[-1] == snap.digest  # the root is published last
    sub_node = next(d for d, data in snap.nodes.items() if b'"deep"' in data)
    assert order.index(digest_of(b"c")) < order.index(sub_node)
    assert (second.transferred, second.objects_checked) == (0, 1)  # the root says it all


def test_transient_failures_are_retried_then_reported_in_one_line(
    memory_store: RemoteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = memory_store.fs
    real_info = fs.info
    failures = iter([ConnectionError("reset by peer")] * 2)

    def flaky_info(path: str) -> dict[str, object]:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return dict(real_info(path))

    monkeypatch.setattr(fs, "info", flaky_info)
    wanted = digest_of(b"x")

    assert memory_store.sizes({wanted: 1}) == {}  # answered on the third attempt
    assert memory_store.requests == 3

    monkeypatch.setattr(fs, "info", lambda path: (_ for _ in ()).throw(TimeoutError("slow")))
    with pytest.raises(GitprovError) as caught:
        memory_store.sizes({wanted: 1})
    assert "failed to stat" in caught.value.problem
    assert "\n" not in str(caught.value)


def test_progress_line_is_throttled_and_ends_with_a_newline() -> None:
    line = ProgressLine("uploading", interval=3600)
    first = line(1, 3, 10, 30)
    assert first == "\ruploading 1/3 objects, 10 B of 30 B"
    assert line(2, 3, 20, 30) is None  # too soon to redraw
    assert line(3, 3, 30, 30) == "\ruploading 3/3 objects, 30 B of 30 B\n"  # always shown


def test_the_quick_pre_push_check_uses_the_same_names_as_the_services() -> None:
    assert pushrefs.POINTER_SUFFIX == pointers.SUFFIX
    assert push_check.NOTES_REF == notes_setup.NOTES_REF
    assert pushrefs.is_pointer_path("models/m.pt.gitprov")
    assert not pushrefs.is_pointer_path(".gitprov")
    assert pushrefs.is_dvc_path("data/raw.csv.dvc")
    assert pushrefs.is_dvc_path("dvc.lock")
