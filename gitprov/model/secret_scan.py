"""Secrets and listed personal data in the texts a release carries (``no-secrets``).

Three sources of shapes, each reported as ``<source>:<line>: <kind>`` and never with the
value or the line that holds it (a report is printed, logged and pasted into reviews):

* detect-secrets' plugins for credential shapes (:data:`DETECTORS`), chosen one by one.
  Left out on purpose (:data:`LEFT_OUT`): the two high-entropy plugins, since cards, run
  records and notes are full of sha256 digests, snapshot ids and ULIDs, which they would
  all flag; the keyword plugin, which flags any quoted value assigned to a name like
  ``password`` or ``secret`` (documentation examples, placeholders) rather than a
  credential's shape; the public-IP plugin (an address is not a credential; list it as
  PII if it matters); and four plugins for IBM Cloud, Cloudant, SoftLayer and Mailchimp,
  which find keys only by a keyword nearby and together took most of the scan time.
  The plugins are used directly (``analyze_string``), so nothing is ever verified over
  the network and detect-secrets' global settings are neither read nor changed; the
  heuristic filters that suit them (sequential strings, templates such as ``${TOKEN}``,
  values without a letter such as ``***``) are applied as detect-secrets applies them.
* gitprov's own shapes for tokens ML teams handle that detect-secrets does not know
  (:data:`OWN_SHAPES`): Hugging Face, GitHub fine-grained, OpenAI project, Anthropic,
  Google API and Weights & Biases keys.
* the ``[[secrets.pii]]`` patterns of ``.gitprov/checklist.toml`` (multi-line mode: ``^``
  and ``$`` match at line ends), reported as ``pii: <name>``.

A line carrying detect-secrets' marker ``pragma: allowlist secret`` is not reported, nor
the line after ``pragma: allowlist nextline secret``. detect-secrets is imported on the
first scan (~0.2 s), never for a commit that has nothing to check.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gitprov.model.checklist import PiiPattern

# detect-secrets plugins used: (module in detect_secrets.plugins, class). The comment
# says what each finds that a model card, decision record or run record could leak.
DETECTORS: tuple[tuple[str, str], ...] = (
    ("aws", "AWSKeyDetector"),  # AKIA... key ids; secret keys assigned to aws_*key names
    ("artifactory", "ArtifactoryDetector"),
    ("azure_storage_key", "AzureStorageKeyDetector"),
    ("basic_auth", "BasicAuthDetector"),  # https://user:password@host (pip indexes, data URLs)
    ("discord", "DiscordBotTokenDetector"),
    ("github_token", "GitHubTokenDetector"),
    ("gitlab_token", "GitLabTokenDetector"),
    ("jwt", "JwtTokenDetector"),
    ("npm", "NpmDetector"),
    ("openai", "OpenAIDetector"),
    ("private_key", "PrivateKeyDetector"),  # the BEGIN line of a PEM/OpenSSH/PGP key
    ("pypi_token", "PypiTokenDetector"),
    ("sendgrid", "SendGridDetector"),
    ("slack", "SlackDetector"),  # tokens and webhook URLs
    ("square_oauth", "SquareOAuthDetector"),
    ("stripe", "StripeDetector"),
    ("telegram_token", "TelegramBotTokenDetector"),
    ("twilio", "TwilioKeyDetector"),
)
# detect-secrets plugins not used, and why (see the module docstring).
LEFT_OUT: dict[str, str] = {
    "Base64HighEntropyString": "flags every digest, snapshot id and ULID",
    "HexHighEntropyString": "flags every sha256 digest and commit hash",
    "KeywordDetector": "a name like 'password' beside a quoted value is not a credential shape",
    "IPPublicDetector": "an IP address is not a credential (list it under [[secrets.pii]])",
    "IbmCloudIamDetector": "keyword-context shape for one vendor; slowest of all",
    "IbmCosHmacDetector": "keyword-context shape for one vendor; slow",
    "CloudantDetector": "keyword-context shape for one vendor; slow",
    "SoftlayerDetector": "keyword-context shape for one vendor; slow",
    "MailchimpDetector": "marketing API keys; slow on long hexadecimal text",
}

_END = r"(?![A-Za-z0-9_-])"  # a token ends where its alphabet does
# gitprov's own shapes: (kind, needle, regex, needs mixed characters). The regex runs only
# on a text whose lower-case form holds the needle (one substring search instead of a
# regex at every position). A shape whose alphabet also spells ordinary words (sk-...,
# hf_...) must hold a digit, an upper-case and a lower-case letter, as generated tokens
# do, so that "sk-learn-Compatible" or "hf_hub_download" pass. Where two shapes match
# the same characters (sk-ant-...), the first one listed names it.
OWN_SHAPES: tuple[tuple[str, str, str, bool], ...] = (
    ("Hugging Face Token", "hf_", r"\bhf_[A-Za-z0-9]{30,}(?![A-Za-z0-9])", True),
    ("Hugging Face Token", "api_org_", r"\bapi_org_[A-Za-z0-9]{30,}(?![A-Za-z0-9])", True),
    ("GitHub Fine-Grained Token", "github_pat_", r"\bgithub_pat_[A-Za-z0-9_]{22,}" + _END, True),
    ("Anthropic API Key", "sk-ant-", r"\bsk-ant-[A-Za-z0-9_-]{20,}" + _END, True),
    (
        "OpenAI API Key",
        "sk-",
        r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}" + _END,
        True,
    ),
    ("Google API Key", "aiza", r"\bAIza[0-9A-Za-z_-]{35}" + _END, False),
    (
        "Weights & Biases API Key",
        "wandb",
        r"(?i:wandb[_-]?api[_-]?key)\W{1,4}[0-9a-f]{40}(?![0-9a-f])"
        r"|\bwandb\s+login\s+(?:-\S+\s+)*[0-9a-f]{40}(?![0-9a-f])",
        False,
    ),
)
_ALLOW = re.compile(r"pragma: ?allowlist(?P<next>[ -]nextline)?[ -]secret", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Finding:
    """A secret or PII match: where and what kind. Never the value."""

    source: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.kind}"


@dataclass(frozen=True)
class _Detector:
    kind: str
    analyze: Callable[[str], Iterator[str]]
    probes: tuple[re.Pattern[str], ...]  # multi-line forms: a text with no hit is skipped


@functools.cache
def _detectors() -> tuple[tuple[_Detector, ...], Callable[[str], bool]]:
    # Importing detect-secrets calls logging.captureWarnings(True), which would send every
    # later Python warning of the process to a logger: undo that.
    shown = warnings.showwarning
    module = importlib.import_module("detect_secrets.filters.heuristic")
    out = []
    for name, cls in DETECTORS:
        plugin: Any = getattr(importlib.import_module(f"detect_secrets.plugins.{name}"), cls)()
        probes = tuple(
            re.compile(p.pattern, p.flags | re.MULTILINE) for p in getattr(plugin, "denylist", ())
        )
        out.append(_Detector(str(plugin.secret_type), plugin.analyze_string, probes))
    if warnings.showwarning is not shown:
        import logging  # noqa: PLC0415

        logging.captureWarnings(False)
    checks = (
        module.is_sequential_string,  # a run of the alphabet or digits: a stand-in
        module.is_templated_secret,  # {token}, <token>, ${token}
        module.is_prefixed_with_dollar_sign,  # $TOKEN
        module.is_not_alphanumeric_string,  # ***, an already redacted value
    )

    def ignored(value: str) -> bool:
        return any(check(value) for check in checks)

    return tuple(out), ignored


@functools.cache
def _own() -> tuple[tuple[str, str, re.Pattern[str], bool], ...]:
    return tuple(
        (kind, needle, re.compile(regex), mixed) for kind, needle, regex, mixed in OWN_SHAPES
    )


def _mixed(value: str) -> bool:
    return (
        any(c.isdigit() for c in value)
        and any(c.isupper() for c in value)
        and any(c.islower() for c in value)
    )


def _analyze(detector: _Detector, line: str) -> list[str]:
    try:
        return list(detector.analyze(line))
    except RecursionError:  # a JWT-shaped value nesting JSON too deep to decode: fail closed
        return [line]


def _starts(lines: Sequence[str]) -> list[int]:
    """The offset of each line in ``"\\n".join(lines)``."""
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return starts


def _candidates(detector: _Detector, joined: str, starts: list[int]) -> Iterator[int]:
    """The numbers of the lines a detector's probes touch in ``joined``: every line on
    which its plugin can match (a probe matches at least where a line's regex does)."""
    if not detector.probes:
        yield from range(1, len(starts) + 1)
        return
    lines: set[int] = set()
    for probe in detector.probes:
        for match in probe.finditer(joined):
            first = bisect.bisect_right(starts, match.start())
            last = bisect.bisect_right(starts, max(match.start(), match.end() - 1))
            lines.update(range(first, last + 1))
    yield from sorted(lines)


class _Lines:
    """Line numbers of offsets in a text, and what has been found where."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.starts = _starts(self.lines)
        self.found: dict[tuple[int, str], None] = {}
        self.spans: dict[int, list[tuple[int, int]]] = {}

    def number(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def add(self, number: int, kind: str, span: tuple[int, int] | None = None) -> None:
        """Record a finding; ``span`` (columns) claims those characters for it."""
        if span is not None:
            self.spans.setdefault(number, []).append(span)
        self.found.setdefault((number, kind), None)

    def claimed(self, number: int, span: tuple[int, int]) -> bool:
        """Whether a finding already covers part of ``span`` on line ``number``."""
        return any(start < span[1] and span[0] < end for start, end in self.spans.get(number, ()))

    def allowed(self) -> set[int]:
        out = set()
        for number, line in enumerate(self.lines, start=1):
            marker = _ALLOW.search(line)
            if marker:
                out.add(number + 1 if marker["next"] else number)
        return out


def scan_text(text: str, *, source: str, pii: Sequence[PiiPattern] = ()) -> list[Finding]:
    """The findings in ``text`` (named ``source`` in them), sorted by line.

    >>> pii = [PiiPattern("email", r"[\\w.+-]+@[\\w-]+\\.[\\w.]+")]
    >>> [str(f) for f in scan_text("A card\\nContact: jane@example.org", source="c.md", pii=pii)]
    ['c.md:2: pii: email']
    """
    where = _Lines(text)
    detectors, ignored = _detectors()
    stripped = [line.rstrip() for line in where.lines]  # as detect-secrets reads lines
    joined = "\n".join(stripped)
    starts = _starts(stripped)
    for detector in detectors:
        for number in _candidates(detector, joined, starts):
            line = stripped[number - 1]
            for value in _analyze(detector, line):
                if not ignored(value):
                    at = line.find(value)
                    where.add(number, detector.kind, (at, at + len(value)) if at >= 0 else None)
    lowered = text.lower()
    for kind, needle, regex, mixed in _own():
        if needle not in lowered:
            continue
        for match in regex.finditer(text):
            if mixed and not _mixed(match.group()):
                continue
            number = where.number(match.start())
            column = match.start() - where.starts[number - 1]
            span = (column, column + len(match.group()))
            if not where.claimed(number, span):  # else: already named by detect-secrets
                where.add(number, kind, span)
    for pattern in pii:
        for match in re.finditer(pattern.regex, text, re.MULTILINE):
            if match.end() > match.start():  # an empty match is no finding
                where.add(where.number(match.start()), f"pii: {pattern.name}")
    allowed = where.allowed()
    return sorted(
        Finding(source, number, kind) for number, kind in where.found if number not in allowed
    )


def scan(texts: Iterable[tuple[str, str]], *, pii: Sequence[PiiPattern] = ()) -> list[Finding]:
    """The findings in each ``(source, text)``, in the order given."""
    return [
        finding for source, text in texts for finding in scan_text(text, source=source, pii=pii)
    ]
