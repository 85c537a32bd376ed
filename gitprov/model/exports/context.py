"""What every export needs besides the graph, the errors exports raise, and shared helpers.

The exports are pure: the caller (the lineage service) says which repository the graph
comes from, at which commit it was queried, which gitprov made it and what time it is,
so that the same graph and context always give the same bytes.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from gitprov.errors import GitprovError
from gitprov.model import digest as digests
from gitprov.model.lineage_graph import ArtifactNode, LineageGraph, RunNode
from gitprov.model.notes import format_at
from gitprov.model.runrecord import run_id_of

# The base of the URIs gitprov mints for itself (SLSA buildType and builder id, the
# OpenLineage producer, the PROV namespace). ".invalid" (RFC 2606) until the project has a
# public home: it can never resolve to someone else's site. Change it here, in one place.
HOME = "https://gitprov.invalid"

_ALGORITHM = re.compile(r"[a-z0-9]+")
_HEX = re.compile(r"[0-9a-f]+")
_SCP_LIKE = re.compile(r"(?P<user>[^@/:]+@)?(?P<host>[^/:]+):(?P<path>(?!//).*)")


class ExportError(GitprovError):
    """A lineage graph cannot be exported in the requested format."""


class NotACheckpointError(ExportError):
    """The export needs a checkpoint (or a run that wrote one) as its focus."""


class NoProducingRunError(ExportError):
    """The focus checkpoint has no run in the graph that produced it."""


class AmbiguousProvenanceError(ExportError):
    """More than one run produced the focus checkpoint."""


@dataclass(frozen=True)
class ExportContext:
    """Where the graph comes from and when it was exported.

    ``repository`` is a URL (``https://host/org/repo.git``, ``git+https://...``,
    ``git@host:org/repo.git``) or a local path; ``commit`` the full commit id the
    query was made at; ``version`` the gitprov version; ``now`` a timezone-aware time.
    """

    repository: str
    commit: str
    version: str
    now: datetime
    home: str = HOME

    def __post_init__(self) -> None:
        if self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("ExportContext.now must be timezone-aware")

    @property
    def timestamp(self) -> str:
        """``now`` as RFC 3339 UTC with milliseconds."""
        return format_at(self.now)


def repository_url(repository: str) -> str:
    """A URL for ``repository`` without credentials and without a ``git+`` prefix.

    >>> repository_url("git@github.com:org/repo.git")
    'ssh://git@github.com/org/repo.git'
    >>> repository_url("https://user:token@host/org/repo")
    'https://host/org/repo'
    >>> repository_url("/srv/repos/r")
    'file:///srv/repos/r'
    """
    text = repository.removeprefix("git+")
    if "://" in text:
        parts = urlsplit(text)
        host = parts.hostname or ""
        if ":" in host:  # an IPv6 literal: urlsplit took its brackets off
            host = f"[{host}]"
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        # A password or token in a remote URL must never reach an export. A user name is
        # kept for ssh only (git@host is how ssh remotes are addressed, and no secret).
        if parts.username and parts.password is None and parts.scheme == "ssh":
            host = f"{parts.username}@{host}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    scp = _SCP_LIKE.fullmatch(text)
    if scp and not text.startswith(("/", ".")):
        path = scp["path"] if scp["path"].startswith("/") else "/" + scp["path"]
        return f"ssh://{scp['user'] or ''}{scp['host']}{path}"
    path = quote(text, safe="/._-~")
    return f"file://{path}" if text.startswith("/") else f"file:{path}"


def git_uri(repository: str) -> str:
    """The SPDX/SLSA style VCS locator: ``git+<url>``."""
    return "git+" + repository_url(repository)


def digest_parts(digest: str) -> tuple[str, str] | None:
    """``("sha256", "<hex>")`` for a well-formed ``algo:hex`` digest, else None."""
    algorithm, sep, hexpart = digest.partition(":")
    if not sep or not _ALGORITHM.fullmatch(algorithm) or not _HEX.fullmatch(hexpart):
        return None
    return algorithm, hexpart


def short_id(node: ArtifactNode) -> str:
    """``ds:<12 hex>`` for a dataset snapshot, ``sha256:<12 hex>`` for a file."""
    if node.kind == "dataset" and digests.is_digest(node.digest):
        return digests.snapshot_id(node.digest)
    parts = digest_parts(node.digest)
    if parts is None:
        return node.digest[:24]
    return f"{parts[0]}:{parts[1][:12]}"


def command_line(run: RunNode) -> str:
    """The command a run ran, as a shell would read it."""
    if run.source == "dvc":
        stage = run.id.removeprefix("dvc:").split("@", 1)[0]
        return f"dvc stage {stage}" + (f": {shlex.join(run.argv)}" if run.argv else "")
    return shlex.join(run.argv) if run.argv else run.id


def sorted_artifacts(graph: LineageGraph) -> list[ArtifactNode]:
    return sorted(graph.artifacts.values(), key=lambda a: (a.path, a.digest))


def sorted_runs(graph: LineageGraph) -> list[RunNode]:
    """Runs by start time, then id: upstream runs usually come first."""
    return sorted(graph.runs.values(), key=lambda r: (r.started_at or "", r.id))


def unique(items: Iterator[ArtifactNode]) -> list[ArtifactNode]:
    """``items`` without repeats (an edge may be recorded twice), by path then digest."""
    seen = {a.digest: a for a in items}
    return sorted(seen.values(), key=lambda a: (a.path, a.digest))


def focus_run_id(graph: LineageGraph) -> str | None:
    """The focus as a run id, if the focus is a run of the graph."""
    run_id = run_id_of(graph.focus)
    return run_id if run_id in graph.runs else None


def jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as strings, so that any JSON parser reads the output
    (metrics files are parsed by Python, which accepts NaN; JSON does not)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # 'nan', 'inf', '-inf'
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def dumps(value: Any, *, compact: bool = False) -> str:
    """Deterministic JSON with a final newline: sorted keys, and a two-space indent or,
    when ``compact``, one line (for JSON Lines)."""
    value = jsonable(value)
    if compact:
        # ASCII only: a line separator such as U+2028 in a path would split the line for
        # readers that use str.splitlines() or similar.
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    else:
        text = json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False)
    return text + "\n"


@dataclass(frozen=True)
class Layout:
    """Short, syntax-safe node ids for the diagram formats, and the flow edges.

    Ids are ``a<n>`` for artifacts and ``r<n>`` for runs, numbered in the stable node
    order, so that no user text ever reaches a node id.
    """

    ids: dict[str, str]  # artifact digest or run id -> node id
    artifacts: list[ArtifactNode]
    runs: list[RunNode]
    edges: list[tuple[str, str]]  # (from node id, to node id), the way data flows
    focus: str | None  # node id of the focus, if it is in the graph


def layout(graph: LineageGraph) -> Layout:
    artifacts = sorted_artifacts(graph)
    runs = sorted_runs(graph)
    ids = {a.digest: f"a{i}" for i, a in enumerate(artifacts)}
    ids.update({r.id: f"r{i}" for i, r in enumerate(runs)})
    flows = set()
    for e in graph.edges:
        if e.artifact in ids and e.run in ids:
            pair = (ids[e.artifact], ids[e.run])
            flows.add(pair if e.role == "input" else pair[::-1])
    order = {node_id: i for i, node_id in enumerate(ids.values())}
    edges = sorted(flows, key=lambda p: (order[p[0]], order[p[1]]))
    focus = ids.get(graph.focus) or ids.get(run_id_of(graph.focus))
    return Layout(ids, artifacts, runs, edges, focus)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def visible(char: str) -> str:
    """A visible stand-in for a control or other non-printable character."""
    escapes = {"\t": "\\t", "\r": "\\r", "\n": "\\n"}
    if char in escapes:
        return escapes[char]
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )
