"""Model cards ``<checkpoint>.card.md``: Hugging Face model cards that pin their lineage.

A card is Markdown with YAML front matter between ``---`` lines, as the Hugging Face Hub
reads it: ``license``, ``datasets``, ``base_model``, ``tags``, ``model-index`` (metric
values, confidence intervals in each metric's ``args``), plus a ``gitprov:`` block that
pins the checkpoint digest, the dataset snapshot IDs, the training run and its commit.
The Hub keeps unknown front matter keys, so the block stays in the uploaded card.

gitprov owns the front matter fields it derives from lineage (:data:`DERIVED`) and
rewrites them on ``sync``; the Markdown body is the team's and is never touched. Where
nothing is known the Hugging Face placeholder ``[More Information Needed]`` is left, and
``validate`` (and the release checklist) list what is still to write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitprov.errors import GitprovError
from gitprov.model import input_limits

FENCE = "---"
SUFFIX = ".card.md"
PLACEHOLDER = "[More Information Needed]"
REQUIRED = ("license", "datasets", "tags", "model-index", "gitprov")
# Front matter keys that 'sync' recomputes from lineage; every other key is the author's.
DERIVED = ("datasets", "base_model", "model-index", "gitprov")
_CI_SUFFIXES = (("_ci_low", "_ci_high"), ("_ci_lower", "_ci_upper"))
_N = "_n"


class CardError(GitprovError):
    """A model card that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Dataset:
    path: str
    digest: str
    snapshot: str  # ds:<12 hex>


@dataclass(frozen=True)
class Facts:
    """What the lineage says about a checkpoint, for its card."""

    name: str  # the model's name: the checkpoint's file name without its extension
    path: str  # the checkpoint, relative to the work tree top
    digest: str
    run: str | None = None  # run:<ULID>
    commit: str | None = None  # the commit that recorded the run
    code: str | None = None  # the commit the run started from
    datasets: tuple[Dataset, ...] = ()
    base_model: tuple[str, str] | None = None  # (path, digest) of the parent checkpoint
    params: Mapping[str, str] = field(default_factory=dict)
    seeds: tuple[str, ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)  # metrics file -> its JSON
    environment: str | None = None  # one-line summary of the run's environment snapshot
    environment_id: str | None = None  # that snapshot's digest
    # model-index results of later evaluations (``gitprov eval``): dataset, split, metrics
    evaluations: tuple[Mapping[str, Any], ...] = ()
    command: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    problem: str
    fix: str


def check_size(size: int, *, source: str) -> None:
    """Refuse a card too large to be one (a hostile 100 MB file) before parsing it."""
    problem = input_limits.size_problem(size, input_limits.MAX_DOCUMENT_BYTES)
    if problem is not None:
        raise CardError(f"{source} {problem}", "Shorten the card; put large tables in linked files")


def split(text: str, *, source: str) -> tuple[str, str]:
    """(front matter, body); the body keeps its exact bytes (CRLF included)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r") != FENCE:
        raise CardError(
            f"{source}:1: a model card starts with a '---' line (YAML front matter)",
            "Re-create it with 'gitprov card new --force', or add the front matter by hand",
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r") == FENCE:
            return "\n".join(lines[1:index]) + "\n", "\n".join(lines[index + 1 :])
    raise CardError(
        f"{source}: the front matter is not closed by a second '---' line",
        "Add the closing '---' line after the front matter",
    )


def parse(text: str, *, source: str) -> tuple[dict[str, Any], str]:
    """(front matter as a dict in file order, body)."""
    import yaml  # noqa: PLC0415 - only card commands pay for it

    check_size(len(text), source=source)
    front, body = split(text, source=source)
    problem = input_limits.size_problem(len(front), input_limits.MAX_FRONT_MATTER_BYTES)
    if problem is not None:  # PyYAML reads ~50 KB/s of hostile YAML
        raise CardError(
            f"{source}: the front matter {problem}",
            "Keep the front matter to metadata; put large tables in the body",
        )
    try:
        data = yaml.safe_load(front.replace("\r\n", "\n"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 2}" if mark is not None else ""
        raise CardError(
            f"{source}{where}: the front matter is not valid YAML",
            f"Fix {source} by hand (see docs/cards.md), then retry",
        ) from None
    except RecursionError:  # nested ~1000 deep: a hostile card (issue 9)
        raise CardError(
            f"{source}: the front matter is nested too deeply",
            f"Fix {source} by hand (see docs/cards.md), then retry",
        ) from None
    # Aliases are shared, not copied, by the loader; every later walk (a dump, a JSON
    # export) expands them, so a "billion laughs" card is refused here.
    if input_limits.too_many_nodes(data):
        raise CardError(
            f"{source}: the front matter expands to more than "
            f"{input_limits.MAX_YAML_NODES:,} values (YAML aliases)",
            f"Write the values out without aliases in {source}",
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CardError(
            f"{source}: the front matter is not a mapping of keys to values",
            f"Fix {source} by hand (see docs/cards.md), then retry",
        )
    return data, body


def dump(data: Mapping[str, Any]) -> str:
    """YAML for ``data`` in its own key order (block style, Unicode kept)."""
    import yaml  # noqa: PLC0415

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # a card is read by people: repeat a value, never '&id001'/'*id001'

    return yaml.dump(dict(data), Dumper=Dumper, sort_keys=False, allow_unicode=True, width=100)


def join(front: Mapping[str, Any], body: str, *, crlf: bool = False) -> str:
    text = dump(front).rstrip("\n")
    if crlf:
        text = text.replace("\n", "\r\n")
        return f"{FENCE}\r\n{text}\r\n{FENCE}\r\n{body}"
    return f"{FENCE}\n{text}\n{FENCE}\n{body}"


def _flatten(values: Any, prefix: str = "") -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    if isinstance(values, Mapping):
        for key, value in values.items():
            out.update(_flatten(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}"))
    elif isinstance(values, int | float) and not isinstance(values, bool) and prefix:
        out[prefix] = values
    return out


def metric_rows(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """model-index metrics from a run's metrics files: ``*_ci_low``/``*_ci_high`` (or
    ``_ci_lower``/``_ci_upper``) go into the ``args`` of their metric; a metric without
    them gets placeholders there, for the author (and the checklist) to fill."""
    flat: dict[str, float | int] = {}
    for values in metrics.values():
        flat.update(_flatten(values))
    bounds = {k for k in flat for low, high in _CI_SUFFIXES if k.endswith((low, high))}
    # "<metric>_n" is that metric's sample size (only when "<metric>" is a metric too).
    sizes = {k for k in flat if k.endswith(_N) and k[: -len(_N)] in flat}
    rows = []
    for name, value in flat.items():
        if name in bounds or name in sizes:
            continue
        args: dict[str, Any] = {"ci_low": PLACEHOLDER, "ci_high": PLACEHOLDER}
        for low, high in _CI_SUFFIXES:
            if name + low in flat and name + high in flat:
                args = {"ci_low": flat[name + low], "ci_high": flat[name + high]}
        if name + _N in sizes and isinstance(flat[name + _N], int):
            args["n"] = flat[name + _N]
        rows.append({"type": name, "value": value, "name": name, "args": args})
    return rows


def model_index(facts: Facts, previous: Any = None) -> list[dict[str, Any]]:
    """``model-index`` with the run's metrics; the task and dataset the author filled in
    ``previous`` (an earlier card's model-index) are kept."""
    task: Any = {"type": PLACEHOLDER}
    dataset: Any = {"type": PLACEHOLDER, "name": PLACEHOLDER}
    rows = metric_rows(facts.metrics)
    try:
        old = previous[0]["results"][0]
        task, dataset = old.get("task", task), old.get("dataset", dataset)
        old_args = {m["name"]: m.get("args") for m in old.get("metrics", [])}
    except (TypeError, KeyError, IndexError, AttributeError):
        old_args = {}
    for row in rows:
        kept = old_args.get(row["name"])
        if not isinstance(kept, dict):
            continue
        if row["args"]["ci_low"] == PLACEHOLDER:
            # A confidence interval written by hand survives until the run provides one.
            row["args"] = {**kept, **{k: v for k, v in row["args"].items() if k == "n"}}
        else:
            # Other args the author added (n, environment...) survive; the run's win.
            row["args"] = {**kept, **row["args"]}
    results = []
    if rows or not facts.evaluations:
        if not rows:
            rows = [{"type": PLACEHOLDER, "value": PLACEHOLDER, "name": PLACEHOLDER}]
        results.append({"task": task, "dataset": dataset, "metrics": rows})
    results += [{"task": task, **evaluation} for evaluation in facts.evaluations]
    return [{"name": facts.name, "results": results}]


def gitprov_block(facts: Facts) -> dict[str, Any]:
    block: dict[str, Any] = {
        "checkpoint": {"path": facts.path, "digest": facts.digest},
        "datasets": [
            {"path": d.path, "snapshot": d.snapshot, "digest": d.digest} for d in facts.datasets
        ],
        "base_model": (
            {"path": facts.base_model[0], "digest": facts.base_model[1]}
            if facts.base_model
            else None
        ),
        "run": facts.run,
        "commit": facts.commit,
        "code": facts.code,
    }
    return block


def derived(facts: Facts, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The lineage-derived front matter fields (:data:`DERIVED`) for ``facts``."""
    out: dict[str, Any] = {"datasets": [d.path for d in facts.datasets]}
    if facts.base_model:
        out["base_model"] = facts.base_model[0]
    out["model-index"] = model_index(facts, (previous or {}).get("model-index"))
    out["gitprov"] = gitprov_block(facts)
    return out


def front_matter(facts: Facts, *, license: str | None) -> dict[str, Any]:
    """A new card's front matter, keys in a stable order."""
    fields = derived(facts)
    data: dict[str, Any] = {"license": license or PLACEHOLDER, "datasets": fields["datasets"]}
    if "base_model" in fields:
        data["base_model"] = fields["base_model"]
    data["tags"] = ["gitprov"]
    data["model-index"] = fields["model-index"]
    data["gitprov"] = fields["gitprov"]
    return data


def refreshed(data: Mapping[str, Any], facts: Facts) -> dict[str, Any]:
    """``data`` with its derived fields recomputed; the author's keys and order kept,
    new derived keys placed before ``gitprov``."""
    fields = derived(facts, data)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "gitprov":
            for extra in DERIVED:
                if extra in fields and extra not in data and extra != "gitprov":
                    out[extra] = fields[extra]
        if key in DERIVED:
            if key in fields:
                out[key] = fields[key]
        else:
            out[key] = value
    for key in DERIVED:
        if key in fields and key not in out:
            out[key] = fields[key]
    return out


def body(template: str, facts: Facts) -> str:
    """The Markdown body of a new card from ``templates/model_card.md``."""
    unknown = PLACEHOLDER

    def listing(items: Sequence[str]) -> str:
        return "\n".join(f"- {item}" for item in items) if items else unknown

    datasets = [f"`{d.path}` (snapshot `{d.snapshot}`, `{d.digest}`)" for d in facts.datasets]
    params = [f"{k}: `{v}`" for k, v in sorted(facts.params.items())]
    params += [f"seed: `{s}`" for s in facts.seeds]
    results = [
        f"{row['name']}: {row['value']}"
        + (
            f" (CI {row['args']['ci_low']} to {row['args']['ci_high']})"
            if row["args"]["ci_low"] != PLACEHOLDER
            else f" (confidence interval: {unknown})"
        )
        for row in metric_rows(facts.metrics)
    ]
    base = f"`{facts.base_model[0]}` (`{facts.base_model[1]}`)" if facts.base_model else unknown
    if facts.run and not facts.base_model:
        base = "none: the training run read no parent checkpoint"
    values = {
        "@NAME@": facts.name,
        "@CHECKPOINT@": f"`{facts.path}` (`{facts.digest}`)",
        "@BASE_MODEL@": base,
        "@RUN@": f"`{facts.run}` (commit `{facts.commit}`)" if facts.run else unknown,
        "@COMMAND@": f"`{' '.join(facts.command)}`" if facts.command else unknown,
        "@DATASETS@": listing(datasets),
        "@HYPERPARAMETERS@": listing(params),
        "@RESULTS@": listing(results),
        "@ENVIRONMENT@": facts.environment or unknown,
    }
    text = template
    for marker, value in values.items():
        text = text.replace(marker, value)
    return text


def placeholders(text: str) -> list[tuple[int, str]]:
    """(line number, section heading) of every placeholder left in a card's text."""
    found = []
    section = "front matter"
    for number, line in enumerate(text.split("\n"), start=1):
        heading = re.match(r"#+\s+(.*)", line)
        if heading and number > 1:
            section = heading.group(1).strip()
        if PLACEHOLDER in line:
            found.append((number, section))
    return found


def check(data: Mapping[str, Any], facts: Facts, *, source: str, command: str) -> list[Problem]:
    """Where ``data`` (a card's front matter) disagrees with ``facts`` or lacks keys."""
    sync = f"Run 'gitprov card sync {command}'"
    problems = [
        Problem(
            f"{source}: required key '{key}' is missing", f"Add it, or {sync[0].lower()}{sync[1:]}"
        )
        for key in REQUIRED
        if key not in data
    ]
    block = data.get("gitprov")
    if not isinstance(block, Mapping):
        if "gitprov" in data:
            problems.append(Problem(f"{source}: 'gitprov' is not a mapping", sync))
        return problems
    want = gitprov_block(facts)
    checkpoint = block.get("checkpoint") or {}
    digest = checkpoint.get("digest") if isinstance(checkpoint, Mapping) else None
    if digest != facts.digest:
        problems.append(
            Problem(
                f"{source}: gitprov.checkpoint.digest is {digest} but {facts.path} is "
                f"{facts.digest}",
                sync,
            )
        )
    for key, label in (("datasets", "dataset snapshots"), ("base_model", "base model")):
        if block.get(key) != want[key]:
            problems.append(
                Problem(f"{source}: gitprov.{key} does not match the lineage's {label}", sync)
            )
    if block.get("run") != want["run"]:
        problems.append(
            Problem(
                f"{source}: gitprov.run is {block.get('run')}, lineage says {want['run']}", sync
            )
        )
    if data.get("datasets") != [d.path for d in facts.datasets] and "datasets" in data:
        problems.append(Problem(f"{source}: 'datasets' does not match the lineage", sync))
    if facts.base_model and data.get("base_model") != facts.base_model[0]:
        problems.append(
            Problem(f"{source}: 'base_model' does not name {facts.base_model[0]}", sync)
        )
    return problems
