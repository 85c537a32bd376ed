"""``gitprov release CHECKPOINT --version X``: a signed release record and an annotated tag.

A release describes a commit: HEAD, with the checkpoint's pointer, card and the
checklist file committed as they are in the work tree. Before anything is written it
checks, cheapest first: the version (SemVer), that the tag is free, that git has a
signing key, that the release checklist passes, and that the checkpoint's bytes are on
at least one configured artifact remote. Then it appends the SSH-signed ``release``
record on HEAD's note (model.release) and creates the annotated tag naming it.

Verification (``services.release_verify``) is the other half: the pre-push hook and
``gitprov releases`` check a tag against its record.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitprov import __version__
from gitprov.adapters import git, git_notes, signing
from gitprov.errors import ConfigError, GitprovError, UsageError
from gitprov.model import approval as signed
from gitprov.model import release as model
from gitprov.model.checklist import CHECKLIST_PATH, Report
from gitprov.model.exports.context import git_uri
from gitprov.model.notes import format_at, make_record, parse_lines
from gitprov.services import release_verify
from gitprov.services.approvals import VALID
from gitprov.services.project_files import CONFIG_PATH
from gitprov.services.workspace import Tracked, Workspace, find, open_workspace

# services.checklist.run's signature: the checklist for the named checkpoints.
Checklist = Callable[..., Sequence[Report]]


@dataclass(frozen=True)
class ReleaseResult:
    """What ``gitprov release`` made."""

    release: model.Release
    record: dict[str, Any]  # the whole record, signature and statement included
    remote: str  # the artifact remote found holding the checkpoint


def _default_checklist(**kwargs: Any) -> Sequence[Report]:
    from gitprov.services import checklist  # noqa: PLC0415 - the checklist is heavy

    return checklist.run(**kwargs)


def _git(top: Path, *args: str, stdin: str | None = None) -> str:
    return git.git(list(args), cwd=top, stdin=stdin).stdout


def tag_exists(top: Path, tag: str) -> bool:
    proc = git.git(["rev-parse", "-q", "--verify", f"refs/tags/{tag}"], cwd=top, check=False)
    return proc.returncode == 0


def _project_config(top: Path) -> dict[str, Any]:
    try:
        return tomllib.loads((top / CONFIG_PATH).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError, huge ints, deep nesting
        why = str(exc).splitlines()[0][:200] if isinstance(exc, ValueError) else "nested too deeply"
        raise ConfigError(f"{CONFIG_PATH} is not valid TOML ({why})", "Fix the file") from None


def release_tag(top: Path, checkpoint: str, version: str) -> str:
    """The tag a release of ``checkpoint`` at ``version`` gets, checked by git."""
    tag = model.tag_name(
        model.tag_format(_project_config(top)), checkpoint=checkpoint, version=version
    )
    check = git.git(["check-ref-format", f"refs/tags/{tag}"], cwd=top, check=False)
    if check.returncode != 0:
        raise ConfigError(
            f"the release tag {tag!r} is not a valid git tag name",
            "Change [release] tag_format in .gitprov/config.toml (docs/releases.md)",
        )
    return tag


def _require_committed(ws: Workspace, tracked: Tracked) -> None:
    """The pointer, its card and the checklist file at HEAD are the work tree's."""
    paths = [tracked.pointer_path, ws.top / CHECKLIST_PATH]
    if tracked.pointer.card:
        paths.append(tracked.pointer_path.parent / tracked.pointer.card)
    for path in paths:
        rel = ws.display(path)
        committed = git.show_file(ws.top, "HEAD", rel)
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if committed != current:
            state = "is not committed" if committed is None else "has uncommitted changes"
            raise GitprovError(
                f"{rel} {state}: a release describes a commit",
                f"Commit it ('git add {rel} && git commit'), then release again",
            )


def _checklist_passes(report: Report, checkpoint: str) -> None:
    if report.passed:
        return
    blocking = [r for r in report.results if r.blocking]
    first = blocking[0]
    raise GitprovError(
        f"{checkpoint} does not pass the release checklist: "
        f"{', '.join(r.check for r in blocking)} failed ({first.check}: {first.detail})",
        f"{first.fix or 'Fix it'}; 'gitprov check {checkpoint}' lists every failure and its fix",
    )


def find_on_remote(ws: Workspace, tracked: Tracked) -> tuple[str, str]:
    """The first artifact remote holding the checkpoint's object, and its git remote;
    a GitprovError naming the remotes asked when none has it.

    The root object stands for the whole snapshot: uploads send a node only after
    everything below it (services.transfer), so a remote with the root has it all.
    """
    from gitprov.adapters.store import RemoteStore  # noqa: PLC0415 - loads fsspec
    from gitprov.services import remotes  # noqa: PLC0415

    configured = remotes.load(ws.top, ws.layout.gitprov_dir)
    checkpoint = ws.display(tracked.artifact)
    if not configured:
        raise GitprovError(
            f"{checkpoint} cannot be released: no artifact remote is configured, so its bytes "
            "are on no remote",
            "Add one with 'gitprov remote add origin URL', run 'gitprov push', then release",
        )
    digest, size = tracked.pointer.digest, tracked.pointer.size
    for spec in configured.values():
        found = RemoteStore(spec, base=ws.top).sizes({digest: size})
        if digest in found and (tracked.pointer.is_tree or found[digest] == size):
            return spec.name, spec.git_remote
    raise GitprovError(
        f"{checkpoint} ({digest[:19]}) is on none of the artifact remotes "
        f"({', '.join(configured)})",
        f"Upload it with 'gitprov push {checkpoint}' (or 'git push'), then release again",
    )


def _resource_uri(top: Path, git_remote: str, commit: str, checkpoint: str) -> str:
    url = git.GitConfig(top).get(f"remote.{git_remote}.url") if git_remote else None
    return f"{git_uri(url or str(top))}@{commit}#{checkpoint}"


def release(
    *,
    cwd: Path,
    checkpoint: str,
    version: str,
    message: str | None = None,
    checklist: Checklist | None = None,
) -> ReleaseResult:
    """Release ``checkpoint`` (as committed at HEAD) as ``version``: check, sign, tag.

    ``checklist`` replaces ``services.checklist.run`` (tests); nothing is written
    unless every check passes.
    """
    model.check_version(version)
    ws = open_workspace(cwd)
    tracked = find(ws, cwd, [checkpoint])[0]
    name = ws.display(tracked.artifact)
    head = git.head_commit(ws.top)
    if head is None:
        raise GitprovError("the repository has no commit to release", "Commit first")
    _require_committed(ws, tracked)
    tag = release_tag(ws.top, name, version)
    if tag_exists(ws.top, tag):
        raise UsageError(
            f"tag {tag} already exists: {name} {version} was released before",
            "Release a new version (--version), or inspect it with 'gitprov releases'",
        )
    key = signing.signing_key(ws.top)
    releaser = git.user_identity(ws.top)
    if not releaser:
        raise GitprovError(
            "git has no user identity to release as",
            "Run 'git config user.name NAME' and 'git config user.email EMAIL'",
        )
    run = checklist or _default_checklist
    # The checklist reads the commit, not the work tree: the signed verdict must be about
    # exactly what the tag names (decisions, run records, data licenses included).
    reports = [r for r in run(cwd=ws.top, checkpoints=[name], at=head) if r.checkpoint == name]
    if not reports:
        raise GitprovError(f"the checklist reported nothing for {name}", "Run 'gitprov check'")
    report = reports[0]
    _checklist_passes(report, name)
    remote, git_remote = find_on_remote(ws, tracked)

    when = datetime.now(UTC)
    at = format_at(when)
    statement = model.statement(
        checkpoint=name,
        digest=tracked.pointer.digest,
        at=at,
        resource_uri=_resource_uri(ws.top, git_remote, head, name),
        policy_digest=report.config_digest,
        passed=report.passed,
        gitprov_version=__version__,
    )
    fields = model.release_fields(
        checkpoint=name,
        digest=tracked.pointer.digest,
        commit=head,
        version=version,
        tag=tag,
        releaser=releaser,
        report=report,
        statement=statement,
    )
    # As for approvals: `at` and `type` are fixed first so that the signature covers them.
    payload = signed.signed_payload({**fields, "at": at, "type": model.TYPE})
    signature = signing.ssh_sign(key, payload, namespace=signed.NAMESPACE, cwd=ws.top)
    line = make_record(model.TYPE, {**fields, "signature": signature}, at=when)
    record = parse_lines(line)[0]
    found = model.parse_release(record)
    # A record that would not verify (the key is not the committed allowed signer of
    # user.email) must not be written, nor a tag made that every push would refuse.
    status, detail = release_verify.signature_verdict(ws.top, record, found, trust_at=head)
    if status != VALID:
        raise GitprovError(
            f"the release would not verify ({status}: {detail})",
            f"Commit the public key of {signed.email_of(releaser)} to "
            f"{signed.ALLOWED_SIGNERS_PATH} (or sign with the key listed there), then retry",
        )
    git_notes.append(ws.top, head, [line])
    text = model.tag_message(
        checkpoint=name,
        digest=tracked.pointer.digest,
        version=version,
        record_id=found.id,
        message=message,
    )
    # The record is written first: the tag names it. A failure here leaves a record no
    # tag points to, which verification ignores; the same command can then be re-run.
    _git(ws.top, "tag", "-a", "--cleanup=whitespace", "-F", "-", tag, head, stdin=text)
    return ReleaseResult(found, record, remote)
