"""Faulty storage: an S3 API that resets, errors, stalls and cuts bodies short.

gitprov's S3 remote points at tests/reliability/fault_proxy.py, which forwards to moto's
S3 server and injects the faults each test schedules. The promises under test
(docs/remotes.md, "What git push does" and "Recovery after a failed push"):

- a transient fault is retried with backoff and the command succeeds;
- a persistent fault fails the command with one clear line, and a push is aborted:
  no remote ref moves, no partial object becomes visible, the next push completes;
- a cut or short download is never accepted: the cache never holds an object whose
  bytes do not match its name, and nothing wrong is put in the work tree.

Real components only: real git running gitprov's installed pre-push hook in its own
process, s3fs over HTTP, moto's server. The proxy is the only thing that lies.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from gitprov.adapters.objects import ObjectCache
from gitprov.errors import ExitCode
from tests.conftest import git, run_gitprov
from tests.reliability.budget import SEED, trials
from tests.reliability.fault_proxy import FaultProxy
from tests.test_remote_sync import (  # the suite's moto server and AWS test credentials
    Store,
    fake_aws_credentials,  # noqa: F401 - an autouse fixture, used by being imported
    ok,
    remote_head,
    s3_server,  # noqa: F401 - a fixture
    s3_store,
    setup_clone_a,
    sh,
)

pytestmark = pytest.mark.reliability

OBJECTS = "/sha256/"  # every object key has it; listings and notes do not


@pytest.fixture
def direct(s3_server: ThreadedMotoServer) -> Store:  # noqa: F811 - the imported fixture
    """A fresh bucket, inspected straight on moto (never through the proxy)."""
    return s3_store(s3_server, "faults-" + uuid.uuid4().hex[:10])


@pytest.fixture
def proxy(direct: Store) -> Iterator[FaultProxy]:
    upstream = dict(opt.split("=", 1) for opt in direct.options)["endpoint_url"]
    with FaultProxy(upstream) as running:
        yield running


@pytest.fixture
def via_proxy(direct: Store, proxy: FaultProxy) -> Store:
    """The same bucket as gitprov sees it: every request goes through the proxy."""
    return Store("s3", direct.url, (f"endpoint_url={proxy.url}",))


def origin_repo(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    return origin


def one_error_line(stderr: str) -> str:
    """The command's error: exactly one ``gitprov: error:`` line, no traceback."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if "error:" in line and "gitprov" in line]
    assert len(errors) == 1, stderr
    return errors[0]


def cache_is_sound(repo: Path) -> int:
    """Every object in ``repo``'s cache matches its name; how many there are."""
    cache = ObjectCache(repo / ".git/gitprov/objects")
    digests = list(cache.iter_digests())
    assert [d for d in digests if not cache.verify(d)] == [], "the cache holds a wrong object"
    return len(digests)


def clone_b(tmp_path: Path, origin: Path) -> Path:
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(origin), str(b))
    ok(run_gitprov(b, "init"))
    return b


# -- uploads -------------------------------------------------------------------------------

# Faults a push may meet, as (method, path pattern, action, status). "GET" with "list-type"
# is the listing s3fs makes after a HEAD finds nothing.
UPLOAD_FAULTS = [
    ("PUT", OBJECTS, "status", 503),
    ("PUT", OBJECTS, "status", 500),
    ("PUT", OBJECTS, "reset", 0),
    ("PUT", OBJECTS, "slow", 0),
    ("HEAD", OBJECTS, "status", 503),
    ("HEAD", OBJECTS, "reset", 0),
    ("GET", "list-type", "status", 500),
]


def new_version(repo: Path, rnd: random.Random, n: int) -> None:
    """Commit new bytes for the model and one data file (two objects and a tree node)."""
    (repo / "models/m.pt").write_bytes(rnd.randbytes(rnd.randint(1, 200_000)))
    (repo / "data/train/a.csv").write_text(f"x,y\n{n},{rnd.random()}\n")
    ok(run_gitprov(repo, "track", "models/m.pt", "data/train"))
    git(repo, "commit", "-q", "-am", f"v{n}")


def test_transient_upload_faults_are_retried_and_every_push_succeeds(
    tmp_path: Path, direct: Store, proxy: FaultProxy, via_proxy: Store
) -> None:
    """Seeded: each push meets up to four faults (a request is tried five times), all
    of which are retried; every push lands complete."""
    rnd = random.Random(SEED)
    origin = origin_repo(tmp_path)
    a = setup_clone_a(tmp_path, origin, via_proxy)
    scheduled = 0
    for n in range(trials(ci=1, full=12)):
        if n:
            new_version(a, rnd, n)
        budget = rnd.randint(1, 4)
        while budget:
            method, pattern, action, status = rnd.choice(UPLOAD_FAULTS)
            times = rnd.randint(1, budget)
            proxy.add(method, pattern, action, times=times, status=status or 503, delay=0.2)
            budget -= times
            scheduled += times
        before = proxy.injected()

        pushed = sh(a, "git", "push", "-q", "origin", "main")

        assert pushed.returncode == 0, f"trial {n} {proxy.seen.faults}: {pushed.stderr}"
        assert remote_head(origin) == git(a, "rev-parse", "HEAD").strip()
        assert proxy.injected() > before, "no fault was injected"
        proxy.clear()
    objects = direct.objects()
    assert len(objects) == cache_is_sound(a), "an object is missing on the remote"
    assert all(digest_of(data) == name for name, data in objects.items()), "corrupt remote"
    assert direct.staged() == []


def digest_of(data: bytes) -> str:
    """An object's name in the store layout (the hex digest without its first 2 chars)."""
    return hashlib.sha256(data).hexdigest()[2:]


def test_persistent_upload_faults_abort_the_push_cleanly(
    tmp_path: Path, direct: Store, proxy: FaultProxy, via_proxy: Store
) -> None:
    origin = origin_repo(tmp_path)
    a = setup_clone_a(tmp_path, origin, via_proxy)
    # CI: every upload refused; full: every request of any kind reset, too.
    persistent = [("PUT", "status")] + ([("*", "reset")] if trials(ci=0, full=1) else [])
    for method, action in persistent:
        proxy.add(method, "", action, times=None, status=503)
        started = time.monotonic()

        pushed = sh(a, "git", "push", "-q", "origin", "main")

        took = time.monotonic() - started
        assert pushed.returncode != 0, f"{action}: the push went through"
        line = one_error_line(pushed.stderr)
        assert "the push was aborted" in pushed.stderr, pushed.stderr
        assert "artifact remote 'origin'" in line, line
        assert took < 30, f"{action}: a dead store took {took:.0f} s to be reported"
        assert remote_head(origin) == "", "a remote ref moved"
        assert direct.objects() == {}, "a partial push published objects"
        assert direct.staged() == []
        proxy.clear()

    again = sh(a, "git", "push", "-q", "origin", "main")

    assert again.returncode == 0, again.stderr
    assert remote_head(origin) == git(a, "rev-parse", "HEAD").strip()
    assert len(direct.objects()) == 6


# -- downloads -----------------------------------------------------------------------------

BIG = "models/big.bin"  # over the 8 MiB whole-GET limit: streamed in ranged reads


@pytest.fixture(scope="module")
def pushed(
    tmp_path_factory: pytest.TempPathFactory,
    s3_server: ThreadedMotoServer,  # noqa: F811 - the imported fixture
) -> Iterator[tuple[Path, Store]]:
    """One clone's artifacts pushed (through no proxy), shared by the download tests:
    the bare origin and the bucket, which the tests only read."""
    tmp = tmp_path_factory.mktemp("pushed")
    with pytest.MonkeyPatch.context() as env:
        home = tmp / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(
            "[user]\n\tname = Test User\n\temail = test@example.com\n"
            "[init]\n\tdefaultBranch = main\n"
        )
        env.setenv("HOME", str(home))
        env.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        env.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for name, value in AWS_ENV.items():
            env.setenv(name, value)
        store = s3_store(s3_server, "faults-pull-" + uuid.uuid4().hex[:8])
        origin = origin_repo(tmp)
        a = setup_clone_a(tmp, origin, store)
        (a / BIG).write_bytes(random.Random(SEED).randbytes(9 << 20))
        ok(run_gitprov(a, "track", BIG))
        git(a, "commit", "-q", "-am", "big")
        pushed = sh(a, "git", "push", "-q", "origin", "main")
        assert pushed.returncode == 0, pushed.stderr
        yield origin, store


AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def pull_proxy(pushed: tuple[Path, Store]) -> Iterator[FaultProxy]:
    upstream = dict(opt.split("=", 1) for opt in pushed[1].options)["endpoint_url"]
    with FaultProxy(upstream) as running:
        yield running


def clone_through(tmp_path: Path, pushed: tuple[Path, Store], proxy: FaultProxy) -> Path:
    """A second clone whose artifact remote is reached through the proxy (local config)."""
    origin, store = pushed
    b = clone_b(tmp_path, origin)
    ok(
        run_gitprov(
            b, "remote", "add", "--local", "origin", store.url, "-o", f"endpoint_url={proxy.url}"
        )
    )
    return b


def same_files(b: Path, store: Store) -> None:
    objects = store.objects()
    for name in ("data/train/a.csv", "data/train/nested/c.csv", "models/m.pt", BIG):
        assert (b / name).is_file(), name
    assert cache_is_sound(b) == len(objects)


def test_transient_download_faults_are_retried_and_the_pull_succeeds(
    tmp_path: Path, pushed: tuple[Path, Store], pull_proxy: FaultProxy
) -> None:
    b = clone_through(tmp_path, pushed, pull_proxy)
    # A streamed download cut twice mid-body resumes where it was cut (once a crash).
    pull_proxy.add("GET", object_hex(b, BIG)[2:], "truncate", times=2)
    pull_proxy.add("GET", OBJECTS, "reset", times=1)
    pull_proxy.add("GET", OBJECTS, "truncate", times=1)
    pull_proxy.add("HEAD", OBJECTS, "status", status=503, times=1)
    pull_proxy.add("GET", OBJECTS, "status", status=500, times=1)
    pull_proxy.add("GET", OBJECTS, "slow", delay=0.5, times=2)

    pulled = run_gitprov(b, "pull")

    assert pulled.exit_code == 0, pulled.stderr
    assert pull_proxy.injected() == 8
    same_files(b, pushed[1])
    ok(run_gitprov(b, "verify"))


def object_hex(repo: Path, name: str) -> str:
    return git(repo, "show", f"HEAD:{name}.gitprov").split("sha256:")[1][:64]


def test_a_cut_or_short_download_is_never_accepted(
    tmp_path: Path, pushed: tuple[Path, Store], pull_proxy: FaultProxy
) -> None:
    """Bodies cut mid-way (the connection reset after part of them, streamed or whole),
    or short with a matching Content-Length, or no answer at all, on every retry: the
    pull fails naming the artifacts, nothing wrong is cached or put in place, and it
    completes once the store answers properly."""
    store = pushed[1]
    b = clone_through(tmp_path, pushed, pull_proxy)
    big, model = object_hex(b, BIG), object_hex(b, "models/m.pt")
    cache = ObjectCache(b / ".git/gitprov/objects")
    rounds = [
        [(big, "truncate", 0), (model, "short", 0)],
        # Refused (403): once a crash (exit 3), now one line; and no answer at all.
        [(big, "status", 403), (model, "reset", 0)],
    ]
    if trials(ci=0, full=1):  # the streamed object short, the whole-GET one cut
        rounds.append([(big, "short", 0), (model, "truncate", 0)])
    for faults in rounds:
        for hexdigest, action, status in faults:
            pull_proxy.add("GET", hexdigest[2:], action, times=None, status=status or 503)
        before = pull_proxy.injected()

        pulled = run_gitprov(b, "pull")

        assert pulled.exit_code == ExitCode.FAILED, f"{faults}: {pulled.stdout}{pulled.stderr}"
        line = one_error_line(pulled.stderr)
        assert "2 object(s) could not be fetched from 'origin'" in line, line
        assert pull_proxy.injected() >= before + 2
        for hexdigest, action, _ in faults:
            name = BIG if hexdigest == big else "models/m.pt"
            assert not (b / name).exists(), f"{action}: a wrong {name} was put in the work tree"
            assert not cache.has("sha256:" + hexdigest), f"{action}: a wrong object was cached"
        cache_is_sound(b)
        pull_proxy.clear()
    # The store answering properly again, the same command completes.
    ok(run_gitprov(b, "pull"))
    same_files(b, store)
