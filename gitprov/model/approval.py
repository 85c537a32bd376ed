"""Approval records, the bytes they sign, and the two files that say who may approve.

An ``approval`` note record says: this identity, acting in this role, approves the
checkpoint with this digest at this commit. Its ``signature`` (an armored SSH signature,
namespace ``gitprov``) covers the canonical JSON of every other field of the record
except ``id``: ``at`` and ``type`` are signed, so neither the time (which picks the key's
validity window) nor the meaning can be edited without breaking it.

``.gitprov/owners.toml`` maps roles to identities; ``.gitprov/allowed_signers`` is
OpenSSH's allowed-signers file, the same format git's ``gpg.ssh.allowedSignersFile`` uses.
Everything here is pure: parsing and matching, no processes.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gitprov.errors import ConfigError
from gitprov.model.notes import canonical_json

TYPE = "approval"
NAMESPACE = "gitprov"
OWNERS_PATH = ".gitprov/owners.toml"
ALLOWED_SIGNERS_PATH = ".gitprov/allowed_signers"
UNSIGNED_FIELDS = frozenset({"id", "signature"})
_EMAIL = re.compile(r"<([^<>]+)>\s*$")


def approval_fields(
    *, checkpoint: str, digest: str, role: str, approver: str, comment: str, commit: str
) -> dict[str, object]:
    """The fields of an approval record before it is signed."""
    return {
        "checkpoint": checkpoint,
        "digest": digest,
        "role": role,
        "approver": approver,
        "comment": comment,
        "commit": commit,
    }


def signed_payload(record: Mapping[str, object]) -> bytes:
    """The bytes a signature covers: the record minus ``id`` and ``signature``, canonical.

    >>> signed_payload({"type": "approval", "at": "t", "id": "X", "signature": "s", "role": "r"})
    b'{"at":"t","role":"r","type":"approval"}'
    """
    unsigned = {k: v for k, v in record.items() if k not in UNSIGNED_FIELDS}
    return canonical_json(unsigned).encode("utf-8")


def email_of(identity: str) -> str:
    """The email in ``Name <email>`` (or the identity itself), lower-cased.

    >>> email_of("Ada Lovelace <Ada@Example.com>")
    'ada@example.com'
    """
    match = _EMAIL.search(identity)
    return (match.group(1) if match else identity).strip().lower()


def parse_owners(text: str, *, source: str) -> dict[str, tuple[str, ...]]:
    """``[roles]`` of owners.toml: role -> identities (``Name <email>`` or an email)."""
    try:
        doc = tomllib.loads(text)
    # ValueError: an integer of more than 4300 digits; RecursionError: arrays nested
    # ~1000 deep. Both come from hostile files (issue 9).
    except (ValueError, RecursionError) as exc:
        raise ConfigError(f"{source} is not valid TOML ({exc})", "Fix the syntax") from None
    roles = doc.get("roles", {})
    if not isinstance(roles, dict):
        raise ConfigError(f"{source}: 'roles' must be a table", "Write [roles] then role = [...]")
    parsed: dict[str, tuple[str, ...]] = {}
    for role, members in roles.items():
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ConfigError(
                f"{source}: roles.{role} must be a list of identities",
                f'Write {role} = ["Name <email>", "email"]',
            )
        parsed[role] = tuple(members)
    return parsed


def in_role(identity: str, members: tuple[str, ...]) -> bool:
    """Whether ``identity`` is one of ``members``, compared by email (case-insensitive)."""
    email = email_of(identity)
    return bool(email) and any(email_of(member) == email for member in members)


@dataclass(frozen=True)
class Signer:
    """One line of an allowed-signers file."""

    principals: tuple[str, ...]
    options: Mapping[str, str] = field(default_factory=dict)
    key: str = ""  # "key-type base64", as in a .pub file


def _tokens(line: str) -> list[str]:
    """Whitespace-separated tokens; double-quoted parts keep their spaces."""
    tokens: list[str] = []
    current, quoted = "", False
    for char in line:
        if char == '"':
            quoted = not quoted
            current += char
        elif char.isspace() and not quoted:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if current:
        tokens.append(current)
    return tokens


def _options(text: str) -> dict[str, str]:
    options: dict[str, str] = {}
    current, quoted, parts = "", False, []
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    for part in parts:
        name, _, value = part.partition("=")
        options[name.strip().lower()] = value.strip().strip('"')
    return options


def _is_key_type(token: str) -> bool:
    return token.startswith(("ssh-", "ecdsa-", "sk-"))


def parse_allowed_signers(text: str) -> list[Signer]:
    """The usable lines of an allowed-signers file (comments and odd lines skipped:
    ssh-keygen, which does the real verification, reads the same file)."""
    signers = []
    for line in text.splitlines():
        tokens = _tokens(line.strip())
        if not tokens or tokens[0].startswith("#") or len(tokens) < 3:
            continue
        principals = tuple(tokens[0].strip('"').split(","))
        if _is_key_type(tokens[1]):
            signers.append(Signer(principals, {}, f"{tokens[1]} {tokens[2]}"))
        elif len(tokens) >= 4 and _is_key_type(tokens[2]):
            signers.append(Signer(principals, _options(tokens[1]), f"{tokens[2]} {tokens[3]}"))
    return signers


def principal_matches(principal: str, patterns: tuple[str, ...]) -> bool:
    """OpenSSH pattern-list matching: wildcards, and a ``!pattern`` that matches vetoes."""
    lowered = principal.lower()
    if any(p.startswith("!") and fnmatch.fnmatchcase(lowered, p[1:].lower()) for p in patterns):
        return False
    return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in patterns if not p.startswith("!"))


def signers_for(signers: list[Signer], principal: str, key: str) -> list[Signer]:
    """The lines allowing ``key`` for ``principal`` in the gitprov namespace."""
    found = []
    for signer in signers:
        if signer.key != key or not principal_matches(principal, signer.principals):
            continue
        namespaces = signer.options.get("namespaces")
        if namespaces is not None and not principal_matches(
            NAMESPACE, tuple(namespaces.split(","))
        ):
            continue
        found.append(signer)
    return found


def _ssh_time(value: str) -> datetime | None:
    """An allowed-signers time (YYYYMMDD[HHMM[SS]][Z]) as UTC; None if unreadable."""
    digits = value.rstrip("Zz")
    if not digits.isdigit() or len(digits) not in (8, 12, 14):
        return None
    digits = digits.ljust(14, "0")
    try:
        return datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def within_window(signer: Signer, at: datetime) -> bool:
    """Whether ``at`` is inside the line's valid-after/valid-before (times read as UTC)."""
    after = _ssh_time(signer.options.get("valid-after", ""))
    before = _ssh_time(signer.options.get("valid-before", ""))
    if "valid-after" in signer.options and (after is None or at < after):
        return False
    return not ("valid-before" in signer.options and (before is None or at > before))


def verify_time(at: str) -> str:
    """A record's ``at`` (RFC 3339 UTC) as ssh-keygen's ``-Overify-time`` value.

    >>> verify_time("2026-11-23T11:35:05.123Z")
    '20261123113505Z'
    """
    return parse_at(at).strftime("%Y%m%d%H%M%SZ")


def parse_at(at: str) -> datetime:
    """A record's ``at`` as an aware datetime (ValueError if malformed)."""
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def signature_key(armored: str) -> str | None:
    """The public key (``key-type base64``) inside an armored SSH signature, or None.

    SSHSIG layout (OpenSSH PROTOCOL.sshsig): "SSHSIG", uint32 version, then the public
    key as an SSH string; the key blob itself starts with its type as an SSH string.
    """
    body = "".join(line for line in armored.splitlines() if line and not line.startswith("-----"))
    try:
        blob = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not blob.startswith(b"SSHSIG") or len(blob) < 14:
        return None
    length = int.from_bytes(blob[10:14], "big")
    key = blob[14 : 14 + length]
    if len(key) != length or len(key) < 4:
        return None
    type_length = int.from_bytes(key[:4], "big")
    key_type = key[4 : 4 + type_length].decode("ascii", errors="replace")
    return f"{key_type} {base64.b64encode(key).decode('ascii')}"
