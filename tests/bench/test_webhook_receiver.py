"""The webhook bench's receiver tells a request cut short from a forged one: a sender killed
mid-request leaves headers and part of a body (the connection closed or reset), which the
receiver records as cut short, never as a bad signature; a whole body signed with the wrong
secret stays a bad signature. The receiver runs as the bench runs it, a uvicorn process of its
own, and is spoken to over raw sockets."""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from standardwebhooks import Webhook

from bench.bench_webhooks import CUT_SHORT, Receiver, cut_short_check, receiving

PATH = "/s/1"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture()
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    with receiving(tmp_path, free_port()) as receiver:
        yield receiver


def request(receiver: Receiver, uid: str, secret: str) -> tuple[bytes, bytes]:
    """The head and the body of a delivery of incident 7 signed with `secret`."""
    now = datetime.now(UTC)
    body = orjson.dumps({"type": "incident.updated", "timestamp": now.isoformat(),
                         "data": {"incident": {"id": 7, "version": 2, "note": "x" * 400}}})
    head = (f"POST {PATH} HTTP/1.1\r\nHost: {receiver.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"webhook-id: {uid}\r\nwebhook-timestamp: {int(now.timestamp())}\r\n"
            f"webhook-signature: {Webhook(secret).sign(uid, now, body)}\r\n\r\n")
    return head.encode(), body


def send_whole(receiver: Receiver, head: bytes, body: bytes) -> bytes:
    """The request sent whole; the receiver's status line."""
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        sock.sendall(head + body)
        return sock.recv(4096).split(b"\r\n", 1)[0]


def send_part(receiver: Receiver, data: bytes, reset: bool) -> None:
    """`data` sent, then the connection closed (FIN) or reset (RST) as a killed sender's
    kernel would, with no answer waited for."""
    sock = socket.create_connection(("127.0.0.1", receiver.port), timeout=5)
    if reset:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.sendall(data)
    time.sleep(0.2)  # the receiver has the headers and is waiting for the rest
    sock.close()


def recorded(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while len(records := receiver.records()) < count:
        assert time.monotonic() < deadline, f"{len(records)} of {count} requests recorded"
        time.sleep(0.02)
    return records


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
@pytest.mark.parametrize("sent", ["headers", "half-body"])
def test_a_body_cut_short_is_recorded_as_cut_short_not_as_a_bad_signature(
        receiver: Receiver, sent: str, reset: bool) -> None:
    secret = new_secret()
    receiver.add_secret(PATH, secret)
    head, body = request(receiver, "msg_cut", secret)
    send_part(receiver, head + (body[: len(body) // 2] if sent == "half-body" else b""), reset)
    [record] = recorded(receiver, 1)
    assert record["status"] == CUT_SHORT
    assert record["cut_short"].startswith("disconnected after")
    assert record["id"] == "msg_cut" and not record["first"]

    assert send_whole(receiver, head, body) == b"HTTP/1.1 204 No Content"  # the retry
    records = recorded(receiver, 2)
    assert records[1]["status"] == 204 and records[1]["first"]
    assert cut_short_check(records) == {"cut_short_by_sender": 1,
                                        "cut_short_not_redelivered": 0}


def test_a_whole_body_with_a_wrong_signature_stays_a_bad_signature(receiver: Receiver) -> None:
    receiver.add_secret(PATH, new_secret())
    head, body = request(receiver, "msg_forged", new_secret())
    assert send_whole(receiver, head, body) == b"HTTP/1.1 401 Unauthorized"
    [record] = recorded(receiver, 1)
    assert record["status"] == 401 and "cut_short" not in record


def test_a_cut_short_request_not_arriving_again_valid_after_it_is_a_failure() -> None:
    def at(status: int, uid: str, path: str = PATH) -> dict[str, Any]:
        return {"status": status, "id": uid, "path": path}

    assert cut_short_check([at(204, "a"), at(CUT_SHORT, "a")])["cut_short_not_redelivered"] == 1
    assert cut_short_check([at(CUT_SHORT, "a"), at(204, "a", "/s/2")]) == {
        "cut_short_by_sender": 1, "cut_short_not_redelivered": 1}
    assert cut_short_check([at(CUT_SHORT, "a"), at(401, "a")])["cut_short_not_redelivered"] == 1
    assert cut_short_check([at(CUT_SHORT, "a"), at(503, "a"), at(204, "a")]) == {
        "cut_short_by_sender": 1, "cut_short_not_redelivered": 0}
