"""Model card changes for a review: front matter fields old -> new, and the prose sections
that changed, each with a unified diff of that section only.

``model-index`` is left out of the field list (its values are the metrics table's job);
the ``gitprov:`` block and other mappings are compared key by key, dotted
(``gitprov.checkpoint.digest``), so a reviewer sees which pin moved.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from gitprov.errors import GitprovError
from gitprov.model import card as cards
from gitprov.model.review_report import CardDiff, Change, FieldChange, SectionChange

METRICS_KEY = "model-index"
VALUE_LIMIT = 120  # characters of a field value shown
_HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*#*\s*$")
_DIGEST = re.compile(r"(sha256:[0-9a-f]{12})[0-9a-f]{52}")
_FENCE = re.compile(r"\s{0,3}(`{3,}|~{3,})")


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, name + "."))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            out.update(_flatten({f"[{i}]": v for i, v in enumerate(value)}, name))
        else:
            out[name] = value
    return out


def shown(value: Any) -> str:
    """A front matter value as one line of text: strings as they are, the rest as JSON;
    digests shortened to 12 hex digits."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = _DIGEST.sub(r"\1…", " ".join(text.split()))
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """Front matter keys whose values differ, in the new card's order, removed keys last."""
    before = _flatten({k: v for k, v in old.items() if k != METRICS_KEY})
    after = _flatten({k: v for k, v in new.items() if k != METRICS_KEY})
    keys = list(after) + [k for k in before if k not in after]
    return [
        FieldChange(
            key,
            shown(before[key]) if key in before else None,
            shown(after[key]) if key in after else None,
        )
        for key in keys
        if before.get(key, _MISSING) != after.get(key, _MISSING)
    ]


_MISSING = object()


def sections(body: str) -> list[tuple[str, list[str]]]:
    """``(heading path, lines)`` of each section of a Markdown body: the text before the
    first heading is ``"(top)"``; a heading path names its parents (``Uses / Direct Use``)
    so that two ``Results`` sections stay apart. Headings inside code fences do not count."""
    found: list[tuple[str, list[str]]] = [("(top)", [])]
    stack: list[tuple[int, str]] = []
    fence: str | None = None
    seen: dict[str, int] = {}
    for line in body.replace("\r\n", "\n").split("\n"):
        marker = _FENCE.match(line)
        if marker:
            run = marker.group(1)
            if fence is None:
                fence = run
            elif run[0] == fence[0] and len(run) >= len(fence):
                fence = None
        heading = _HEADING.fullmatch(line) if fence is None else None
        if heading:
            level = len(heading.group(1))
            stack = [(lv, t) for lv, t in stack if lv < level] + [(level, heading.group(2))]
            # The title (a level-1 heading) names the card, not a section.
            name = " / ".join(t for lv, t in stack if lv > 1 or len(stack) == 1)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name} ({seen[name]})"
            found.append((name, [line]))
        else:
            found[-1][1].append(line)
    return [(name, lines) for name, lines in found if name != "(top)" or any(lines)]


def section_changes(old_body: str, new_body: str) -> list[SectionChange]:
    """The sections whose text differs, in the new body's order, removed ones last."""
    before, after = dict(sections(old_body)), dict(sections(new_body))
    out = []
    for name in list(after) + [n for n in before if n not in after]:
        a, b = before.get(name), after.get(name)
        if a is not None and b is not None and _stripped(a) == _stripped(b):
            continue
        change: Change = "added" if a is None else "removed" if b is None else "changed"
        diff = difflib.unified_diff(a or [], b or [], "base", "head", n=1, lineterm="")
        out.append(SectionChange(name, change, "\n".join(list(diff)[2:])))
    return out


def _stripped(lines: list[str]) -> list[str]:
    """Lines without trailing blanks: a blank line moved between sections is no change."""
    out = [line.rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def card_diff(path: str, old: str | None, new: str | None) -> CardDiff:
    """The diff of a card's two versions (None: absent on that side). A side that does not
    parse is compared as prose only, with a field saying so."""
    change: Change = "added" if old is None else "removed" if new is None else "changed"
    old_front, old_body = _parsed(old, path)
    new_front, new_body = _parsed(new, path)
    fields = field_changes(old_front or {}, new_front or {})
    for side, text, front in (("base", old, old_front), ("head", new, new_front)):
        if text is not None and front is None:
            fields.append(FieldChange("(front matter)", None, f"does not parse at the {side}"))
    return CardDiff(path, change, tuple(fields), tuple(section_changes(old_body, new_body)))


def _parsed(text: str | None, path: str) -> tuple[dict[str, Any] | None, str]:
    if text is None:
        return None, ""
    front = parsed_front(text)
    if front is None:
        return None, text
    return front, cards.split(text, source=path)[1]


@functools.lru_cache(maxsize=256)
def parsed_front(text: str) -> dict[str, Any] | None:
    """A card's front matter (None when it does not parse). A review reads each card
    version up to three times (diff, metrics, checkpoint); YAML is parsed once. Callers
    must not change the dict."""
    try:
        return cards.parse(text, source="card")[0]
    except GitprovError:
        return None


def _written(value: Any) -> str:
    """``value`` if it is text the author wrote (not empty, not the placeholder), else ""."""
    return value if isinstance(value, str) and value != cards.PLACEHOLDER else ""


def dataset_label(name: str, split: str = "", revision: str = "") -> str:
    """How the metrics table names where a value was measured: ``heldout (test,
    ds:3f2a...)``. Evaluation records and the card results made from them get the same
    label, so the two meet in one row."""
    where = ", ".join(part for part in (split, revision) if part)
    if not name:
        return where
    return f"{name} ({where})" if where else name


def metric_rows(front: Mapping[str, Any]) -> list[tuple[str, str, Any, Any, Any]]:
    """``(dataset, metric, value, ci_low, ci_high)`` of every metric in a card's
    ``model-index`` (values as written: numbers, or the placeholder)."""
    rows: list[tuple[str, str, Any, Any, Any]] = []
    index = front.get(METRICS_KEY)
    if not isinstance(index, list):
        return rows
    for model in index:
        results = model.get("results") if isinstance(model, Mapping) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, Mapping):
                continue
            dataset = result.get("dataset")
            label = ""
            if isinstance(dataset, Mapping):
                label = dataset_label(
                    _written(dataset.get("name")) or _written(dataset.get("type")),
                    _written(dataset.get("split")),
                    _written(dataset.get("revision")),
                )
            metrics = result.get("metrics")
            for metric in metrics if isinstance(metrics, list) else []:
                if not isinstance(metric, Mapping):
                    continue
                name = metric.get("name") or metric.get("type")
                args = metric.get("args")
                args = args if isinstance(args, Mapping) else {}
                if isinstance(name, str) and name != cards.PLACEHOLDER:
                    value = metric.get("value")
                    rows.append((label, name, value, args.get("ci_low"), args.get("ci_high")))
    return rows
