"""The release checklist: its configuration ``.gitprov/checklist.toml`` and its results.

A checkpoint whose pointer says ``stage = "release"`` must pass the checklist before a
commit carrying it is accepted (the pre-commit hook), and again before ``gitprov
release`` signs it. Each check is one of :data:`BUILTIN` (or a ``[[custom]]`` command)
and ends as ``pass``, ``fail``, ``skip`` (not applicable, with the reason) or ``waived``
(a failure an explicit ``[[waivers]]`` entry accepts). A failure with severity ``error``
blocks; one with severity ``warning`` is reported and lets the commit through.

Pure: parsing, types and the verdict. The checks themselves are in ``model.checks``, the
gathering of what they look at in ``services.checklist``.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

from gitprov.errors import ConfigError

CHECKLIST_PATH = ".gitprov/checklist.toml"
RELEASE_STAGE = "release"
Severity = Literal["error", "warning"]
SEVERITIES: tuple[str, ...] = get_args(Severity)
Status = Literal["pass", "fail", "skip", "waived"]
STATUSES: tuple[str, ...] = get_args(Status)
_ID = re.compile(r"[a-z][a-z0-9-]{0,63}")


@dataclass(frozen=True)
class Builtin:
    """A built-in check: its id, what it asks, its default severity and the usual fix."""

    id: str
    title: str
    severity: Severity
    fix: str


# The built-in checks, in the order they are reported (docs/checklist.md explains each).
BUILTIN: tuple[Builtin, ...] = (
    Builtin(
        "card-present",
        "The checkpoint has a model card that parses",
        "error",
        "Write one with 'gitprov card new CHECKPOINT', then commit it",
    ),
    Builtin(
        "card-complete",
        "Every required card section is written (no template placeholders left)",
        "error",
        "Replace each [More Information Needed] in the card, or delete sections you do not need",
    ),
    Builtin(
        "intended-use",
        "The card says what the model is for and what it must not be used for",
        "error",
        "Fill the card's 'Direct Use' and 'Out-of-Scope Use' sections",
    ),
    Builtin(
        "limitations",
        "The card documents limitations and known failure modes",
        "error",
        "Fill the card's 'Bias, Risks, and Limitations' section",
    ),
    Builtin(
        "license-valid",
        "The license is an SPDX identifier, or 'other' with a link",
        "error",
        "Set 'license' in the card's front matter to an SPDX id (https://spdx.org/licenses/)",
    ),
    Builtin(
        "license-compatible",
        "The license is compatible with the training datasets' licenses",
        "error",
        "Change the model's license, or record a [[waivers]] entry in .gitprov/checklist.toml",
    ),
    Builtin(
        "datasets-pinned",
        "Every training dataset is pinned by a snapshot ID",
        "error",
        "Track each dataset with 'gitprov track PATH --kind dataset' and train through "
        "'gitprov run -i PATH'",
    ),
    Builtin(
        "lineage-consistent",
        "The card agrees with the lineage (digest, datasets, base model, run)",
        "error",
        "Run 'gitprov card sync CHECKPOINT' and commit the card",
    ),
    Builtin(
        "evaluation",
        "Metrics have a confidence interval, a sample size and an evaluation environment",
        "error",
        "Give each metric ci_low, ci_high and n in its model-index args (or record an "
        "evaluation with 'gitprov eval record')",
    ),
    Builtin(
        "dependencies",
        "Third-party dependencies are listed (the environment snapshot of the run)",
        "error",
        "Train through 'gitprov run' so the environment (packages) is recorded",
    ),
    Builtin(
        "plan-deviations",
        "Decisions behind the checkpoint document planned vs. actual changes",
        "warning",
        "Fill 'Planned vs. actual' in each linked decision record",
    ),
    Builtin(
        "artifact-on-remote",
        "The checkpoint's bytes are on a remote artifact store",
        "warning",
        "Run 'gitprov push' (or add a store with 'gitprov remote add')",
    ),
    Builtin(
        "approvals",
        "Every required role approved this digest with a valid signature",
        "error",
        "Ask each missing role to run 'gitprov approve CHECKPOINT --role ROLE'",
    ),
    Builtin(
        "no-secrets",
        "No secrets or listed PII in the card, decisions, run records or notes",
        "error",
        "Remove the value from the file named, rotate the credential if it was real",
    ),
)
BUILTIN_IDS: tuple[str, ...] = tuple(b.id for b in BUILTIN)


class ChecklistError(ConfigError):
    """A checklist file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Waiver:
    """An explicit acceptance of one check's failure for one subject (a path, or "*")."""

    check: str
    subject: str
    reason: str
    approved_by: str
    expires: date | None = None

    def covers(self, check: str, subject: str, *, today: date) -> bool:
        if self.check != check or self.subject not in ("*", subject):
            return False
        return self.expires is None or today <= self.expires


@dataclass(frozen=True)
class Custom:
    """A check that runs a command: exit 0 passes; the output's last line is the detail."""

    id: str
    title: str
    run: tuple[str, ...]  # argv; "{checkpoint}" and "{digest}" are substituted
    severity: Severity
    fix: str
    timeout: float = 300.0


@dataclass(frozen=True)
class PiiPattern:
    name: str
    regex: str


@dataclass(frozen=True)
class Config:
    """``.gitprov/checklist.toml``, checked. ``digest`` is the sha256 of the file's bytes
    (``sha256:`` + hex; the built-in defaults' when there is no file), which a release
    record pins."""

    severities: Mapping[str, Severity | None]  # check id -> severity; None: turned off
    required_sections: tuple[str, ...] = ()
    required_roles: tuple[str, ...] = ()
    min_sample_size: int = 1
    license_rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    waivers: tuple[Waiver, ...] = ()
    custom: tuple[Custom, ...] = ()
    pii_patterns: tuple[PiiPattern, ...] = ()
    digest: str = ""
    source: str = CHECKLIST_PATH

    def severity(self, check: str) -> Severity | None:
        return self.severities.get(check)


@dataclass(frozen=True)
class Result:
    """One check's verdict on one checkpoint. ``detail``: what was found (never a secret);
    ``fix``: what to do, empty when it passed."""

    check: str
    title: str
    status: Status
    severity: Severity
    detail: str = ""
    fix: str = ""

    @property
    def blocking(self) -> bool:
        return self.status == "fail" and self.severity == "error"

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.check,
            "title": self.title,
            "status": self.status,
            "severity": self.severity,
            "detail": self.detail,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Report:
    """The checklist's results for one checkpoint version."""

    checkpoint: str  # path relative to the work tree top
    digest: str
    results: tuple[Result, ...]
    config_digest: str
    at: str = ""  # where it was read: "worktree", "index" or a commit hash

    @property
    def passed(self) -> bool:
        return not any(r.blocking for r in self.results)

    @property
    def failures(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.status == "fail")

    def to_json(self) -> dict[str, Any]:
        return {
            "checkpoint": self.checkpoint,
            "digest": self.digest,
            "at": self.at,
            "passed": self.passed,
            "config_digest": self.config_digest,
            "results": [r.to_json() for r in self.results],
        }


DEFAULT_SECTIONS = (
    "Model Description",
    "Direct Use",
    "Out-of-Scope Use",
    "Bias, Risks, and Limitations",
    "Training Data",
    "Results",
)


def _fail(source: str, key: str, problem: str) -> ChecklistError:
    return ChecklistError(
        f"{source}: '{key}' {problem}",
        f"Fix {source} (see docs/checklist.md and templates/checklist.toml)",
    )


def _strings(value: object, *, source: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, key, "must be a list of strings")
    return tuple(value)


def _table(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _fail(source, key, "must be a table")
    return value


def _severities(data: Mapping[str, Any], source: str) -> dict[str, Severity | None]:
    out: dict[str, Severity | None] = {b.id: b.severity for b in BUILTIN}
    for key, value in _table(data, "checks", source).items():
        if key not in BUILTIN_IDS:
            raise _fail(
                source, f"checks.{key}", f"is not a built-in check ({', '.join(BUILTIN_IDS)})"
            )
        if value == "off":
            out[key] = None
        elif value in SEVERITIES:
            out[key] = value
        else:
            raise _fail(source, f"checks.{key}", "must be 'error', 'warning' or 'off'")
    return out


def _waivers(data: Mapping[str, Any], source: str, known: set[str]) -> tuple[Waiver, ...]:
    raw = data.get("waivers", [])
    if not isinstance(raw, list):
        raise _fail(source, "waivers", "must be an array of tables ([[waivers]])")
    out = []
    for number, item in enumerate(raw, start=1):
        key = f"waivers[{number}]"
        if not isinstance(item, dict):
            raise _fail(source, key, "must be a table")
        for name in ("check", "subject", "reason", "approved_by"):
            if not isinstance(item.get(name), str) or not item[name].strip():
                raise _fail(source, f"{key}.{name}", "is required (a non-empty string)")
        if item["check"] not in known:
            raise _fail(source, f"{key}.check", f"names no check: {item['check']!r}")
        expires = item.get("expires")
        # A TOML date-time is a datetime, itself a date: only a plain date is an end day.
        if expires is not None and (not isinstance(expires, date) or isinstance(expires, datetime)):
            raise _fail(source, f"{key}.expires", "must be a TOML date, e.g. 2027-01-31")
        out.append(
            Waiver(item["check"], item["subject"], item["reason"], item["approved_by"], expires)
        )
    return tuple(out)


def _custom(data: Mapping[str, Any], source: str) -> tuple[Custom, ...]:
    raw = data.get("custom", [])
    if not isinstance(raw, list):
        raise _fail(source, "custom", "must be an array of tables ([[custom]])")
    out: list[Custom] = []
    for number, item in enumerate(raw, start=1):
        key = f"custom[{number}]"
        if not isinstance(item, dict):
            raise _fail(source, key, "must be a table")
        ident = item.get("id")
        if not isinstance(ident, str) or not _ID.fullmatch(ident):
            raise _fail(source, f"{key}.id", "must be lower-case letters, digits and '-'")
        if ident in BUILTIN_IDS or any(c.id == ident for c in out):
            raise _fail(source, f"{key}.id", f"{ident!r} is already a check's id")
        run = item.get("run")
        if isinstance(run, str):
            run = [run]
        argv = _strings(run, source=source, key=f"{key}.run")
        if not argv:
            raise _fail(source, f"{key}.run", "must name a command")
        severity = item.get("severity", "error")
        if severity not in SEVERITIES:
            raise _fail(source, f"{key}.severity", "must be 'error' or 'warning'")
        timeout = item.get("timeout", 300)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise _fail(source, f"{key}.timeout", "must be a number of seconds > 0")
        out.append(
            Custom(
                ident,
                str(item.get("title", ident)),
                argv,
                severity,
                str(item.get("fix", f"Make '{' '.join(argv)}' succeed")),
                float(timeout),
            )
        )
    return tuple(out)


def _pii(data: Mapping[str, Any], source: str) -> tuple[PiiPattern, ...]:
    raw = _table(data, "secrets", source).get("pii", [])
    if not isinstance(raw, list):
        raise _fail(source, "secrets.pii", "must be an array of tables ([[secrets.pii]])")
    out = []
    for number, item in enumerate(raw, start=1):
        key = f"secrets.pii[{number}]"
        if not isinstance(item, dict) or not isinstance(item.get("regex"), str):
            raise _fail(source, key, "must be a table with name and regex")
        try:
            re.compile(item["regex"])
        except (re.error, OverflowError) as exc:  # OverflowError: e.g. a{4294967296}
            raise _fail(
                source, f"{key}.regex", f"is not a valid regular expression ({exc})"
            ) from None
        out.append(PiiPattern(str(item.get("name", f"pattern {number}")), item["regex"]))
    return tuple(out)


def _license_rules(data: Mapping[str, Any], source: str) -> dict[str, tuple[str, ...]]:
    rules = _table(data, "licenses", source).get("compatible", {})
    if not isinstance(rules, dict):
        raise _fail(source, "licenses.compatible", "must be a table")
    return {k: _strings(v, source=source, key=f"licenses.compatible.{k}") for k, v in rules.items()}


def parse_config(text: str, *, source: str = CHECKLIST_PATH) -> Config:
    """The checked configuration in ``text`` (the file's content, "" for the defaults)."""
    try:
        data = tomllib.loads(text)
    # ValueError: an integer of more than 4300 digits; RecursionError: arrays nested
    # ~1000 deep. Both come from hostile files (issue 9).
    except (ValueError, RecursionError) as exc:
        raise ChecklistError(
            f"{source}: not valid TOML ({exc})", f"Fix {source} (see docs/checklist.md)"
        ) from None
    severities = _severities(data, source)
    custom = _custom(data, source)
    card = _table(data, "card", source)
    sections = card.get("required_sections", list(DEFAULT_SECTIONS))
    approvals = _table(data, "approvals", source)
    evaluation = _table(data, "evaluation", source)
    min_n = evaluation.get("min_sample_size", 1)
    if not isinstance(min_n, int) or isinstance(min_n, bool) or min_n < 1:
        raise _fail(source, "evaluation.min_sample_size", "must be a whole number >= 1")
    known = set(BUILTIN_IDS) | {c.id for c in custom}
    return Config(
        severities=severities,
        required_sections=_strings(sections, source=source, key="card.required_sections"),
        required_roles=_strings(
            approvals.get("required", []), source=source, key="approvals.required"
        ),
        min_sample_size=min_n,
        license_rules=_license_rules(data, source),
        waivers=_waivers(data, source, known),
        custom=custom,
        pii_patterns=_pii(data, source),
        digest="sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=source,
    )


def result(
    check: Builtin | Custom,
    status: Status,
    *,
    severity: Severity,
    detail: str = "",
    fix: str | None = None,
) -> Result:
    """A result for ``check``; a failure carries the check's usual fix unless given one."""
    hint = (check.fix if fix is None else fix) if status == "fail" else ""
    return Result(check.id, check.title, status, severity, detail, hint)


def apply_waivers(
    results: Sequence[Result], waivers: Sequence[Waiver], subject: str, *, today: date
) -> tuple[Result, ...]:
    """Failures a waiver covers become ``waived``, the waiver's reason and author shown."""
    out = []
    for item in results:
        waiver = next((w for w in waivers if w.covers(item.check, subject, today=today)), None)
        if item.status == "fail" and waiver is not None:
            out.append(
                Result(
                    item.check,
                    item.title,
                    "waived",
                    item.severity,
                    f"{item.detail} (waived by {waiver.approved_by}: {waiver.reason})",
                )
            )
        else:
            out.append(item)
    return tuple(out)


BUILTIN_BY_ID: Mapping[str, Builtin] = {b.id: b for b in BUILTIN}
