"""Hostile input (issue 9, point 4): every parser of a committed or pushed file is fuzzed.

The property, for each parser: whatever the text, it either parses or raises gitprov's
own error (a ``GitprovError`` subclass, or the module's documented error type), whose
rendering is one line; never another exception, a hang or unbounded memory. Three kinds
of input per parser: arbitrary text, structured documents with the parser's own keys
holding values of every type (huge integers, NaN, deep nesting), and valid documents
mutated byte by byte. Size and nesting limits are tested on their own below.

Budget: ``trials(ci=..., full=...)`` examples per test, derandomized with the suite's
seed (tests/reliability/budget.py); ``--hypothesis-show-statistics`` prints the counts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import tomlkit
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from gitprov.cli.errors import error_line
from gitprov.errors import GitprovError
from gitprov.model import (
    approval,
    card,
    checklist,
    commit_record,
    decision,
    deprecation,
    dvcfile,
    dvclock,
    environment,
    eval_record,
    input_limits,
    notes,
    project_config,
    release,
    remote_config,
    runrecord,
    scores,
)
from gitprov.model import pointer as pointers
from tests.reliability.budget import FULL, SEED, trials

pytestmark = pytest.mark.reliability

EXAMPLES = trials(ci=40, full=3000)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a loaded 2-core CI machine; hangs are caught by the timed tests below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
DIGEST = "sha256:" + "ab" * 32

# --- the parsers, each as text -> anything, with the errors it may raise ------------------

Parser = Callable[[str], object]


def _eval_records(text: str) -> object:
    return [eval_record.from_record(r, "c0ffee") for r in notes.parse_lines(text)]


def _note_readers(text: str) -> object:
    """Every reader of note records that promises never to raise on a foreign record."""
    records = notes.parse_lines(text)
    for record in records:
        release.parse_release(record)
        release.subject_digest(record)
        deprecation.from_record(record, "c0ffee")
    deprecation.fold((r, "c0ffee") for r in records)
    commit_record.retracted(records)
    return commit_record.current(records, "c0ffee")


def _commit_message(text: str) -> object:
    commit_record.trailer_values(text, "Decision")
    release.marker_id(text)
    return release.parse_tag_object(text)


def _config(text: str) -> object:
    doc = project_config.parse(text, source="config.toml")
    project_config.check(doc, source="config.toml")
    return remote_config.parse_remotes(doc.unwrap(), {}, source="config.toml")


def _allowed_signers(text: str) -> object:
    signers = approval.parse_allowed_signers(text)
    for signer in signers:
        approval.signers_for(signers, "ada@example.com", signer.key)
        approval.within_window(signer, approval.parse_at("2026-11-23T11:35:05.123Z"))
    return signers


PARSERS: dict[str, tuple[Parser, tuple[type[Exception], ...]]] = {
    "pointer.parse": (lambda t: pointers.parse(t, source="m.pt.gitprov"), (GitprovError,)),
    "pointer.parse_fields": (
        lambda t: pointers.parse_fields(t, source="m.pt.gitprov"),
        (GitprovError,),
    ),
    "runrecord.loads": (lambda t: runrecord.loads(t, source="r.json"), (GitprovError,)),
    "environment.loads": (
        lambda t: environment.loads(t.encode("utf-8", "surrogatepass"), source="e.json"),
        (GitprovError,),
    ),
    "notes.parse_lines": (notes.parse_lines, ()),
    "note readers (commit, release, deprecation)": (_note_readers, ()),
    "commit_record.trailers, release tags": (_commit_message, ()),
    "eval_record.from_record": (_eval_records, (eval_record.EvalRecordError,)),
    "decision.parse": (lambda t: decision.parse(t, source="d.md"), (GitprovError,)),
    "card.parse": (lambda t: card.parse(t, source="m.card.md"), (GitprovError,)),
    "project_config + remote_config": (_config, (GitprovError,)),
    "checklist.parse_config": (checklist.parse_config, (GitprovError,)),
    "approval.parse_owners": (
        lambda t: approval.parse_owners(t, source="owners.toml"),
        (GitprovError,),
    ),
    "approval.parse_allowed_signers": (_allowed_signers, ()),
    "scores.parse jsonl": (
        lambda t: scores.parse(t, source="s.jsonl", fmt=scores.JSONL),
        (GitprovError,),
    ),
    "scores.parse csv": (lambda t: scores.parse(t, source="s.csv", fmt="csv"), (GitprovError,)),
    "scores.parse_aggregated": (
        lambda t: scores.parse_aggregated(t, source="m.json"),
        (GitprovError,),
    ),
    "dvcfile.parse": (lambda t: dvcfile.parse(t, dvc_file="data/x.dvc"), (ValueError,)),
    "dvclock.parse": (lambda t: dvclock.parse(t, lock_path="sub/dvc.lock"), (ValueError,)),
}

# Longest rendered error we accept: a message quotes at most a short excerpt of the input.
MAX_MESSAGE = 1000


def holds(name: str, text: str) -> None:
    """The property: parses, or raises the parser's own error, rendered on one line."""
    parse, errors = PARSERS[name]
    try:
        parse(text)
    except errors as exc:
        failure: Exception = exc
    else:
        return
    assert str(failure).strip(), f"{name}: an empty message"
    if isinstance(failure, GitprovError):
        rendered = error_line(failure)
        assert "\n" not in rendered, rendered
        assert "\r" not in rendered, rendered
        assert len(rendered) <= MAX_MESSAGE, f"{name}: a {len(rendered)}-character message"


# --- strategies ----------------------------------------------------------------------------

# Scalars that break naive code: huge integers (beyond float, beyond 4300 digits' str
# limit is too slow to build here), NaN and infinities, control characters, surrogates.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**400, -(10**400)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", "..", "/etc/passwd", "a\nb", "\x00", "sha256:" + "0" * 64, DIGEST]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=6,
)
# tomlkit dumps no None; TOML keys may be any string.
toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["", "..", "../../etc/x", "/abs", "a\nb", DIGEST, "dir", "dataset"]),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3)
    ),
    max_leaves=5,
)

KEYS: dict[str, list[str]] = {
    "pointer": [
        "kind",
        "path",
        "digest",
        "size",
        "files",
        "type",
        "access",
        "produced_by",
        "card",
        "stage",
        "meta",
    ],
    "runrecord": [
        "schema",
        "id",
        "argv",
        "cwd",
        "started_at",
        "ended_at",
        "exit_code",
        "code",
        "params",
        "seeds",
        "inputs",
        "outputs",
        "metrics",
        "env",
        "user",
        "message",
    ],
    "environment": ["schema", "python", "platform", "cpu", "gpu", "packages", "container", "env"],
    "note": [
        "type",
        "id",
        "at",
        "commit",
        "retracts",
        "source",
        "checkpoint",
        "dataset",
        "metrics",
        "slices",
        "scores",
        "code",
        "env",
        "digest",
        "statement",
        "checklist",
        "superseded_by",
        "sunset",
        "by",
        "who",
    ],
    "decision": [
        "id",
        "title",
        "status",
        "created",
        "authors",
        "supersedes",
        "superseded_by",
        "metrics",
        "links",
    ],
    "card": ["license", "datasets", "base_model", "model-index", "gitprov", "tags"],
    "config": ["schema", "remotes", "release", "core"],
    "checklist": [
        "checks",
        "custom",
        "card",
        "approvals",
        "evaluation",
        "licenses",
        "waivers",
        "secrets",
    ],
    "owners": ["roles"],
    "scores": ["id", "correct", "f1", "slice", "value", "ci_low", "ci_high", "n", "ci_level"],
    "dvc": ["outs", "stages", "schema", "path", "md5", "size", "nfiles", "cmd", "deps", "params"],
}


def keyed(keys: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts whose keys are mostly the parser's own, nested one level too."""
    key = st.sampled_from(keys) | st.text(max_size=6)
    inner = st.dictionaries(key, values, max_size=3)
    return st.dictionaries(key, values | inner | st.lists(inner, max_size=2), max_size=6)


def toml_text(keys: list[str]) -> st.SearchStrategy[str]:
    return keyed(keys, toml_values).map(tomlkit.dumps)


def json_text(keys: list[str]) -> st.SearchStrategy[str]:
    return keyed(keys, json_values).map(lambda v: json.dumps(v, ensure_ascii=False))


def yaml_text(keys: list[str]) -> st.SearchStrategy[str]:
    return keyed(keys, json_values).map(lambda v: yaml.safe_dump(v, allow_unicode=True))


def fenced(fence: str, inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return inner.map(lambda front: f"{fence}\n{front}{fence}\n\n# Body\n")


STRUCTURED: dict[str, st.SearchStrategy[str]] = {
    "pointer.parse": toml_text(KEYS["pointer"]),
    "pointer.parse_fields": toml_text(KEYS["pointer"]),
    "runrecord.loads": json_text(KEYS["runrecord"]),
    "environment.loads": json_text(KEYS["environment"]),
    "notes.parse_lines": st.lists(json_text(KEYS["note"]), max_size=4).map("\n".join),
    "note readers (commit, release, deprecation)": st.lists(
        json_text(KEYS["note"]), max_size=4
    ).map("\n".join),
    "commit_record.trailers, release tags": st.lists(
        st.sampled_from(["subject", "", "Decision: 7K2M9Q", "object ab", "Gitprov-Release: 1"])
        | st.text(max_size=20),
        max_size=8,
    ).map("\n".join),
    "eval_record.from_record": st.lists(json_text(KEYS["note"]), max_size=3).map(
        lambda lines: "\n".join(line.replace("{", '{"type":"eval",', 1) for line in lines)
    ),
    "decision.parse": fenced("+++", toml_text(KEYS["decision"])),
    "card.parse": fenced("---", yaml_text(KEYS["card"])),
    "project_config + remote_config": toml_text(KEYS["config"]),
    "checklist.parse_config": toml_text(KEYS["checklist"]),
    "approval.parse_owners": toml_text(KEYS["owners"]),
    "approval.parse_allowed_signers": st.lists(
        st.lists(
            st.sampled_from(['"a b"', "ada@x", "ssh-ed25519", "AAAA", "namespaces=git"])
            | st.sampled_from(['valid-after="2026"', "valid-before=20261231Z", "*,!b"])
            | st.text(max_size=10),
            max_size=5,
        ).map(" ".join),
        max_size=5,
    ).map("\n".join),
    "scores.parse jsonl": st.lists(json_text(KEYS["scores"]), min_size=1, max_size=4).map(
        "\n".join
    ),
    "scores.parse csv": st.lists(
        st.lists(
            st.sampled_from(["id", "correct", "1", "0.5", "nan", '"a,b"', ""]), max_size=4
        ).map(",".join)
        | st.lists(st.text(max_size=6), max_size=4).map(",".join),
        max_size=5,
    ).map("\n".join),
    "scores.parse_aggregated": json_text(KEYS["scores"]),
    "dvcfile.parse": yaml_text(KEYS["dvc"]),
    "dvclock.parse": yaml_text(KEYS["dvc"]),
}

# One valid document per parser: the seeds of the mutation strategy.
POINTER = pointers.render(pointers.Pointer("checkpoint", "m.pt", DIGEST, 12))
RUN = runrecord.dumps(
    runrecord.RunRecord(
        id="01JD3Q0000000000000000000",
        argv=("python", "train.py"),
        cwd=".",
        started_at="2026-11-23T11:35:05.123Z",
        ended_at="2026-11-23T11:36:05.123Z",
        exit_code=0,
        head="ab" * 20,
        dirty=False,
        diff_digest=None,
        params={"lr": "3e-4"},
        seeds=("7",),
        inputs=(runrecord.ArtifactRef("data/train", "dataset", DIGEST),),
        outputs=(runrecord.ArtifactRef("models/m.pt", "checkpoint", DIGEST),),
    )
).decode()
ENV = json.dumps(
    {
        "schema": environment.SCHEMA_VERSION,
        "python": {"implementation": "CPython", "version": "3.11.9"},
        "platform": {"system": "Linux", "release": "6.1", "machine": "x86_64"},
        "cpu": {"model": "x", "cores": 2},
        "gpu": {"devices": [{"name": "A100", "memory_mib": 40960}], "cuda": "12.1"},
        "packages": ["numpy==2.0.0"],
        "container": {"image": "python:3.11"},
        "env": {"CUDA_VISIBLE_DEVICES": "0"},
    }
)
EVAL_NOTE = notes.make_record(
    "eval",
    {
        "checkpoint": {"path": "models/m.pt", "digest": DIGEST},
        "dataset": {"path": "data/test", "snapshot": DIGEST, "split": "test"},
        "metrics": {
            "accuracy": {"value": 0.9, "ci_low": 0.8, "ci_high": 0.95, "n": 100, "method": "wilson"}
        },
        "slices": {
            "column": "lang",
            "values": {"en": {"accuracy": {"value": 0.9, "method": "none"}}},
        },
        "scores": {"digest": DIGEST, "format": "jsonl", "ids": True},
    },
)
RELEASE_NOTE = notes.make_record(
    "release",
    {
        "digest": DIGEST,
        "statement": {"subject": [{"digest": {"sha256": "ab" * 32}}], "predicate": {}},
        "checklist": {"passed": True},
    },
)
DEPRECATION_NOTE = notes.make_record(
    "deprecation",
    {"digest": DIGEST, "superseded_by": {"path": "m2.pt", "digest": DIGEST}, "sunset": "x"},
)
DECISION = (
    '+++\nid = "7K2M9Q"\ntitle = "AdamW"\nstatus = "proposed"\ncreated = "2026-11-23"\n'
    'authors = ["Ada"]\nmetrics = [{ name = "acc", expect = "increase" }]\n'
    '[links]\nruns = ["run:01"]\n+++\n\n# AdamW\n'
)
CARD = (
    "---\nlicense: mit\ndatasets:\n- data/train\nmodel-index:\n- name: m\n  results: []\n"
    "gitprov:\n  checkpoint: " + DIGEST + "\n---\n\n# Model card\n"
)
CONFIG = '# c\nschema = 1\n[remotes.origin]\nurl = "/srv/store"\njobs = 4\naccept = ["public"]\n'
CHECKLIST = (
    '[checks]\ncard-present = "warning"\n[[custom]]\nid = "lint"\nrun = ["ruff"]\n'
    'timeout = 5\n[[waivers]]\ncheck = "lint"\nsubject = "m"\nreason = "r"\n'
    'approved_by = "a"\nexpires = 2027-01-31\n[[secrets.pii]]\nname = "p"\nregex = "a+"\n'
    '[licenses.compatible]\nmit = ["apache-2.0"]\n[evaluation]\nmin_sample_size = 30\n'
)
OWNERS = '[roles]\nreviewer = ["Ada <ada@example.com>", "bob@example.com"]\n'
SIGNERS = (
    "ada@example.com ssh-ed25519 AAAAC3Nza\n"
    '"b@x,*@y" namespaces="gitprov",valid-after="20260101" ssh-ed25519 AAAAC3Nzb\n'
)
JSONL = '{"id": "q1", "correct": 1, "lang": "en"}\n{"id": "q2", "correct": 0, "lang": "de"}\n'
CSV = 'id,correct,f1\nq1,1,0.5\n"q,2",0,"0.25"\n'
AGGREGATED = '{"accuracy": {"value": 0.9, "ci_low": 0.8, "ci_high": 0.95, "n": 100}, "f1": 0.5}'
DVC = "outs:\n- md5: 0a1b.dir\n  size: 12\n  nfiles: 2\n  path: train\n"
DVC_LOCK = (
    "schema: '2.0'\nstages:\n  train:\n    cmd: python t.py\n    deps:\n    - path: d\n"
    "      md5: 0a1b\n    params:\n      params.yaml:\n        lr: 0.1\n    outs:\n"
    "    - path: m.pkl\n      md5: 0a1c\n"
)
VALID: dict[str, str] = {
    "pointer.parse": POINTER,
    "pointer.parse_fields": POINTER,
    "runrecord.loads": RUN,
    "environment.loads": ENV,
    "notes.parse_lines": "\n".join([EVAL_NOTE, RELEASE_NOTE, DEPRECATION_NOTE]),
    "note readers (commit, release, deprecation)": "\n".join(
        [EVAL_NOTE, RELEASE_NOTE, DEPRECATION_NOTE]
    ),
    "commit_record.trailers, release tags": "object ab\ntype commit\ntag v1\n\nRelease\n\n"
    "Decision: 7K2M9Q\nGitprov-Release: 01JD\n",
    "eval_record.from_record": EVAL_NOTE,
    "decision.parse": DECISION,
    "card.parse": CARD,
    "project_config + remote_config": CONFIG,
    "checklist.parse_config": CHECKLIST,
    "approval.parse_owners": OWNERS,
    "approval.parse_allowed_signers": SIGNERS,
    "scores.parse jsonl": JSONL,
    "scores.parse csv": CSV,
    "scores.parse_aggregated": AGGREGATED,
    "dvcfile.parse": DVC,
    "dvclock.parse": DVC_LOCK,
}
NAMES = sorted(PARSERS)
assert set(NAMES) == set(STRUCTURED) == set(VALID)

# Fragments that matter to these formats, spliced in by the mutator.
FRAGMENTS = st.sampled_from(
    [
        *["\n", "\r\n", "\x00", '"', "'", "[", "]", "{", "}", "=", ":", ",", "+++\n", "---\n"],
        *["- ", "&a ", "*a", "!!python/object:os.system ", "1e999", "9" * 400, "\ufeff"],
        *["\u2028", "\\u0000", "nan", "-inf", "\t", "#"],
    ]
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few random edits: deletions, insertions, duplications."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["delete", "insert", "fragment", "duplicate"]))
        if edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        elif edit == "insert":
            text = text[:at] + draw(st.text(max_size=5)) + text[at:]
        elif edit == "fragment":
            text = text[:at] + draw(FRAGMENTS) + text[at:]
        else:
            end = min(len(text), at + draw(st.integers(1, 40)))
            text = text[:end] + text[at:end] + text[end:]
    return text


def test_the_valid_seeds_parse() -> None:
    """The mutation seeds are valid: otherwise mutating them would test only errors."""
    for name in NAMES:
        parse, _ = PARSERS[name]
        parse(VALID[name])


@pytest.mark.parametrize("name", NAMES)
@seed(SEED)
@settings(FUZZ, max_examples=trials(ci=100, full=10_000))  # cheap: ~2 ms an example
@given(text=st.text(max_size=300))
def test_arbitrary_text(name: str, text: str) -> None:
    holds(name, text)


@pytest.mark.parametrize("name", NAMES)
@seed(SEED)
@FUZZ
@given(data=st.data())
def test_documents_with_the_parsers_own_keys(name: str, data: st.DataObject) -> None:
    holds(name, data.draw(STRUCTURED[name], label="document"))


@pytest.mark.parametrize("name", NAMES)
@seed(SEED)
@FUZZ
@given(data=st.data())
def test_mutated_valid_documents(name: str, data: st.DataObject) -> None:
    holds(name, data.draw(mutated(VALID[name]), label="document"))


# --- limits: size, nesting, alias bombs, numbers out of range -----------------------------

HUNDRED_MB = 100 * 1024 * 1024


def refused_quickly(parse: Callable[[], object], error: type[Exception], seconds: float) -> str:
    """``parse`` raises ``error`` within ``seconds``; its message."""
    start = time.perf_counter()
    with pytest.raises(error) as caught:
        parse()
    elapsed = time.perf_counter() - start
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    if isinstance(caught.value, GitprovError):
        assert "\n" not in error_line(caught.value)
    return str(caught.value)


def test_a_100_mb_pointer_is_refused_before_it_is_parsed() -> None:
    text = 'kind = "checkpoint"\n' + "#" * HUNDRED_MB
    for parse in (pointers.parse, pointers.parse_fields):
        message = refused_quickly(lambda p=parse: p(text, source="m.pt.gitprov"), GitprovError, 1)
        assert "more than the 64 KiB" in message


def test_the_worst_pointer_under_the_limit_is_read_in_time() -> None:
    """tomlkit is slow on long arrays (~30 s for 1 MiB): the limit keeps it to seconds."""
    text = "a = [" + "1," * ((input_limits.MAX_POINTER_BYTES - 10) // 2) + "]\n"
    assert len(text) <= input_limits.MAX_POINTER_BYTES
    refused_quickly(lambda: pointers.parse(text, source="m.pt.gitprov"), GitprovError, 10)


@pytest.mark.parametrize(
    ("name", "fence", "item"), [("card.parse", "---", "a: ["), ("decision.parse", "+++", "a = [")]
)
def test_front_matter_is_limited_to_what_parses_in_seconds(
    name: str, fence: str, item: str
) -> None:
    """PyYAML and tomlkit read hostile front matter at ~50-200 KB/s: a 1 MiB one took
    ~20 s; above 256 KiB it is refused, and the worst one under it reads in seconds."""
    limit = input_limits.MAX_FRONT_MATTER_BYTES
    over = f"{fence}\n{item}" + "1," * (limit // 2) + "]\n" + f"{fence}\n"
    refused_quickly(lambda: PARSERS[name][0](over), GitprovError, 1)
    if not FULL:
        return  # the worst case under the limit costs ~6 s of CPU: full runs only
    under = f"{fence}\n{item}" + "1," * ((limit - 20) // 2) + "]\n" + f"{fence}\n"
    start = time.perf_counter()
    holds(name, under)
    assert time.perf_counter() - start < 20


def test_a_100_mb_card_is_refused_before_it_is_parsed() -> None:
    text = "---\nlicense: mit\n---\n" + "x" * HUNDRED_MB
    message = refused_quickly(lambda: card.parse(text, source="m.card.md"), card.CardError, 1)
    assert "more than the 16 MiB" in message


def test_an_oversized_run_record_is_refused_before_it_is_parsed() -> None:
    data = b" " * (input_limits.MAX_RECORD_BYTES + 1)
    refused_quickly(lambda: runrecord.loads(data, source="r.json"), GitprovError, 1)


DEPTH = 100_000
DEEP: dict[str, str] = {
    "pointer.parse": "a = " + "[" * DEPTH,
    "pointer.parse_fields": "a = " + "[" * DEPTH,
    "runrecord.loads": "[" * DEPTH,
    "environment.loads": "[" * DEPTH,
    "notes.parse_lines": "[" * DEPTH,
    "note readers (commit, release, deprecation)": '{"a":' * DEPTH,
    "commit_record.trailers, release tags": "a\n\n" + "Decision: x\n" * DEPTH,
    "eval_record.from_record": '{"type":"eval","metrics":' + "[" * DEPTH,
    "decision.parse": "+++\na = " + "[" * DEPTH + "\n+++\n",
    "card.parse": "---\na: " + "[" * DEPTH + "\n---\n",
    "project_config + remote_config": "a = " + "[" * DEPTH,
    "checklist.parse_config": "a = " + "{a = " * DEPTH,
    "approval.parse_owners": "a = " + "[" * DEPTH,
    "approval.parse_allowed_signers": '"' * DEPTH,
    "scores.parse jsonl": '{"x": ' + "[" * DEPTH,
    "scores.parse csv": "a\n" + '"' * DEPTH,
    "scores.parse_aggregated": '{"x": ' + "{" * DEPTH,
    "dvcfile.parse": "a: " + "[" * DEPTH,
    "dvclock.parse": "stages: " + "[" * DEPTH,
}


@pytest.mark.parametrize("name", NAMES)
def test_nesting_100000_deep_is_refused_or_read(name: str) -> None:
    """Deep nesting raised RecursionError from tomllib, json and PyYAML (a traceback),
    and crashed the process in libyaml's C composer; now each parser answers in time."""
    start = time.perf_counter()
    holds(name, DEEP[name])
    assert time.perf_counter() - start < 10


def test_libyaml_is_never_handed_a_document_deep_enough_to_crash_it() -> None:
    """Run in a child process: before the depth check this killed Python with SIGSEGV."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = (
        "from gitprov.model import dvclock\n"
        "for text in ('[' * 200_000, '- ' * 200_000, '{a: ' * 100_000):\n"
        "    try:\n        dvclock.parse(text)\n"
        "    except ValueError as exc:\n        print(exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert proc.stdout.count("nested more than 500 levels deep") == 3, proc.stdout


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(9)
)  # 10**10 values once expanded


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    refused_quickly(lambda: card.parse(f"---\n{BOMB}---\n", source="m.card.md"), card.CardError, 10)
    lock = "schema: '2.0'\nstages:\n  t:\n    cmd: x\n    params:\n      params.yaml:\n"
    lock += "".join(f"        {line}\n" for line in BOMB.splitlines())
    refused_quickly(lambda: dvclock.parse(lock), ValueError, 10)


def test_a_self_referencing_yaml_card_is_refused() -> None:
    refused_quickly(
        lambda: card.parse("---\na: &a [*a]\n---\n", source="m.card.md"), card.CardError, 10
    )


HUGE = "1" + "0" * 400  # beyond float's range, within Python's 4300-digit limit


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("scores.parse jsonl", '{"id": 1, "correct": ' + HUGE + "}"),
        ("scores.parse_aggregated", '{"acc": ' + HUGE + "}"),
        ("scores.parse_aggregated", '{"acc": {"value": 0.5, "ci_low": -' + HUGE + "}}"),
        ("eval_record.from_record", EVAL_NOTE.replace('"value":0.9', '"value":' + HUGE)),
        ("pointer.parse_fields", POINTER.replace("size = 12", "size = 1" + "0" * 5000)),
        ("checklist.parse_config", "[evaluation]\nmin_sample_size = 1" + "0" * 5000),
        ("approval.parse_owners", "x = 1" + "0" * 5000),
        ("runrecord.loads", RUN.replace('"exit_code": 0', '"exit_code": 1' + "0" * 5000)),
    ],
)
def test_numbers_out_of_range_are_the_parsers_errors(name: str, text: str) -> None:
    """These raised OverflowError or a bare ValueError (int/str digit limit) before."""
    holds(name, text)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "decision.parse",
            DECISION.replace('metrics = [{ name = "acc", expect = "increase" }]', "metrics = 5"),
        ),
        ("checklist.parse_config", '[[secrets.pii]]\nname = "p"\nregex = "a{4294967296}"\n'),
        ("project_config + remote_config", 'schema = 1\n[remotes."a\\nb"]\nurl = 5\n'),
        # A key repeated inside a table: tomlkit's KeyAlreadyPresent is not a ParseError.
        ("pointer.parse", POINTER + "a = 1\na = 2\n"),
        ("decision.parse", DECISION.replace('runs = ["run:01"]', "runs = []\nruns = []")),
        ("project_config + remote_config", CONFIG + "jobs = 5\n"),
    ],
)
def test_regressions_found_by_the_fuzzer(name: str, text: str) -> None:
    """decision metrics = 5 was a TypeError; a regex repeat beyond 2**32 an OverflowError;
    a key repeated inside a TOML table tomlkit's KeyAlreadyPresent (found by the full run)."""
    holds(name, text)
    with pytest.raises(PARSERS[name][1]):
        PARSERS[name][0](text)
