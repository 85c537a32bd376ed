"""The pre-commit check of staged decision records.

Blocks a commit whose staged ``decisions/*.md`` records are malformed, move a status
illegally (compared with HEAD's version), link commits, runs or artifacts that do not
exist, reuse another record's ID, or contain something that looks like a credential.
Every problem is one line naming the file, the field and the fix.

It runs on every commit, so the common case, no decision record staged, costs one
``git diff --cached`` and imports nothing heavy; everything else loads only when a record
is staged. It reads the index, not the work tree: what is checked is what is committed
(``GIT_INDEX_FILE`` is honoured, so ``git commit -a`` is checked right).
"""

from __future__ import annotations

from gitprov.adapters import gitlite

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing on every commit
if TYPE_CHECKING:
    from gitprov.model.decision import Decision

DECISIONS_DIR = "decisions"  # = model.decision.DECISIONS_DIR (a test keeps them equal)
RUNS_DIR = ".gitprov/runs"  # = model.runrecord.RUNS_DIR


def staged_records() -> list[str]:
    """Decision records added or changed in the index (one git process)."""
    out = gitlite.output(
        ["diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR", "--", f"{DECISIONS_DIR}/"]
    )
    return [p for p in (out or "").split("\0") if p.endswith(".md")]


def _index_entries(prefix: str) -> dict[str, str]:
    """Path -> blob of the index entries under ``prefix``."""
    out = gitlite.output(["ls-files", "-s", "-z", "--", prefix]) or ""
    entries: dict[str, str] = {}
    for item in out.split("\0"):
        meta, _, path = item.partition("\t")
        if path:
            entries[path] = meta.split()[1]
    return entries


def _head_blobs(paths: list[str]) -> dict[str, str]:
    out = gitlite.output(["ls-tree", "-z", "HEAD", "--", *paths]) or ""
    blobs: dict[str, str] = {}
    for item in out.split("\0"):
        meta, _, path = item.partition("\t")
        if path:
            blobs[path] = meta.split()[2]
    return blobs


def check(staged_paths: list[str] | None = None) -> list[str]:
    """Problems with the staged decision records, one line each ([] when none staged).

    ``staged_paths``: every path the index changes, when the caller already has them
    (saves a git process on every commit)."""
    if staged_paths is None:
        staged = staged_records()
    else:
        staged = [
            p for p in staged_paths if p.startswith(f"{DECISIONS_DIR}/") and p.endswith(".md")
        ]
    if not staged:
        return []
    return _check(staged)


def _check(staged: list[str]) -> list[str]:
    from gitprov.errors import GitprovError  # noqa: PLC0415 - only when a record is staged
    from gitprov.model import decision as decisions  # noqa: PLC0415
    from gitprov.model.env_vars import redact_value  # noqa: PLC0415

    index = _index_entries(f"{DECISIONS_DIR}/")
    heads = _head_blobs(staged)
    blobs = gitlite.read_blobs(sorted({*index.values(), *heads.values()})) or {}
    problems: list[str] = []
    parsed: dict[str, decisions.Decision] = {}
    for path, blob in sorted(index.items()):
        if not decisions.id_of_path(path.rpartition("/")[2]):
            continue
        text = blobs.get(blob, b"").decode("utf-8", errors="replace")
        try:
            parsed[path] = decisions.parse(text, source=path)[0]
        except GitprovError as exc:
            if path in staged:
                problems.append(str(exc))
            continue
        if path in staged:
            for number, line in enumerate(text.split("\n"), 1):
                if redact_value(line) != line:
                    problems.append(
                        f"{path}:{number}: this line looks like it holds a credential (a token "
                        "or a URL with a password). Remove it: decision records are shared "
                        "with everyone who can read the repository"
                    )
    problems += _duplicates(parsed)
    for path in staged:
        record = parsed.get(path)
        if record is None:
            continue
        name_id = decisions.id_of_path(path.rpartition("/")[2])
        if name_id != record.id:
            problems.append(
                f"{path}: 'id' is {record.id} but the file name starts with {name_id}. "
                "Make them agree (the file name starts with the record's ID)"
            )
        problems += _transition(path, record, heads, blobs)
        problems += _links(path, record)
    return problems


def _duplicates(parsed: dict[str, Decision]) -> list[str]:
    seen: dict[str, str] = {}
    problems: list[str] = []
    for path, record in parsed.items():
        ident = record.id
        if ident in seen:
            problems.append(
                f"{path}: 'id' {ident} is also the ID of {seen[ident]}. Give one of them a "
                "new ID ('gitprov decision new' draws one) and update trailers that name it"
            )
        else:
            seen[ident] = path
    return problems


def _transition(
    path: str, record: Decision, heads: dict[str, str], blobs: dict[str, bytes]
) -> list[str]:
    from gitprov.errors import GitprovError  # noqa: PLC0415
    from gitprov.model import decision as decisions  # noqa: PLC0415

    if path not in heads:
        status = record.status
        if status in ("proposed", "accepted", "rejected"):
            return []
        return [
            f"{path}: 'status' of a new record is {status}: a record starts proposed (or is "
            "committed already accepted or rejected). Use 'gitprov decision new', then the "
            "lifecycle commands"
        ]
    try:
        before = decisions.parse(blobs[heads[path]].decode("utf-8", errors="replace"), source=path)[
            0
        ]
    except (GitprovError, KeyError):
        return []  # HEAD's version was already broken: the new one is checked on its own
    after = record.status
    if after == before.status or after in decisions.TRANSITIONS[before.status]:
        return []
    legal = ", ".join(sorted(decisions.TRANSITIONS[before.status])) or "nothing (it is final)"
    return [
        f"{path}: 'status' went from {before.status} to {after}, which is not a legal move "
        f"(from {before.status}: {legal}). Use 'gitprov decision accept|reject|deprecate|"
        "supersede', or restore the status"
    ]


def _links(path: str, record: Decision) -> list[str]:
    links = record.links
    problems: list[str] = []
    commits = list(links.get("commits", ()))
    if commits:
        out = (
            gitlite.output(
                ["cat-file", "--batch-check"], "".join(f"{c}\n" for c in commits).encode()
            )
            or ""
        )
        for commit, line in zip(commits, out.splitlines(), strict=False):
            if not line.endswith(" missing") and " commit " in line:
                continue
            problems.append(
                f"{path}: 'links.commits' names {commit[:12]}, which is not a commit in this "
                "repository. Fix the hash, or fetch the branch that has it"
            )
    runs = links.get("runs", ())
    if runs:
        recorded = {
            p.rpartition("/")[2].removesuffix(".json") for p in _index_entries(f"{RUNS_DIR}/")
        }
        for run in runs:
            if run.removeprefix("run:") not in recorded:
                problems.append(
                    f"{path}: 'links.runs' names {run}, which has no run record in this commit. "
                    "Check the ID with 'gitprov log --lineage', or stage the run's record"
                )
    artifacts = links.get("artifacts", ())
    if artifacts:
        pointers = set(_index_entries(".").keys())
        for artifact in artifacts:
            target = artifact.partition("@")[0]
            if target.startswith("sha256:") or f"{target}.gitprov" in pointers:
                continue
            problems.append(
                f"{path}: 'links.artifacts' names {target}, which gitprov does not track here. "
                "Check the path, or track it with 'gitprov track'"
            )
    return problems
