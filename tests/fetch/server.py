"""A scriptable HTTP server on 127.0.0.1 for fetch tests and the benchmark.

Each path maps to a `Reply` (status, headers, body) or to a function that writes the response
itself (slow drips). Every request is recorded with its headers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None  # answer 304 when If-None-Match carries it
    last_modified: str | None = None  # answer 304 when If-Modified-Since equals it


Writer = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    client_port: int = 0  # one per TCP connection


class LocalServer:
    def __init__(self, http11: bool = False) -> None:
        self.routes: dict[str, Reply | Writer] = {}
        self.requests: list[Seen] = []
        self.stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler(http11))
        self.server.daemon_threads = True

    def url(self, path: str) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def connections(self) -> int:
        """TCP connections the requests came on."""
        return len({seen.client_port for seen in self.requests})

    def hits(self, path: str) -> int:
        return sum(1 for seen in self.requests if seen.path == path)

    def _handler(self, http11: bool) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if http11 else "HTTP/1.0"

            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append(Seen(self.path, headers, self.client_address[1]))
                route = outer.routes.get(self.path)
                if route is None:
                    route = Reply(404, b"not here")
                if isinstance(route, Reply):
                    self._reply(route, headers)
                else:
                    route(self)

            def _reply(self, reply: Reply, request: dict[str, str]) -> None:
                validators = {"etag": reply.etag, "last-modified": reply.last_modified}
                unchanged = (reply.etag and request.get("if-none-match") == reply.etag) or (
                    reply.last_modified and request.get("if-modified-since") == reply.last_modified
                )
                status, body = (304, b"") if unchanged else (reply.status, reply.body)
                self.send_response(status)
                for name, value in {**reply.headers, **validators}.items():
                    if value is not None:
                        self.send_header(name, value)
                if "content-length" not in {k.lower() for k in reply.headers}:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def serve(http11: bool = False) -> Iterator[LocalServer]:
    local = LocalServer(http11)
    thread = threading.Thread(target=local.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield local
    finally:
        local.stop.set()
        local.server.shutdown()
        local.server.server_close()
        thread.join(timeout=5)
