"""A fault relay: an HTTP proxy in a thread in front of the real service
that forwards each request and can replace the answer, for the failures the
service cannot be made to produce on demand."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: The target of the execute endpoint, as Fault.path and requests take it.
EXECUTE = r"^/api/v2/workflows/execute$"


@dataclass
class Fault:
    """What the relay does to the next requests with method whose target
    (path and query) the regular expression path finds, ``times`` of them
    (None matches any): answer status with the service's error body for
    code, or, when drop is set, close the connection without a word.
    forward sends the request on to the service first, so the service acts
    on it but the client never learns its answer."""

    status: int = 0
    code: str = ""
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    forward: bool = False
    method: str | None = None
    path: str | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        return self.method in (None, method) and (self.path is None or re.search(self.path, path) is not None)


@dataclass
class Seen:
    """A request the relay took, and the service's answer when it forwarded it."""

    method: str
    path: str
    status: int | None = None
    answer: Any = None


class FaultRelay:
    """Listens on a free loopback port (``url``) and relays to target."""

    def __init__(self, target: str) -> None:
        self.target = urllib.parse.urlsplit(target)
        self.seen: list[Seen] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                relay._serve(self)

            do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultRelay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fault(self, fault: Fault) -> None:
        """Apply fault to the next requests it matches, after those queued."""
        with self._lock:
            self._faults.append(fault)

    def fail(self, status: int, code: str, message: str = "relayed fault", **options: Any) -> None:
        """Answer the next request (options as Fault's) with status and the
        service's error body for code."""
        self.fault(Fault(status=status, code=code, message=message, **options))

    def requests(self, method: str, path: str = "") -> list[Seen]:
        """The requests taken with method whose target path (a regular
        expression) finds."""
        with self._lock:
            return [s for s in self.seen if s.method == method and re.search(path, s.path)]

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.matches(method, path):
                    f.times -= 1
                    if f.times == 0:
                        self._faults.remove(f)
                    return f
        return None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        seen = Seen(h.command, h.path)
        with self._lock:
            self.seen.append(seen)
        fault = self._take(h.command, h.path)
        if fault is None or fault.forward:
            seen.status, headers, raw = self._forward(h, body)
            seen.answer = json.loads(raw) if raw else None
        if fault is None:
            self._answer(h, seen.status, headers, raw)
        elif fault.drop:
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
        else:
            raw = json.dumps({"error": {"code": fault.code, "message": fault.message}}).encode()
            self._answer(h, fault.status, {"Content-Type": "application/json", **fault.headers}, raw)

    def _forward(self, h: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.target.hostname, self.target.port, timeout=60)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(h.command, h.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            return resp.status, {k: v for k, v in resp.getheaders() if k.lower() == "content-type"}, resp.read()
        finally:
            conn.close()

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], raw: bytes) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(raw)))
        h.end_headers()
        h.wfile.write(raw)
