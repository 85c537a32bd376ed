"""The secret and PII scan behind ``no-secrets``: what it finds, what it leaves alone, and
that it never repeats what it found.

Every planted credential is put together at run time, so this file holds none that a
scanner (this one, or a forge's push protection) would flag.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitprov.model import checklist, checklist_render, env_vars, notes, secret_scan
from gitprov.model.checks import registry, secret_checks
from gitprov.model.checks.subject import Subject, Text
from tests.conftest import REPO_ROOT

ALNUM = "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5cD7eF9gH1jK3mN5pQ7rS9tV1wX3yZ5bC7dE9fG1hJ3kL5mN7pQ9"
ALNUM += ALNUM[::-1]


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# One example of every shape the scan knows, by the kind it reports.
SAMPLES: dict[str, str] = {
    "AWS Access Key": "AKIA" + "Z7Q2VXKM3N4P5R6T",
    "Artifactory Credentials": "artifactory: AKC" + "p8jQ2vXkM3n4P5r6T7u8W9x0",
    "Azure Storage Account access key": "AccountKey=" + ALNUM[:86] + "==",
    "Basic Auth Credentials": "https://trainer:" + "Tr4in3rPw@data.example.com/x",
    "Discord Bot Token": "M" + ALNUM[:25] + "." + "aB3dE5" + "." + ALNUM[30:57],
    "GitHub Token": "ghp_" + ALNUM[:36],
    "GitLab Token": "glpat-" + ALNUM[:20],
    "JSON Web Token": _b64({"alg": "HS256"}) + "." + _b64({"sub": "1234"}) + "." + ALNUM[:43],
    "NPM tokens": "//registry.npmjs.org/:_authToken=" + "npm_" + ALNUM[:36],
    "OpenAI Token": "sk-" + ALNUM[:20] + "T3Blbk" + "FJ" + ALNUM[20:40],
    "Private Key": "-----BEGIN " + "OPENSSH PRIVATE KEY-----",
    "PyPI Token": "pypi-" + "AgEIcHlwaS5vcmc" + ALNUM[:70],
    "SendGrid API Key": "SG." + ALNUM[:22] + "." + ALNUM[22:65],
    "Slack Token": "xoxb-" + "1234567890-0987654321-" + "abcdefghij1234567890",
    "Square OAuth Secret": "sq0csp-" + ALNUM[:43],
    "Stripe Access Key": "sk_" + "live_" + ALNUM[:24],
    "Telegram Bot Token": "110201543:" + ALNUM[:35],
    "Twilio API Key": "AC" + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
    # gitprov's own shapes
    "Hugging Face Token": "hf_" + ALNUM[:34],
    "GitHub Fine-Grained Token": "github_pat_" + ALNUM[:22] + "_" + ALNUM[22:81],
    "Anthropic API Key": "sk-ant-" + "api03-" + ALNUM[:90],
    "OpenAI API Key": "sk-proj-" + ALNUM[:48],
    "Google API Key": "AIza" + ALNUM[:35],
    "Weights & Biases API Key": "WANDB_API_KEY=" + hashlib.sha1(b"w").hexdigest(),  # noqa: S324
}
KINDS = frozenset(SAMPLES)
AWS, GITHUB, HF = SAMPLES["AWS Access Key"], SAMPLES["GitHub Token"], SAMPLES["Hugging Face Token"]
PRIVATE_KEY = (
    SAMPLES["Private Key"] + "\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----"
)
EMAIL = checklist.PiiPattern("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def found(text: str, source: str = "models/m.card.md", **kw: object) -> list[str]:
    return [str(f) for f in secret_scan.scan_text(text, source=source, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "value"), SAMPLES.items(), ids=list(SAMPLES))
def test_each_shape_is_found_on_its_line_and_never_repeated(kind: str, value: str) -> None:
    findings = found(f"# Model card\n\nTrained with {value} in the loop.  \n")
    assert findings == [f"models/m.card.md:3: {kind}"]
    assert all(value not in f for f in findings)


CARD = f"""---
license: apache-2.0
---
# Model card

## Training procedure
Data was read from the bucket with key {AWS} and
the code was pulled with {GITHUB}.

Uploaded with huggingface-cli using {HF}.

{PRIVATE_KEY}
"""


def test_secrets_planted_in_a_card_are_found_with_their_lines() -> None:
    assert found(CARD) == [
        "models/m.card.md:7: AWS Access Key",
        "models/m.card.md:8: GitHub Token",
        "models/m.card.md:10: Hugging Face Token",
        "models/m.card.md:12: Private Key",
    ]


def test_windows_line_ends_keep_the_line_numbers() -> None:
    assert found(CARD.replace("\n", "\r\n")) == found(CARD)


def test_secrets_in_run_record_json_are_found_on_the_record_line() -> None:
    at = datetime(2026, 11, 23, tzinfo=UTC)
    first = notes.make_record("run", {"argv": ["python", "train.py"]}, at=at)
    leaky = notes.make_record(
        "run",
        {"argv": ["python", "train.py", f"--token={HF}"], "env": {"AWS_ID": AWS}},
        at=at,
    )
    key = notes.make_record("eval", {"log": PRIVATE_KEY}, at=at)  # JSON-escaped newlines
    findings = found("\n".join([first, leaky, key]) + "\n", source="note on 1a2b3c4d5e6f")
    assert findings == [
        "note on 1a2b3c4d5e6f:2: AWS Access Key",
        "note on 1a2b3c4d5e6f:2: Hugging Face Token",
        "note on 1a2b3c4d5e6f:3: Private Key",
    ]
    pretty = json.dumps(json.loads(leaky), indent=2, sort_keys=True).split("\n")
    token = next(n for n, text in enumerate(pretty, 1) if "--token=" in text)
    aws = next(n for n, text in enumerate(pretty, 1) if '"AWS_ID"' in text)
    assert found("\n".join(pretty), source="runs/r.json") == sorted(
        [f"runs/r.json:{token}: Hugging Face Token", f"runs/r.json:{aws}: AWS Access Key"],
        key=lambda f: int(f.split(":")[1]),
    )


def test_digests_ids_and_prose_are_not_flagged() -> None:
    at = datetime(2026, 11, 23, tzinfo=UTC)
    records = []
    for i in range(200):
        digest = "sha256:" + hashlib.sha256(str(i).encode()).hexdigest()
        records.append(
            notes.make_record(
                "run",
                {
                    "checkpoint": {"path": "models/m.pt", "digest": digest},
                    "dataset": "ds:" + digest[7:19],
                    "commit": hashlib.sha1(str(i).encode()).hexdigest(),  # noqa: S324
                    "md5": hashlib.md5(str(i).encode()).hexdigest(),  # noqa: S324
                    "uuid": "123e4567-e89b-12d3-a456-426614174000",
                    "params": {"lr": "3e-4", "max_tokens": "512", "tokenizer": "bert-base"},
                },
                at=at,
            )
        )
    prose = (
        "The tokenizer's secret sauce is the data. Password managers are out of scope.\n"
        "Load it with hf_hub_download(); we tried sk-learn-compatible-estimators too.\n"
        "API keys are read from the environment (HF_TOKEN, WANDB_API_KEY), never the card.\n"
        "Contact: the team at https://example.com/team or ada@example.com.\n"
    )
    argv, _ = env_vars.redact_argv(["train.py", f"--hf-token={HF}", f"https://u:{AWS}@h"])
    assert found("\n".join(records)) == []
    assert found(prose) == []
    assert found(json.dumps(argv)) == []  # what gitprov already redacted stays quiet
    for template in ("model_card.md", "decision.md", "checklist.toml", "config.toml"):
        assert found((REPO_ROOT / "templates" / template).read_text(), source=template) == []


def test_templates_and_placeholders_are_not_credentials() -> None:
    assert found("pip install --index-url https://user:${PIP_TOKEN}@pypi.example.com") == []
    assert found("git clone https://oauth2:<token>@gitlab.example.com/x.git") == []
    assert found("export PYPI_URL=https://__token__:$PYPI_TOKEN@upload.example.com") == []
    assert found("https://user:***@mirror.example.com (redacted by gitprov)") == []


def test_configured_pii_patterns_are_found_by_name() -> None:
    text = "# Card\nMaintainer: Ada Lovelace <ada.lovelace@example.org>\nNo email here.\n"
    findings = found(text, pii=[EMAIL])
    assert findings == ["models/m.card.md:2: pii: email"]
    assert "ada.lovelace" not in "".join(findings)
    assert found(text) == []  # PII is what the team lists, nothing by default


def test_pii_patterns_match_per_line_and_empty_matches_are_ignored() -> None:
    phone = checklist.PiiPattern("phone", r"^\+\d{2} \d{3} \d{4}$")
    assert found("a\n+44 207 1234\nb", pii=[phone]) == ["models/m.card.md:2: pii: phone"]
    assert found("anything at all", pii=[checklist.PiiPattern("empty", "x*")]) == []


def test_pii_patterns_come_from_the_checklist_file() -> None:
    config = checklist.parse_config(
        "[[secrets.pii]]\nname = 'employee id'\nregex = 'EMP-[0-9]{6}'\n"
    )
    assert found("x\nreviewed by EMP-123456\n", pii=config.pii_patterns) == [
        "models/m.card.md:2: pii: employee id"
    ]


def test_the_allowlist_pragma_silences_one_line() -> None:
    text = (
        f"example: {AWS}  # pragma: allowlist secret\n"
        "<!-- pragma: allowlist nextline secret -->\n"
        f"{GITHUB}\n"
        f"{GITHUB}\n"
    )
    assert found(text) == ["models/m.card.md:4: GitHub Token"]


def test_every_detect_secrets_plugin_is_used_or_left_out_on_purpose() -> None:
    # A new plugin in a later detect-secrets must be a decision, not an accident.
    from detect_secrets.core.plugins.util import (  # noqa: PLC0415 - loads every plugin
        get_mapping_from_secret_type_to_class,
    )

    plugins: dict[str, type] = get_mapping_from_secret_type_to_class()
    available = {plugin.__name__ for plugin in plugins.values()}
    used = {name for _, name in secret_scan.DETECTORS}
    assert not used & set(secret_scan.LEFT_OUT)
    assert used | set(secret_scan.LEFT_OUT) == available
    assert {"Base64HighEntropyString", "HexHighEntropyString"} <= set(secret_scan.LEFT_OUT)


PROBE = """
import sys, warnings
original = warnings.showwarning
from gitprov.model import secret_scan
from gitprov.model.checks import secret_checks
assert "detect_secrets" not in sys.modules, "imported before a scan"
findings = secret_scan.scan_text(sys.argv[1], source="card")
assert "detect_secrets" in sys.modules
assert warnings.showwarning is original, "detect-secrets left warnings captured"
print(";".join(str(f) for f in findings))
"""


def test_detect_secrets_loads_only_for_a_scan_and_is_silent() -> None:
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", PROBE, f"x\n{AWS}\n"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == "card:2: AWS Access Key\n"


def test_a_megabyte_of_clean_records_scans_quickly() -> None:
    at = datetime(2026, 11, 23, tzinfo=UTC)
    line = notes.make_record("run", {"digest": "sha256:" + "9f" * 32, "argv": ["train.py"]}, at=at)
    text = "\n".join([line] * (1_000_000 // len(line)))
    secret_scan.scan_text("warm up", source="x")
    started = time.perf_counter()
    assert secret_scan.scan_text(text, source="big") == []
    assert time.perf_counter() - started < 5.0  # ~0.2 s here; generous for a busy machine


# --- properties -----------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=300)
# Shapes at the start of a line too: a probe's match may then begin on the line before.
BARE = ["AKC" + "p8jQ2vXkM3n4P5r6T7u8W9x0", "AP" + "1" + ALNUM[:12]]
SHAPED = st.sampled_from([*SAMPLES.values(), *BARE, "", "   ", "\t", "sha256:" + "ab" * 32])


@settings(max_examples=200, deadline=None)
@given(ANY_TEXT)
def test_the_scan_never_raises_and_reports_only_places_and_kinds(text: str) -> None:
    lines = text.split("\n")
    for finding in secret_scan.scan_text(text, source="s", pii=[EMAIL]):
        assert 1 <= finding.line <= len(lines)
        assert finding.kind in KINDS or finding.kind == "pii: email"
        assert str(finding) == f"s:{finding.line}: {finding.kind}"


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["AWS Access Key", "GitHub Token", "Hugging Face Token"]),
    st.text("ABCDEFGHJKMNPQRSTVWXYZ234567", min_size=16, max_size=16),
    st.text(
        "abcdefghijkmnopqrstuvwxyz0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=36, max_size=36
    ),
    ANY_TEXT,
    ANY_TEXT,
)
def test_a_planted_credential_is_found_and_never_echoed(
    kind: str, upper: str, mixed: str, before: str, after: str
) -> None:
    token = {
        "AWS Access Key": "AKIA" + upper,
        "GitHub Token": "ghp_" + mixed,
        "Hugging Face Token": "hf_" + mixed[:31] + "Aa1",
    }[kind]
    text = f"{before} {token} {after}"
    line = before.count("\n") + 1
    findings = secret_scan.scan_text(text, source="runs/r.json")
    assert secret_scan.Finding("runs/r.json", line, kind) in findings
    verdict = secret_checks.no_secrets(
        subject(Text("runs/r.json", text)), checklist.parse_config("")
    )
    assert verdict.status == "fail"
    assert token not in verdict.detail
    assert token not in (verdict.fix or "")
    assert all(token not in str(f) for f in findings)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(SHAPED, ANY_TEXT, st.sampled_from(["", " ", "\r", "  \t"])), max_size=8))
def test_the_whole_text_probe_misses_nothing_a_line_by_line_scan_finds(
    parts: list[tuple[str, str, str]],
) -> None:
    text = "\n".join(f"{shape} {noise}{end}" for shape, noise, end in parts)
    detectors, ignored = secret_scan._detectors()
    expected = {
        (number, detector.kind)
        for number, line in enumerate(text.split("\n"), start=1)
        for detector in detectors
        for value in detector.analyze(line.rstrip())
        if not ignored(value)
    }
    names = {d.kind for d in detectors}
    got = {(f.line, f.kind) for f in secret_scan.scan_text(text, source="s") if f.kind in names}
    assert got == expected


# --- the no-secrets check ---------------------------------------------------------------


def subject(*texts: Text) -> Subject:
    return Subject(
        checkpoint="models/m.pt",
        digest="sha256:" + "ab" * 32,
        card_source=None,
        card_text=None,
        facts=None,
        texts=texts,
    )


def test_no_secrets_check() -> None:
    check = secret_checks.no_secrets
    config = checklist.parse_config("[[secrets.pii]]\nname = 'email'\nregex = '\\S+@\\S+'\n")
    assert registry()["no-secrets"] is check
    assert check(subject(), config).status == "skip"
    clean = check(subject(Text("models/m.card.md", "# Card\n"), Text("note on abc", "{}")), config)
    assert (clean.status, clean.detail) == ("pass", "scanned 2 texts: no secrets or listed PII")

    leaky = "\n".join([AWS, GITHUB, HF, PRIVATE_KEY, "ada@example.org", AWS, GITHUB])
    verdict = check(subject(Text("models/m.card.md", "ok"), Text("decisions/d.md", leaky)), config)
    assert verdict.status == "fail"
    assert verdict.detail == (
        "7 findings in 2 texts: decisions/d.md:1: AWS Access Key; decisions/d.md:2: GitHub Token; "
        "decisions/d.md:3: Hugging Face Token; decisions/d.md:4: Private Key; "
        "decisions/d.md:7: pii: email (+2 more)"
    )
    assert verdict.fix is not None
    assert verdict.fix.startswith("Remove each value from decisions/d.md and rotate")
    for secret in (AWS, GITHUB, HF, "ada@example.org", "b3BlbnNzaC1rZXkt"):
        assert secret not in verdict.detail
        assert secret not in verdict.fix


def test_the_docs_show_what_the_check_prints() -> None:
    text = (REPO_ROOT / "docs" / "checklist.md").read_text()
    assert "FAIL   no-secrets:" in text
    hf = "hf_" + ALNUM[:34]
    verdict = secret_checks.no_secrets(
        subject(
            Text("models/m.card.md", "\n" * 13 + f"token {hf}\n"),
            Text("decisions/0001-adamw.md", "ok"),
            Text("runs/01J.json", "{}"),
            Text("note on 1a2b3c4d5e6f", f'{{}}\n{{}}\n{{"k":"{AWS}"}}'),
        ),
        checklist.parse_config(""),
    )
    builtin = checklist.BUILTIN_BY_ID["no-secrets"]
    shown = checklist_render.result_lines(
        checklist.result(
            builtin, verdict.status, severity="error", detail=verdict.detail, fix=verdict.fix
        )
    )
    assert "\n".join(shown) in text
