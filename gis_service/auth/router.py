"""POST /login: a browser signs in with a user name and password, or a token (the accounts
API is auth/accounts_router.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request

from gis_service.auth import service
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.errors import InvalidInputError, NotAuthenticatedError
from gis_service.jsonresponse import JSONBytesResponse

router = APIRouter(tags=["auth"])


@router.post("/login", summary="Sign in and receive a session cookie")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    token: Annotated[str | None, Form()] = None,
) -> JSONBytesResponse:
    """Check the password (or token) and set the session cookie used by the map pages."""
    settings = context_of(request).settings
    hours = settings.session_hours
    if token:
        principal = service.principal_for_token(session, token)
        if principal is None:
            raise NotAuthenticatedError("the token is unknown or has expired")
        username = principal.username
    elif username and password:
        guard = context_of(request).sign_in_guard
        client = request.client.host if request.client else "unknown"
        guard.check(username, client)
        try:
            service.check_password(session, username=username, password=password)
        except NotAuthenticatedError:
            guard.failed(username, client)
            raise
        guard.succeeded(username, client)
    else:
        raise InvalidInputError("send username and password, or token")
    cookie = service.issue_token(session, username=username, kind="session",
                                 lifetime=timedelta(hours=hours))
    response = JSONBytesResponse({"username": username})
    response.set_cookie(settings.session_cookie, cookie, max_age=int(hours * 3600),
                        httponly=True, samesite="strict")
    return response
