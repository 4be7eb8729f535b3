"""A webhook receiver on a loopback port, for the delivery tests: it records every request and
answers what the test tells it to (a status per request, then 204)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request as it arrived."""

    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded


@dataclass
class Receiver:
    """What arrived (each request with the status it got), and the answers still to give
    (status, extra headers), in order."""

    url: str
    host: str
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *statuses: int, **headers: str) -> None:
        with self.lock:
            self.answers += [(s, {k.replace("_", "-"): v for k, v in headers.items()})
                             for s in statuses]

    def accepted(self) -> list[Received]:
        """The requests answered 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def types(self) -> list[str]:
        return [r.json()["type"] for r in self.accepted()]


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver serving until the block ends."""
    receiver = Receiver(url="", host="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the standard library's name
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                status, extra = receiver.answers.pop(0) if receiver.answers else (204, {})
                receiver.received.append(Received(
                    {k.lower(): v for k, v in self.headers.items()}, body, status))
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    receiver.url, receiver.host = f"http://127.0.0.1:{port}/hook", f"127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
