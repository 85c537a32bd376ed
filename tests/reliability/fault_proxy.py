"""A fault-injecting HTTP proxy for the S3 API: standard library only.

It listens on 127.0.0.1 (a random port), forwards every request to the S3 server behind
it (moto's, in the tests) and, when a request matches a rule the test has set, injects a
fault instead of (or on the way back from) forwarding it:

- ``reset``: the connection is closed with a TCP RST before any response byte;
- ``status``: an S3-style XML error with that HTTP status (500, 503...), not forwarded;
- ``slow``: the response is held back ``delay`` seconds, then sent whole;
- ``truncate``: the real response's headers (its true Content-Length) and only the first
  ``keep`` fraction of the body, then the connection is closed (a cut download);
- ``short``: like ``truncate``, but the Content-Length is cut too, so the response looks
  complete and only the bytes' hash can tell (a proxy or disk that lies).

A rule matches by method and a regular expression on the path; it fires ``times`` times
(``None``: for ever). Every request and every fault is counted, so tests can assert that
the faults they scheduled really happened::

    with FaultProxy(upstream) as proxy:
        proxy.add("PUT", r"/sha256/", "status", status=503, times=2)
        ...push...
        assert proxy.injected("status") == 2
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

ACTIONS = ("reset", "status", "slow", "truncate", "short")
# Hop-by-hop headers a proxy must not forward (RFC 9110 §7.6.1).
_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"})


@dataclass
class Rule:
    """One fault: which requests it hits, what it does, how many more times."""

    method: str  # "GET", "PUT", ... or "*"
    pattern: re.Pattern[str]  # searched in the request path (with its query)
    action: str
    times: int | None = 1  # None: every matching request, for ever
    status: int = 503
    delay: float = 0.0
    keep: float = 0.5  # fraction of the body sent by truncate/short
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        return self.method in ("*", method) and self.pattern.search(path) is not None


@dataclass
class Seen:
    """What went through the proxy."""

    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    faults: Counter[str] = field(default_factory=Counter)  # action -> times injected


class FaultProxy:
    """The proxy: a context manager that serves on a thread until it exits."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self.seen = Seen()
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A reset connection makes the server's own clean-up fail: expected here, not news.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- the schedule -----------------------------------------------------------------
    def add(
        self,
        method: str,
        pattern: str,
        action: str,
        *,
        times: int | None = 1,
        status: int = 503,
        delay: float = 0.0,
        keep: float = 0.5,
    ) -> Rule:
        """Fault the next ``times`` requests matching ``method`` and ``pattern``."""
        if action not in ACTIONS:
            raise ValueError(f"unknown fault {action!r}; one of {', '.join(ACTIONS)}")
        rule = Rule(method, re.compile(pattern), action, times, status, delay, keep)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """No more faults: every request is forwarded as it is."""
        with self._lock:
            self._rules.clear()

    def injected(self, action: str | None = None) -> int:
        """How many faults were injected (of ``action``, or of any kind)."""
        with self._lock:
            return self.seen.faults[action] if action else sum(self.seen.faults.values())

    def count(self, method: str, pattern: str = "") -> int:
        """How many ``method`` requests whose path contains ``pattern`` went through."""
        with self._lock:
            return sum(1 for m, p in self.seen.requests if m == method and pattern in p)

    def _take(self, method: str, path: str) -> Rule | None:
        """The first rule this request fires (counted), or None: forward it."""
        with self._lock:
            self.seen.requests.append((method, path))
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.fired += 1
                    self.seen.faults[rule.action] += 1
                    return rule
        return None


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as S3 clients expect

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest treats stray stderr output as noise."""

    def do_GET(self) -> None:
        self._handle()

    do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        rule = self.owner._take(self.command, self.path)
        if rule is not None and rule.action == "reset":
            self._reset()
            return
        if rule is not None and rule.action == "status":
            self._error(rule.status)
            return
        status, reason, headers, payload = self._forward(body)
        if rule is not None and rule.action == "slow":
            time.sleep(rule.delay)
        if rule is not None and rule.action in ("truncate", "short") and payload:
            cut = payload[: int(len(payload) * rule.keep)]
            if rule.action == "short":
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(cut))))
                self._respond(status, reason, headers, cut)
                return
            self._respond(status, reason, headers, cut)
            self.close_connection = True
            self._reset()  # the client sees fewer bytes than announced
            return
        self._respond(status, reason, headers, payload)

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        host, port = self.owner.upstream
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            headers.pop("Transfer-Encoding", None)
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            kept = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP and k.lower() != "transfer-encoding"
            ]
            if not any(k.lower() == "content-length" for k, _ in kept):
                kept.append(("Content-Length", str(len(payload))))
            return response.status, response.reason, kept, payload
        finally:
            conn.close()

    def _respond(
        self, status: int, reason: str, headers: list[tuple[str, str]], payload: bytes
    ) -> None:
        self.send_response_only(status, reason)
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _error(self, status: int) -> None:
        code = "SlowDown" if status == 503 else "InternalError"
        payload = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>injected fault</Message></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))]
        self._respond(status, "Injected", headers, payload)

    def _reset(self) -> None:
        """Close with RST (SO_LINGER 0): the client sees 'connection reset by peer'."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
