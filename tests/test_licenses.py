"""Licenses: which card licenses are valid, and which model/dataset pairs pass.

The built-in compatibility table (docs/checklist.md) is a guard rail, not legal advice:
these tests pin what it says, what a team's [licenses.compatible] rules change, and how a
per-dataset waiver turns one conflict into an accepted one.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitprov.model import checklist, checklist_render, licenses
from gitprov.model.checks import license_checks, registry
from gitprov.model.checks.subject import DatasetInput, Subject
from tests.conftest import REPO_ROOT

CARD = "models/m.card.md"


def lic(text: str) -> licenses.License:
    found = licenses.parse(text)
    assert found is not None, f"{text!r} should be a valid license"
    return found


def subject(front: str | None = "license: apache-2.0\n", *datasets: DatasetInput) -> Subject:
    text = None if front is None else f"---\n{front}---\n# Model card\n"
    return Subject(
        checkpoint="models/m.pt",
        digest="sha256:" + "ab" * 32,
        card_source=CARD if text is not None else None,
        card_text=text,
        facts=None,
        datasets=datasets,
    )


def data(path: str, license: str | None) -> DatasetInput:
    return DatasetInput(path, "sha256:" + "cd" * 32, license, f"{path}.gitprov")


def config(text: str = "") -> checklist.Config:
    return checklist.parse_config(text)


# --- license-valid -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Apache-2.0", "Apache-2.0"),
        ("apache-2.0", "Apache-2.0"),  # SPDX ids match without regard to case: the Hub's id
        ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
        ("mit and bsd-3-clause", "MIT AND BSD-3-Clause"),
        (
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
        ),
        ("LicenseRef-acme-research", "LicenseRef-acme-research"),  # SPDX user-defined
        ("(MIT AND BSD-3-Clause) OR CC0-1.0", "(MIT AND BSD-3-Clause) OR CC0-1.0"),
        # Hugging Face ids: an SPDX id, one spelled differently, or Hub-only.
        ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
        ("gpl-3.0", "GPL-3.0-only"),
        ("odc-by", "ODC-By-1.0"),
        ("odbl", "ODbL-1.0"),
        ("pddl", "PDDL-1.0"),
        ("openrail", "openrail"),
        ("creativeml-openrail-m", "creativeml-openrail-m"),
        ("llama3.1", "llama3.1"),
        ("Gemma", "gemma"),
    ],
)
def test_spdx_expressions_and_hugging_face_ids_are_valid(text: str, key: str) -> None:
    assert lic(text).key == key
    assert isinstance(licenses.from_card({"license": text}), licenses.License)


@pytest.mark.parametrize(
    "text",
    [
        "Apache 2",
        "apache2.0",
        "foo",
        "MIT OR",  # license-expression raises AttributeError on this one
        "( )",  # ... and IndexError on this one
        "MIT WITH foo",
        "Classpath-exception-2.0",  # an exception is not a license
        "Apache-2.0 AND LicenseRef",
        "other",
        "unknown",
        "",
    ],
)
def test_anything_else_is_not_a_license(text: str) -> None:
    assert licenses.parse(text) is None
    assert isinstance(licenses.from_card({"license": text}), licenses.Invalid)


def test_an_invalid_license_gets_a_suggestion_and_the_fix() -> None:
    found = licenses.from_card({"license": "apache2.0"})
    assert isinstance(found, licenses.Invalid)
    assert "did you mean 'apache-2.0'" in found.problem
    assert "SPDX id" in found.fix


@pytest.mark.parametrize(
    ("front", "problem"),
    [
        ({}, "no 'license'"),
        ({"license": "[More Information Needed]"}, "neither an SPDX expression"),
        ({"license": ["mit", "apache-2.0"]}, "not a list"),
        ({"license": 2.0}, "not 2.0"),
        ({"license": "unknown"}, "'license: unknown' cannot be released"),
        ({"license": "other"}, "needs license_name and license_link"),
        ({"license": "other", "license_name": "acme"}, "needs license_link"),
        ({"license": "other", "license_link": "LICENSE"}, "needs license_name"),
        ({"license": "other", "license_name": " ", "license_link": "LICENSE"}, "license_name"),
    ],
)
def test_card_licenses_that_are_not_valid(front: dict[str, object], problem: str) -> None:
    found = licenses.from_card(front)
    assert isinstance(found, licenses.Invalid)
    assert problem in found.problem


def test_other_with_a_name_and_a_link_is_valid() -> None:
    found = licenses.from_card(
        {"license": "other", "license_name": "acme-research", "license_link": "LICENSE"}
    )
    assert isinstance(found, licenses.License)
    assert (found.key, found.name, found.describe()) == (
        "other",
        "acme-research",
        "other (acme-research)",
    )


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.lists(
            st.sampled_from(
                ["MIT", "OR", "AND", "WITH", "(", ")", "+", "foo", "LicenseRef-x", "cc-by-4.0"]
            ),
            max_size=8,
        ).map(" ".join),
    )
)
def test_parsing_any_text_never_raises(text: str) -> None:
    found = licenses.parse(text)
    assert found is None or found.key
    assert isinstance(licenses.from_card({"license": text}), licenses.License | licenses.Invalid)


def test_license_valid_check() -> None:
    check = license_checks.license_valid
    assert registry()["license-valid"] is check
    assert check(subject(None), config()).status == "skip"  # card-present reports it
    assert check(subject("license: [unclosed\n"), config()).status == "skip"
    passed = check(subject("license: cc-by-nc-4.0\n"), config())
    assert (passed.status, passed.detail) == ("pass", f"{CARD}: license cc-by-nc-4.0")
    failed = check(subject("license: other\nlicense_name: acme\n"), config())
    assert failed.status == "fail"
    assert failed.detail == f"{CARD}: 'license: other' needs license_link beside it"
    assert failed.fix is not None
    assert "license_link" in failed.fix


# --- license compatibility: the built-in table ---------------------------------------


@pytest.mark.parametrize(
    ("model", "dataset", "ok"),
    [
        # NonCommercial data: the model's license must be NonCommercial too.
        ("apache-2.0", "cc-by-nc-4.0", False),
        ("mit", "cc-by-nc-2.0", False),
        ("cc-by-nc-4.0", "cc-by-nc-4.0", True),
        ("cc-by-nc-sa-4.0", "cc-by-nc-4.0", True),
        ("cc-by-nc-nd-4.0", "cc-by-nc-3.0", True),
        # ShareAlike data: the same ShareAlike license, this version or a later one.
        ("mit", "cc-by-sa-4.0", False),
        ("cc-by-4.0", "cc-by-sa-4.0", False),
        ("cc-by-sa-4.0", "cc-by-sa-4.0", True),
        ("cc-by-sa-4.0", "cc-by-sa-3.0", True),
        ("cc-by-sa-3.0", "cc-by-sa-4.0", False),
        ("cc-by-nc-sa-4.0", "cc-by-sa-4.0", False),  # NC adds a restriction BY-SA forbids
        ("cc-by-nc-4.0", "cc-by-nc-sa-4.0", False),
        ("cc-by-nc-sa-4.0", "cc-by-nc-sa-3.0", True),
        ("odbl", "odbl", True),
        ("mit", "odbl", False),
        ("cdla-sharing-1.0", "cdla-sharing-1.0", True),
        # Permissive data: any model license.
        ("apache-2.0", "cc-by-4.0", True),
        ("cc-by-nc-4.0", "cc0-1.0", True),
        ("llama3", "mit", True),
        ("openrail", "apache-2.0", True),
        ("mit", "odc-by", True),
        ("mit", "pddl", True),
        ("mit", "bsd-3-clause", True),
        ("mit", "cdla-permissive-2.0", True),
        ("mit", "CC-BY-3.0-DE", True),
        # No built-in rule: fail and ask for one.
        ("mit", "cc-by-nd-4.0", False),
        ("cc-by-nc-nd-4.0", "cc-by-nc-nd-4.0", False),
        ("mit", "gpl-3.0", False),
        ("mit", "llama2", False),
        ("mit", "LicenseRef-vendor-terms", False),
        # Expressions: data under A OR B may be used under either; A AND B under both.
        ("apache-2.0", "MIT OR CC-BY-NC-4.0", True),
        ("apache-2.0", "CC-BY-4.0 AND CC-BY-NC-4.0", False),
        # A model under A OR B may be taken under either: each must be fine.
        ("Apache-2.0 OR CC-BY-NC-4.0", "cc-by-nc-4.0", False),
        ("CC-BY-NC-4.0 OR CC-BY-NC-SA-4.0", "cc-by-nc-4.0", True),
        # A model under A AND B carries both: one NonCommercial term suffices.
        ("Apache-2.0 AND CC-BY-NC-4.0", "cc-by-nc-4.0", True),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", "cc-by-4.0", True),
    ],
)
def test_builtin_compatibility_table(model: str, dataset: str, ok: bool) -> None:
    verdict = licenses.compatible(lic(model), lic(dataset))
    assert verdict.ok is ok, verdict.reason


def test_failures_say_which_rule_and_what_would_pass() -> None:
    nc = licenses.compatible(lic("apache-2.0"), lic("cc-by-nc-4.0")).reason
    assert "CC-BY-NC-4.0 is NonCommercial" in nc
    assert "not apache-2.0" in nc
    sa = licenses.compatible(lic("mit"), lic("cc-by-sa-3.0")).reason
    assert "must be CC-BY-SA-3.0 or a later version" in sa
    none = licenses.compatible(lic("mit"), lic("cc-by-nd-4.0")).reason
    assert "no built-in rule for dataset license CC-BY-ND-4.0" in none
    assert "[licenses.compatible]" in none


def test_other_model_license_needs_a_rule_for_restricted_data() -> None:
    other = licenses.from_card(
        {"license": "other", "license_name": "acme-research", "license_link": "LICENSE"}
    )
    assert isinstance(other, licenses.License)
    assert licenses.compatible(other, lic("cc-by-4.0")).ok
    assert not licenses.compatible(other, lic("cc-by-nc-4.0")).ok
    rules = {"CC-BY-NC-4.0": ["acme-research"]}  # a rule may name the card's license_name
    assert licenses.compatible(other, lic("cc-by-nc-4.0"), rules).ok


# --- license compatibility: configured rules -------------------------------------------


def test_a_configured_rule_replaces_the_builtin_one_for_that_dataset_license() -> None:
    rules = config(
        '[licenses.compatible]\n"cc-by-nc-4.0" = ["LicenseRef-acme-nc"]\n"CC-BY-ND-4.0" = ["*"]\n'
    ).license_rules
    nc = lic("CC-BY-NC-4.0")  # the rule's key matches in any spelling
    assert licenses.compatible(lic("LicenseRef-acme-nc"), nc, rules).ok
    stricter = licenses.compatible(lic("cc-by-nc-4.0"), nc, rules)
    assert not stricter.ok
    assert "allows only LicenseRef-acme-nc" in stricter.reason
    assert licenses.compatible(lic("mit"), lic("cc-by-nd-4.0"), rules).ok  # "*": any
    assert not licenses.compatible(lic("mit"), lic("cc-by-sa-4.0"), rules).ok  # untouched


def test_a_rule_can_name_a_dataset_license_only_the_team_knows() -> None:
    rules = {"Acme-Data-Terms-2": ["MIT", "apache-2.0"]}
    assert licenses.dataset_license("acme-data-terms-2") is None
    terms = licenses.dataset_license("acme-data-terms-2", rules)
    assert terms is not None
    assert licenses.compatible(lic("Apache-2.0"), terms, rules).ok
    assert not licenses.compatible(lic("cc-by-4.0"), terms, rules).ok


def test_a_rule_applies_inside_a_dataset_expression() -> None:
    rules = {"CC-BY-NC-4.0": ["*"]}
    assert licenses.compatible(lic("mit"), lic("CC-BY-4.0 AND CC-BY-NC-4.0"), rules).ok


# --- the license-compatible check -------------------------------------------------------


def test_license_compatible_skips_what_other_checks_report() -> None:
    check = license_checks.license_compatible
    assert registry()["license-compatible"] is check
    nc = data("data/train", "cc-by-nc-4.0")
    assert check(subject(None, nc), config()).detail.startswith("no model card")
    assert "license-valid reports it" in check(subject("license: foo\n", nc), config()).detail
    assert check(subject("license: mit\n"), config()).detail == (
        "the lineage names no training dataset"
    )


def test_nc_dataset_behind_an_apache_model_fails_naming_the_dataset() -> None:
    verdict = license_checks.license_compatible(
        subject("license: apache-2.0\n", data("data/train", "cc-by-nc-4.0")), config()
    )
    assert verdict.status == "fail"
    assert verdict.detail.startswith("data/train: CC-BY-NC-4.0 is NonCommercial")
    assert verdict.fix is not None
    assert 'check = "license-compatible" and subject = "data/train"' in verdict.fix


def test_compatible_datasets_pass() -> None:
    verdict = license_checks.license_compatible(
        subject(
            "license: cc-by-nc-4.0\n",
            data("data/train", "cc-by-nc-4.0"),
            data("data/extra", "cc-by-4.0"),
        ),
        config(),
    )
    assert verdict.status == "pass"
    assert verdict.detail == (
        "cc-by-nc-4.0 respects data/train (cc-by-nc-4.0), data/extra (cc-by-4.0)"
    )


def test_a_dataset_without_a_license_fails_with_the_pointer_fix() -> None:
    verdict = license_checks.license_compatible(
        subject("license: mit\n", data("data/train", None)), config()
    )
    assert verdict.status == "fail"
    assert verdict.detail == "data/train has no license"
    assert verdict.fix is not None
    assert 'Set license = "<SPDX id>" in the [meta] table of data/train.gitprov' in verdict.fix
    unknown = license_checks.license_compatible(
        subject("license: mit\n", data("data/train", "unknown")), config()
    )
    assert unknown.detail == "data/train has no license ('unknown')"


def test_a_dataset_license_nobody_knows_fails_naming_the_pointer() -> None:
    verdict = license_checks.license_compatible(
        subject("license: mit\n", data("data/train", "Acme terms")), config()
    )
    assert verdict.status == "fail"
    assert "'Acme terms' is not an SPDX id or expression" in verdict.detail
    assert verdict.fix is not None
    assert "data/train.gitprov" in verdict.fix


WAIVER = """
[[waivers]]
check = "license-compatible"
subject = "{subject}"
reason = "Research-only release agreed with the data owner (LEGAL-42)"
approved_by = "Ada <ada@example.com>"
expires = 2027-06-30
"""


def test_a_per_dataset_waiver_accepts_that_conflict_only() -> None:
    cfg = config(WAIVER.format(subject="data/web"))
    both = subject(
        "license: apache-2.0\n", data("data/web", "cc-by-nc-4.0"), data("data/extra", None)
    )
    verdict = license_checks.license_compatible(both, cfg, today=date(2027, 1, 1))
    assert verdict.status == "fail"  # data/extra still has no license
    assert verdict.detail.startswith("data/extra has no license; accepted: data/web: ")
    assert "(waived by Ada <ada@example.com>: Research-only release" in verdict.detail

    web_only = dataclasses.replace(both, datasets=both.datasets[:1])
    waived = license_checks.license_compatible(web_only, cfg, today=date(2027, 6, 30))
    assert waived.status == "waived"
    assert waived.detail.startswith("data/web: CC-BY-NC-4.0 is NonCommercial")
    assert waived.detail.endswith(
        "(waived by Ada <ada@example.com>: Research-only release agreed with the data owner "
        "(LEGAL-42))"
    )


def test_an_expired_waiver_does_not_apply_and_says_so() -> None:
    cfg = config(WAIVER.format(subject="*"))
    web = subject("license: apache-2.0\n", data("data/web", "cc-by-nc-4.0"))
    assert license_checks.license_compatible(web, cfg, today=date(2027, 6, 30)).status == ("waived")
    expired = license_checks.license_compatible(web, cfg, today=date(2027, 7, 1))
    assert expired.status == "fail"
    assert expired.detail.endswith("(a waiver expired on 2027-06-30)")


def test_a_waiver_for_another_check_or_dataset_does_not_apply() -> None:
    other_check = config(
        WAIVER.format(subject="data/web").replace("license-compatible", "evaluation")
    )
    other_data = config(WAIVER.format(subject="data/other"))
    web = subject("license: apache-2.0\n", data("data/web", "cc-by-nc-4.0"))
    for cfg in (other_check, other_data):
        assert license_checks.license_compatible(web, cfg, today=date(2027, 1, 1)).status == (
            "fail"
        )


def test_the_check_without_a_date_uses_today() -> None:
    cfg = config(WAIVER.format(subject="data/web").replace("expires = 2027-06-30\n", ""))
    web = subject("license: apache-2.0\n", data("data/web", "cc-by-nc-4.0"))
    assert license_checks.license_compatible(web, cfg).status == "waived"


# --- the documentation's examples -------------------------------------------------------


def checklist_doc(marker: str) -> str:
    """docs/checklist.md, which must hold ``marker``."""
    text = (REPO_ROOT / "docs" / "checklist.md").read_text()
    if marker not in text:
        pytest.fail(f"docs/checklist.md does not hold {marker!r}")
    return text


def test_every_example_in_the_docs_table_holds() -> None:
    text = checklist_doc("<!-- license-examples -->")
    table = text.split("<!-- license-examples -->")[1].split("<!-- /license-examples -->")[0]
    rows = [
        [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        for line in table.strip().splitlines()[2:]
    ]
    assert len(rows) >= 10
    for model, dataset, result in rows:
        assert licenses.compatible(lic(model), lic(dataset)).ok is (result == "pass"), (
            model,
            dataset,
        )


def test_the_docs_show_what_the_checks_print() -> None:
    text = checklist_doc("FAIL   license-compatible:")
    cfg = config()
    other = subject("license: other\nlicense_name: acme-research\n")
    two = subject(
        "license: apache-2.0\n", data("data/web", "cc-by-nc-4.0"), data("data/extra", None)
    )
    for check, verdict in (
        ("license-valid", license_checks.license_valid(other, cfg)),
        ("license-compatible", license_checks.license_compatible(two, cfg)),
    ):
        builtin = checklist.BUILTIN_BY_ID[check]
        shown = checklist_render.result_lines(
            checklist.result(
                builtin, verdict.status, severity="error", detail=verdict.detail, fix=verdict.fix
            )
        )
        assert "\n".join(shown) in text
