"""Domain errors and their one mapping to HTTP: every error leaves as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from psycopg.errors import ReadOnlySqlTransaction
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, InternalError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.jsonresponse import JSONBytesResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors a use case raises; `status` is the HTTP status it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFoundError(DomainError):
    status, title = 404, "Not found"


class InvalidInputError(DomainError):
    status, title = 422, "Invalid input"


class NotAuthenticatedError(DomainError):
    status, title = 401, "Not authenticated"


class ForbiddenError(DomainError):
    status, title = 403, "Forbidden"


class ConflictError(DomainError):
    status, title = 409, "Conflict"


class PreconditionFailedError(DomainError):
    status, title = 412, "Precondition failed"


class PreconditionRequiredError(DomainError):
    status, title = 428, "Precondition required"


class PayloadTooLargeError(DomainError):
    status, title = 413, "Payload too large"


class UnsupportedMediaTypeError(DomainError):
    status, title = 415, "Unsupported media type"


class TooManyRequestsError(DomainError):
    """Refused for now; `retry_after` (seconds) goes out as the Retry-After header too."""

    status, title = 429, "Too many requests"


# what any route may answer besides its own: a body that does not parse, no or a bad token, a
# role or scope that may not, nothing at that path, too large, invalid, too many, no database
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}
    for status, description in (
        (400, "the request cannot be read"), (401, "no valid token or session"),
        (403, "the role or scope may not do this"), (404, "nothing at this path"),
        (413, "the body is too large"), (422, "invalid input"),
        (429, "too many requests; see Retry-After"),
        (503, "the database is unavailable; retry after Retry-After"))}


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONBytesResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONBytesResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                             headers=headers or None)


async def _domain_error(_: Request, exc: Exception) -> JSONBytesResponse:
    assert isinstance(exc, DomainError)
    return problem(exc.status, exc.title, exc.detail, **exc.extra)


async def _validation_error(_: Request, exc: Exception) -> JSONBytesResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
    return problem(422, "Invalid input", detail, errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONBytesResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


async def _data_error(_: Request, exc: Exception) -> JSONBytesResponse:
    # values the database cannot hold (an id beyond bigint, a NUL character in text) are the
    # client's mistake, whichever route they came through
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return problem(422, "Invalid input", "a value in the request cannot be stored or compared "
                   f"({type(cause).__name__})")


async def _database_away(_: Request, exc: Exception) -> JSONBytesResponse:
    # the database is restarting or unreachable: tell clients to retry (a 500 would also drop
    # their keep-alive connection); the pool renews its connections by itself
    logger.warning("database unavailable: %s", exc)
    return problem(503, "Service unavailable", "the database is unavailable; retry shortly",
                   retry_after=1)


async def _internal_error(request: Request, exc: Exception) -> JSONBytesResponse:
    # psycopg raises a write refused as read-only (25006: the server is a standby, e.g. a
    # leader just demoted) as an InternalError; database.py renews the pool on it. It is a
    # fail-over, not a bug: 503 like the database being away. Any other InternalError is ours.
    assert isinstance(exc, InternalError)
    if exc.connection_invalidated or isinstance(exc.orig, ReadOnlySqlTransaction):
        return await _database_away(request, exc)
    raise exc


def install_handlers(app: FastAPI) -> None:
    """Map domain, validation, HTTP and database errors to problem+json in one place."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(OperationalError, _database_away)
    app.add_exception_handler(InterfaceError, _database_away)
    app.add_exception_handler(InternalError, _internal_error)
    # the same raised by the driver itself, as the intake's statements on the driver connection
    app.add_exception_handler(psycopg.OperationalError, _database_away)
    app.add_exception_handler(psycopg.InterfaceError, _database_away)
    app.add_exception_handler(ReadOnlySqlTransaction, _database_away)
