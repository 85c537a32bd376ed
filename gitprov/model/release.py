"""Release records: the version, the tag, and the in-toto verification summary they sign.

``gitprov release CHECKPOINT --version X`` appends one ``release`` note record on the
released commit and creates an annotated tag whose message carries the record's id on a
``Gitprov-Release: <id>`` line. The record holds:

- ``checkpoint``, ``digest``, ``commit``, ``version``, ``tag``, ``releaser``;
- ``checklist``: the checklist verdict (``passed``, the checklist file's digest, and each
  check's id, status and severity);
- ``statement``: an in-toto Statement v1 with a SLSA Verification Summary (VSA v1)
  predicate (https://slsa.dev/spec/v1.0/verification_summary): "gitprov verified this
  checkpoint against this checklist (the policy, pinned by digest) and it PASSED";
- ``signature``: an armored SSH signature (namespace ``gitprov``) over the canonical JSON
  of every other field except ``id``, exactly as an approval record is signed
  (:func:`gitprov.model.approval.signed_payload`).

Versions are SemVer 2.0.0 (https://semver.org): a model version is read by tools in
every language (registries, the Hugging Face Hub, deployment manifests), and SemVer has
one spelling per version, where PEP 440 would make ``1.0``, ``1.0.0`` and ``v1.0`` the
same release under three tag names.

Pure: no processes, no files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gitprov.errors import ConfigError, UsageError
from gitprov.model.checklist import CHECKLIST_PATH, Report

TYPE = "release"
MARKER = "Gitprov-Release"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
# The same public home as the provenance export's builder ids (model.exports.context.HOME).
VERIFIER_ID = "https://gitprov.invalid/verifiers/release-checklist/v1"
PASSED = "PASSED"
# A custom level, as the VSA spec allows ("<ORGANIZATION>_<LEVEL>"): not a SLSA build level.
VERIFIED_LEVEL = "GITPROV_RELEASE_CHECKLIST_PASSED"
DEFAULT_TAG_FORMAT = "{name}-v{version}"
TAG_PLACEHOLDERS = ("name", "version")

# semver.org's own regular expression, without the optional leading "v".
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MARKER_LINE = re.compile(rf"^{MARKER}:[ \t]*(\S+)[ \t]*$", re.MULTILINE)


def check_version(version: str) -> str:
    """``version`` if it is SemVer 2.0.0, else a UsageError saying how to write it.

    >>> check_version("1.0.0-rc.1+build.5")
    '1.0.0-rc.1+build.5'
    """
    if _SEMVER.fullmatch(version):
        return version
    hint = version[1:] if version[:1] in "vV" and _SEMVER.fullmatch(version[1:]) else None
    raise UsageError(
        f"version {version!r} is not a SemVer 2.0.0 version (MAJOR.MINOR.PATCH)",
        f"Use --version {hint}" if hint else "Use e.g. --version 1.0.0 or --version 1.1.0-rc.1",
    )


def model_name(checkpoint: str) -> str:
    """The ``{name}`` of a tag: the checkpoint's file name without its extension, made
    safe for a ref name.

    >>> model_name("models/resnet 50.pt")
    'resnet-50'
    """
    base = checkpoint.rstrip("/").rpartition("/")[2]
    stem = base.rpartition(".")[0] if "." in base.lstrip(".") else base
    return _NAME_UNSAFE.sub("-", stem).strip(".-") or "model"


def tag_name(tag_format: str, *, checkpoint: str, version: str) -> str:
    """The tag for a release, from ``[release] tag_format`` (placeholders ``{name}`` and
    ``{version}``); git checks the result is a valid ref name.

    >>> tag_name(DEFAULT_TAG_FORMAT, checkpoint="models/m.pt", version="1.0.0")
    'm-v1.0.0'
    """
    try:
        return tag_format.format(name=model_name(checkpoint), version=version)
    except (KeyError, IndexError, ValueError):
        raise ConfigError(
            f"[release] tag_format {tag_format!r} in .gitprov/config.toml is not a valid format",
            "Use only the placeholders {name} and {version}, e.g. "
            f'tag_format = "{DEFAULT_TAG_FORMAT}"',
        ) from None


def tag_format(config: Mapping[str, Any]) -> str:
    """``[release] tag_format`` of the parsed project config, or the default."""
    table = config.get("release", {})
    value = table.get("tag_format", DEFAULT_TAG_FORMAT) if isinstance(table, dict) else None
    if not isinstance(value, str) or "{version}" not in value:
        raise ConfigError(
            ".gitprov/config.toml: [release] tag_format must be a string containing {version}",
            f'Set tag_format = "{DEFAULT_TAG_FORMAT}" (or remove it for that default)',
        )
    return value


def checklist_summary(report: Report) -> dict[str, Any]:
    """What a release record keeps of the checklist run: verdict, policy digest, each check."""
    return {
        "passed": report.passed,
        "config_digest": report.config_digest,
        "results": [
            {"check": r.check, "status": r.status, "severity": r.severity} for r in report.results
        ],
    }


def _sha256_hex(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", hexpart):
        raise ValueError(f"not a sha256 digest: {digest[:80]!r}")
    return hexpart


def statement(
    *,
    checkpoint: str,
    digest: str,
    at: str,
    resource_uri: str,
    policy_digest: str,
    passed: bool,
    gitprov_version: str,
) -> dict[str, Any]:
    """The in-toto Statement v1 with a SLSA VSA v1 predicate for one checked checkpoint."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": checkpoint, "digest": {"sha256": _sha256_hex(digest)}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": {"gitprov": gitprov_version}},
            "timeVerified": at,
            "resourceUri": resource_uri,
            "policy": {"uri": CHECKLIST_PATH, "digest": {"sha256": _sha256_hex(policy_digest)}},
            "verificationResult": PASSED if passed else "FAILED",
            "verifiedLevels": [VERIFIED_LEVEL] if passed else [],
        },
    }


def release_fields(
    *,
    checkpoint: str,
    digest: str,
    commit: str,
    version: str,
    tag: str,
    releaser: str,
    report: Report,
    statement: Mapping[str, Any],
) -> dict[str, object]:
    """The fields of a release record before it is signed."""
    return {
        "checkpoint": checkpoint,
        "digest": digest,
        "commit": commit,
        "version": version,
        "tag": tag,
        "releaser": releaser,
        "checklist": checklist_summary(report),
        "statement": dict(statement),
    }


def tag_message(
    *, checkpoint: str, digest: str, version: str, record_id: str, message: str | None
) -> str:
    """The annotated tag's message: the user's text (or a title), then trailers that
    name the release; the last one, ``Gitprov-Release``, is what pre-push looks for."""
    title = (message or "").strip() or f"Release {checkpoint} {version}"
    return (
        f"{title}\n\n"
        f"Checkpoint: {checkpoint}\n"
        f"Digest: {digest}\n"
        f"Version: {version}\n"
        f"{MARKER}: {record_id}\n"
    )


def marker_id(tag_text: str) -> str | None:
    """The release record id a tag object's text names (its last marker line), or None.

    >>> marker_id("object abc\\ntype commit\\n\\nRelease\\n\\nGitprov-Release: 01JD\\n")
    '01JD'
    """
    found = _MARKER_LINE.findall(tag_text)
    return found[-1] if found else None


@dataclass(frozen=True)
class TagObject:
    """What an annotated tag object says."""

    object: str  # the tagged object
    type: str  # its type: "commit" for a release
    name: str  # the tag's own name (the ``tag`` header)
    message: str  # everything after the headers (a signature included)


def parse_tag_object(text: str) -> TagObject:
    """Parse ``git cat-file tag`` output.

    >>> parse_tag_object("object ab\\ntype commit\\ntag v1\\ntagger T <t> 1 +0000\\n\\nhi\\n").name
    'v1'
    """
    head, _, message = text.partition("\n\n")
    headers: dict[str, str] = {}
    for line in head.splitlines():
        key, _, value = line.partition(" ")
        headers.setdefault(key, value)
    return TagObject(
        headers.get("object", ""), headers.get("type", ""), headers.get("tag", ""), message
    )


@dataclass(frozen=True)
class Release:
    """One release record as found in the notes."""

    id: str
    at: str
    checkpoint: str
    digest: str
    commit: str
    version: str
    tag: str
    releaser: str
    passed: bool  # the checklist verdict the record states
    result: str  # the statement's verificationResult
    config_digest: str


def parse_release(record: Mapping[str, object]) -> Release:
    """A ``release`` note record as a Release (missing fields empty, never an error)."""

    def text(name: str, source: Mapping[str, object] = record) -> str:
        value = source.get(name)
        return value if isinstance(value, str) else ""

    checklist = record.get("checklist")
    checklist = checklist if isinstance(checklist, dict) else {}
    stmt = record.get("statement")
    predicate = stmt.get("predicate") if isinstance(stmt, dict) else None
    predicate = predicate if isinstance(predicate, dict) else {}
    return Release(
        id=text("id"),
        at=text("at"),
        checkpoint=text("checkpoint"),
        digest=text("digest"),
        commit=text("commit"),
        version=text("version"),
        tag=text("tag"),
        releaser=text("releaser"),
        passed=checklist.get("passed") is True,
        result=text("verificationResult", predicate),
        config_digest=text("config_digest", checklist),
    )


def subject_digest(record: Mapping[str, object]) -> str:
    """``sha256:<hex>`` of the statement's first subject ("" when absent)."""
    stmt = record.get("statement")
    subjects = stmt.get("subject") if isinstance(stmt, dict) else None
    if not isinstance(subjects, list) or not subjects or not isinstance(subjects[0], dict):
        return ""
    digest = subjects[0].get("digest")
    value = digest.get("sha256") if isinstance(digest, dict) else None
    return f"sha256:{value}" if isinstance(value, str) else ""
