"""Open311 tokens: an opaque name for a service request that resolves without a table.

A token is the request id sealed with a key (a deterministic, SIV-style construction from
HMAC-SHA256 alone): `tag` = HMAC(key, "tag" ‖ id) cut to 8 bytes, the id masked with
HMAC(key, "mask" ‖ tag), and both written in lower-case base32. The tag makes every token
look unrelated to its neighbours' and lets us refuse one we never gave out; the mask hides
the id. Nothing is stored, so a token lives as long as its incident and the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

ID_BYTES = TAG_BYTES = 8


def _mac(key: str, label: bytes, data: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), label + data, hashlib.sha256).digest()


def _xor(left: bytes, right: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(left, right, strict=False))


def token_for(request_id: int, *, key: str) -> str:
    """The token of a service request id."""
    plain = request_id.to_bytes(ID_BYTES, "big")
    tag = _mac(key, b"tag", plain)[:TAG_BYTES]
    sealed = _xor(plain, _mac(key, b"mask", tag)) + tag
    return base64.b32encode(sealed).decode("ascii").rstrip("=").lower()


def request_id_of(token: str, *, key: str) -> int | None:
    """The service request id a token was made for, or None when we never made it."""
    text = token.strip().upper()
    if not text.isascii() or len(text) != 26:  # 16 bytes in base32, unpadded
        return None
    try:
        sealed = base64.b32decode(text + "======")
    except (binascii.Error, ValueError):
        return None
    masked, tag = sealed[:ID_BYTES], sealed[ID_BYTES:]
    plain = _xor(masked, _mac(key, b"mask", tag))
    if not hmac.compare_digest(tag, _mac(key, b"tag", plain)[:TAG_BYTES]):
        return None
    return int.from_bytes(plain, "big")
