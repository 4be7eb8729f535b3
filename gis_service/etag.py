"""Optimistic concurrency over HTTP: a resource's version is its ETag, and a change names the
version it was made against in `If-Match` (incidents, plans)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from gis_service.errors import PreconditionFailedError, PreconditionRequiredError

IfMatch = Annotated[str | None, Header(description='"<version>", the ETag last read')]


def parse_etag(if_match: str | None) -> int:
    """The version an If-Match header names; 428 when absent, 412 when unreadable."""
    if not if_match:
        raise PreconditionRequiredError('请带上 If-Match: "<版本号>"（上次读到的 ETag）')
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailedError(f"If-Match {if_match!r} 不是版本号")
    return int(value)
