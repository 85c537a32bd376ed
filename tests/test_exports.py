"""Exports of the lineage graph, each checked by a validator that is not gitprov's code.

- PROV-JSON: read back by the ``prov`` package (which warns, here an error, on anything it
  would not accept) and checked against the PROV-JSON JSON Schema that ``prov`` ships;
- in-toto / SLSA: parsed strictly into the in-toto attestation protobufs
  (``in-toto-attestation``) and validated by its ``Statement.validate``, plus our own check
  of every digest's hex and length (which that library does not do) and of the seeds;
- OpenLineage: validated by ``jsonschema`` against the vendored official 2-0-2 schema
  (tests/data/openlineage), formats (uri, uuid, date-time) checked;
- DOT: parsed by ``pydot``; Mermaid: structural checks and an escaping round trip;
- gitprov's JSON: validated against its own published JSON Schema.
"""

from __future__ import annotations

import importlib.resources
import json
import random
import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.validators import validator_for
from prov.model import ProvDocument, ProvFutureRejectionWarning
from pyparsing.warnings import PyparsingWarning
from referencing import Registry, Resource

from gitprov.errors import GitprovError
from gitprov.model.exports import (
    FORMATS,
    AmbiguousProvenanceError,
    ExportContext,
    NoProducingRunError,
    NotACheckpointError,
    dot,
    graph_json,
    intoto,
    mermaid,
    openlineage,
    prov_json,
    render,
)
from gitprov.model.exports.context import repository_url
from gitprov.model.lineage_graph import ArtifactNode, Edge, LineageGraph, RunNode
from gitprov.model.notes import CROCKFORD
from tests.conftest import REPO_ROOT

OPENLINEAGE_DIR = REPO_ROOT / "tests" / "data" / "openlineage"
OPENLINEAGE_SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
JOB_TYPE_SPEC = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json"
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
SHA1_HEX = re.compile(r"[0-9a-f]{40}")


def sha(char: str) -> str:
    return "sha256:" + char * 64


DATA = ArtifactNode(sha("a"), "dataset", "data/train", commit="1" * 40, size=1234)
BASE = ArtifactNode(sha("b"), "checkpoint", "models/base.pt", commit="1" * 40, size=10)
MODEL = ArtifactNode(sha("c"), "checkpoint", "models/m.pt", commit="2" * 40, size=20)
METRICS = ArtifactNode(sha("d"), "artifact", "metrics.json", commit="2" * 40, size=2)
PRETRAIN = RunNode(
    "01JD3Q6G5Z0000000000000000",
    ("python", "pretrain.py", "--seed", "1"),
    commit="1" * 40,
    head="0" * 40,
    params={"lr": "1e-3"},
    seeds=("1",),
    started_at="2026-01-01T00:00:00.000Z",
    ended_at="2026-01-01T01:00:00.000Z",
    user="Alice <alice@example.com>",
)
TRAIN = RunNode(
    "01JD3Q6G5Z00000000000000ZZ",
    ("python", "train.py", "--lr", "3e-4", "--seed", "7"),
    commit="2" * 40,
    head="1" * 40,
    params={"lr": "3e-4", "epochs": "3"},
    seeds=("7", "8"),
    metrics={"metrics.json": {"acc": 0.91, "loss": float("nan")}},
    env=sha("e"),
    started_at="2026-01-02T00:00:00.000Z",
    ended_at="2026-01-02T01:00:00.000Z",
    user="alice",
    message="Train m with AdamW",
    decisions=("0007",),
)
CTX = ExportContext(
    repository="https://bob:s3cret@git.example.com/org/repo.git",
    commit="2" * 40,
    version="0.1.0",
    now=datetime(2026, 1, 3, 12, 0, tzinfo=UTC),
)


def make_graph(
    focus: str = MODEL.digest,
    artifacts: tuple[ArtifactNode, ...] = (DATA, BASE, MODEL, METRICS),
    runs: tuple[RunNode, ...] = (PRETRAIN, TRAIN),
    edges: tuple[tuple[str, str, str], ...] | None = None,
) -> LineageGraph:
    """Two runs: pretrain (data -> base) and train (data, base -> model, metrics)."""
    if edges is None:
        edges = (
            (PRETRAIN.id, DATA.digest, "input"),
            (PRETRAIN.id, BASE.digest, "output"),
            (TRAIN.id, DATA.digest, "input"),
            (TRAIN.id, BASE.digest, "input"),
            (TRAIN.id, MODEL.digest, "output"),
            (TRAIN.id, METRICS.digest, "output"),
        )
    graph = LineageGraph(focus=focus)
    graph.artifacts.update({a.digest: a for a in artifacts})
    graph.runs.update({r.id: r for r in runs})
    graph.edges.extend(Edge(run, art, role) for run, art, role in edges)  # type: ignore[arg-type]
    return graph


HOSTILE_PATH = 'data/we"ird [x] (y) {z} #1 |p| <b>&amp;\n`tick` \\N\\G;%% end'
HOSTILE_USER = 'Eve "the" <eve@example.com>\n#root'


def hostile_graph() -> LineageGraph:
    """Paths, commands and user names with every character that could break a format."""
    data = replace(DATA, path=HOSTILE_PATH)
    model = replace(MODEL, path="models/\u2028m\x00.pt")
    run = replace(
        TRAIN,
        argv=("sh", "-c", 'echo "}" # ]; \n\\"'),
        user=HOSTILE_USER,
        params={"we ird=": '"quoted"\n'},
        seeds=("0x10", "007"),
    )
    return make_graph(
        artifacts=(data, model),
        runs=(run,),
        edges=((run.id, data.digest, "input"), (run.id, model.digest, "output")),
    )


def dvc_graph() -> LineageGraph:
    """A DVC stage (no ULID, md5 digests as DVC wrote them) feeding a gitprov run."""
    raw = ArtifactNode("md5:" + "f" * 32, "dataset", "data/raw")
    stage = RunNode("dvc:prepare@abcdef123456", ("python", "prep.py"), source="dvc")
    return make_graph(
        artifacts=(raw, DATA, MODEL),
        runs=(stage, TRAIN),
        edges=(
            (stage.id, raw.digest, "input"),
            (stage.id, DATA.digest, "output"),
            (TRAIN.id, DATA.digest, "input"),
            (TRAIN.id, MODEL.digest, "output"),
        ),
    )


def shuffled(graph: LineageGraph, seed: int) -> LineageGraph:
    """The same graph with its dicts and edge list in another order."""
    rng = random.Random(seed)
    artifacts = list(graph.artifacts.items())
    runs = list(graph.runs.items())
    edges = [*graph.edges, *graph.edges]  # repeated edges must not show twice
    for items in (artifacts, runs, edges):
        rng.shuffle(items)
    return LineageGraph(graph.focus, graph.direction, dict(artifacts), dict(runs), edges)


# --- all formats ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_deterministic_and_independent_of_input_order(fmt: str) -> None:
    first = render(make_graph(), CTX, fmt)
    assert first.endswith("\n")
    for seed in range(5):
        assert render(shuffled(make_graph(), seed), CTX, fmt) == first


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_leaks_the_credentials_of_the_remote_url(fmt: str) -> None:
    text = render(make_graph(), CTX, fmt)
    assert "s3cret" not in text
    assert "bob" not in text


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown export format 'yaml'"):
        render(make_graph(), CTX, "yaml")


def test_the_export_time_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ExportContext("r", "c", "v", datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("repository", "url"),
    [
        ("git@github.com:org/repo.git", "ssh://git@github.com/org/repo.git"),
        ("ssh://git@host:2222/org/repo", "ssh://git@host:2222/org/repo"),
        ("ssh://u:pw@host/r", "ssh://host/r"),
        ("https://user:token@host/org/repo", "https://host/org/repo"),
        ("https://token@host/org/repo", "https://host/org/repo"),
        ("git+https://host/org/repo?x=1#frag", "https://host/org/repo"),
        ("https://[::1]:8080/r", "https://[::1]:8080/r"),
        ("/srv/repos/my repo", "file:///srv/repos/my%20repo"),
        ("file:///srv/r", "file:///srv/r"),
        ("../sibling", "file:../sibling"),
    ],
)
def test_repository_urls_are_normalised_without_secrets(repository: str, url: str) -> None:
    assert repository_url(repository) == url


# --- gitprov's own JSON -----------------------------------------------------------------


def schema_validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.mark.parametrize("graph", [make_graph(), hostile_graph(), dvc_graph()], ids=str)
def test_graph_json_matches_its_published_schema(graph: LineageGraph) -> None:
    document = json.loads(graph_json.render(graph, CTX))
    schema_validator(graph_json.SCHEMA).validate(document)


def test_graph_json_lists_nodes_then_edges_in_flow_direction() -> None:
    document = graph_json.to_json(make_graph(), CTX)
    assert document["schema"] == graph_json.SCHEMA_VERSION
    assert document["export"] == {
        "repository": "https://git.example.com/org/repo.git",
        "commit": "2" * 40,
        "at": "2026-01-03T12:00:00.000Z",
        "gitprov": "0.1.0",
    }
    ids = [node["id"] for node in document["nodes"]]
    assert ids == [DATA.digest, METRICS.digest, BASE.digest, MODEL.digest, PRETRAIN.id, TRAIN.id]
    edges = {(e["from"], e["to"], e["role"]) for e in document["edges"]}
    assert (DATA.digest, TRAIN.id, "input") in edges
    assert (TRAIN.id, MODEL.digest, "output") in edges
    assert len(edges) == len(document["edges"]) == 6
    train = document["nodes"][-1]
    assert train["seeds"] == ["7", "8"]
    assert train["metrics"] == {"metrics.json": {"acc": 0.91, "loss": "nan"}}


# --- Mermaid ----------------------------------------------------------------------------

MERMAID_NODE = re.compile(r'    (?P<id>[ar]\d+)(?:\("(?P<art>[^"\n]*)"\)|\["(?P<run>[^"\n]*)"\])')


def mermaid_unescape(label: str) -> str:
    """An independent reading of Mermaid's entity codes, as its renderer decodes them."""
    named = {"quot": '"', "amp": "&", "lt": "<", "gt": ">"}

    def entity(match: re.Match[str]) -> str:
        code = match[1]
        return chr(int(code)) if code.isdigit() else named[code]

    return re.sub(r"#(\w+);", entity, label)


def test_mermaid_draws_artifacts_rounded_runs_square_and_marks_the_focus() -> None:
    text = mermaid.render(make_graph(), CTX)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = {m["id"]: m for m in map(MERMAID_NODE.fullmatch, lines) if m}
    assert nodes["a0"]["art"] == "data/train<br/>ds:aaaaaaaaaaaa"
    assert nodes["a3"]["art"] == "models/m.pt<br/>sha256:cccccccccccc"
    assert nodes["r1"]["run"] == f"python train.py --lr 3e-4 --seed 7<br/>run:{TRAIN.id}"
    assert "    a0 --> r1" in lines
    assert "    r1 --> a3" in lines
    assert "    class a3 focus" in lines
    assert "    class a2,a3 checkpoint" in lines
    assert mermaid.render(make_graph(), CTX, direction="TB").startswith("flowchart TB\n")


def test_mermaid_focus_on_a_run_highlights_the_run() -> None:
    lines = mermaid.render(make_graph(focus="run:" + TRAIN.id), CTX).splitlines()
    assert "    class r1 focus" in lines


def test_mermaid_escapes_hostile_labels() -> None:
    text = mermaid.render(hostile_graph(), CTX)
    lines = text.splitlines()
    # Every line is a declaration gitprov wrote: no label broke out of its quotes or line.
    allowed = re.compile(
        r"flowchart LR|    ([ar]\d+(\(\"[^\"]*\"\)|\[\"[^\"]*\"\])|[ar]\d+ --> [ar]\d+"
        r"|classDef \w+ [\w:#,.-]+|class [ar\d,]+ \w+)"
    )
    assert [line for line in lines if not allowed.fullmatch(line)] == []
    labels = [m["art"] or m["run"] for m in map(MERMAID_NODE.fullmatch, lines) if m]
    data_label = mermaid_unescape(labels[0].split("<br/>")[0])
    assert data_label == HOSTILE_PATH.replace("\n", "\\n")
    assert "\u2028" not in text
    assert "\x00" not in text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_becomes_a_safe_mermaid_label(text: str) -> None:
    escaped = mermaid.escape(text)
    assert not set(escaped) & set('"\n\r`<>[](){}|\\')
    # A '#' only ever starts an entity code.
    assert re.fullmatch(r"([^#]|#\w+;)*", escaped)
    printable = all(c == " " or c.isprintable() for c in text)
    if printable:
        assert mermaid_unescape(escaped) == text


# --- DOT --------------------------------------------------------------------------------


def parse_dot(text: str) -> Any:
    """pydot's parser, or None if the text is not DOT.

    pydot 4.0 still calls pyparsing's camelCase API, which pyparsing 3.3 deprecates with
    a warning (and a diagnostic one on import): those are about pydot's code, not about
    the DOT being parsed, so exactly pyparsing's warnings are ignored here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PyparsingWarning)
        import pydot  # noqa: PLC0415

        graphs = pydot.graph_from_dot_data(text)
    return graphs[0] if graphs else None


def dot_unquote(value: str) -> str:
    """A DOT quoted string's text (what Graphviz shows, with ``\\n`` as a line break)."""
    assert value.startswith('"')
    assert value.endswith('"')
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], value[1:-1])


def test_dot_is_parsed_by_pydot_with_every_node_and_edge() -> None:
    graph = parse_dot(dot.render(make_graph(), CTX))
    assert graph is not None
    nodes = {n.get_name().strip('"'): n for n in graph.get_nodes()}
    assert {"a0", "a1", "a2", "a3", "r0", "r1"} <= set(nodes)
    assert dot_unquote(nodes["a3"].get_label()) == "models/m.pt\nsha256:cccccccccccc"
    assert nodes["a3"].get("penwidth") == "3"  # the focus
    edges = {(e.get_source().strip('"'), e.get_destination().strip('"')) for e in graph.get_edges()}
    assert edges == {("a0", "r0"), ("r0", "a2"), ("a0", "r1"), ("a2", "r1")} | {
        ("r1", "a1"),
        ("r1", "a3"),
    }


def test_dot_escapes_hostile_labels() -> None:
    text = dot.render(hostile_graph(), CTX, rankdir="TB")
    graph = parse_dot(text)
    assert graph is not None
    assert graph.get("rankdir") == "TB"
    nodes = {n.get_name().strip('"'): n for n in graph.get_nodes()}
    assert len(graph.get_edges()) == 2
    # DOT's \n is the line break gitprov puts between path and digest; the path's own
    # newline is shown as \n, literally.
    assert dot_unquote(nodes["a0"].get_label()) == HOSTILE_PATH + "\nds:aaaaaaaaaaaa"
    assert "\x00" not in text
    assert "\u2028" not in text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_becomes_a_valid_dot_string(text: str) -> None:
    quoted = dot.quote(text)
    graph = parse_dot(f'digraph g {{ "n" [label={quoted}]; }}')
    assert graph is not None
    label = graph.get_nodes()[0].get_label()
    if all(c == " " or c.isprintable() or c == "\n" for c in text):
        assert dot_unquote(label) == text


# --- PROV-JSON --------------------------------------------------------------------------


def prov_json_schema() -> dict[str, Any]:
    """The PROV-JSON JSON Schema that the prov package ships with its tests."""
    path = importlib.resources.files("prov.tests") / "schemas" / "prov-json.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


@pytest.mark.parametrize("graph", [make_graph(), hostile_graph(), dvc_graph()], ids=str)
def test_prov_json_matches_the_prov_json_schema(graph: LineageGraph) -> None:
    schema = prov_json_schema()
    validator = validator_for(schema)(schema, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(prov_json.to_json(graph, CTX)), key=str)
    assert errors == []


def read_prov(text: str) -> ProvDocument:
    # pytest runs with -W error: any warning prov raises about a record fails the test.
    return ProvDocument.deserialize(content=text, format="json")


def test_prov_package_reads_back_entities_activities_and_relations() -> None:
    document = read_prov(prov_json.render(make_graph(), CTX))
    records = document.get_records()
    by_type: dict[str, list[Any]] = {}
    for record in records:
        by_type.setdefault(record.get_type().localpart, []).append(record)

    entities = {str(r.identifier) for r in by_type["Entity"]}
    assert {"sha256:" + c * 64 for c in "abcd"} <= entities
    assert {"commit:" + "0" * 40, "commit:" + "1" * 40} <= entities
    activities = {str(r.identifier) for r in by_type["Activity"]}
    assert activities == {f"run:{PRETRAIN.id}", f"run:{TRAIN.id}"}

    def pairs(kind: str, first: str, second: str) -> set[tuple[str, str]]:
        return {
            (str(r.get_attribute(first).pop()), str(r.get_attribute(second).pop()))
            for r in by_type[kind]
        }

    used = pairs("Usage", "prov:activity", "prov:entity")
    assert (f"run:{TRAIN.id}", BASE.digest) in used
    assert (f"run:{TRAIN.id}", "commit:" + "1" * 40) in used
    generated = pairs("Generation", "prov:entity", "prov:activity")
    assert generated == {
        (BASE.digest, f"run:{PRETRAIN.id}"),
        (MODEL.digest, f"run:{TRAIN.id}"),
        (METRICS.digest, f"run:{TRAIN.id}"),
    }
    derived = pairs("Derivation", "prov:generatedEntity", "prov:usedEntity")
    assert (MODEL.digest, BASE.digest) in derived
    assert (MODEL.digest, DATA.digest) in derived
    assert len(derived) == 1 + 4  # pretrain: base <- data; train: 2 outputs x 2 inputs
    assert len(by_type["Association"]) == 2

    train = next(r for r in by_type["Activity"] if str(r.identifier) == f"run:{TRAIN.id}")
    attrs = {str(k): v for k, v in train.attributes}
    seeds = {str(v) for k, v in train.attributes if str(k) == "gitprov:seed"}
    assert seeds == {"7", "8"}
    assert all(isinstance(v, str) for k, v in train.attributes if str(k) == "gitprov:seed")
    assert json.loads(str(attrs["gitprov:params"])) == {"lr": "3e-4", "epochs": "3"}
    assert str(attrs["gitprov:head"]) == "1" * 40
    assert train.get_startTime() == datetime(2026, 1, 2, tzinfo=UTC)


def test_prov_package_rejects_what_it_does_not_understand() -> None:
    """Control: with warnings as errors, prov's reader is a validator, not a sink."""
    bad = {"prefix": {"ex": "https://ex/"}, "entity": {"ex:a": {"prov:type": _qname("no:X")}}}
    with pytest.raises(ProvFutureRejectionWarning, match="does not resolve"):
        read_prov(json.dumps(bad))


def _qname(value: str) -> dict[str, str]:
    return {"$": value, "type": "xsd:QName"}


def test_prov_round_trips_through_the_prov_package() -> None:
    document = read_prov(prov_json.render(hostile_graph(), CTX))
    serialized = document.serialize(format="json")
    assert isinstance(serialized, str)
    assert read_prov(serialized) == document
    agents = [r for r in document.get_records() if r.get_type().localpart == "Agent"]
    assert [str(r.label) for r in agents] == [HOSTILE_USER]


def test_prov_names_entities_by_digest_in_the_hash_urn_namespace() -> None:
    document = read_prov(prov_json.render(dvc_graph(), CTX))
    ids = {r.identifier for r in document.get_records() if r.get_type().localpart == "Entity"}
    uris = {i.uri for i in ids if i is not None}
    assert "urn:hash::sha256:" + "a" * 64 in uris
    assert "urn:hash::md5:" + "f" * 32 in uris


# --- in-toto Statement v1 / SLSA provenance v1 ------------------------------------------


def check_in_toto(text: str) -> dict[str, Any]:
    """Parse ``text`` as the in-toto library does, strictly, then check what it does not."""
    statement_pb = json_format.Parse(text, statement_pb2.Statement())  # unknown keys fail
    Statement.copy_from_pb(statement_pb).validate()
    statement: dict[str, Any] = json.loads(text)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    provenance = json_format.ParseDict(statement["predicate"], provenance_pb2.Provenance())
    assert provenance.build_definition.build_type
    assert provenance.run_details.builder.id
    # SLSA: builder.id, buildType and resource URIs are URIs.
    checker = FormatChecker()
    assert checker.conforms(provenance.build_definition.build_type, "uri")
    assert checker.conforms(provenance.run_details.builder.id, "uri")
    descriptors = [
        *statement["subject"],
        *statement["predicate"]["buildDefinition"]["resolvedDependencies"],
        *statement["predicate"]["runDetails"].get("byproducts", []),
    ]
    for descriptor in descriptors:
        assert descriptor["digest"], descriptor
        for algorithm, value in descriptor["digest"].items():
            if algorithm == "sha256":
                assert SHA256_HEX.fullmatch(value), descriptor
            elif algorithm == "gitCommit":
                assert SHA1_HEX.fullmatch(value), descriptor
                assert checker.conforms(descriptor["uri"], "uri")
                assert descriptor["uri"].endswith("@" + value)
            else:
                assert re.fullmatch(r"[0-9a-f]+", value), descriptor
    for subject in statement["subject"]:
        assert set(subject["digest"]) == {"sha256"}
    external = statement["predicate"]["buildDefinition"]["externalParameters"]
    assert all(isinstance(seed, str) for seed in external["seeds"])
    assert all(isinstance(value, str) for value in external["params"].values())
    return statement


def test_intoto_statement_for_a_checkpoint() -> None:
    statement = check_in_toto(intoto.render(make_graph(), CTX))
    assert statement["subject"] == [{"name": "models/m.pt", "digest": {"sha256": "c" * 64}}]
    definition = statement["predicate"]["buildDefinition"]
    assert definition["externalParameters"] == {
        "argv": ["python", "train.py", "--lr", "3e-4", "--seed", "7"],
        "params": {"lr": "3e-4", "epochs": "3"},
        "seeds": ["7", "8"],
    }
    dependencies = definition["resolvedDependencies"]
    assert dependencies[0] == {
        "uri": "git+https://git.example.com/org/repo.git@" + "1" * 40,
        "digest": {"gitCommit": "1" * 40},
    }
    assert [(d["name"], d["digest"]) for d in dependencies[1:]] == [
        ("data/train", {"sha256": "a" * 64}),
        ("models/base.pt", {"sha256": "b" * 64}),
    ]
    details = statement["predicate"]["runDetails"]
    assert details["metadata"] == {
        "invocationId": TRAIN.id,
        "startedOn": "2026-01-02T00:00:00.000Z",
        "finishedOn": "2026-01-02T01:00:00.000Z",
    }
    assert details["builder"]["version"] == {"gitprov": "0.1.0"}
    assert [b["name"] for b in details["byproducts"]] == ["metrics.json"]


def test_intoto_statement_for_a_run_covers_its_checkpoints() -> None:
    statement = check_in_toto(intoto.render(make_graph(focus=PRETRAIN.id), CTX))
    assert [s["name"] for s in statement["subject"]] == ["models/base.pt"]
    assert "byproducts" not in statement["predicate"]["runDetails"]


def test_intoto_with_hostile_text_still_parses() -> None:
    statement = check_in_toto(intoto.render(hostile_graph(), CTX))
    assert statement["predicate"]["buildDefinition"]["externalParameters"]["seeds"] == [
        "0x10",
        "007",
    ]


def test_intoto_with_a_dvc_input_keeps_its_md5() -> None:
    statement = check_in_toto(intoto.render(dvc_graph(), CTX))
    names = [
        d.get("name") for d in statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    ]
    assert names == [None, "data/train"]


@pytest.mark.parametrize(
    ("graph", "error", "message"),
    [
        pytest.param(make_graph(focus=DATA.digest), NotACheckpointError, "a dataset", id="dataset"),
        pytest.param(make_graph(focus=METRICS.digest), NotACheckpointError, "artifact", id="file"),
        pytest.param(
            make_graph(focus="sha256:" + "9" * 64), NotACheckpointError, "not an", id="none"
        ),
        pytest.param(
            make_graph(focus=PRETRAIN.id, edges=((PRETRAIN.id, METRICS.digest, "output"),)),
            NotACheckpointError,
            "wrote no checkpoint",
            id="run-without-checkpoint",
        ),
        pytest.param(
            make_graph(edges=((TRAIN.id, DATA.digest, "input"),)),
            NoProducingRunError,
            "no run record produced models/m.pt",
            id="no-producer",
        ),
        pytest.param(
            make_graph(
                edges=((TRAIN.id, MODEL.digest, "output"), (PRETRAIN.id, MODEL.digest, "output"))
            ),
            AmbiguousProvenanceError,
            "produced by 2 runs",
            id="two-producers",
        ),
    ],
)
def test_intoto_refuses_what_it_cannot_attest(
    graph: LineageGraph, error: type[GitprovError], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        render(graph, CTX, "intoto")
    assert isinstance(caught.value, GitprovError)
    assert "gitprov lineage" in caught.value.fix or "gitprov run" in caught.value.fix


# --- OpenLineage ------------------------------------------------------------------------


def openlineage_registry() -> Registry:
    resources = []
    for path in sorted(OPENLINEAGE_DIR.glob("*.json")):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def openlineage_validator(ref: str) -> Draft202012Validator:
    checker = FormatChecker()
    # Control: the formats the schema relies on are really checked, not passed through.
    assert not checker.conforms("not a uri", "uri")
    assert not checker.conforms("not-a-uuid", "uuid")
    assert not checker.conforms("yesterday", "date-time")
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": ref}
    return Draft202012Validator(schema, registry=openlineage_registry(), format_checker=checker)


def check_openlineage(text: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in text.splitlines()]
    whole = openlineage_validator(OPENLINEAGE_SPEC)  # the schema's root: oneOf the events
    run_event = openlineage_validator(OPENLINEAGE_SPEC + "#/$defs/RunEvent")
    job_type = openlineage_validator(JOB_TYPE_SPEC + "#/$defs/JobTypeJobFacet")
    for event in events:
        for validator in (whole, run_event):
            errors = sorted(validator.iter_errors(event), key=str)
            assert errors == [], "\n".join(e.message for e in errors)
        job_type.validate(event["job"]["facets"]["jobType"])
        assert event["schemaURL"] == OPENLINEAGE_SPEC + "#/$defs/RunEvent"
        assert event["eventType"] == "COMPLETE"
        for dataset in [*event["inputs"], *event["outputs"]]:
            version = dataset["facets"]["version"]
            assert version["datasetVersion"] == dataset["facets"]["gitprov"]["digest"]
            assert "DatasetVersionDatasetFacet" in version["_schemaURL"]
        assert all(isinstance(s, str) for s in event["run"]["facets"]["gitprov"]["seeds"])
    return events


def test_the_vendored_schema_rejects_a_broken_event() -> None:
    """Control: the validator is not vacuous."""
    event = json.loads(openlineage.render(make_graph(), CTX).splitlines()[0])
    validator = openlineage_validator(OPENLINEAGE_SPEC)
    for broken in (
        {**event, "run": {"runId": "01JD3Q6G5Z0000000000000000"}},  # a ULID is not a UUID
        {k: v for k, v in event.items() if k != "schemaURL"},
        {**event, "eventType": "DONE"},
        {**event, "job": {**event["job"], "facets": {"jobType": {"integration": "X"}}}},
    ):
        assert list(validator.iter_errors(broken)), broken


def test_openlineage_events_validate_against_the_official_schema() -> None:
    events = check_openlineage(openlineage.render(make_graph(), CTX))
    assert [e["run"]["runId"] for e in events] == [
        str(openlineage.ulid_to_uuid(PRETRAIN.id)),
        str(openlineage.ulid_to_uuid(TRAIN.id)),
    ]
    train = events[1]
    assert train["job"]["name"] == "python train.py"
    assert train["job"]["namespace"] == "https://git.example.com/org/repo.git"
    assert train["job"]["facets"]["sourceCodeLocation"]["version"] == "1" * 40
    assert [d["name"] for d in train["inputs"]] == ["data/train", "models/base.pt"]
    assert [d["name"] for d in train["outputs"]] == ["metrics.json", "models/m.pt"]
    facet = train["run"]["facets"]["gitprov"]
    assert facet["params"] == {"lr": "3e-4", "epochs": "3"}
    assert facet["seeds"] == ["7", "8"]
    assert facet["metrics"] == {"metrics.json": {"acc": 0.91, "loss": "nan"}}
    assert train["eventTime"] == TRAIN.ended_at
    assert train["producer"] == train["run"]["facets"]["processing_engine"]["_producer"]


def test_openlineage_with_dvc_stages_and_hostile_text() -> None:
    events = check_openlineage(openlineage.render(dvc_graph(), CTX))
    stage = events[0]
    assert stage["job"]["name"] == "prepare"
    assert stage["job"]["facets"]["jobType"]["integration"] == "DVC"
    assert uuid.UUID(stage["run"]["runId"]).version == 5
    check_openlineage(openlineage.render(hostile_graph(), CTX))


def test_openlineage_event_time_falls_back_to_the_export_time() -> None:
    run = replace(TRAIN, ended_at=None, started_at=None)
    graph = make_graph(runs=(run,), edges=((run.id, MODEL.digest, "output"),))
    (event,) = check_openlineage(openlineage.render(graph, CTX))
    assert event["eventTime"] == "2026-01-03T12:00:00.000Z"
    other_zone = replace(CTX, now=datetime(2026, 1, 3, 13, 0, tzinfo=timezone(timedelta(hours=1))))
    assert openlineage.to_json(graph, other_zone)[0]["eventTime"] == event["eventTime"]


ulids = st.text(alphabet=CROCKFORD, min_size=25, max_size=25).flatmap(
    lambda rest: st.sampled_from("01234567").map(lambda first: first + rest)
)


@given(ulids, ulids)
def test_ulid_to_uuid_is_injective_stable_and_reversible(a: str, b: str) -> None:
    ua, ub = openlineage.ulid_to_uuid(a), openlineage.ulid_to_uuid(b)
    assert (ua == ub) == (a == b)
    assert openlineage.uuid_to_ulid(ua) == a
    assert openlineage.run_uuid(a) == str(ua) == openlineage.run_uuid(a.lower())


@given(st.text(min_size=1))
def test_any_run_id_gets_a_uuid(run_id: str) -> None:
    value = openlineage.run_uuid(run_id)
    assert str(uuid.UUID(value)) == value
    assert openlineage.run_uuid(run_id) == value


@pytest.mark.parametrize("bad", ["", "8" + "0" * 25, "0" * 25, "0" * 25 + "U", "0" * 27])
def test_ulid_to_uuid_refuses_what_is_not_a_ulid(bad: str) -> None:
    with pytest.raises(ValueError, match="not a ULID"):
        openlineage.ulid_to_uuid(bad)


def test_the_largest_ulid_is_the_largest_uuid() -> None:
    assert openlineage.ulid_to_uuid("7" + "Z" * 25) == uuid.UUID(int=(1 << 128) - 1)


# --- docs/exports.md --------------------------------------------------------------------

DOC_DATA = ArtifactNode("sha256:" + "3f" * 32, "dataset", "data/train", commit="a1" * 20)
DOC_MODEL = ArtifactNode("sha256:" + "9f86d081" * 8, "checkpoint", "models/m.pt", commit="b2" * 20)
DOC_RUN = RunNode(
    "01JD3Q6G5ZB0X9P1R2S3T4V5W6",
    ("python", "train.py", "--lr", "3e-4", "--seed", "7"),
    commit="b2" * 20,
    head="a1" * 20,
    params={"lr": "3e-4"},
    seeds=("7",),
    started_at="2026-01-02T09:00:00.000Z",
    ended_at="2026-01-02T09:42:00.000Z",
    user="alice",
)
DOC_CTX = ExportContext(
    "https://git.example.com/org/repo.git", "b2" * 20, "0.1.0", datetime(2026, 1, 3, tzinfo=UTC)
)


def doc_graph() -> LineageGraph:
    return make_graph(
        focus=DOC_MODEL.digest,
        artifacts=(DOC_DATA, DOC_MODEL),
        runs=(DOC_RUN,),
        edges=((DOC_RUN.id, DOC_DATA.digest, "input"), (DOC_RUN.id, DOC_MODEL.digest, "output")),
    )


def doc_examples() -> Iterator[tuple[str, str]]:
    """(format, example) for every ``<!-- example: FORMAT -->`` block in docs/exports.md."""
    text = (REPO_ROOT / "docs" / "exports.md").read_text()
    pattern = r"<!-- example: ([\w-]+) -->\n```\w*\n(.*?)```"
    for match in re.finditer(pattern, text, flags=re.DOTALL):
        yield match[1], match[2]


def test_docs_examples_are_what_the_exports_write() -> None:
    """docs/exports.md shows real output: regenerate with ``python -m tests.test_exports``."""
    examples = dict(doc_examples())
    assert set(examples) == set(FORMATS)
    for fmt, example in examples.items():
        written = render(doc_graph(), DOC_CTX, fmt)
        if fmt == "openlineage":  # one JSON Lines event, shown indented in the docs
            assert json.loads(example) == json.loads(written), "docs/exports.md: stale"
        else:
            assert example == written, f"docs/exports.md: the {fmt} example is stale"


if __name__ == "__main__":  # pragma: no cover - prints the examples for docs/exports.md
    FENCES = {"mermaid": "mermaid", "dot": "dot", "openlineage": "json"}
    for fmt in FORMATS:
        text = render(doc_graph(), DOC_CTX, fmt)
        if fmt == "openlineage":
            text = json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
        print(f"<!-- example: {fmt} -->\n```{FENCES.get(fmt, 'json')}\n{text}```\n")
