"""``git push`` uploads artifacts before refs move; a second clone pulls them, verified.

Real components only: real git with gitprov's installed hooks, a bare git remote, and
two artifact stores behind one test suite: a local directory and a real S3 API (moto's
server on 127.0.0.1, reached by s3fs over HTTP from the hook's own process).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import fsspec
import pytest
from moto.server import ThreadedMotoServer

from gitprov.errors import ExitCode
from tests.conftest import Result, gen, git, run_gitprov

BUCKET_PREFIX = "gitprov-test"


@dataclass
class Store:
    """An artifact store the tests can inspect and damage behind gitprov's back."""

    kind: str
    url: str
    options: tuple[str, ...]
    server: ThreadedMotoServer | None = None

    def objects(self) -> dict[str, bytes]:
        """Every object under ``sha256/``, by its name."""
        fs = self.filesystem()
        root = self.url.rstrip("/") + "/sha256"
        try:
            names = fs.find(root)
        except FileNotFoundError:
            return {}
        return {name.rpartition("/")[2]: fs.cat_file(name) for name in names}

    def staged(self) -> list[str]:
        """Upload temp files left in the store (there must be none after any push)."""
        fs = self.filesystem()
        try:
            return sorted(fs.find(self.url.rstrip("/") + "/tmp"))
        except FileNotFoundError:
            return []

    def overwrite(self, hexdigest: str, data: bytes) -> None:
        key = f"{self.url.rstrip('/')}/sha256/{hexdigest[:2]}/{hexdigest[2:]}"
        if self.kind == "dir":
            os.chmod(key, 0o644)
        self.filesystem().pipe_file(key, data)

    def filesystem(self) -> fsspec.AbstractFileSystem:
        if self.kind == "dir":
            return fsspec.filesystem("file")
        endpoint = dict(opt.split("=", 1) for opt in self.options)["endpoint_url"]
        return fsspec.filesystem(
            "s3", endpoint_url=endpoint, skip_instance_cache=True, use_listings_cache=False
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[ThreadedMotoServer]:
    """moto's S3 API server on 127.0.0.1, random port, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials moto accepts; no real AWS profile or config can leak in."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def make_bucket(endpoint: str, name: str) -> None:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)


def s3_store(server: ThreadedMotoServer, name: str) -> Store:
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket = f"{BUCKET_PREFIX}-{name}".lower().replace("_", "-")[:60]
    make_bucket(endpoint, bucket)
    return Store("s3", f"s3://{bucket}/artifacts", (f"endpoint_url={endpoint}",), server)


@pytest.fixture(params=["dir", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, s3_server: ThreadedMotoServer) -> Store:
    """The same tests run against a local-directory store and the S3 API."""
    if request.param == "dir":
        return Store("dir", str(tmp_path / "store"), ())
    return s3_store(s3_server, uuid.uuid4().hex[:12])


def sh(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command (git push runs the installed hooks in their own process)."""
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    return remote


def setup_clone_a(tmp_path: Path, origin: Path, store: Store) -> Path:
    """Clone A: gitprov set up with an artifact remote, a dataset and a checkpoint tracked."""
    repo = tmp_path / "a"
    git(tmp_path, "clone", "-q", str(origin), str(repo))
    ok(run_gitprov(repo, "init"))
    options = [arg for opt in store.options for arg in ("--option", opt)]
    ok(run_gitprov(repo, "remote", "add", "origin", store.url, *options))
    gen(
        repo,
        {
            "data/train/a.csv": "x,y\n1,2\n",
            "data/train/b.csv": "x,y\n3,4\n",
            "data/train/nested/c.csv": "x,y\n5,6\n",
            "models/m.pt": os.urandom(3 << 20),  # bigger than one read chunk
        },
    )
    ok(run_gitprov(repo, "track", "data/train", "models/m.pt"))
    git(repo, "add", ".gitprov/config.toml", ".gitignore")
    git(repo, "commit", "-q", "-m", "Train v1")
    return repo


def remote_head(origin: Path) -> str:
    return git(origin, "rev-parse", "--verify", "-q", "refs/heads/main", check=False).strip()


def test_push_uploads_then_a_second_clone_pulls_verified_artifacts_and_notes(
    tmp_path: Path, origin: Path, store: Store
) -> None:
    a = setup_clone_a(tmp_path, origin, store)
    git(
        a,
        "notes",
        "--ref=gitprov",
        "append",  # the post-commit hook already wrote the commit's record
        "-m",
        '{"at":"2026-01-01T00:00:00Z","id":"x","type":"eval"}',
    )

    pushed = sh(a, "git", "push", "-q", "origin", "main")

    assert pushed.returncode == 0, pushed.stderr
    assert "uploaded 6 object(s)" in pushed.stderr  # 4 files + 2 tree nodes
    assert remote_head(origin) == git(a, "rev-parse", "HEAD").strip()
    assert len(store.objects()) == 6
    assert store.staged() == []

    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(origin), str(b))
    ok(run_gitprov(b, "init"))
    pulled = ok(run_gitprov(b, "pull"))

    assert "restored  data/train" in pulled.stdout
    for name in ("data/train/a.csv", "data/train/nested/c.csv", "models/m.pt"):
        assert (b / name).read_bytes() == (a / name).read_bytes()
    ok(run_gitprov(b, "verify"))
    assert '"type":"eval"' in git(b, "notes", "--ref=gitprov", "show", "HEAD")


def test_nothing_to_send_makes_no_storage_request(
    tmp_path: Path, origin: Path, store: Store
) -> None:
    a = setup_clone_a(tmp_path, origin, store)
    assert sh(a, "git", "push", "-q", "origin", "main").returncode == 0
    gen(a, {"train.py": "print('no artifact changed')\n"})
    git(a, "add", "train.py")
    git(a, "commit", "-q", "-m", "Code only")
    log = tmp_path / "storage.log"

    pushed = sh(a, "git", "push", "-q", "origin", "main", env={"GITPROV_STORAGE_LOG": str(log)})

    assert pushed.returncode == 0, pushed.stderr
    assert not log.exists(), log.read_text()
    # Control: a push that does bring a pointer is logged.
    gen(a, {"models/m.pt": b"weights v2"})
    ok(run_gitprov(a, "track", "models/m.pt"))
    git(a, "commit", "-q", "-m", "v2")
    assert (
        sh(
            a, "git", "push", "-q", "origin", "main", env={"GITPROV_STORAGE_LOG": str(log)}
        ).returncode
        == 0
    )
    assert log.read_text().count(" put ") == 1


def test_unchanged_subtrees_are_not_looked_into(tmp_path: Path, origin: Path, store: Store) -> None:
    """One changed file in a dataset: the push asks about one path of the tree, not all."""
    a = setup_clone_a(tmp_path, origin, store)
    assert sh(a, "git", "push", "-q", "origin", "main").returncode == 0
    gen(a, {"data/train/a.csv": "x,y\n9,9\n"})
    ok(run_gitprov(a, "track", "data/train"))
    git(a, "commit", "-q", "-m", "Fix a row")
    log = tmp_path / "storage.log"

    pushed = sh(a, "git", "push", "-q", "origin", "main", env={"GITPROV_STORAGE_LOG": str(log)})

    assert pushed.returncode == 0, pushed.stderr
    requests = log.read_text().splitlines()
    # Root node (new), its children: a.csv (new), b.csv, nested/ (both present, not entered).
    assert sum(" put " in line for line in requests) == 2
    assert not any("nested" in line for line in requests)


def test_restricted_artifact_is_never_sent_to_a_remote_that_does_not_accept_it(
    tmp_path: Path, origin: Path, store: Store
) -> None:
    a = setup_clone_a(tmp_path, origin, store)
    gen(a, {"secret/weights.bin": b"do not publish"})
    ok(run_gitprov(a, "track", "--access", "restricted", "secret/weights.bin"))
    git(a, "commit", "-q", "-m", "restricted")

    pushed = sh(a, "git", "push", "-q", "origin", "main")

    assert pushed.returncode != 0
    assert "refusing to upload restricted artifact secret/weights.bin" in pushed.stderr
    assert remote_head(origin) == ""
    assert store.objects() == {}


@pytest.mark.parametrize("kind", ["dir", "s3"])
def test_failed_upload_aborts_the_push_and_the_next_push_succeeds(
    tmp_path: Path, origin: Path, kind: str
) -> None:
    server = None
    if kind == "s3":
        # A server of its own: this test stops it mid-way.
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        store = s3_store(server, uuid.uuid4().hex[:12])
    else:
        store = Store("dir", str(tmp_path / "store"), ())
    try:
        a = setup_clone_a(tmp_path, origin, store)
        if server is None:
            # A file where the store's object folder should be: every upload fails.
            Path(store.url).mkdir(parents=True)
            (Path(store.url) / "sha256").write_text("not a folder")
        else:
            host, port = server.get_host_and_port()
            server.stop()

        pushed = sh(a, "git", "push", "-q", "origin", "main")

        assert pushed.returncode != 0
        assert "the push was aborted" in pushed.stderr
        assert "Traceback" not in pushed.stderr
        assert remote_head(origin) == ""
        if server is None:
            (Path(store.url) / "sha256").unlink()
        else:
            server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
            server.start()  # same port, same in-process state: the bucket is still there
        assert store.objects() == {}, "no partial object may be visible"
        assert store.staged() == []

        again = sh(a, "git", "push", "-q", "origin", "main")

        assert again.returncode == 0, again.stderr
        assert remote_head(origin) == git(a, "rev-parse", "HEAD").strip()
        assert len(store.objects()) == 6
    finally:
        if server is not None:
            server.stop()


def test_corrupt_remote_object_is_reported_and_never_materialised(
    tmp_path: Path, origin: Path, store: Store
) -> None:
    a = setup_clone_a(tmp_path, origin, store)
    assert sh(a, "git", "push", "-q", "origin", "main").returncode == 0
    model_digest = next(
        line.split('"')[1]
        for line in (a / "models/m.pt.gitprov").read_text().splitlines()
        if line.startswith("digest")
    )
    hexdigest = model_digest.removeprefix("sha256:")
    store.overwrite(hexdigest, b"evil bytes of the same name")
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(origin), str(b))
    ok(run_gitprov(b, "init"))

    pulled = run_gitprov(b, "pull")

    assert pulled.exit_code == ExitCode.FAILED
    assert "corrupt" in pulled.stderr
    assert "models/m.pt" in pulled.stderr
    assert "Traceback" not in pulled.stderr
    assert not (b / "models/m.pt").exists()
    cache = b / ".git/gitprov/objects/sha256" / hexdigest[:2] / hexdigest[2:]
    assert not cache.exists()
    # The intact objects were kept: after repair, a pull fetches only what was bad.
    store.overwrite(hexdigest, (a / "models/m.pt").read_bytes())
    again = ok(run_gitprov(b, "pull"))
    assert "fetched 1 object(s)" in again.stdout
    assert (b / "models/m.pt").read_bytes() == (a / "models/m.pt").read_bytes()


def test_skip_push_switch_skips_the_upload_and_records_it_in_a_note(
    tmp_path: Path, origin: Path, store: Store
) -> None:
    a = setup_clone_a(tmp_path, origin, store)

    pushed = sh(a, "git", "push", "-q", "origin", "main", env={"GITPROV_SKIP_PUSH": "1"})

    assert pushed.returncode == 0, pushed.stderr
    assert store.objects() == {}
    note = git(a, "notes", "--ref=gitprov", "show", "HEAD")
    assert '"type":"push-skipped"' in note
    assert '"remote":"origin"' in note
    # The note travelled with the push.
    assert git(origin, "notes", "--ref=gitprov", "show", "main").strip() == note.strip()
    # 'gitprov push' uploads what was skipped.
    ok(run_gitprov(a, "push"))
    assert len(store.objects()) == 6
