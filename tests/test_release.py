"""gitprov release: the checklist must pass, the bytes must be on a remote, the record is
signed and the tag names it; pushing a release tag without a valid record is refused.

Real git, real ssh-keygen keys, a directory artifact store and a bare git remote; pushes
go through the installed hooks.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

from gitprov import __version__
from gitprov.adapters import git_notes, signing
from gitprov.errors import ConfigError, ExitCode, GitprovError, UsageError
from gitprov.model import approval as signed
from gitprov.model import checklist as checklist_model
from gitprov.model import release as model
from gitprov.model.notes import canonical_json
from gitprov.services import push_check, release_verify
from gitprov.services import release as service
from gitprov.services.workspace import find, open_workspace
from tests.conftest import Result, gen, git
from tests.test_layers import run_hook_probe

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None,
    reason="ssh-keygen (OpenSSH client) is not installed: releases are signed with it",
)

ME = "test@example.com"
# Only the checks this file exercises: the full checklist is tested in its own files.
CHECKLIST = """\
[checks]
card-complete = "off"
intended-use = "off"
license-valid = "off"
license-compatible = "off"
datasets-pinned = "off"
lineage-consistent = "off"
evaluation = "off"
dependencies = "off"
plan-deviations = "off"
artifact-on-remote = "off"
approvals = "off"
"""
LIMITATIONS = (
    "## Bias, Risks, and Limitations\n\n[More Information Needed]\n\n"
    "### Recommendations\n\n[More Information Needed]\n"
)
WRITTEN = (
    "## Bias, Risks, and Limitations\n\nFails on images smaller than 32x32 pixels.\n\n"
    "### Recommendations\n\nUpscale small images first.\n"
)


def keypair(directory: Path, name: str) -> tuple[Path, str]:
    """A fresh ed25519 key without passphrase: its private file and its public key text."""
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key, " ".join(key.with_suffix(".pub").read_text().split()[:2])


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"{result.stdout}\n{result.stderr}"
    return result


def sh(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A real command in its own process (git push runs the installed hooks)."""
    return subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def project(
    committed_repo: Path, gitprov: Callable[..., Result], bare_remote: Path, tmp_path: Path
) -> Path:
    """gitprov set up with a bare git remote 'origin' and a directory artifact store for it,
    a tracked checkpoint with a card whose limitations are written, the user's SSH key
    trusted; all committed, the bytes not uploaded yet."""
    repo = committed_repo
    ok(gitprov("init"))
    git(repo, "remote", "add", "origin", str(bare_remote))
    ok(gitprov("remote", "add", "origin", str(tmp_path / "store")))
    gen(repo, {"models/m.pt": b"weights", ".gitprov/checklist.toml": CHECKLIST})
    ok(gitprov("track", "models/m.pt"))
    ok(gitprov("card", "new", "models/m.pt"))
    card = repo / "models/m.card.md"
    assert LIMITATIONS in card.read_text()
    card.write_text(card.read_text().replace(LIMITATIONS, WRITTEN))
    keys = tmp_path / "keys"
    keys.mkdir()
    key, public = keypair(keys, "me")
    (repo / ".gitprov/allowed_signers").write_text(f"{ME} {public}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "checkpoint m with its card")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    return repo


def uploaded(repo: Path, gitprov: Callable[..., Result]) -> Path:
    ok(gitprov("push", "models/m.pt"))
    return repo


def release_records(repo: Path) -> list[dict[str, Any]]:
    head = git(repo, "rev-parse", "HEAD").strip()
    lines = git_notes.read_note(repo, head).splitlines()
    return [json.loads(line) for line in lines if '"type":"release"' in line]


def check_vsa(statement: dict[str, Any]) -> None:
    """The statement read back by in-toto's own library: Statement v1 strictly (unknown
    keys fail), then the VSA v1 predicate with its protobuf message.

    Two fields are compared by hand rather than by the protobuf: the in-toto-attestation
    0.9 VSA proto has ``verifiedLevels`` as one string where the SLSA VSA v1 spec has an
    array (in-toto/attestation#425, fix in #429), and it lacks ``verifier.version``.
    The spec is authoritative, so the record follows it.
    """
    text = json.dumps(statement)
    pb = json_format.Parse(text, statement_pb2.Statement())
    Statement.copy_from_pb(pb).validate()
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/verification_summary/v1"
    predicate = dict(statement["predicate"])
    levels = predicate.pop("verifiedLevels")
    assert isinstance(levels, list)
    assert all(isinstance(level, str) for level in levels)
    verifier = dict(predicate.pop("verifier"))
    assert verifier.pop("version") == {"gitprov": verifier_version()}
    summary = json_format.ParseDict(
        {**predicate, "verifier": verifier}, vsa_pb2.VerificationSummary()
    )
    assert summary.verification_result == "PASSED"
    assert summary.verifier.id.startswith("https://")
    assert summary.policy.uri == ".gitprov/checklist.toml"
    assert summary.time_verified.seconds > 0


def verifier_version() -> str:
    return __version__


# --- refusals ----------------------------------------------------------------------------


def test_release_refused_when_the_checklist_fails_naming_the_check(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    uploaded(project, gitprov)
    card = project / "models/m.card.md"
    card.write_text(card.read_text().replace(WRITTEN, LIMITATIONS))
    git(project, "commit", "-q", "-am", "limitations removed")

    result = gitprov("release", "models/m.pt", "--version", "1.0.0")

    assert result.exit_code == ExitCode.FAILED
    assert "does not pass the release checklist: limitations failed" in result.stderr
    assert "Bias, Risks, and Limitations" in result.stderr
    assert release_records(project) == []
    assert git(project, "tag", "--list") == ""


def test_release_refused_when_the_artifact_is_on_no_remote(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    result = gitprov("release", "models/m.pt", "--version", "1.0.0")

    assert result.exit_code == ExitCode.FAILED
    assert "models/m.pt (sha256:" in result.stderr
    assert "is on none of the artifact remotes (origin)" in result.stderr
    assert "gitprov push models/m.pt" in result.stderr
    assert release_records(project) == []
    assert git(project, "tag", "--list") == ""


def test_release_refuses_before_checking_and_writes_nothing(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    """A version that is not SemVer, an uncommitted card, no signing key: each refused
    before the checklist runs, and nothing is recorded or tagged."""
    uploaded(project, gitprov)

    result = gitprov("release", "models/m.pt", "--version", "v1.0.0")
    assert result.exit_code == ExitCode.USAGE
    assert "'v1.0.0' is not a SemVer 2.0.0 version" in result.stderr
    assert "Use --version 1.0.0" in result.stderr

    card = project / "models/m.card.md"
    committed = card.read_text()
    card.write_text(committed + "\nMore words.\n")
    result = gitprov("release", "models/m.pt", "--version", "1.0.0")
    assert result.exit_code == ExitCode.FAILED
    assert "models/m.card.md has uncommitted changes: a release describes a commit" in (
        result.stderr
    )
    card.write_text(committed)

    git(project, "config", "--unset", "user.signingkey")
    result = gitprov("release", "models/m.pt", "--version", "1.0.0")
    assert result.exit_code == ExitCode.FAILED
    assert "no signing key is configured in git" in result.stderr

    assert release_records(project) == []
    assert git(project, "tag", "--list") == ""


# --- a release ---------------------------------------------------------------------------


def test_release_records_a_signed_vsa_and_tags_head(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    uploaded(project, gitprov)
    head = git(project, "rev-parse", "HEAD").strip()

    result = gitprov("release", "models/m.pt", "--version", "1.0.0", "-m", "First release")

    assert result.exit_code == 0, result.stderr
    assert "released models/m.pt 1.0.0" in result.stdout
    assert "as tag m-v1.0.0" in result.stdout
    (record,) = release_records(project)
    digest = json.loads(json.dumps(record))["digest"]
    assert (record["checkpoint"], record["version"], record["tag"]) == (
        "models/m.pt",
        "1.0.0",
        "m-v1.0.0",
    )
    assert record["commit"] == head
    assert record["releaser"] == f"Test User <{ME}>"
    assert record["checklist"]["passed"] is True
    checks = {r["check"]: r["status"] for r in record["checklist"]["results"]}
    assert checks["limitations"] == "pass"
    policy = (project / ".gitprov/checklist.toml").read_bytes()
    assert record["checklist"]["config_digest"] == "sha256:" + hashlib.sha256(policy).hexdigest()
    assert record["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    statement = record["statement"]
    check_vsa(statement)
    assert statement["subject"] == [{"name": "models/m.pt", "digest": {"sha256": digest[7:]}}]
    assert (
        statement["predicate"]["policy"]["digest"]["sha256"] == hashlib.sha256(policy).hexdigest()
    )
    assert statement["predicate"]["timeVerified"] == record["at"]
    assert statement["predicate"]["resourceUri"].endswith(f"@{head}#models/m.pt")

    # The annotated tag is on HEAD and names the checkpoint, digest, version and record.
    assert git(project, "cat-file", "-t", "m-v1.0.0").strip() == "tag"
    assert git(project, "rev-parse", "m-v1.0.0^{commit}").strip() == head
    message = git(project, "tag", "-l", "--format=%(contents)", "m-v1.0.0")
    assert message.startswith("First release\n")
    for line in ("Checkpoint: models/m.pt", f"Digest: {digest}", "Version: 1.0.0"):
        assert line in message
    assert f"Gitprov-Release: {record['id']}" in message

    verdict = release_verify.verify_release(cwd=project, tag="m-v1.0.0")
    assert (verdict.status, verdict.valid, verdict.record_id) == ("valid", True, record["id"])
    listed = gitprov("releases", "--json")
    assert listed.exit_code == 0, listed.stderr
    (entry,) = json.loads(listed.stdout)
    assert (entry["tag"], entry["status"], entry["release"]["version"]) == (
        "m-v1.0.0",
        "valid",
        "1.0.0",
    )
    assert gitprov("releases", "models/m.pt").stdout.startswith("valid")
    assert "no release tags" in gitprov("releases", "README.md").stdout

    again = gitprov("release", "models/m.pt", "--version", "1.0.0")
    assert again.exit_code == ExitCode.USAGE
    assert "tag m-v1.0.0 already exists" in again.stderr
    assert len(release_records(project)) == 1


def test_tag_format_is_configurable(project: Path, gitprov: Callable[..., Result]) -> None:
    uploaded(project, gitprov)
    config = project / ".gitprov/config.toml"
    config.write_text(config.read_text() + '\n[release]\ntag_format = "models/{name}/{version}"\n')
    git(project, "commit", "-q", "-am", "tag format")
    ok(gitprov("release", "models/m.pt", "--version", "2.0.0-rc.1"))
    assert git(project, "tag", "--list").split() == ["models/m/2.0.0-rc.1"]


def test_a_fake_checklist_can_stand_in_and_its_failures_are_listed(project: Path) -> None:
    def failing(**kwargs: Any) -> list[checklist_model.Report]:
        assert kwargs["checkpoints"] == ["models/m.pt"]
        results = (
            checklist_model.Result("evaluation", "metrics", "fail", "error", "no CI", "Add CI"),
            checklist_model.Result("approvals", "signed", "fail", "error", "none", "Approve"),
            checklist_model.Result("plan-deviations", "plan", "fail", "warning", "x", "y"),
        )
        return [
            checklist_model.Report(
                "models/m.pt", "sha256:" + "0" * 64, results, "sha256:" + "1" * 64
            )
        ]

    with pytest.raises(GitprovError) as caught:
        service.release(cwd=project, checkpoint="models/m.pt", version="1.0.0", checklist=failing)
    assert "evaluation, approvals failed (evaluation: no CI)" in caught.value.problem
    assert caught.value.fix.startswith("Add CI")


def test_version_rules() -> None:
    for good in ("0.0.1", "1.0.0", "1.2.3-rc.1", "1.0.0+build.7", "10.20.30-alpha-1.b"):
        assert model.check_version(good) == good
    for bad in ("1", "1.0", "v1.0.0", "1.0.0-", "1.0.0-01", "1.0.0 ", ""):
        with pytest.raises(UsageError):
            model.check_version(bad)


def test_a_directory_checkpoint_is_on_a_remote_once_pushed(
    committed_repo: Path, gitprov: Callable[..., Result], tmp_path: Path
) -> None:
    """A snapshot's root node stands for the tree: found only after 'gitprov push'."""
    ok(gitprov("init"))
    ok(gitprov("remote", "add", "origin", str(tmp_path / "store")))
    gen(committed_repo, {"models/ckpt/a.bin": b"a", "models/ckpt/sub/b.bin": b"bb"})
    ok(gitprov("track", "models/ckpt"))
    ws = open_workspace(committed_repo)
    tracked = find(ws, committed_repo, ["models/ckpt"])[0]
    assert tracked.pointer.is_tree
    with pytest.raises(GitprovError, match=r"models/ckpt \(sha256:.*is on none of"):
        service.find_on_remote(ws, tracked)
    ok(gitprov("push", "models/ckpt"))
    assert service.find_on_remote(ws, tracked) == ("origin", "origin")


def test_tag_names_and_their_format() -> None:
    assert model.model_name("models/resnet 50.pt") == "resnet-50"
    assert model.model_name("data/bert-base/") == "bert-base"
    assert model.tag_format({}) == "{name}-v{version}"
    assert model.tag_format({"release": {"tag_format": "v{version}"}}) == "v{version}"
    with pytest.raises(ConfigError, match="must be a string containing"):
        model.tag_format({"release": {"tag_format": "{name}"}})
    with pytest.raises(ConfigError, match="placeholders"):
        model.tag_name("{model}-{version}", checkpoint="m.pt", version="1.0.0")
    text = model.tag_message(
        checkpoint="m.pt", digest="sha256:ab", version="1.0.0", record_id="01X", message=None
    )
    assert text.startswith("Release m.pt 1.0.0\n\n")
    assert model.marker_id(text) == "01X"
    assert model.marker_id("Release\n\nGitprov-Release:\n") is None


def test_the_hook_marker_is_the_model_marker() -> None:
    assert f"\n{model.MARKER}:".encode() == push_check.RELEASE_MARKER


# --- the pre-push guard, through the installed hooks ------------------------------------


def push(repo: Path, *refs: str) -> subprocess.CompletedProcess[str]:
    return sh(repo, "git", "push", "origin", *refs)


def remote_tags(origin: Path) -> list[str]:
    return git(origin, "tag", "--list").split()


def test_push_of_a_released_tag_is_accepted_with_its_record(
    project: Path, gitprov: Callable[..., Result], bare_remote: Path
) -> None:
    uploaded(project, gitprov)
    ok(gitprov("release", "models/m.pt", "--version", "1.0.0"))
    assert push(project, "main").returncode == 0

    pushed = push(project, "--tags")

    assert pushed.returncode == 0, pushed.stderr
    assert remote_tags(bare_remote) == ["m-v1.0.0"]
    # The record travelled with it: the remote's notes hold it.
    head = git(project, "rev-parse", "HEAD").strip()
    remote_note = git(bare_remote, "notes", "--ref=gitprov", "show", head)
    assert '"type":"release"' in remote_note

    # The tag's message copied onto another tag names a record made for another tag
    # (mismatch), or, on a later commit, a record that commit does not have (no_record).
    message = git(project, "tag", "-l", "--format=%(contents)", "m-v1.0.0")
    git(project, "tag", "-a", "m-v1.0.1", "-m", message, "m-v1.0.0^{commit}")
    assert release_verify.verify_release(cwd=project, tag="m-v1.0.1").status == "mismatch"
    gen(project, {"README.md": "changed\n"})
    git(project, "commit", "-q", "-am", "later")
    git(project, "tag", "-a", "m-v1.0.2", "-m", message)
    assert release_verify.verify_release(cwd=project, tag="m-v1.0.2").status == "no_record"
    pushed = push(project, "m-v1.0.1", "m-v1.0.2")
    assert pushed.returncode != 0
    assert "refusing to push release tags m-v1.0.1, m-v1.0.2" in pushed.stderr
    assert "mismatch, the record is for tag 'm-v1.0.0', not 'm-v1.0.1'" in pushed.stderr
    assert remote_tags(bare_remote) == ["m-v1.0.0"]
    listed = gitprov("releases")
    assert listed.exit_code == ExitCode.FAILED
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [
        ["valid", "m-v1.0.0"],
        ["mismatch", "m-v1.0.1"],
        ["no_record", "m-v1.0.2"],
    ]


def test_push_of_a_hand_made_release_tag_is_refused(
    project: Path, gitprov: Callable[..., Result], bare_remote: Path
) -> None:
    uploaded(project, gitprov)
    assert push(project, "main").returncode == 0
    message = "Release\n\nGitprov-Release: 01JD3Q0000000000000000FAKE\n"
    git(project, "tag", "-a", "m-v9.9.9", "-m", message)
    git(project, "tag", "plain")  # a lightweight tag: not a release, pushed freely
    git(project, "tag", "-a", "annotated", "-m", "just a note")  # likewise

    pushed = push(project, "--tags")

    assert pushed.returncode != 0
    assert "refusing to push release tag m-v9.9.9" in pushed.stderr
    assert "no_record" in pushed.stderr
    assert remote_tags(bare_remote) == []
    skipping = sh(project, "git", "push", "origin", "m-v9.9.9", env={"GITPROV_SKIP_PUSH": "1"})
    assert skipping.returncode != 0, "skipping the upload does not skip the guard"
    assert remote_tags(bare_remote) == []
    assert push(project, "plain", "annotated").returncode == 0
    assert remote_tags(bare_remote) == ["annotated", "plain"]


def test_push_of_a_release_tag_with_a_tampered_record_is_refused(
    project: Path, gitprov: Callable[..., Result], bare_remote: Path
) -> None:
    uploaded(project, gitprov)
    ok(gitprov("release", "models/m.pt", "--version", "1.0.0"))
    head = git(project, "rev-parse", "HEAD").strip()
    text = git_notes.read_note(project, head)
    forged = text.replace('"version":"1.0.0"', '"version":"1.0.1"')
    assert forged != text
    git(project, "notes", "--ref=refs/notes/gitprov", "add", "-f", "-F", "-", head, stdin=forged)

    pushed = push(project, "main", "m-v1.0.0")

    assert pushed.returncode != 0
    assert "refusing to push release tag m-v1.0.0" in pushed.stderr
    assert "tampered" in pushed.stderr
    assert remote_tags(bare_remote) == []
    assert gitprov("releases").exit_code == ExitCode.FAILED
    verified = gitprov("verify")
    assert verified.exit_code == ExitCode.FAILED
    assert "FAIL  release tag m-v1.0.0: tampered" in verified.stdout


def test_an_untrusted_signer_is_refused_at_release_and_at_push(
    project: Path, gitprov: Callable[..., Result], bare_remote: Path
) -> None:
    uploaded(project, gitprov)
    trusted = git(project, "config", "user.signingkey").strip()
    other, public = keypair(project.parent / "keys", "other")
    git(project, "config", "user.signingkey", str(other))
    # An uncommitted line does not make a key trusted: trust changes by a commit only.
    signers = project / ".gitprov/allowed_signers"
    signers.write_text(signers.read_text() + f"{ME} {public}\n")
    refused = gitprov("release", "models/m.pt", "--version", "1.0.0")
    assert refused.exit_code == ExitCode.FAILED
    assert "the release would not verify (unknown_key" in refused.stderr
    assert release_records(project) == []
    assert git(project, "tag", "--list").strip() == ""
    git(project, "checkout", "-q", "--", ".gitprov/allowed_signers")

    # A record re-signed by that key behind gitprov's back is refused by the push guard.
    git(project, "config", "user.signingkey", trusted)
    ok(gitprov("release", "models/m.pt", "--version", "1.0.0"))
    head = git(project, "rev-parse", "HEAD").strip()
    text = git_notes.read_note(project, head)
    (record,) = release_records(project)
    payload = signed.signed_payload(record)
    forged_signature = signing.ssh_sign(other, payload, namespace=signed.NAMESPACE, cwd=project)
    line = next(ln for ln in text.splitlines() if '"type":"release"' in ln)
    forged_line = canonical_json({**record, "signature": forged_signature})
    forged = text.replace(line, forged_line)
    git(project, "notes", "--ref=refs/notes/gitprov", "add", "-f", "-F", "-", head, stdin=forged)

    pushed = push(project, "main", "m-v1.0.0")

    assert pushed.returncode != 0
    assert "unknown_key" in pushed.stderr
    assert remote_tags(bare_remote) == []


# --- the guard's cost: nothing for a push without a release tag -------------------------


@pytest.mark.parametrize(
    ("tag_message", "guarded"),
    [
        pytest.param(None, False, id="branch-only"),
        pytest.param("just a note", False, id="annotated-tag"),
        pytest.param("Release\n\nGitprov-Release: 01JD3Q0000000000000000FAKE", True, id="release"),
    ],
)
def test_the_guard_loads_nothing_unless_a_release_tag_is_pushed(
    committed_repo: Path, tag_message: str | None, guarded: bool
) -> None:
    """Through the hook entry point in a fresh interpreter (tests/test_layers.py's probe):
    a branch push or an ordinary tag push loads neither the release model nor its
    verification; a release tag loads the verification and, without a record, is refused."""
    gen(committed_repo, {".gitprov/config.toml": "schema = 1\n"})
    head = git(committed_repo, "rev-parse", "HEAD").strip()
    refs = f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"
    if tag_message is not None:
        git(committed_repo, "tag", "-a", "t1", "-m", tag_message)
        tag = git(committed_repo, "rev-parse", "t1").strip()
        refs += f"refs/tags/t1 {tag} refs/tags/t1 {'0' * 40}\n"

    report = run_hook_probe(committed_repo, ["pre-push", "origin", "/nowhere.git"], stdin=refs)

    loaded = report["loaded"]
    assert isinstance(loaded, list)
    assert ("gitprov.services.release_verify" in loaded) is guarded
    assert ("gitprov.model.release" in loaded) is guarded
    assert (report["exit"] != 0) is guarded


def test_release_judges_the_commit_not_uncommitted_files(
    project: Path, gitprov: Callable[..., Result]
) -> None:
    uploaded(project, gitprov)
    ok(gitprov("decision", "new", "Ship m", "--no-edit"))
    (record,) = (project / "decisions").glob("*.md")
    ident = record.name.split("-")[0]
    ok(gitprov("decision", "link", ident, "--artifact", "models/m.pt"))
    clean = record.read_text()
    record.write_text(clean + "\nThe bucket key was AKIAIOSFODNN7EXAMPLE.\n")
    git(project, "add", "decisions")
    git(project, "commit", "-q", "--no-verify", "-m", "decision, with a leaked key")
    record.write_text(clean)  # removed from the work tree only

    refused = gitprov("release", "models/m.pt", "--version", "1.0.0")

    assert refused.exit_code == ExitCode.FAILED
    assert "no-secrets" in refused.stderr
    assert "AKIAIOSFODNN7EXAMPLE" not in refused.stderr
    assert release_records(project) == []
