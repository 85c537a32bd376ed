"""Licenses of models and datasets: what is a valid license, and which combinations pass.

A card's ``license`` is valid when it is an SPDX license expression (``Apache-2.0``,
``MIT OR Apache-2.0``, ``LicenseRef-acme``), checked with the ``license-expression``
library, or one of the Hugging Face Hub's license ids (``apache-2.0``, ``cc-by-nc-4.0``,
``openrail``, ``llama3``...). SPDX ids match without regard to case, so most Hub ids
*are* SPDX ids; the few that are spelled differently map to theirs (:data:`HF_TO_SPDX`),
and the rest have no SPDX equivalent (:data:`HF_ONLY`). ``license: other`` is valid only
with ``license_name`` and ``license_link`` beside it, as the Hub asks; ``unknown`` is not
a license a release can ship under.

Compatibility is a guard rail, not legal advice: a small, explicit table
(:func:`compatible`, docs/checklist.md) catches the common mistakes (a NonCommercial
dataset behind a commercially licensed model, a ShareAlike dataset behind a model that
does not share alike) and refuses to guess about everything else. A team overrides it per
dataset license in ``[licenses.compatible]`` of ``.gitprov/checklist.toml``.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

OTHER = "other"
UNKNOWN = "unknown"
ANY = "*"  # in a [licenses.compatible] rule: any model license
NO_RULES: Mapping[str, Sequence[str]] = MappingProxyType({})

# Hub ids whose SPDX id is spelled differently (the rest of the Hub's list either is an
# SPDX id, matched without regard to case, or has no SPDX equivalent: HF_ONLY).
HF_TO_SPDX: Mapping[str, str] = {
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
    "pddl": "PDDL-1.0",
    "c-uda": "C-UDA-1.0",
    "lgpl-lr": "LGPLLR",
}
# Hub ids with no SPDX equivalent: license families (which version is meant is not said)
# and model licenses written for AI (RAIL, Llama, Gemma, research-only licenses).
HF_ONLY: frozenset[str] = frozenset(
    {
        *("bsd", "cc", "gfdl", "gpl", "lgpl"),
        *("openrail", "openrail++", "bigscience-openrail-m", "creativeml-openrail-m"),
        *("bigcode-openrail-m", "bigscience-bloom-rail-1.0"),
        *("llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma"),
        *("deepfloyd-if-license", "fair-noncommercial-research-license"),
        *("h-research", "intel-research", "apple-ascl", "apple-amlr"),
    }
)

# The compatibility table's families (docs/checklist.md, "license-compatible").
# Permissive dataset licenses ask for attribution at most: any model license is fine.
PERMISSIVE: frozenset[str] = frozenset(
    {
        *("CC0-1.0", "PDDL-1.0", "ODC-By-1.0", "CDLA-Permissive-1.0", "CDLA-Permissive-2.0"),
        *("MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Unlicense"),
    }
)  # and every CC-BY-<version> (attribution only), matched by _CC below
# ShareAlike data licenses other than Creative Commons: the model must carry the same one.
SHARE_ALIKE_SAME: frozenset[str] = frozenset({"CDLA-Sharing-1.0", "ODbL-1.0"})
# CC-BY[-NC][-SA|-ND]-<version>[-<port>], e.g. CC-BY-SA-3.0-DE.
_CC = re.compile(r"CC-BY(?P<nc>-NC)?(?:-(?P<terms>SA|ND))?-(?P<version>\d+\.\d+)(?:-[A-Za-z]+)?")
# SPDX user-defined licenses: valid without being in the SPDX list.
_LICENSE_REF = re.compile(r"(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+")

# An expression tree: a license key, or (operator, operands) for AND / OR.
Tree = str | tuple[str, tuple["Tree", ...]]


@dataclass(frozen=True)
class License:
    """A license as a card or a dataset pointer states it.

    ``key``: the SPDX expression in SPDX's spelling (``Apache-2.0``), a Hub-only id
    (``openrail``), ``other``, or for a dataset license known to nothing but a configured
    rule, the text as written. ``name``: ``license_name`` of ``other``.
    """

    text: str
    key: str
    spdx: bool
    name: str = ""
    tree: Tree = ""

    def describe(self) -> str:
        if self.key == OTHER:
            return f"other ({self.name})"
        shown = self.text.strip()
        if self.spdx and shown.casefold() != self.key.casefold():
            return f"{shown} (SPDX {self.key})"
        return shown


@dataclass(frozen=True)
class Invalid:
    """Why a card's license is not valid, and what to do."""

    problem: str
    fix: str


@dataclass(frozen=True)
class Compatibility:
    ok: bool
    reason: str


@functools.cache
def _licensing() -> Any:
    # ~0.1 s to load the SPDX index: only when a license is checked.
    from license_expression import get_spdx_licensing  # type: ignore[import-untyped]  # noqa: PLC0415

    return get_spdx_licensing()


def _spdx_tree(expression: Any, licensing: Any) -> Tree:
    if isinstance(expression, licensing.AND | licensing.OR):
        operator = "AND" if isinstance(expression, licensing.AND) else "OR"
        return (operator, tuple(_spdx_tree(arg, licensing) for arg in expression.args))
    # "X WITH exception": an exception only adds permissions, so X decides.
    symbol = getattr(expression, "license_symbol", expression)
    return str(symbol.key)


def parse(value: str) -> License | None:
    """The license ``value`` names (an SPDX expression or a Hub id), or None.

    >>> parse("apache-2.0").key, parse("odc-by").key, parse("openrail").key
    ('Apache-2.0', 'ODC-By-1.0', 'openrail')
    >>> parse("Apache 2") is None
    True
    """
    text = value.strip()
    lower = text.lower()
    if not text or lower in (OTHER, UNKNOWN):
        return None
    if lower in HF_ONLY:
        return License(value, lower, spdx=False, tree=lower)
    licensing = _licensing()
    try:
        expression = licensing.parse(HF_TO_SPDX.get(lower, text), validate=False, strict=True)
        unknown = licensing.unknown_license_keys(expression)
    except Exception:  # noqa: BLE001 - the library raises IndexError, AssertionError and
        # AttributeError besides its own errors on malformed input ("( )", "MIT OR")
        return None
    if expression is None or any(not _LICENSE_REF.fullmatch(key) for key in unknown):
        return None
    return License(value, str(expression), spdx=True, tree=_spdx_tree(expression, licensing))


def _suggestion(text: str) -> str:
    spdx = {
        key.lower()
        for key, symbol in _licensing().known_symbols.items()
        if not symbol.is_exception and not key.startswith("LicenseRef-")
    }
    known = sorted(spdx | HF_ONLY | set(HF_TO_SPDX))
    close = difflib.get_close_matches(text.strip().lower(), known, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def from_card(front: Mapping[str, Any]) -> License | Invalid:
    """The license a card's front matter states, or why it is not a valid one."""
    value = front.get("license")
    fix = "Set 'license' in the card's front matter to an SPDX id (https://spdx.org/licenses/)"
    if value is None or (isinstance(value, str) and not value.strip()):
        return Invalid("the front matter has no 'license'", fix)
    if not isinstance(value, str):
        kinds: dict[type, str] = {list: "a list", dict: "a mapping"}
        kind = kinds.get(type(value), repr(value))
        return Invalid(
            f"'license' must be one id or an SPDX expression, not {kind}",
            f"{fix}; write several licenses as one expression, e.g. 'MIT OR Apache-2.0'",
        )
    lower = value.strip().lower()
    if lower == OTHER:
        return _other(front, value)
    if lower == UNKNOWN:
        return Invalid("'license: unknown' cannot be released", fix)
    found = parse(value)
    if found is None:
        shown = value if len(value) <= 60 else value[:57] + "..."
        return Invalid(
            f"license {shown!r} is neither an SPDX expression nor a Hugging Face license id"
            + _suggestion(value),
            f"{fix}, a Hugging Face id, or 'other' with license_name and license_link",
        )
    return found


def _other(front: Mapping[str, Any], value: str) -> License | Invalid:
    """``license: other``: valid with a name and a link to the text, as the Hub asks."""
    missing = [k for k in ("license_name", "license_link") if not _text(front.get(k))]
    if missing:
        return Invalid(
            f"'license: other' needs {' and '.join(missing)} beside it",
            "Add license_name (a short id, e.g. acme-research) and license_link (a URL or "
            "the LICENSE file's path) to the front matter, as the Hugging Face Hub asks",
        )
    return License(value, OTHER, spdx=False, name=str(front["license_name"]).strip(), tree=OTHER)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _rule_key(text: str) -> str:
    found = parse(text)
    return found.key if found is not None else text.strip().casefold()


def dataset_license(text: str, rules: Mapping[str, Sequence[str]] = NO_RULES) -> License | None:
    """A dataset's license; a name only a configured rule knows is kept as written."""
    found = parse(text)
    if found is not None:
        return found
    key = text.strip().casefold()
    if any(k.strip().casefold() == key for k in rules):
        return License(text, key, spdx=False, tree=key)
    return None


def _configured(key: str, rules: Mapping[str, Sequence[str]]) -> Sequence[str] | None:
    for dataset, allowed in rules.items():
        if _rule_key(dataset) == key or dataset.strip().casefold() == key.casefold():
            return allowed
    return None


def _model_ok(tree: Tree, test: Callable[[str], bool]) -> bool:
    """Whether ``tree`` (part of the model's license) passes ``test``: every alternative
    of an OR (a licensee may pick any), one term of an AND (all terms apply at once)."""
    if isinstance(tree, str):
        return test(tree)
    operator, operands = tree
    results = [_model_ok(operand, test) for operand in operands]
    return all(results) if operator == "OR" else any(results)


def _cc(key: str) -> tuple[bool, str | None, tuple[int, ...]] | None:
    """(NonCommercial, "SA" | "ND" | None, version) of a Creative Commons BY license."""
    match = _CC.fullmatch(key)
    if match is None:
        return None
    version = tuple(int(part) for part in match["version"].split("."))
    return bool(match["nc"]), match["terms"], version


def _creative_commons(
    dataset: str, terms: tuple[bool, str | None, tuple[int, ...]], model: License
) -> Compatibility:
    """The rule for a NonCommercial or ShareAlike Creative Commons dataset license."""
    nc, share, version = terms

    def follows(key: str) -> bool:
        other = _cc(key)
        if other is None or (nc and not other[0]):
            return False
        if share == "SA":  # the same ShareAlike terms, this version or a later one
            return other[:2] == (nc, "SA") and other[2] >= version
        return True  # NonCommercial only: any NonCommercial CC license

    shown = model.describe()
    if _model_ok(model.tree, follows):
        return Compatibility(True, f"{shown} keeps {dataset}'s terms")
    if share == "SA":
        need = f"CC-BY-{'NC-' if nc else ''}SA-{'.'.join(map(str, version))} or a later version"
        return Compatibility(
            False, f"{dataset} is ShareAlike: the model's license must be {need}, not {shown}"
        )
    return Compatibility(
        False,
        f"{dataset} is NonCommercial: the model's license must be NonCommercial too "
        f"(e.g. CC-BY-NC-4.0), not {shown}",
    )


def _builtin(dataset: str, model: License) -> Compatibility:
    """The default rule for one dataset license (no AND/OR left) and the model's license."""
    shown = model.describe()
    cc = _cc(dataset)
    if dataset in PERMISSIVE or (cc is not None and cc[:2] == (False, None)):
        return Compatibility(True, f"{dataset} is permissive")
    if cc is not None and cc[1] != "ND":
        return _creative_commons(dataset, cc, model)
    if dataset in SHARE_ALIKE_SAME:
        if _model_ok(model.tree, lambda key: key == dataset):
            return Compatibility(True, f"{shown} keeps {dataset}'s terms")
        return Compatibility(
            False, f"{dataset} is ShareAlike: the model's license must be {dataset}, not {shown}"
        )
    return Compatibility(
        False,
        f"gitprov has no built-in rule for dataset license {dataset} (model license "
        f"{shown}); add one under [licenses.compatible] in .gitprov/checklist.toml",
    )


def _by_rule(dataset: str, model: License, allowed: Sequence[str]) -> Compatibility:
    keys = {_rule_key(a) for a in allowed}
    names = {a.strip().casefold() for a in allowed}

    def listed(key: str) -> bool:
        return key in keys or (key == OTHER and model.name.strip().casefold() in names)

    if ANY in allowed or model.key in keys or _model_ok(model.tree, listed):
        return Compatibility(True, f"the configured rule for {dataset} allows {model.describe()}")
    return Compatibility(
        False,
        f"the configured rule for {dataset} allows only {', '.join(allowed) or 'nothing'}, "
        f"not {model.describe()}",
    )


def _dataset_ok(tree: Tree, model: License, rules: Mapping[str, Sequence[str]]) -> Compatibility:
    if isinstance(tree, str):
        allowed = _configured(tree, rules)
        return _builtin(tree, model) if allowed is None else _by_rule(tree, model, allowed)
    operator, operands = tree
    verdicts = [_dataset_ok(operand, model, rules) for operand in operands]
    if operator == "OR":  # the team may use the data under any one alternative
        return next((v for v in verdicts if v.ok), verdicts[0])
    return next((v for v in verdicts if not v.ok), verdicts[0])


def compatible(
    model: License,
    dataset: License,
    rules: Mapping[str, Sequence[str]] = NO_RULES,
) -> Compatibility:
    """Whether a model under ``model`` may be trained on data under ``dataset``.

    A configured rule (``rules``: dataset license -> allowed model licenses, ``*`` for
    any) decides first, for the whole dataset license or for one part of an expression.
    Otherwise the built-in table: permissive data allows any model license; NonCommercial
    data needs a NonCommercial model license; ShareAlike data the same ShareAlike license
    (a later Creative Commons version is fine); anything else has no default and fails,
    asking for a rule. A dataset ``A OR B`` passes when one alternative does, ``A AND B``
    when both do. A guard rail, not legal advice.

    >>> compatible(parse("apache-2.0"), parse("cc-by-nc-4.0")).ok
    False
    """
    allowed = _configured(dataset.key, rules)
    if allowed is not None:
        return _by_rule(dataset.key, model, allowed)
    return _dataset_ok(dataset.tree, model, rules)
