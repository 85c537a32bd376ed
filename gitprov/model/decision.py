"""Decision records ``decisions/<id>-<slug>.md``: why a model changed, versioned in git.

Markdown with TOML front matter between ``+++`` lines (the same convention as Hugo and
Zola), MADR-style sections plus ML fields. The front matter is parsed and edited with
tomlkit, so a user's comments and layout in it survive every status change, and the
Markdown body is never touched by gitprov.

IDs are six Crockford base32 characters drawn at random (30 bits), checked against every
ID already known when one is made. Two branches adding decisions at the same time draw
independently, so a collision needs the same six characters by chance (about one in a
billion per pair); the pre-commit check refuses a duplicate if it ever happens. Six
characters stay short enough to type in a ``Decision: 7K2M9Q`` trailer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, get_args

from gitprov.errors import GitprovError, UsageError
from gitprov.model import input_limits
from gitprov.model.notes import CROCKFORD

if TYPE_CHECKING:
    from tomlkit.toml_document import TOMLDocument

DECISIONS_DIR = "decisions"
ID_LENGTH = 6
FENCE = "+++"
Status = Literal["proposed", "accepted", "rejected", "deprecated", "superseded"]
STATUSES: tuple[str, ...] = get_args(Status)
Expect = Literal["increase", "decrease"]
EXPECTS: tuple[str, ...] = get_args(Expect)

# Legal moves. Rejected, deprecated and superseded are final: a decision that comes back
# is a new decision that supersedes nothing it did not replace.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "proposed": frozenset({"accepted", "rejected", "superseded"}),
    "accepted": frozenset({"deprecated", "superseded"}),
    "rejected": frozenset(),
    "deprecated": frozenset(),
    "superseded": frozenset(),
}
_ID = re.compile(rf"[{CROCKFORD}]{{{ID_LENGTH}}}")


class DecisionError(GitprovError):
    """A decision record that cannot be used; the message names the file and field."""


@dataclass(frozen=True)
class Decision:
    """The front matter fields gitprov reads (the document keeps everything else)."""

    id: str
    title: str
    status: Status
    created: str
    authors: tuple[str, ...] = ()
    supersedes: tuple[str, ...] = ()
    superseded_by: tuple[str, ...] = ()
    metrics: tuple[tuple[str, str], ...] = ()  # (name, expect)
    links: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def new_id(random_bits: int, taken: Iterable[str]) -> str | None:
    """The ID for ``random_bits`` (30 bits), or None when it is taken (draw again)."""
    value = random_bits & ((1 << (5 * ID_LENGTH)) - 1)
    ident = "".join(CROCKFORD[(value >> s) & 0x1F] for s in range(5 * (ID_LENGTH - 1), -1, -5))
    return None if ident in set(taken) else ident


def normalise_id(text: str) -> str | None:
    """``7k2m9q`` or ``7K2M9Q`` -> ``7K2M9Q``; None when it cannot be an ID.

    Crockford base32 reads I and L as 1 and O as 0, so a retyped ID still matches.
    """
    ident = text.strip().upper().translate(str.maketrans("ILO", "110"))
    return ident if _ID.fullmatch(ident) else None


def slug(title: str) -> str:
    """A file-name-safe slug of ``title``: ``Use AdamW (lr 3e-4)`` -> ``use-adamw-lr-3e-4``."""
    text = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return text[:48].rstrip("-") or "decision"


def file_name(ident: str, title: str) -> str:
    return f"{ident}-{slug(title)}.md"


def id_of_path(name: str) -> str | None:
    """The ID a record's file name starts with (None for other files)."""
    if not name.endswith(".md") or len(name) < ID_LENGTH:
        return None
    return normalise_id(name[:ID_LENGTH]) if name[ID_LENGTH : ID_LENGTH + 1] == "-" else None


def split(text: str, *, source: str) -> tuple[str, str]:
    """(front matter, body) of a record; the body keeps its exact bytes."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise DecisionError(
            f"{source}:1: a decision record starts with a '+++' line (TOML front matter)",
            "Re-create it with 'gitprov decision new', or add the front matter by hand",
        )
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "\n".join(lines[1:index]) + "\n", "\n".join(lines[index + 1 :])
    raise DecisionError(
        f"{source}: the front matter is not closed by a second '+++' line",
        "Add the closing '+++' line after the front matter",
    )


def join(front: str, body: str) -> str:
    return f"{FENCE}\n{front.rstrip(chr(10))}\n{FENCE}\n{body}"


def _strings(values: Any, key: str, fail: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise fail(key, "must be a list of strings")
    return tuple(values)


def parse(text: str, *, source: str) -> tuple[Decision, TOMLDocument, str]:
    """(decision, front matter document, body); errors say ``<source>: '<field>' ...``."""
    import tomlkit  # noqa: PLC0415 - only commands that read decisions pay for it
    from tomlkit.exceptions import ParseError, TOMLKitError  # noqa: PLC0415

    front, body = split(text, source=source)
    fix = f"Fix {source} by hand (see docs/decisions.md), then retry"
    problem = input_limits.size_problem(len(front), input_limits.MAX_FRONT_MATTER_BYTES)
    if problem is not None:  # tomlkit reads ~100 KB/s of hostile TOML (issue 9)
        raise DecisionError(f"{source}: the front matter {problem}", fix)
    try:
        doc = tomlkit.parse(front)
    except ParseError as exc:
        raise DecisionError(
            f"{source}:{exc.line + 1}: the front matter is not valid TOML", fix
        ) from None
    except TOMLKitError as exc:  # a key repeated inside a table: KeyAlreadyPresent (issue 9)
        raise DecisionError(f"{source}: the front matter is not valid TOML ({exc})", fix) from None
    values = doc.unwrap()

    def fail(key: str, problem: str) -> DecisionError:
        return DecisionError(f"{source}: '{key}' {problem}", fix)

    for key in ("id", "title", "status", "created"):
        if not isinstance(values.get(key), str) or not values[key].strip():
            raise fail(key, "is missing or not a non-empty string")
    ident = normalise_id(values["id"])
    if ident is None or ident != values["id"]:
        raise fail("id", f"must be {ID_LENGTH} characters of Crockford base32, e.g. 7K2M9Q")
    if values["status"] not in STATUSES:
        raise fail("status", f"must be one of {', '.join(STATUSES)}")
    metrics: list[tuple[str, str]] = []
    if not isinstance(values.get("metrics", []), list):  # e.g. metrics = 5 (issue 9)
        raise fail("metrics", "must be an array of tables ([[metrics]])")
    for item in values.get("metrics", []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise fail("metrics", "entries must be tables with a 'name'")
        if item.get("expect") not in EXPECTS:
            raise fail("metrics", f"'expect' of {item['name']!r} must be increase or decrease")
        metrics.append((item["name"], item["expect"]))
    links_raw = values.get("links", {})
    if not isinstance(links_raw, dict):
        raise fail("links", "must be a table")
    links = {k: _strings(v, f"links.{k}", fail) for k, v in links_raw.items()}
    decision = Decision(
        id=ident,
        title=values["title"],
        status=values["status"],
        created=values["created"],
        authors=_strings(values.get("authors", []), "authors", fail),
        supersedes=_strings(values.get("supersedes", []), "supersedes", fail),
        superseded_by=_strings(values.get("superseded_by", []), "superseded_by", fail),
        metrics=tuple(metrics),
        links=links,
    )
    return decision, doc, body


def check_transition(decision: Decision, to: str) -> None:
    """Refuse an illegal status change, saying which moves are possible."""
    allowed = TRANSITIONS[decision.status]
    if to in allowed:
        return
    if not allowed:
        fix = "It is final: record a new decision instead ('gitprov decision new')"
    else:
        fix = f"From {decision.status} it can become: {', '.join(sorted(allowed))}"
    raise UsageError(f"decision {decision.id} is {decision.status}; it cannot become {to}", fix)


def render_new(
    template: str,
    *,
    ident: str,
    title: str,
    created: str,
    authors: Iterable[str],
    hypothesis: str | None,
    metrics: Iterable[tuple[str, str]],
) -> str:
    """A new record from ``templates/decision.md``: TOML values are escaped by tomlkit."""
    import tomlkit  # noqa: PLC0415

    def toml(value: object) -> str:
        return tomlkit.item(value).as_string()

    metric_list = list(metrics)
    expectations = (
        "\n".join(f"- `{name}`: expected to {expect}." for name, expect in metric_list)
        or "Which metrics should move, in which direction, and by how much."
    )
    inline = ", ".join(
        "{ " + f"name = {toml(name)}, expect = {toml(expect)}" + " }"
        for name, expect in metric_list
    )
    text = (
        template.replace('"@ID@"', toml(ident))
        .replace('"@TITLE@"', toml(title))
        .replace('"@DATE@"', toml(created))
        .replace("@AUTHORS@", ", ".join(toml(a) for a in authors))
        .replace("@METRICS@", inline)
    )
    front, body = split(text, source="templates/decision.md")
    body = (
        body.replace("@TITLE@", title)
        .replace("@HYPOTHESIS@", hypothesis or "What do you expect to happen, and why?")
        .replace("@EXPECTATIONS@", expectations)
    )
    return join(front, body)
