"""Integrity and trust: nothing wrong is used, nothing forged is believed, nothing secret leaks.

Each attack is made behind gitprov's back, with real files, real git and real ssh-keygen
keys, then checked twice: by the command that reports it (``gitprov verify``,
``approvals``, ``releases``) and by the command that would have used it (``checkout``,
``pull``, ``push``, ``check``, ``release``, the pre-push guard).

- a cache object modified on disk; a remote object swapped for another valid object;
- approval records forged (a field edited, another identity claimed, a made-up
  signature), replayed (copied onto a newer commit or a newer digest), signed by a key
  nobody trusts or by a key outside its validity window; a release record replayed
  onto another commit;
- credentials planted in the environment and in the local config, then commands run
  that fail while using them: the secrets appear in no output, log, trace, crash log,
  record, git object or stored object.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitprov.adapters import git_notes
from gitprov.adapters.objects import ObjectCache
from gitprov.errors import ExitCode
from tests.conftest import Result, gen, git, run_gitprov
from tests.reliability.fault_proxy import FaultProxy
from tests.test_release import CHECKLIST, keypair

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen"),
]

ME = "Test User <test@example.com>"
OWNERS = f'[roles]\nreviewer = ["{ME}"]\nrelease-manager = ["boss@example.com"]\n'
# The release checklist of tests/test_release.py with one check on: approvals.
APPROVALS_ON = CHECKLIST.replace(
    'approvals = "off"', 'approvals = "error"\ncard-present = "off"\nlimitations = "off"'
) + ('\n[approvals]\nrequired = ["reviewer"]\n')


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"{result.stdout}\n{result.stderr}"
    return result


def sh(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    proc = subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def object_path(repo: Path, name: str) -> tuple[str, Path]:
    """The digest in ``name``'s committed pointer and its cache file."""
    hexdigest = (repo / f"{name}.gitprov").read_text().split("sha256:")[1][:64]
    return "sha256:" + hexdigest, repo / ".git/gitprov/objects/sha256" / hexdigest[:2] / hexdigest[
        2:
    ]


def overwrite(path: Path, data: bytes) -> None:
    """Write over a read-only object, as a disk fault or an attacker would."""
    os.chmod(path, 0o644)
    path.write_bytes(data)


# -- objects -------------------------------------------------------------------------------


@pytest.fixture
def tracked(committed_repo: Path, gitprov: Callable[..., Result], tmp_path: Path) -> Path:
    """A checkpoint and a dataset tracked and committed, with a directory artifact remote."""
    repo = committed_repo
    ok(gitprov("init"))
    ok(gitprov("remote", "add", "origin", str(tmp_path / "store")))
    gen(
        repo,
        {"models/m.pt": b"weights v1" * 1000, "data/d/a.csv": "x\n1\n", "data/d/b.csv": "x\n2\n"},
    )
    ok(gitprov("track", "models/m.pt", "data/d"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v1")
    return repo


def test_a_modified_cache_object_is_detected_and_never_used(
    tracked: Path, gitprov: Callable[..., Result]
) -> None:
    digest, cached = object_path(tracked, "models/m.pt")
    overwrite(cached, b"evil weights of the same size".ljust(10000, b"!"))

    report = gitprov("verify", "--all")

    assert report.exit_code == ExitCode.FAILED
    assert f"models/m.pt: cache object {digest[:19]}" in report.stdout
    assert "corrupt" in report.stdout
    # checkout would have used it: it refuses, and the work tree keeps the good bytes.
    (tracked / "models/m.pt").unlink()
    restored = gitprov("checkout", "models/m.pt")
    assert restored.exit_code != 0, restored.stdout
    assert "corrupt" in restored.stderr
    assert "Traceback" not in restored.stderr
    assert not (tracked / "models/m.pt").exists(), "a corrupt object was materialised"
    # push would have published it: it refuses, and the store never holds it.
    pushed = gitprov("push", "models/m.pt")
    assert pushed.exit_code != 0
    assert "is corrupt, so it was not uploaded" in pushed.stderr
    assert not list((tracked.parent / "store").rglob(digest[7:][2:]))


def test_a_swapped_remote_object_is_detected_and_never_used(tracked: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(tracked, "remote", "add", "origin", str(origin))
    assert sh(tracked, "git", "push", "-q", "origin", "main").exit_code == 0
    model, _ = object_path(tracked, "models/m.pt")
    data, _ = object_path(tracked, "data/d")
    store = tmp_path / "store/sha256"
    # Swap: the model's name now holds another object's genuine bytes (the data tree's).
    remote_model = store / model[7:9] / model[9:]
    remote_data = store / data[7:9] / data[9:]
    overwrite(remote_model, remote_data.read_bytes())
    b = tmp_path / "b"
    git(tmp_path, "clone", "-q", str(origin), str(b))
    ok(run_gitprov(b, "init"))

    pulled = run_gitprov(b, "pull")

    assert pulled.exit_code == ExitCode.FAILED
    assert "models/m.pt" in pulled.stderr
    assert "corrupt" in pulled.stderr
    assert not (b / "models/m.pt").exists()
    cache = ObjectCache(b / ".git/gitprov/objects")
    assert not cache.has(model)
    assert all(cache.verify(d) for d in cache.iter_digests())
    report = run_gitprov(b, "verify", "models/m.pt")
    assert report.exit_code == ExitCode.FAILED
    assert "models/m.pt: missing from the cache" in report.stdout
    fetched = run_gitprov(b, "fetch", "origin", "models/m.pt")
    assert fetched.exit_code == ExitCode.FAILED
    assert "corrupt" in fetched.stderr


# -- records -------------------------------------------------------------------------------


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir()
    return directory


@pytest.fixture
def approvable(
    committed_repo: Path, gitprov: Callable[..., Result], keys: Path, tmp_path: Path
) -> Path:
    """A checkpoint whose release needs a reviewer's approval; the user a trusted reviewer."""
    repo = committed_repo
    ok(gitprov("init"))
    ok(gitprov("remote", "add", "origin", str(tmp_path / "store")))
    gen(repo, {"models/m.pt": b"weights", ".gitprov/owners.toml": OWNERS,
               ".gitprov/checklist.toml": APPROVALS_ON})  # fmt: skip
    ok(gitprov("track", "models/m.pt"))
    key, public = keypair(keys, "me")
    (repo / ".gitprov/allowed_signers").write_text(f"test@example.com {public}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "checkpoint")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    ok(gitprov("push", "models/m.pt"))
    return repo


def statuses(gitprov: Callable[..., Result]) -> list[str]:
    listed = ok(gitprov("approvals", "models/m.pt", "--json"))
    return [str(found["status"]) for found in json.loads(listed.stdout)]


def refused_by_check_and_release(gitprov: Callable[..., Result], status: str) -> None:
    """The commands that would have relied on the approval do not."""
    checked = gitprov("check", "models/m.pt")
    assert checked.exit_code == ExitCode.FAILED, checked.stdout
    assert "missing a valid approval from: reviewer" in checked.stdout
    if status:
        assert "(rejected: reviewer by " in checked.stdout
        assert f": {status})" in checked.stdout
    released = gitprov("release", "models/m.pt", "--version", "1.0.0")
    assert released.exit_code != 0
    assert "approvals" in released.stderr
    assert "Traceback" not in released.stderr


def rewrite_note(repo: Path, commit: str, edit: Callable[[str], str]) -> None:
    text = edit(git_notes.read_note(repo, commit))
    git(repo, "notes", "--ref=refs/notes/gitprov", "add", "-f", "-F", "-", commit, stdin=text)


def approval_line(repo: Path, commit: str) -> str:
    (line,) = [r for r in git_notes.read_note(repo, commit).splitlines() if '"approval"' in r]
    return line


def test_a_valid_approval_is_believed(approvable: Path, gitprov: Callable[..., Result]) -> None:
    """The control: without an attack, the same steps pass."""
    ok(gitprov("approve", "models/m.pt", "--role", "reviewer"))
    assert statuses(gitprov) == ["valid"]
    ok(gitprov("check", "models/m.pt"))
    ok(gitprov("release", "models/m.pt", "--version", "1.0.0"))
    ok(gitprov("releases"))


@pytest.mark.parametrize(
    ("forgery", "status"),
    [
        # A signed field edited after signing.
        (lambda line: line.replace('"comment":""', '"comment":"ship it"'), "tampered"),
        # Another identity claimed, with the user's own (valid) signature.
        (lambda line: line.replace(ME, "Boss <boss@example.com>"), "unknown_key"),
        # A signature made up.
        (
            lambda line: json.dumps(
                {
                    **json.loads(line),
                    "signature": "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n"
                    "-----END SSH SIGNATURE-----\n",
                },
                separators=(",", ":"),
                sort_keys=True,
            ),
            "unknown_key",
        ),
    ],
    ids=["edited", "impersonated", "made-up-signature"],
)
def test_a_forged_approval_is_rejected(
    approvable: Path, gitprov: Callable[..., Result], forgery: Callable[[str], str], status: str
) -> None:
    ok(gitprov("approve", "models/m.pt", "--role", "reviewer"))
    head = git(approvable, "rev-parse", "HEAD").strip()
    rewrite_note(approvable, head, lambda text: text.replace(
        approval_line(approvable, head), forgery(approval_line(approvable, head))))  # fmt: skip

    assert statuses(gitprov) == [status]
    refused_by_check_and_release(gitprov, status)


def test_gitprov_verify_reports_a_forged_approval(
    approvable: Path, gitprov: Callable[..., Result]
) -> None:
    ok(gitprov("approve", "models/m.pt", "--role", "reviewer"))
    head = git(approvable, "rev-parse", "HEAD").strip()
    rewrite_note(approvable, head, lambda text: text.replace('"comment":""', '"comment":"x"'))
    assert statuses(gitprov) == ["tampered"]

    result = gitprov("verify")
    assert result.exit_code == ExitCode.FAILED
    assert "approval" in result.stdout
    assert "tampered" in result.stdout


def test_an_approval_by_an_unknown_key_is_rejected(
    approvable: Path, gitprov: Callable[..., Result], keys: Path
) -> None:
    stranger, _ = keypair(keys, "stranger")
    git(approvable, "config", "user.signingkey", str(stranger))
    ok(gitprov("approve", "models/m.pt", "--role", "reviewer"))

    assert statuses(gitprov) == ["unknown_key"]
    refused_by_check_and_release(gitprov, "unknown_key")


def test_an_approval_by_an_expired_key_is_rejected(
    approvable: Path, gitprov: Callable[..., Result]
) -> None:
    signers = approvable / ".gitprov/allowed_signers"
    principal, public = signers.read_text().split(" ", 1)
    signers.write_text(f'{principal} valid-before="20200101Z" {public}')
    git(approvable, "commit", "-q", "-am", "the key expired in 2020")
    ok(gitprov("approve", "models/m.pt", "--role", "reviewer"))

    assert statuses(gitprov) == ["outside_window"]
    refused_by_check_and_release(gitprov, "outside_window")


def test_a_replayed_approval_does_not_approve_a_new_digest(
    approvable: Path, gitprov: Callable[..., Result]
) -> None:
    ok(gitprov("approve", "models/m.pt", "--role", "reviewer"))
    old_head = git(approvable, "rev-parse", "HEAD").strip()
    line = approval_line(approvable, old_head)
    old_digest = json.loads(line)["digest"]
    (approvable / "models/m.pt").write_bytes(b"retrained, never reviewed")
    ok(gitprov("track", "models/m.pt"))
    git(approvable, "commit", "-q", "-am", "retrained")
    head = git(approvable, "rev-parse", "HEAD").strip()
    new_digest = object_path(approvable, "models/m.pt")[0]

    # Copied as it is onto the new commit: it still approves the old digest only.
    rewrite_note(approvable, head, lambda text: text + line + "\n")
    assert statuses(gitprov) == []
    refused_by_check_and_release(gitprov, "")
    # Copied with its digest changed to the new one: the signature no longer matches.
    rewrite_note(approvable, head, lambda text: text.replace(old_digest, new_digest))
    assert statuses(gitprov) == ["tampered"]
    refused_by_check_and_release(gitprov, "tampered")


def test_a_release_record_replayed_onto_another_commit_is_rejected(
    approvable: Path, gitprov: Callable[..., Result], bare_remote: Path
) -> None:
    ok(gitprov("approve", "models/m.pt", "--role", "reviewer"))
    ok(gitprov("release", "models/m.pt", "--version", "1.0.0"))
    released = git(approvable, "rev-parse", "HEAD").strip()
    record = next(
        line for line in git_notes.read_note(approvable, released).splitlines()
        if '"type":"release"' in line
    )  # fmt: skip
    message = git(approvable, "tag", "-l", "--format=%(contents)", "m-v1.0.0")
    # A later commit (the checkpoint unchanged) gets the record and a tag naming it.
    gen(approvable, {"README.md": "later\n"})
    git(approvable, "commit", "-q", "-am", "later")
    head = git(approvable, "rev-parse", "HEAD").strip()
    rewrite_note(approvable, head, lambda text: text + record + "\n")
    git(approvable, "tag", "-a", "m-v1.0.1", "-m", message)

    listed = gitprov("releases")

    assert listed.exit_code == ExitCode.FAILED
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [
        ["valid", "m-v1.0.0"],
        ["mismatch", "m-v1.0.1"],
    ]
    git(approvable, "remote", "add", "origin", str(bare_remote))
    pushed = sh(approvable, "git", "push", "origin", "main", "m-v1.0.1")
    assert pushed.exit_code != 0
    assert "refusing to push release tag m-v1.0.1" in pushed.stderr
    assert git(bare_remote, "tag", "--list") == ""


# -- credentials ---------------------------------------------------------------------------

KEY_ID = "AKIAPLANTEDKEYID0042"
SECRET = "planted+Secret/0042xyzzyPLANTEDSECRETVALUE"  # noqa: S105 - planted, fake
LOCAL_SECRET = "localConfigSecret0042PLANTEDxyzzy"  # noqa: S105 - planted, fake
TOKEN = "plantedSessionToken0042xyzzy"  # noqa: S105 - planted, fake
PLANTED = (KEY_ID, SECRET, LOCAL_SECRET, TOKEN)


@pytest.fixture
def moto_proxy() -> Iterator[FaultProxy]:
    """moto's S3 server behind the fault proxy (its own, stopped at the end)."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only these tests need it

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        with FaultProxy(f"http://{host}:{port}") as proxy:
            yield proxy
    finally:
        server.stop()


def everything_written(paths: list[Path], repos: list[Path]) -> str:
    """Every file under ``paths``, and every object and note of ``repos``, as text."""
    texts = []
    for root in paths:
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file() and path.name != "config.toml":
                texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    for repo in repos:
        dump = subprocess.run(
            ["git", "cat-file", "--batch-all-objects", "--batch"],
            cwd=repo, capture_output=True, check=True,
        )  # fmt: skip
        texts.append(dump.stdout.decode("utf-8", errors="replace"))
    return "\n".join(texts)


def test_planted_credentials_never_appear_in_anything_gitprov_writes(
    committed_repo: Path, tmp_path: Path, bare_remote: Path, moto_proxy: FaultProxy
) -> None:
    repo = committed_repo
    logs = tmp_path / "logs"
    crash = tmp_path / "tmp"
    logs.mkdir()
    crash.mkdir()
    env = {
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "GITPROV_TRACE": str(logs / "trace.jsonl"),
        "GITPROV_STORAGE_LOG": str(logs / "storage.log"),
        "GITPROV_VERBOSE": "1",
        "TMPDIR": str(crash),  # crash logs go to the temp folder
    }
    outputs: list[str] = []

    def run(*args: str) -> Result:
        result = run_gitprov(repo, *args, env=env)
        outputs.append(result.stdout + result.stderr)
        return result

    def push() -> Result:
        result = sh(repo, "git", "push", "origin", "main", env=env)
        outputs.append(result.stdout + result.stderr)
        return result

    ok(run("init"))
    git(repo, "remote", "add", "origin", str(bare_remote))
    url = "s3://no-such-bucket/artifacts"
    ok(run("remote", "add", "origin", url, "-o", f"endpoint_url={moto_proxy.url}"))
    gen(repo, {"models/m.pt": b"weights", "train.py": "print('hi')\n"})
    ok(run("track", "models/m.pt"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "v1")
    # A run records its environment: the planted variables are in it.
    ok(run("run", "-m", "a run with credentials in its environment", "--", "python", "train.py"))
    # pull and fetch must ask the store: the cache and work-tree copies are gone.
    shutil.rmtree(repo / ".git/gitprov/objects")
    (repo / "models/m.pt").unlink()

    failures = []
    # Credentials from the environment; the store answers 503 to everything.
    moto_proxy.add("*", "", "status", times=None, status=503)
    failures.append(push())
    moto_proxy.clear()
    # Credentials in the local, never committed, config too (docs/remotes.md); 403 this time.
    ok(run("remote", "add", "--local", "origin", url, "-o", f"endpoint_url={moto_proxy.url}",
           "-o", f"key={KEY_ID}", "-o", f"secret={LOCAL_SECRET}"))  # fmt: skip
    moto_proxy.add("*", "", "status", times=None, status=403)
    failures += [push(), run("fetch", "origin")]
    moto_proxy.clear()
    failures.append(run("pull"))  # no fault: the bucket does not exist

    assert all(r.exit_code == ExitCode.FAILED for r in failures), [r.stderr for r in failures]
    assert not list(crash.glob("gitprov-crash-*")), "a command crashed (exit 3)"
    assert moto_proxy.injected() > 0
    assert any("artifact remote 'origin'" in r.stderr for r in failures)
    written = "\n".join(outputs) + everything_written(
        [logs, crash, repo / ".git"], [repo, bare_remote]
    )
    assert "Traceback" not in "\n".join(outputs)
    leaked = [secret for secret in PLANTED if secret in written]
    assert leaked == [], f"credentials leaked: {leaked}"
    # The check can fail: the local config (skipped above) does hold its secret.
    assert LOCAL_SECRET in (repo / ".git/gitprov/config.toml").read_text()
    assert (logs / "storage.log").is_file()
    assert (logs / "trace.jsonl").is_file()
