"""Signed approvals with real ssh-keygen keys: approve, then verify every way it can fail."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gitprov.adapters import git_notes
from gitprov.errors import ExitCode
from gitprov.model import approval as model
from gitprov.services import approvals
from tests.conftest import Result, gen, git

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None,
    reason="ssh-keygen (OpenSSH client) is not installed: approvals are signed with it",
)

ME = "Test User <test@example.com>"


def keypair(directory: Path, name: str) -> tuple[Path, str]:
    """A fresh ed25519 key without passphrase: its private file and its public key text."""
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key, " ".join(key.with_suffix(".pub").read_text().split()[:2])


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir()
    return directory


@pytest.fixture
def project(committed_repo: Path, gitprov: Callable[..., Result], keys: Path) -> Path:
    """Set up, a tracked checkpoint committed, the user a reviewer with a trusted key."""
    repo = committed_repo
    assert gitprov("init").exit_code == 0
    gen(repo, {"models/m.pt": b"weights", ".gitprov/owners.toml": OWNERS})
    assert gitprov("track", "models/m.pt").exit_code == 0
    key, public = keypair(keys, "me")
    (repo / ".gitprov/allowed_signers").write_text(f"test@example.com {public}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "checkpoint")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    return repo


OWNERS = f'[roles]\nreviewer = ["{ME}"]\nrelease-manager = ["someone@example.com"]\n'


def verdicts(gitprov: Callable[..., Result]) -> list[dict[str, object]]:
    result = gitprov("approvals", "models/m.pt", "--json")
    assert result.exit_code == 0, result.stderr
    found: list[dict[str, object]] = json.loads(result.stdout)
    return found


def test_valid_approval_is_signed_recorded_and_verified(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("approve", "models/m.pt", "--role", "reviewer", "--comment", "looks good")
    assert result.exit_code == 0, result.stderr
    assert "approved models/m.pt" in result.stdout
    head = git(project, "rev-parse", "HEAD").strip()
    (line,) = [r for r in git_notes.read_note(project, head).splitlines() if '"approval"' in r]
    record = json.loads(line)
    assert record["approver"] == ME
    assert record["commit"] == head
    assert record["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    (found,) = verdicts(gitprov)
    assert (found["status"], found["role"], found["comment"]) == ("valid", "reviewer", "looks good")
    assert [v.valid for v in approvals.verified_approvals(project, "models/m.pt")] == [True]
    text = gitprov("approvals", "models/m.pt")
    assert text.stdout.startswith("valid")
    verified = gitprov("verify")  # gitprov verify checks signed records too
    assert verified.exit_code == 0, verified.stdout
    assert "1 signed records: all good" in verified.stdout


def _rewrite_note(repo: Path, edit: Callable[[str], str]) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    text = git_notes.read_note(repo, head)
    git(repo, "notes", "--ref=refs/notes/gitprov", "add", "-f", "-F", "-", head, stdin=edit(text))


def test_a_tampered_record_is_reported(project: Path, gitprov: Callable[..., Result]) -> None:
    assert gitprov("approve", "models/m.pt", "--role", "reviewer", "--comment", "ok").exit_code == 0
    _rewrite_note(project, lambda text: text.replace('"comment":"ok"', '"comment":"all fine"'))
    (found,) = verdicts(gitprov)
    assert found["status"] == "tampered"
    assert found["comment"] == "all fine"


def test_a_key_not_in_allowed_signers_is_unknown(
    project: Path, gitprov: Callable[..., Result], keys: Path
) -> None:
    other, _ = keypair(keys, "other")
    git(project, "config", "user.signingkey", str(other))
    assert gitprov("approve", "models/m.pt", "--role", "reviewer").exit_code == 0
    (found,) = verdicts(gitprov)
    assert found["status"] == "unknown_key"


def test_an_expired_key_is_outside_its_validity_window(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("approve", "models/m.pt", "--role", "reviewer").exit_code == 0
    signers = project / ".gitprov/allowed_signers"
    principal, public = signers.read_text().split(" ", 1)
    signers.write_text(f'{principal} valid-before="20200101Z" {public}')
    assert verdicts(gitprov)[0]["status"] == "valid"  # trust changes only by a commit
    commit_trust(project, "the key expired in 2020")
    (found,) = verdicts(gitprov)
    assert found["status"] == "outside_window"
    # Within a window that covers the record's time, the same signature is valid again.
    signers.write_text(f'{principal} valid-after="20200101Z",namespaces="gitprov" {public}')
    commit_trust(project, "the key is valid from 2020")
    assert verdicts(gitprov)[0]["status"] == "valid"


def commit_trust(repo: Path, message: str) -> None:
    git(repo, "add", ".gitprov/allowed_signers", ".gitprov/owners.toml")
    git(repo, "commit", "-q", "-m", message)


def test_an_uncommitted_signer_is_not_trusted(
    project: Path, gitprov: Callable[..., Result], keys: Path
) -> None:
    other, public = keypair(keys, "other")
    git(project, "config", "user.signingkey", str(other))
    assert gitprov("approve", "models/m.pt", "--role", "reviewer").exit_code == 0
    signers = project / ".gitprov/allowed_signers"
    signers.write_text(signers.read_text() + f"test@example.com {public}\n")
    assert verdicts(gitprov)[0]["status"] == "unknown_key"
    commit_trust(project, "a second key for the reviewer")
    assert verdicts(gitprov)[0]["status"] == "valid"


def test_removed_from_the_role_after_approving(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    assert gitprov("approve", "models/m.pt", "--role", "reviewer").exit_code == 0
    (project / ".gitprov/owners.toml").write_text('[roles]\nreviewer = ["x@example.com"]\n')
    commit_trust(project, "someone else reviews now")
    assert verdicts(gitprov)[0]["status"] == "not_in_role"


def test_approvals_follow_the_current_digest(project: Path, gitprov: Callable[..., Result]) -> None:
    assert gitprov("approve", "models/m.pt", "--role", "reviewer").exit_code == 0
    (project / "models/m.pt").write_bytes(b"new weights")
    assert gitprov("track", "models/m.pt").exit_code == 0
    git(project, "commit", "-q", "-am", "retrained")
    assert verdicts(gitprov) == []
    assert "no approvals" in gitprov("approvals", "models/m.pt").stdout


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ("--role", "auditor"), "role 'auditor' is not in .gitprov/owners.toml"),
        (None, ("--role", "release-manager"), "is not in role 'release-manager'"),
        (("--unset", "user.signingkey"), ("--role", "reviewer"), "no signing key is configured"),
        (("gpg.format", "openpgp"), ("--role", "reviewer"), "SSH keys only"),
        (("user.signingkey", "key::ssh-ed25519 AAAA"), ("--role", "reviewer"), "literal public"),
    ],
)
def test_approve_refusals_are_one_line_with_the_fix(
    project: Path,
    gitprov: Callable[..., Result],
    setup: tuple[str, ...] | None,
    args: tuple[str, ...],
    message: str,
) -> None:
    if setup:
        git(project, "config", *setup)
    result = gitprov("approve", "models/m.pt", *args)
    assert result.exit_code in (ExitCode.FAILED, ExitCode.USAGE)
    (line,) = result.stderr.splitlines()
    assert message in line
    if "signing key" in message:
        assert "git config gpg.format ssh" in line
        assert "git config user.signingkey" in line
    assert "AAAA" not in line  # no key material in messages
    assert approvals.verified_approvals(project, "models/m.pt") == []


def test_an_untracked_checkpoint_is_refused(project: Path, gitprov: Callable[..., Result]) -> None:
    result = gitprov("approve", "README.md", "--role", "reviewer")
    assert result.exit_code == ExitCode.FAILED
    assert "is not tracked by gitprov" in result.stderr


def test_allowed_signers_parsing() -> None:
    text = (
        "# team keys\n"
        "a@x.com,*@y.org ssh-ed25519 AAAA1 comment\n"
        'b@x.com namespaces="git,gitprov",valid-after="20240101" ssh-ed25519 AAAA2\n'
        'c@x.com namespaces="git" ssh-ed25519 AAAA3\n'
    )
    signers = model.parse_allowed_signers(text)
    assert [s.key for s in signers] == [
        "ssh-ed25519 AAAA1",
        "ssh-ed25519 AAAA2",
        "ssh-ed25519 AAAA3",
    ]
    assert signers[1].options == {"namespaces": "git,gitprov", "valid-after": "20240101"}
    assert model.signers_for(signers, "z@y.org", "ssh-ed25519 AAAA1")
    assert model.signers_for(signers, "b@x.com", "ssh-ed25519 AAAA2")
    assert not model.signers_for(signers, "c@x.com", "ssh-ed25519 AAAA3")  # namespace git only
    assert not model.signers_for(signers, "a@x.com", "ssh-ed25519 AAAA2")
    assert model.in_role("A <A@X.com>", ("a@x.com",))
    assert not model.in_role("", ("a@x.com",))
