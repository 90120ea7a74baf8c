"""The HTTP side: W&B GraphQL at ``/graphql``, plus ``/_control`` and ``/_stats`` for tests and benchmarks.

``POST /graphql``   what ``wandb.Api`` sends; subject to the ``wandb`` fault and the latency profile.
``POST /_control``  JSON ``{"faults": {"run": "hang"}, "scenario": "launch-ok", "latency": "none"}``;
                    every key optional, ``faults`` replaces the whole fault table ({} clears it).
``GET  /_stats``    per-method call counts; ``?reset=1`` zeroes them after answering,
                    ``?detail=1`` adds the busiest minute per method and the current settings.
``GET  /_health``   ``{"ok": true, ...}``.
Malformed requests get a 4xx with a JSON message; nothing a client sends stops the server.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from arr_actors.emulator import graphql
from arr_actors.emulator.control import Control, Stopping, parse_control
from arr_actors.emulator.faults import FaultError
from arr_actors.emulator.latency import LatencyError
from arr_actors.emulator.wandb_api import WandbSchema
from arr_actors.emulator.world import ScenarioError, World

MAX_BODY = 1 << 20
#: A response the W&B client cannot parse: JSON cut off in the middle.
GARBAGE = b'{"data": {"project": {"runs": {"edges": [{"node": {"id": "\xff\xfe'


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], app: HttpApp) -> None:
        self.app = app
        super().__init__(address, handler)


class HttpApp:
    def __init__(self, world: World, control: Control, *, clock: Callable[[], float] = time.time, info: dict[str, Any]) -> None:
        self.world = world
        self.control = control
        self.schema = WandbSchema(world)
        self.now = clock
        self.info = info

    def start(self, port: int) -> tuple[ThreadingHTTPServer, threading.Thread, int]:
        try:
            server = _Server(("127.0.0.1", port), _Handler, self)
        except OSError as exc:
            raise OSError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror or exc})") from None
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="emulator-http", daemon=True)
        thread.start()
        return server, thread, server.server_address[1]

    def graphql(self, body: bytes) -> tuple[int, Any]:
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError) as exc:
            return 400, _errors(f"the request body is not valid JSON ({exc})")
        if not isinstance(doc, dict) or not isinstance(doc.get("query"), str):
            return 400, _errors('the request body must be a JSON object with a "query" string')
        variables = doc.get("variables") or {}
        if not isinstance(variables, dict):
            return 400, _errors('"variables" must be a JSON object')
        operation = doc.get("operationName") or None
        if operation is not None and not isinstance(operation, str):
            return 400, _errors('"operationName" must be a string')
        try:
            return 200, graphql.execute(doc["query"], self.schema.root(self.now()), variables=variables, operation_name=operation)
        except graphql.GraphQLError as exc:
            status = 400 if str(exc).startswith("Syntax Error") else 200
            return status, {"errors": [{"message": str(exc)}], "data": None}

    def control_request(self, body: bytes) -> tuple[int, Any]:
        try:
            doc = json.loads(body or b"{}")
        except (ValueError, RecursionError) as exc:
            return 400, {"error": f"the request body is not valid JSON ({exc})"}
        if not isinstance(doc, dict):
            return 400, {"error": "the request body must be a JSON object"}
        try:
            parse_control(doc, self.control)
        except (ValueError, FaultError, ScenarioError, LatencyError) as exc:
            return 400, {"error": str(exc)}
        return 200, self.control.describe()

    def stats(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        detail = _flag(query, "detail")
        reset = _flag(query, "reset")
        peaks = self.control.peak_per_minute() if detail else None
        counts = self.control.stats(reset=reset)
        if not detail:
            return 200, counts
        return 200, {"calls": counts, "peak_per_minute": peaks, **self.control.describe()}


def _flag(query: dict[str, list[str]], name: str) -> bool:
    return query.get(name, ["0"])[-1].lower() in ("1", "true", "yes")


def _fault_errors(status: int) -> dict[str, Any]:
    """The body of an HTTP error from W&B. W&B documents no error body; wandb reports a 401 as
    "permission denied (<Response [401]>)", so that is the text here, in GraphQL's errors shape."""
    if status in (401, 403):
        return {"errors": [{"message": "permission denied"}], "data": None}
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "error"
    return {"errors": [{"message": phrase}], "data": None}


def _errors(message: str) -> dict[str, Any]:
    return {"errors": [{"message": message}]}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # A request line that does not parse is still answered with a status line.
    default_request_version = "HTTP/1.0"
    server: _Server
    server_version = "arr-actors-emulator"
    # A client that stops sending mid-request (or idles on keep-alive) frees its thread after this.
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, unknown method, ...) as JSON like ours."""
        self.close_connection = True
        self._reply(code, {"error": message or explain or "bad request"})

    def _reply(self, status: int, doc: Any = None, *, raw: bytes | None = None) -> None:
        body = raw if raw is not None else json.dumps(doc).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client went away

    def _body(self) -> bytes | None:
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._reply(411, {"error": "chunked bodies are not supported; send Content-Length"})
            else:
                return b""
            self.close_connection = True
            return None
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._reply(400, {"error": f"bad Content-Length {length_text!r}"})
            return None
        if length > MAX_BODY:
            self.close_connection = True
            self._reply(413, {"error": f"request body larger than {MAX_BODY} bytes"})
            return None
        return self.rfile.read(length)

    def _gone(self) -> bool:
        """The client closed its end (gave up) while we hold its call."""
        sock: socket.socket = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            return sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        app = self.server.app
        if url.path == "/_stats":
            self._reply(*app.stats(parse_qs(url.query)))
        elif url.path == "/_health":
            self._reply(200, {"ok": True, **app.info, **app.control.describe()})
        elif url.path == "/graphql":
            self._reply(405, {"error": "GraphQL queries are POSTed as JSON to /graphql"})
        else:
            endpoints = "POST /graphql, POST /_control, GET /_stats, GET /_health"
            self._reply(404, {"error": f"no such endpoint {url.path!r} (endpoints: {endpoints})"})

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        app = self.server.app
        body = self._body()
        if body is None:
            return
        try:
            if url.path in ("/graphql", "/graphql/"):
                self._graphql(body)
            elif url.path == "/_control":
                self._reply(*app.control_request(body))
            elif url.path.startswith("/sdk/"):
                # wandb-core's telemetry export: accepted and dropped.
                self._reply(200, {})
            else:
                self._reply(404, {"error": f"no such endpoint {url.path!r}"})
        except Exception as exc:  # a bug must cost one request, not the server
            traceback.print_exc()
            self._reply(500, _errors(f"emulator error: {type(exc).__name__}: {exc}"))

    def _graphql(self, body: bytes) -> None:
        app = self.server.app
        try:
            fault = app.control.admit("GraphQL", "wandb", gone=self._gone)
        except Stopping:
            self.close_connection = True
            return
        if fault is not None and fault.kind == "error":
            self._reply(fault.http_status, _fault_errors(fault.http_status))
            return
        if fault is not None and fault.kind == "garbage":
            self._reply(200, raw=GARBAGE)
            return
        self._reply(*app.graphql(body))
