"""Checks on where the checkpoint came from and who vouches for it: pinned datasets,
recorded dependencies, documented plan deviations, a remote copy, signed approvals."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gitprov.model.checklist import Config
from gitprov.model.checks.subject import Subject, Verdict

_VALID = "valid"


def datasets_pinned(subject: Subject, config: Config) -> Verdict:
    if subject.facts is None:
        return Verdict(
            "fail",
            f"no run record says what {subject.checkpoint} was trained on",
            "Train it through 'gitprov run -i DATASET ...' so its inputs are recorded",
        )
    if not subject.datasets:
        return Verdict(
            "fail",
            f"the training run {subject.facts.run} read no dataset",
            "Name the training data with 'gitprov run -i DATASET' (tracked with --kind dataset)",
        )
    loose = [d.path for d in subject.datasets if not d.pinned]
    if loose:
        return Verdict(
            "fail",
            f"not pinned by a gitprov snapshot ID: {', '.join(loose)}",
            f"Track them with 'gitprov track {loose[0]} --kind dataset' and re-run the training",
        )
    return Verdict("pass", ", ".join(f"{d.path} ({d.digest[:19]})" for d in subject.datasets))


def dependencies(subject: Subject, config: Config) -> Verdict:
    if subject.packages is None:
        return Verdict("fail", "the training run recorded no environment snapshot")
    if subject.packages == 0:
        return Verdict("fail", "the environment snapshot lists no installed package")
    return Verdict("pass", f"{subject.packages} packages in the run's environment snapshot")


def plan_deviations(subject: Subject, config: Config) -> Verdict:
    if not subject.decisions:
        return Verdict("skip", "no decision record links this checkpoint or its run")
    open_ = [
        f"{d.path}" for d in subject.decisions if d.status == "accepted" and not d.planned_vs_actual
    ]
    if open_:
        return Verdict("fail", f"'Planned vs. actually changed' not written in {', '.join(open_)}")
    count = len(subject.decisions)
    return Verdict("pass", f"{count} linked decision{'s' * (count != 1)}, deviations written")


def artifact_on_remote(subject: Subject, config: Config) -> Verdict:
    if not subject.remotes:
        return Verdict(
            "fail",
            "no remote artifact store is configured",
            "Add one with 'gitprov remote add NAME URL', then 'gitprov push'",
        )
    have = [r.remote for r in subject.remotes if r.present]
    if have:
        return Verdict("pass", f"on {', '.join(have)}")
    errors = [f"{r.remote}: {r.error}" for r in subject.remotes if r.present is None]
    if errors:
        return Verdict("fail", f"could not ask the stores ({'; '.join(errors)})")
    return Verdict(
        "fail",
        f"{subject.digest[:19]} is on none of: {', '.join(r.remote for r in subject.remotes)}",
    )


def approvals(subject: Subject, config: Config) -> Verdict:
    if not config.required_roles:
        return Verdict("skip", "no role is required ([approvals] required is empty)")
    valid = {a.role for a in subject.approvals if a.status == _VALID}
    missing = [role for role in config.required_roles if role not in valid]
    if not missing:
        return Verdict("pass", ", ".join(f"{role} approved" for role in config.required_roles))
    bad = [
        f"{a.role} by {a.approver}: {a.status}"
        for a in subject.approvals
        if a.status != _VALID and a.role in missing
    ]
    detail = f"missing a valid approval from: {', '.join(missing)}"
    if bad:
        detail += f" (rejected: {'; '.join(bad)})"
    return Verdict(
        "fail",
        detail,
        f"Ask a member of '{missing[0]}' to run 'gitprov approve {subject.checkpoint} "
        f"--role {missing[0]}'",
    )


CHECKS: Mapping[str, Callable[[Subject, Config], Verdict]] = {
    "datasets-pinned": datasets_pinned,
    "dependencies": dependencies,
    "plan-deviations": plan_deviations,
    "artifact-on-remote": artifact_on_remote,
    "approvals": approvals,
}
