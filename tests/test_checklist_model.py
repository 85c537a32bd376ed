"""The release checklist's pure parts: its configuration, the checks on a Subject, waivers."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from gitprov.model import card as cards
from gitprov.model import checklist
from gitprov.model import markdown_sections as md
from gitprov.model.checks import card_checks, provenance_checks, registry
from gitprov.model.checks.subject import (
    ApprovalState,
    DatasetInput,
    DecisionInfo,
    Evaluation,
    RemotePresence,
    Subject,
)

TEMPLATE = Path(__file__).parents[1] / "templates" / "checklist.toml"
DEFAULTS = checklist.parse_config("")
DIGEST = "sha256:" + "ab" * 32


def subject(**changes: object) -> Subject:
    base = Subject(
        checkpoint="models/m.pt", digest=DIGEST, card_source=None, card_text=None, facts=None
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def card(body: str, front: str = "license: mit\n") -> Subject:
    return subject(card_source="models/m.card.md", card_text=f"---\n{front}---\n{body}")


def test_the_template_is_the_defaults_explained() -> None:
    parsed = checklist.parse_config(TEMPLATE.read_text(), source="templates/checklist.toml")
    assert dataclasses.replace(parsed, digest="", source="") == dataclasses.replace(
        DEFAULTS, digest="", source=""
    )
    assert parsed.digest != DEFAULTS.digest  # a release pins the exact file


def test_every_builtin_check_has_an_implementation_and_a_fix() -> None:
    assert set(registry()) == set(checklist.BUILTIN_IDS)
    for builtin in checklist.BUILTIN:
        assert builtin.fix
        assert builtin.title


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[checks]\nnope = 'error'", "'checks.nope' is not a built-in check"),
        (
            "[checks]\nlimitations = 'fatal'",
            "'checks.limitations' must be 'error', 'warning' or 'off'",
        ),
        (
            "[[waivers]]\ncheck = 'limitations'\nsubject = '*'\nreason = 'x'",
            "'waivers[1].approved_by' is required",
        ),
        (
            "[[waivers]]\ncheck = 'x'\nsubject = '*'\nreason = 'r'\napproved_by = 'a'",
            "'waivers[1].check' names no check",
        ),
        ("[[custom]]\nid = 'Bad Id'\nrun = 'true'", "'custom[1].id' must be lower-case"),
        ("[[custom]]\nid = 'limitations'\nrun = 'true'", "'limitations' is already a check's id"),
        ("[[custom]]\nid = 'x'\nrun = []", "'custom[1].run' must name a command"),
        ("[[custom]]\nid = 'x'\nrun = 'true'\ntimeout = 0", "'custom[1].timeout' must be a number"),
        (
            "[evaluation]\nmin_sample_size = 0",
            "'evaluation.min_sample_size' must be a whole number",
        ),
        (
            "[[secrets.pii]]\nname = 'x'\nregex = '('",
            "'secrets.pii[1].regex' is not a valid regular",
        ),
        ("[approvals]\nrequired = 'reviewer'", "'approvals.required' must be a list of strings"),
        ("checks = [", "not valid TOML"),
        (
            "[[waivers]]\ncheck = 'limitations'\nsubject = '*'\nreason = 'r'\n"
            "approved_by = 'a'\nexpires = 2027-01-31T00:00:00",
            "'waivers[1].expires' must be a TOML date",
        ),
    ],
)
def test_configuration_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(checklist.ChecklistError) as caught:
        checklist.parse_config(text)
    assert message in caught.value.problem
    assert caught.value.problem.startswith(".gitprov/checklist.toml")
    assert "docs/checklist.md" in caught.value.fix


def test_waivers_apply_to_their_check_and_subject_until_they_expire() -> None:
    config = checklist.parse_config(
        "[[waivers]]\ncheck = 'limitations'\nsubject = 'models/m.pt'\nreason = 'internal demo'\n"
        "approved_by = 'Ada <ada@example.com>'\nexpires = 2027-01-31\n"
    )
    failed = checklist.Result("limitations", "t", "fail", "error", "not written", "fill it")
    other = dataclasses.replace(failed, check="card-complete")
    waived, kept = checklist.apply_waivers(
        [failed, other], config.waivers, "models/m.pt", today=date(2027, 1, 31)
    )
    assert (waived.status, kept.status) == ("waived", "fail")
    assert waived.detail == "not written (waived by Ada <ada@example.com>: internal demo)"
    assert not waived.blocking
    assert kept.blocking
    (late,) = checklist.apply_waivers(
        [failed], config.waivers, "models/m.pt", today=date(2027, 2, 1)
    )
    assert late.status == "fail"
    (elsewhere,) = checklist.apply_waivers([failed], config.waivers, "x.pt", today=date(2027, 1, 1))
    assert elsewhere.status == "fail"


def test_a_report_fails_only_on_errors() -> None:
    warn = checklist.Result("plan-deviations", "t", "fail", "warning", "d", "f")
    error = dataclasses.replace(warn, severity="error")
    assert checklist.Report("m", DIGEST, (warn,), "").passed
    assert not checklist.Report("m", DIGEST, (warn, error), "").passed


def test_sections_include_their_subsections_and_skip_code_fences() -> None:
    text = "# T\n\n## Uses\n\n### Direct Use\nclassify\n```\n# not a heading\n```\n## Other\nx\n"
    found = md.sections(text)
    assert [(s.level, s.title) for s in found] == [
        (1, "T"),
        (2, "Uses"),
        (3, "Direct Use"),
        (2, "Other"),
    ]
    uses = md.find(found, ["uses"])
    assert uses is not None
    assert "classify" in uses.text
    assert "Other" not in uses.text
    assert md.prose("<!-- hint -->\nguide\n", ignore=["guide"]) == ""


def test_card_checks_on_the_untouched_template_fail_with_line_numbers() -> None:
    body = (Path(__file__).parents[1] / "templates" / "model_card.md").read_text()
    draft = card(body.replace("@", ""))
    complete = card_checks.card_complete(draft, DEFAULTS)
    assert complete.status == "fail"
    assert "section 'Direct Use' (line" in complete.detail
    assert "+" in complete.detail
    assert card_checks.intended_use(draft, DEFAULTS).status == "fail"
    limits = card_checks.limitations(draft, DEFAULTS)
    assert limits.status == "fail"
    line = next(
        n
        for n, text in enumerate(draft.card_text.split("\n"), 1)
        if text.startswith("## Bias")  # type: ignore[union-attr]
    )
    assert f"(line {line})" in limits.detail


def test_written_sections_pass_under_their_usual_names() -> None:
    filled = card(
        "## Intended Use\nTriage.\n## Out-of-Scope Use\nDiagnosis.\n"
        "## Limitations\nBlurry images.\n"
    )
    assert card_checks.intended_use(filled, DEFAULTS).status == "pass"
    assert card_checks.limitations(filled, DEFAULTS).status == "pass"
    assert card_checks.card_present(filled, DEFAULTS).status == "pass"


def test_a_missing_or_broken_card_fails_card_present_and_skips_the_rest() -> None:
    missing = card_checks.card_present(subject(card_source="m.card.md"), DEFAULTS)
    assert missing.status == "fail"
    assert "gitprov card new models/m.pt" in str(missing.fix)
    broken = subject(card_source="m.card.md", card_text="no front matter")
    assert card_checks.card_present(broken, DEFAULTS).status == "fail"
    assert card_checks.limitations(broken, DEFAULTS).status == "skip"


def evaluation(**changes: object) -> Evaluation:
    base = Evaluation("acc", 0.9, 0.88, 0.92, 500, "sha256:env", "card")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"ci_low": None}, "no confidence interval"),
        ({"n": None}, "no sample size"),
        ({"n": 10}, "n=10 < min_sample_size 100"),
        ({"environment": None}, "no evaluation environment"),
        ({"value": 0.95}, "value 0.95 outside its interval"),
    ],
)
def test_evaluation_needs_interval_sample_size_and_environment(
    changes: dict[str, object], reason: str
) -> None:
    config = dataclasses.replace(DEFAULTS, min_sample_size=100)
    verdict = card_checks.evaluation(subject(evaluations=(evaluation(**changes),)), config)
    assert verdict.status == "fail"
    assert reason in verdict.detail
    # A record of the same metric does not vouch for a number the card publishes...
    covered = subject(evaluations=(evaluation(**changes), evaluation(source="eval:01J")))
    assert card_checks.evaluation(covered, config).status == "fail"
    # ...but without card metrics, one complete record of each metric is the evidence.
    records = subject(
        evaluations=(evaluation(**changes, source="eval:01A"), evaluation(source="eval:01J"))
    )
    assert card_checks.evaluation(records, config).status == "pass"
    assert card_checks.evaluation(subject(), config).status == "fail"


def test_datasets_must_be_pinned_by_a_snapshot() -> None:
    facts = cards.Facts(name="m", path="models/m.pt", digest=DIGEST, run="run:01J")
    assert provenance_checks.datasets_pinned(subject(), DEFAULTS).status == "fail"
    assert provenance_checks.datasets_pinned(subject(facts=facts), DEFAULTS).status == "fail"
    dvc = DatasetInput("data/raw", "md5:" + "0" * 32)
    verdict = provenance_checks.datasets_pinned(subject(facts=facts, datasets=(dvc,)), DEFAULTS)
    assert verdict.status == "fail"
    assert "data/raw" in verdict.detail
    pinned = DatasetInput("data/train", DIGEST)
    assert (
        provenance_checks.datasets_pinned(subject(facts=facts, datasets=(pinned,)), DEFAULTS).status
        == "pass"
    )


def test_dependencies_plan_deviations_and_remote_presence() -> None:
    assert provenance_checks.dependencies(subject(), DEFAULTS).status == "fail"
    assert provenance_checks.dependencies(subject(packages=0), DEFAULTS).status == "fail"
    assert provenance_checks.dependencies(subject(packages=12), DEFAULTS).status == "pass"
    assert provenance_checks.plan_deviations(subject(), DEFAULTS).status == "skip"
    open_ = DecisionInfo("decisions/AB-x.md", "AB", "accepted", planned_vs_actual=False)
    proposed = dataclasses.replace(open_, status="proposed")
    assert provenance_checks.plan_deviations(subject(decisions=(open_,)), DEFAULTS).status == "fail"
    assert (
        provenance_checks.plan_deviations(subject(decisions=(proposed,)), DEFAULTS).status == "pass"
    )
    assert provenance_checks.artifact_on_remote(subject(), DEFAULTS).status == "fail"
    stores = (RemotePresence("a", False), RemotePresence("b", True))
    assert provenance_checks.artifact_on_remote(subject(remotes=stores), DEFAULTS).status == "pass"
    down = provenance_checks.artifact_on_remote(
        subject(remotes=(RemotePresence("a", None, "unreachable"),)), DEFAULTS
    )
    assert down.status == "fail"
    assert "a: unreachable" in down.detail


def test_approvals_need_a_valid_signature_for_every_required_role() -> None:
    config = dataclasses.replace(DEFAULTS, required_roles=("reviewer", "release-manager"))
    assert provenance_checks.approvals(subject(), DEFAULTS).status == "skip"
    signed = ApprovalState("reviewer", "ada@example.com", "valid")
    forged = ApprovalState("release-manager", "eve@example.com", "tampered")
    verdict = provenance_checks.approvals(subject(approvals=(signed, forged)), config)
    assert verdict.status == "fail"
    assert "missing a valid approval from: release-manager" in verdict.detail
    assert "release-manager by eve@example.com: tampered" in verdict.detail
    assert "--role release-manager" in str(verdict.fix)
    both = (signed, ApprovalState("release-manager", "bob@example.com", "valid"))
    assert provenance_checks.approvals(subject(approvals=both), config).status == "pass"
