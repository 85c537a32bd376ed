"""Signing and verifying with the user's git signing key, through ``ssh-keygen -Y``.

gitprov follows git's own settings: ``gpg.format ssh`` and ``user.signingkey`` (a key
file). OpenPGP and X.509 (``gpg.format`` unset, ``openpgp`` or ``x509``) are refused with
the commands that switch to SSH signing: one verification path (allowed_signers, with
validity windows and namespaces) is easier to trust than two. No message ever includes
key material: only the key file's path.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gitprov.adapters.git import GitConfig
from gitprov.errors import GitprovError

_SET_KEY = (
    "Run 'git config gpg.format ssh' and 'git config user.signingkey ~/.ssh/id_ed25519.pub' "
    "(any SSH key file of yours; docs/approvals.md)"
)


class SigningError(GitprovError):
    """No usable signing key, or the signing program failed."""


@dataclass(frozen=True)
class VerifyResult:
    """What ``ssh-keygen -Y verify`` said: ``ok`` and its first line of explanation."""

    ok: bool
    detail: str


def signing_key(cwd: Path) -> Path:
    """The SSH key file git would sign with, or a SigningError that says how to set one."""
    config = GitConfig(cwd)
    key = config.get("user.signingkey")
    fmt = (config.get("gpg.format") or "openpgp").lower()
    if not key:
        raise SigningError("no signing key is configured in git", _SET_KEY)
    if fmt != "ssh":
        raise SigningError(
            f"gpg.format is '{fmt}': gitprov signs approvals with SSH keys only",
            _SET_KEY,
        )
    if key.startswith(("key::", "ssh-", "ecdsa-", "sk-")):
        raise SigningError(
            "user.signingkey is a literal public key, which gitprov does not support",
            "Set it to the key's file instead: 'git config user.signingkey ~/.ssh/id_ed25519.pub'",
        )
    path = Path(os.path.expanduser(key))
    if not path.is_absolute():
        path = cwd / path
    if not path.is_file():
        raise SigningError(
            f"user.signingkey names {path}, which is not a file",
            "Point it at an existing SSH key: 'git config user.signingkey PATH'",
        )
    return path


def _ssh_keygen(args: list[str], *, stdin: bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["ssh-keygen", *args], input=stdin, capture_output=True, cwd=cwd, check=False
        )
    except FileNotFoundError:
        raise SigningError(
            "ssh-keygen is not installed or not on PATH",
            "Install OpenSSH 8.2 or newer (e.g. 'apt-get install openssh-client')",
        ) from None


def _first_line(raw: bytes) -> str:
    lines = raw.decode("utf-8", errors="replace").strip().splitlines()
    useful = [line for line in lines if "standard input" not in line]
    return (useful or lines or [""])[0][:200]


def ssh_sign(key: Path, data: bytes, *, namespace: str, cwd: Path) -> str:
    """An armored SSH signature of ``data`` made with ``key`` in ``namespace``."""
    proc = _ssh_keygen(["-Y", "sign", "-f", str(key), "-n", namespace], stdin=data, cwd=cwd)
    if proc.returncode != 0 or b"BEGIN SSH SIGNATURE" not in proc.stdout:
        raise SigningError(
            f"ssh-keygen could not sign with {key}: {_first_line(proc.stderr)}",
            "Check the key file (and ssh-agent for a .pub key), e.g. 'ssh-keygen -y -f KEY'",
        )
    return proc.stdout.decode("ascii").strip() + "\n"


def ssh_verify(
    *,
    allowed_signers: str,
    principal: str,
    namespace: str,
    signature: str,
    data: bytes,
    verify_time: str,
    cwd: Path,
) -> VerifyResult:
    """``ssh-keygen -Y verify`` of ``signature`` over ``data`` at ``verify_time``, against
    ``allowed_signers`` (the file's text: callers read it from a commit, so that trust is
    what the history says, never an uncommitted edit)."""
    with tempfile.TemporaryDirectory(prefix="gitprov-verify-") as tmp:
        sig = Path(tmp) / "record.sig"
        sig.write_text(signature, encoding="ascii", errors="replace")
        signers = Path(tmp) / "allowed_signers"
        signers.write_text(allowed_signers, encoding="utf-8")
        args = ["-Y", "verify", "-f", str(signers), "-I", principal, "-n", namespace]
        args += ["-s", str(sig), f"-Overify-time={verify_time}"]
        proc = _ssh_keygen(args, stdin=data, cwd=cwd)
    if proc.returncode == 0:
        return VerifyResult(True, _first_line(proc.stdout))
    return VerifyResult(False, _first_line(proc.stderr) or _first_line(proc.stdout))
