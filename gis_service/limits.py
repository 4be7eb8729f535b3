"""A cap on request bodies: a request that says (Content-Length) or turns out (streamed) to be
larger than the cap is answered 413 problem+json before the application reads it whole."""

from __future__ import annotations

from typing import Any

from gis_service.errors import problem

Message = dict[str, Any]


class BodyTooLarge(Exception):
    """Raised inside `receive` once a streamed body passes the cap."""


class BodyLimit:
    """ASGI middleware refusing HTTP bodies over `max_bytes`."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message: Message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Message, receive: Any, send: Any) -> None:
        response = problem(413, "Payload too large",
                           f"request bodies are limited to {self.max_bytes:,} bytes")
        await response(scope, receive, send)
