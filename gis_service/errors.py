"""Domain errors and their one mapping to HTTP: every error leaves as RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.jsonresponse import JSONBytesResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"


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


def install_handlers(app: FastAPI) -> None:
    """Map domain, validation and HTTP errors to problem+json in one place."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
