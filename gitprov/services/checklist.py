"""The release checklist: gather what each check looks at, run the checks, report.

``run`` picks the checkpoints (named ones in the work tree; release-marked ones in the
index for the pre-commit hook; those changed by each commit of a range; or every
release-marked one), builds a :class:`~gitprov.model.checks.subject.Subject` for each
(the card and pointers from the same source, the lineage, approvals, decisions, remote
stores, the texts to scan for secrets), runs the enabled checks of
``.gitprov/checklist.toml`` and applies its waivers. The checks are pure
(``model.checks``); all I/O is here and in the adapters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitprov.adapters import check_command, git, git_notes
from gitprov.adapters.store import RemoteStore
from gitprov.errors import GitprovError
from gitprov.model import card as cards
from gitprov.model import checklist as model
from gitprov.model import decision as decisions
from gitprov.model import markdown_sections as md
from gitprov.model import runrecord
from gitprov.model.card import Facts
from gitprov.model.checks import registry
from gitprov.model.checks.subject import (
    ApprovalState,
    DatasetInput,
    DecisionInfo,
    Evaluation,
    RemotePresence,
    Subject,
    Text,
)
from gitprov.model.env_vars import redact_value
from gitprov.services import approvals, environment, remotes
from gitprov.services import cards as card_service
from gitprov.services import checklist_targets as targets
from gitprov.services.checklist_targets import Source, Target
from gitprov.services.workspace import Workspace, find, open_workspace

_PLANNED = ("Planned vs. actually changed", "Planned vs. actual", "Planned vs actual")
_PLANNED_GUIDANCE = ("What was planned; what actually changed, and why they differ.",)
_SAMPLE_KEYS = ("n", "sample_size", "samples", "num_samples")


def load_config(top: Path, source: Source | None = None) -> model.Config:
    """``.gitprov/checklist.toml`` from ``source`` (the work tree), or the defaults."""
    text = (source or Source(top)).text(model.CHECKLIST_PATH)
    return model.parse_config(text or "", source=model.CHECKLIST_PATH)


def run(
    *,
    cwd: Path,
    checkpoints: Sequence[str] = (),
    staged: bool = False,
    rev_range: str | None = None,
    at: str | None = None,
) -> list[model.Report]:
    """Check named ``checkpoints`` (as in the work tree, or as committed at ``at``; any
    stage), or the release-marked ones that the index changes (``staged``), that each
    commit of ``rev_range`` changes, or all of them."""
    ws = open_workspace(cwd)
    if checkpoints:
        found = find(ws, cwd, list(checkpoints))
        chosen = targets.named(ws.top, [ws.display(t.pointer_path) for t in found], at=at)
    elif staged:
        chosen = targets.staged(ws.top)
    elif rev_range:
        chosen = targets.in_range(ws.top, rev_range)
    else:
        chosen = targets.all_released(ws.top)
    return [check_target(ws, target) for target in chosen]


def check_target(ws: Workspace, target: Target) -> model.Report:
    """The checklist's report on one checkpoint version."""
    # The policy is read where the checkpoint is: the index for a staged commit (an
    # unstaged edit of the checklist must not loosen it), the commit for --range.
    config = load_config(ws.top, target.source)
    subject = gather(ws, target, config)
    checks = registry()
    results: list[model.Result] = []
    for builtin in model.BUILTIN:
        severity = config.severity(builtin.id)
        if severity is None:
            continue
        verdict = checks[builtin.id](subject, config)
        results.append(
            model.result(
                builtin, verdict.status, severity=severity, detail=verdict.detail, fix=verdict.fix
            )
        )
    results += [_custom(ws.top, custom, subject) for custom in config.custom]
    today = datetime.now(UTC).date()
    final = model.apply_waivers(results, config.waivers, target.checkpoint, today=today)
    return model.Report(
        target.checkpoint, target.pointer.digest, final, config.digest, target.source.label
    )


def _custom(top: Path, custom: model.Custom, subject: Subject) -> model.Result:
    values = {
        "checkpoint": subject.checkpoint,
        "digest": subject.digest,
        "card": subject.card_source or "",
    }
    argv = list(custom.run)
    for key, value in values.items():  # only these: a shell snippet may use braces itself
        argv = [arg.replace(f"{{{key}}}", value) for arg in argv]
    env = {f"GITPROV_{k.upper()}": v for k, v in values.items()}
    outcome = check_command.run(argv, cwd=top, env=env, timeout=custom.timeout)
    detail = redact_value(outcome.detail)
    status: model.Status = "pass" if outcome.code == 0 else "fail"
    if outcome.code not in (None, 0):
        detail = f"exit {outcome.code}" + (f": {detail}" if detail else "")
    return model.result(custom, status, severity=custom.severity, detail=detail)


# --- gathering -------------------------------------------------------------------------


def gather(ws: Workspace, target: Target, config: model.Config) -> Subject:
    """Everything the checks look at for ``target``."""
    source = target.source
    card_text = source.text(target.card_path)
    record, record_text = _run_record(source, target)
    facts = card_service.lineage_facts(
        ws.top, target.checkpoint, target.pointer, at=source.commit, run_record=record
    )
    if record_text is None and facts.run:
        _, record_text = _run_record(source, target, facts.run)
    datasets = []
    for dataset in facts.datasets if facts.run else ():
        license, where = targets.dataset_license(source, dataset.path)
        datasets.append(DatasetInput(dataset.path, dataset.digest, license, where))
    linked = _decisions(source, target, facts.run)
    texts = [Text(target.card_path, card_text)] if card_text is not None else []
    texts += [Text(path, text) for path, text, _ in linked]
    if record_text is not None and facts.run:
        texts.append(Text(runrecord.record_path(facts.run[4:]), record_text))
    texts += _notes(ws.top, [c for c in (facts.commit, source.commit) if c])
    return Subject(
        checkpoint=target.checkpoint,
        digest=target.pointer.digest,
        card_source=target.card_path,
        card_text=card_text,
        facts=facts if facts.run else None,
        datasets=tuple(datasets),
        packages=_packages(ws.top, facts.environment_id),
        evaluations=(
            *_evaluations(card_text, target.card_path, facts.environment_id),
            *_recorded_evaluations(facts),
        ),
        decisions=tuple(info for _, _, info in linked),
        remotes=_remotes(ws, target, config),
        approvals=_approvals(ws.top, target),
        texts=tuple(texts),
    )


def _run_record(
    source: Source, target: Target, run: str | None = None
) -> tuple[runrecord.RunRecord | None, str | None]:
    """The run record named by ``run`` (or the pointer's produced_by) in ``source``."""
    name = run or target.pointer.produced_by
    if not name or not name.startswith(runrecord.RUN_PREFIX):
        return None, None
    path = runrecord.record_path(name[len(runrecord.RUN_PREFIX) :])
    text = source.text(path)
    if text is None:
        return None, None
    try:
        return runrecord.loads(text.encode("utf-8"), source=path), text
    except GitprovError:
        return None, text  # still scanned for secrets


def _packages(top: Path, env: str | None) -> int | None:
    if not env:
        return None
    try:
        packages = environment.load(top=top, digest=env).get("packages")
    except GitprovError:
        return None
    return len(packages) if isinstance(packages, list) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _evaluation(metric: dict[str, Any], *, env: str | None, source: str) -> Evaluation:
    """One model-index metric entry (a card's, or one made from an eval record) as the
    checks see it: the interval and n from its ``args``; the environment from
    ``args.environment``, else ``env``."""
    raw_args = metric.get("args")
    args: dict[str, Any] = raw_args if isinstance(raw_args, dict) else {}
    n = next((args[k] for k in _SAMPLE_KEYS if isinstance(args.get(k), int)), None)
    own_env = args.get("environment")
    return Evaluation(
        metric=str(metric.get("name") or metric.get("type")),
        value=_number(metric.get("value")),
        ci_low=_number(args.get("ci_low")),
        ci_high=_number(args.get("ci_high")),
        n=n if not isinstance(n, bool) else None,
        environment=own_env if isinstance(own_env, str) and own_env else env,
        source=source,
    )


def _evaluations(card_text: str | None, card_path: str, env: str | None) -> tuple[Evaluation, ...]:
    """The metrics of the card's model-index (a metric without its own environment was
    computed by the training run, in the run's)."""
    if card_text is None:
        return ()
    try:
        front, _ = cards.parse(card_text, source=card_path)
        results = [r for entry in front.get("model-index") or [] for r in entry.get("results", [])]
        metrics = [m for r in results for m in r.get("metrics", []) if isinstance(m, dict)]
    except (cards.CardError, AttributeError, TypeError):
        return ()
    return tuple(
        _evaluation(metric, env=env, source="card")
        for metric in metrics
        # the empty row of a card without metrics
        if not (metric.get("value") == metric.get("name") == cards.PLACEHOLDER)
    )


def _recorded_evaluations(facts: Facts) -> list[Evaluation]:
    """The ``eval`` records of the checkpoint (``gitprov eval``), as the lineage facts
    already hold them (the latest value of each metric per dataset split): the notes are
    read once per checkpoint, not once for the card and again here."""
    out = []
    for result in facts.evaluations:
        for metric in result.get("metrics", []):
            args = metric.get("args") if isinstance(metric.get("args"), dict) else {}
            out.append(_evaluation(metric, env=None, source=str(args.get("evaluation", "eval"))))
    return out


def _decisions(
    source: Source, target: Target, run: str | None
) -> list[tuple[str, str, DecisionInfo]]:
    """Decision records that link the checkpoint or its run: (path, text, info)."""
    wanted_runs = {run, run[4:]} if run else set()
    found = []
    for path in source.files(decisions.DECISIONS_DIR):
        if not path.endswith(".md"):
            continue
        text = source.text(path)
        if text is None:
            continue
        try:
            record, _, _ = decisions.parse(text, source=path)
        except GitprovError:
            continue  # the pre-commit decision check reports malformed records
        artifacts = {link.partition("@")[0] for link in record.links.get("artifacts", ())}
        runs = set(record.links.get("runs", ()))
        if target.checkpoint not in artifacts and not runs & wanted_runs:
            continue
        section = md.find(md.sections(text), _PLANNED)
        written = section is not None and bool(md.prose(section.text, ignore=_PLANNED_GUIDANCE))
        found.append((path, text, DecisionInfo(path, record.id, record.status, written)))
    return found


def _notes(top: Path, commits: Sequence[str]) -> list[Text]:
    if not commits:
        return []
    notes = git_notes.read_notes(top, list(dict.fromkeys(commits)))
    return [Text(f"note on {commit[:12]}", text) for commit, text in notes.items() if text]


def _remotes(ws: Workspace, target: Target, config: model.Config) -> tuple[RemotePresence, ...]:
    if config.severity("artifact-on-remote") is None:
        return ()
    digest, size = target.pointer.digest, target.pointer.size
    out = []
    for spec in remotes.load(ws.top, ws.layout.gitprov_dir).values():
        try:
            store = RemoteStore(spec, base=ws.top)
            # A directory snapshot is present when its root node is: push uploads the
            # root last, after every file and sub-tree it names.
            present = digest in store.sizes({digest: 0 if target.pointer.is_tree else size})
            out.append(RemotePresence(spec.name, present))
        except GitprovError as exc:
            out.append(RemotePresence(spec.name, None, exc.problem))
    return tuple(out)


def _approvals(top: Path, target: Target) -> tuple[ApprovalState, ...]:
    at = target.source.commit or ("HEAD" if git.head_commit(top) else None)
    if at is None:
        return ()
    return tuple(
        ApprovalState(v.approval.role, v.approval.approver, v.status, v.detail)
        for v in approvals.verified_for_digest(top, target.pointer.digest, at=at)
    )


def report_json(reports: Sequence[model.Report]) -> str:
    return json.dumps([r.to_json() for r in reports], indent=2, sort_keys=False)
