"""Lineage notes sync, with real git: clones, a bare remote, real races.

The promise under test (DESIGN §3, §4): notes from many clones merge as a lossless set
union, the push is fast-forward only and retried when another clone won the race, and
no record line is ever lost or duplicated.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitprov.adapters import git_notes
from gitprov.adapters.git import GitConfig
from gitprov.adapters.git_notes import NOTES_REF, NotesFetchError, NotesPushError
from gitprov.errors import UsageError
from gitprov.model.notes import (
    CROCKFORD,
    make_record,
    merge_text,
    new_ulid,
    parse_lines,
    ulid_time_ms,
)
from gitprov.services import notes_setup
from gitprov.services.notes_sync import append_record, needs_sync, records, sync
from tests.conftest import gen, git

# ---------------------------------------------------------------- helpers


def clone(remote: Path, dest: Path) -> Path:
    """A clone of ``remote`` with the notes config 'gitprov init' would write."""
    git(remote.parent, "clone", "-q", str(remote), str(dest))
    notes_setup.apply(GitConfig(dest), notes_setup.required_settings(["origin"]))
    return dest


def commit(repo: Path, name: str) -> str:
    gen(repo, {f"{name}.txt": name})
    git(repo, "add", f"{name}.txt")
    git(repo, "commit", "-q", "-m", name)
    return git(repo, "rev-parse", "HEAD").strip()


def note_text(repo: Path, rev: str) -> str:
    """The raw note of ``rev`` on refs/notes/gitprov (works in bare repositories too)."""
    proc = subprocess.run(
        ["git", "notes", f"--ref={NOTES_REF}", "show", rev],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else ""


def ref(repo: Path, name: str) -> str | None:
    out = git(repo, "rev-parse", "--verify", "-q", name, check=False).strip()
    return out or None


@pytest.fixture
def origin(committed_repo: Path, bare_remote: Path) -> tuple[Path, list[str]]:
    """A bare remote holding main with three commits; returns it and the commit IDs."""
    commits = [git(committed_repo, "rev-parse", "HEAD").strip()]
    commits += [commit(committed_repo, name) for name in ("b", "c")]
    git(committed_repo, "remote", "add", "origin", str(bare_remote))
    git(committed_repo, "push", "-q", "origin", "main")
    return bare_remote, commits


# ---------------------------------------------------------------- model: record lines


def test_record_is_one_canonical_json_line() -> None:
    at = datetime(2026, 11, 23, 12, 35, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    line = make_record("eval", {"metric": "accuracy", "value": 0.91, "note": "été"}, at=at)
    assert "\n" not in line
    assert " " not in line.replace("été", "")
    assert line.startswith('{"at":"2026-11-23T11:35:05.123Z","id":"')
    assert line.endswith('","metric":"accuracy","note":"été","type":"eval","value":0.91}')
    (record,) = parse_lines(line)
    assert record["type"] == "eval"
    # The ID's time part is the record's own millisecond.
    assert ulid_time_ms(str(record["id"])) == int(at.timestamp() * 1000)


def test_record_refuses_reserved_fields_naive_times_and_non_json() -> None:
    for name in ("at", "id", "type"):
        with pytest.raises(ValueError, match=name):
            make_record("eval", {name: "x"})
    with pytest.raises(ValueError, match="timezone"):
        make_record("eval", {}, at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="Out of range float"):
        make_record("eval", {"value": float("nan")})
    with pytest.raises(ValueError, match="non-empty type"):
        make_record("", {})


def test_record_time_defaults_to_now_in_utc() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    (record,) = parse_lines(make_record("commit", {}))
    at = datetime.fromisoformat(str(record["at"]).replace("Z", "+00:00"))
    assert before <= at <= datetime.now(UTC)


def test_line_separators_inside_values_stay_inside_the_record() -> None:
    line = make_record("decision", {"text": "a\u2028b\u0085c\x1ed\ne"})
    assert "\n" not in line
    (record,) = parse_lines(merge_text("", [line]))
    assert record["text"] == "a\u2028b\u0085c\x1ed\ne"


def test_parse_lines_skips_blank_and_foreign_lines() -> None:
    good = make_record("approval", {"by": "ana"})
    text = f"\n{good}\nnot json\n[1, 2]\n42\n{{broken\n  \n"
    assert parse_lines(text) == [parse_lines(good)[0]]


def test_merge_text_is_sorted_unique_lines_with_trailing_newline() -> None:
    assert merge_text("", []) == ""
    assert merge_text("b\na\n", ["c", "a", ""]) == "a\nb\nc\n"
    assert merge_text("a\n\n\nb", ["b"]) == "a\nb\n"
    with pytest.raises(ValueError, match="newline"):
        merge_text("", ["a\nb"])


lines_strategy = st.lists(st.text(alphabet=st.characters(exclude_characters="\n")), max_size=8)


@given(lines_strategy, lines_strategy, lines_strategy)
def test_merge_text_is_a_set_union_in_any_order(
    base: list[str], mine: list[str], theirs: list[str]
) -> None:
    start = merge_text("", base)
    one = merge_text(merge_text(start, mine), theirs)
    other = merge_text(merge_text(start, theirs), mine)
    assert one == other == merge_text(one, mine + theirs)  # commutative, idempotent
    assert set(one.split("\n")[:-1]) == {line for line in base + mine + theirs if line}


def test_ulid_format_and_time_prefix() -> None:
    ulid = new_ulid()
    assert len(ulid) == 26
    assert set(ulid) <= set(CROCKFORD)
    assert ulid[0] in "01234567"  # 130 bits of text hold 128 bits
    # The ULID spec's own example: 1469918176385 ms encodes as 01ARYZ6S41.
    assert new_ulid(1469918176385)[:10] == "01ARYZ6S41"
    assert ulid_time_ms(new_ulid(1469918176385)) == 1469918176385
    assert new_ulid(0).startswith("0000000000")
    assert new_ulid(2**48 - 1).startswith("7ZZZZZZZZZ")
    with pytest.raises(ValueError, match="48 bits"):
        new_ulid(2**48)
    with pytest.raises(ValueError, match="48 bits"):
        new_ulid(-1)
    # Later milliseconds sort later as plain strings, whatever the random part.
    ids = [new_ulid(ms) for ms in range(1_700_000_000_000, 1_700_000_000_300)]
    assert ids == sorted(ids)
    assert len({new_ulid(5) for _ in range(1000)}) == 1000  # 80 random bits


def test_adapter_names_match_the_setup_service() -> None:
    assert git_notes.NOTES_REF == notes_setup.NOTES_REF
    assert git_notes.MERGE_STRATEGY == notes_setup.MERGE_STRATEGY
    assert git_notes.tracking_ref("origin") == notes_setup.remote_notes_ref("origin")


# ---------------------------------------------------------------- local appends


def test_append_record_keeps_the_note_sorted_and_unique(committed_repo: Path) -> None:
    head = git(committed_repo, "rev-parse", "HEAD").strip()
    first = append_record(cwd=committed_repo, commit=head, type="commit", fields={"n": 1})
    second = append_record(cwd=committed_repo, commit="HEAD", type="eval", fields={"n": 2})
    assert note_text(committed_repo, head) == merge_text("", [first, second])
    git_notes.append(committed_repo, head, [first])  # already there: nothing written
    assert note_text(committed_repo, head) == merge_text("", [first, second])
    assert [r["n"] for r in records(cwd=committed_repo, commit=head)] == sorted(
        [1, 2], key=lambda n: [first, second][n - 1]
    )
    assert git(committed_repo, "for-each-ref", git_notes.TMP_REF_PREFIX) == ""


def test_concurrent_appends_in_one_clone_lose_nothing(committed_repo: Path) -> None:
    """git notes add moves its ref without checking the old value; appends must not."""
    heads = [git(committed_repo, "rev-parse", "HEAD").strip(), commit(committed_repo, "x")]
    written: list[str] = []
    lock = threading.Lock()

    def writer(worker: int) -> None:
        for i in range(4):
            line = append_record(
                cwd=committed_repo, commit=heads[i % 2], type="eval", fields={"w": worker, "i": i}
            )
            with lock:
                written.append(line)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, head in enumerate(heads):
        expected = [line for line in written if parse_lines(line)[0]["i"] in (index, index + 2)]
        assert note_text(committed_repo, head) == merge_text("", expected)
    assert git(committed_repo, "for-each-ref", git_notes.TMP_REF_PREFIX) == ""


# ---------------------------------------------------------------- sync


def test_first_sync_pushes_to_a_remote_without_notes(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, commits = origin
    a = clone(remote, tmp_path / "a")
    assert sync(cwd=a, remote="origin").pushed is False  # nothing on either side
    line = append_record(cwd=a, commit=commits[0], type="commit", fields={})
    result = sync(cwd=a, remote="origin")
    assert (result.fetched, result.merged, result.pushed, result.attempts) == (
        False,
        False,
        True,
        1,
    )
    assert ref(remote, NOTES_REF) == ref(a, NOTES_REF) == result.notes_commit
    assert note_text(remote, commits[0]) == f"{line}\n"


def test_fresh_clone_gets_all_notes(origin: tuple[Path, list[str]], tmp_path: Path) -> None:
    remote, commits = origin
    a = clone(remote, tmp_path / "a")
    lines = [
        append_record(cwd=a, commit=rev, type="eval", fields={"k": i})
        for i, rev in enumerate(commits)
    ]
    sync(cwd=a, remote="origin")
    b = clone(remote, tmp_path / "b")
    result = sync(cwd=b, remote="origin")
    assert (result.fetched, result.merged, result.pushed) == (True, True, False)
    for rev, line in zip(commits, lines, strict=True):
        assert note_text(b, rev) == f"{line}\n"
    assert ref(b, "refs/notes/remotes/origin/gitprov") == ref(remote, NOTES_REF)


def test_a_plain_git_fetch_with_the_configured_refspec_does_not_touch_local_notes(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, commits = origin
    a, b = clone(remote, tmp_path / "a"), clone(remote, tmp_path / "b")
    theirs = append_record(cwd=a, commit=commits[0], type="eval", fields={})
    sync(cwd=a, remote="origin")
    mine = append_record(cwd=b, commit=commits[0], type="eval", fields={})
    git(b, "fetch", "-q", "origin")  # remote.origin.fetch includes the notes refspec
    assert note_text(b, commits[0]) == f"{mine}\n"
    sync(cwd=b, remote="origin")
    assert (
        note_text(b, commits[0]) == note_text(remote, commits[0]) == merge_text("", [mine, theirs])
    )


def test_two_clones_notes_on_different_and_same_commits_all_survive(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, commits = origin
    a, b = clone(remote, tmp_path / "a"), clone(remote, tmp_path / "b")
    a_own = append_record(cwd=a, commit=commits[1], type="eval", fields={"by": "a"})
    a_shared = append_record(cwd=a, commit=commits[0], type="approval", fields={"by": "a"})
    b_own = append_record(cwd=b, commit=commits[2], type="eval", fields={"by": "b"})
    b_shared = append_record(cwd=b, commit=commits[0], type="approval", fields={"by": "b"})
    assert sync(cwd=a, remote="origin").pushed
    result = sync(cwd=b, remote="origin")
    assert result.merged
    assert result.pushed
    sync(cwd=a, remote="origin")
    expected = {
        commits[0]: merge_text("", [a_shared, b_shared]),
        commits[1]: f"{a_own}\n",
        commits[2]: f"{b_own}\n",
    }
    for repo in (remote, a, b):
        assert {rev: note_text(repo, rev) for rev in commits} == expected
    assert ref(a, NOTES_REF) == ref(b, NOTES_REF) == ref(remote, NOTES_REF)
    # The merge commit is titled with the real ref, not the temporary one it was built on.
    title = git(b, "log", "-1", "--format=%s", NOTES_REF).strip()
    assert title == f"Merged notes from refs/notes/remotes/origin/gitprov into {NOTES_REF}"


SYNC_SCRIPT = """
import sys, time
from pathlib import Path
from gitprov.services.notes_sync import append_record, sync
repo, start, commits = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
time.sleep(max(0.0, start - time.time()))
for round_ in range(4):
    for rev in commits:
        line = append_record(cwd=repo, commit=rev, type="eval", fields={"round": round_})
        print(rev, line, flush=True)
    print("attempts", sync(cwd=repo, remote="origin", attempts=40).attempts, file=sys.stderr)
"""


def test_three_clones_syncing_concurrently_lose_and_duplicate_nothing(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, commits = origin
    clones = [clone(remote, tmp_path / name) for name in ("a", "b", "c")]
    # Every clone annotates the shared first commit; a and b also a commit of their own.
    annotated = [[commits[0], commits[1]], [commits[0], commits[2]], [commits[0]]]
    start = time.time() + 1.5  # every interpreter is up before the first append
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SYNC_SCRIPT, str(repo), str(start), *revs],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for repo, revs in zip(clones, annotated, strict=True)
    ]
    outputs = [proc.communicate(timeout=180) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    written: dict[str, list[str]] = {rev: [] for rev in commits}
    for out, _ in outputs:
        for entry in out.splitlines():
            rev, _, line = entry.partition(" ")
            written[rev].append(line)
    assert sum(len(lines) for lines in written.values()) == 4 * 5
    for repo in clones:  # a final sync, as the next push or pull would do
        sync(cwd=repo, remote="origin")
    for rev, lines in written.items():
        expected = merge_text("", lines)
        assert len(expected.splitlines()) == len(lines)  # every record is distinct
        for repo in (remote, *clones):
            assert note_text(repo, rev) == expected, (repo.name, rev)
    assert len({ref(repo, NOTES_REF) for repo in (remote, *clones)}) == 1


def test_needs_sync_is_answered_offline_from_the_last_known_remote_state(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, commits = origin
    a = clone(remote, tmp_path / "a")
    assert needs_sync(cwd=a, remote="origin") is False  # no local notes at all
    append_record(cwd=a, commit=commits[0], type="commit", fields={})
    assert needs_sync(cwd=a, remote="origin") is True  # never synced
    sync(cwd=a, remote="origin")
    assert needs_sync(cwd=a, remote="origin") is False
    append_record(cwd=a, commit=commits[1], type="eval", fields={})
    assert needs_sync(cwd=a, remote="origin") is True
    sync(cwd=a, remote="origin")
    assert needs_sync(cwd=a, remote="origin") is False
    # Local notes that are an ancestor of what was fetched hold nothing the remote lacks.
    b = clone(remote, tmp_path / "b")
    sync(cwd=b, remote="origin")
    append_record(cwd=b, commit=commits[2], type="eval", fields={})
    sync(cwd=b, remote="origin")
    git(a, "fetch", "-q", "origin")  # the configured refspec updates the tracking ref only
    assert ref(a, NOTES_REF) != ref(a, "refs/notes/remotes/origin/gitprov")
    assert needs_sync(cwd=a, remote="origin") is False
    # It never touches the network: an unreachable remote changes nothing.
    git(a, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    assert needs_sync(cwd=a, remote="origin") is False


def test_sync_without_push_only_brings_notes_in(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, commits = origin
    a, b = clone(remote, tmp_path / "a"), clone(remote, tmp_path / "b")
    theirs = append_record(cwd=a, commit=commits[0], type="eval", fields={})
    sync(cwd=a, remote="origin")
    pushed_before = ref(remote, NOTES_REF)
    mine = append_record(cwd=b, commit=commits[0], type="eval", fields={})
    result = sync(cwd=b, remote="origin", push=False)
    assert (result.merged, result.pushed) == (True, False)
    assert note_text(b, commits[0]) == merge_text("", [mine, theirs])
    assert ref(remote, NOTES_REF) == pushed_before
    assert needs_sync(cwd=b, remote="origin") is True


def test_merge_works_without_a_git_identity(
    origin: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in CI: no user.name/email anywhere, and no guessing from the host name."""
    remote, commits = origin
    a, b = clone(remote, tmp_path / "a"), clone(remote, tmp_path / "b")
    theirs = append_record(cwd=a, commit=commits[0], type="eval", fields={})
    sync(cwd=a, remote="origin")
    no_identity = tmp_path / "ci.gitconfig"
    no_identity.write_text("[user]\n\tuseConfigOnly = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(no_identity))
    assert git(b, "var", "GIT_COMMITTER_IDENT", check=False) == ""  # really no identity
    mine = append_record(cwd=b, commit=commits[0], type="eval", fields={})
    result = sync(cwd=b, remote="origin")
    assert result.merged
    assert result.pushed
    assert note_text(remote, commits[0]) == merge_text("", [mine, theirs])
    authors = git(b, "log", "--format=%an <%ae>", NOTES_REF).splitlines()
    assert authors[:2] == ["gitprov <gitprov@localhost>"] * 2  # merge, then the append
    # Nothing leaks into the repository's config.
    assert GitConfig(b).get("user.name") is None


def test_configured_identity_is_used_for_the_merge(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, commits = origin
    a, b = clone(remote, tmp_path / "a"), clone(remote, tmp_path / "b")
    append_record(cwd=a, commit=commits[0], type="eval", fields={})
    sync(cwd=a, remote="origin")
    append_record(cwd=b, commit=commits[0], type="eval", fields={})
    sync(cwd=b, remote="origin")
    assert git(b, "log", "-1", "--format=%an <%ae>", NOTES_REF).strip() == (
        "Test User <test@example.com>"
    )


def test_push_rejected_because_another_clone_won_is_retried(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    """A real race: right after a's fetch, b pushes; a's push is rejected, a tries again."""
    remote, commits = origin
    a, b = clone(remote, tmp_path / "a"), clone(remote, tmp_path / "b")
    first = append_record(cwd=a, commit=commits[0], type="eval", fields={"n": 1})
    sync(cwd=a, remote="origin")
    sync(cwd=b, remote="origin")
    from_b = append_record(cwd=b, commit=commits[0], type="eval", fields={"n": 2})
    from_a = append_record(cwd=a, commit=commits[0], type="eval", fields={"n": 3})
    # Forget the last fetched state, so that a's fetch writes the tracking ref and the
    # hook below fires between a's fetch and a's push.
    git(a, "update-ref", "-d", "refs/notes/remotes/origin/gitprov")
    marker = tmp_path / "b-pushed"
    hook = a / ".git/hooks/reference-transaction"
    hook.write_text(
        "#!/bin/sh\n"
        '[ "$1" = committed ] || exit 0\n'
        "grep -q ' refs/notes/remotes/origin/gitprov$' || exit 0\n"
        f"[ -e '{marker}' ] && exit 0\n"
        f"touch '{marker}'\n"
        f"exec git --git-dir='{b}/.git' push -q --no-verify origin {NOTES_REF}:{NOTES_REF}\n"
    )
    hook.chmod(0o755)
    result = sync(cwd=a, remote="origin")
    assert marker.exists()
    assert result.attempts == 2
    assert result.pushed
    assert result.merged
    assert note_text(remote, commits[0]) == merge_text("", [first, from_a, from_b])


def test_push_refused_by_the_remote_is_not_retried_as_a_race(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, commits = origin
    a = clone(remote, tmp_path / "a")
    hook = remote / "hooks/pre-receive"
    hook.write_text("#!/bin/sh\necho 'notes are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    append_record(cwd=a, commit=commits[0], type="eval", fields={})
    started = time.monotonic()
    with pytest.raises(NotesPushError) as caught:
        sync(cwd=a, remote="origin", attempts=5)
    assert time.monotonic() - started < 5
    assert "remote rejected" in caught.value.problem
    assert "gitprov notes sync" in caught.value.fix
    assert ref(a, NOTES_REF) is not None  # the local record is kept


def test_fetch_failure_names_the_fix_and_never_the_password(
    committed_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    url = "https://alice:s3cr3t-token@127.0.0.1:9/repo.git"  # port 9: nothing listens
    git(committed_repo, "remote", "add", "origin", url)
    with pytest.raises(NotesFetchError) as caught:
        sync(cwd=committed_repo, remote="origin")
    message = str(caught.value)
    assert "s3cr3t" not in message
    assert "alice" not in message
    assert "gitprov notes sync" in message
    assert git_notes.redact(f"fatal: unable to access '{url}'") == (
        "fatal: unable to access 'https://***@127.0.0.1:9/repo.git'"
    )


def test_unknown_remote_is_a_usage_error(committed_repo: Path) -> None:
    with pytest.raises(UsageError, match="no git remote named 'nope'"):
        sync(cwd=committed_repo, remote="nope")


def test_stale_temporary_refs_of_dead_processes_are_cleaned_up(
    origin: tuple[Path, list[str]], tmp_path: Path
) -> None:
    remote, _ = origin
    a = clone(remote, tmp_path / "a")
    head = git(a, "rev-parse", "HEAD").strip()
    stale = f"{git_notes.TMP_REF_PREFIX}{new_ulid(int(time.time() * 1000) - 7_200_000)}"
    fresh = f"{git_notes.TMP_REF_PREFIX}{new_ulid()}"  # may belong to a running process
    git(a, "update-ref", stale, head)
    git(a, "update-ref", fresh, head)
    sync(cwd=a, remote="origin")
    assert ref(a, stale) is None
    assert ref(a, fresh) == head
