"""The current principal, from a bearer token or the browser's session cookie (narrowed to a
town the wall looks at: `ViewerDep`), and the one dependency that lets a route's callers
through by role (`role_in`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from gis_service.auth.permissions import Role
from gis_service.auth.service import Principal, principal_for_token
from gis_service.context import context_of
from gis_service.errors import ForbiddenError, NotAuthenticatedError


async def current_principal(request: Request) -> Principal:
    """Whoever the request's token or cookie stands for; 401 when there is none.

    Async so that the common case (a cached token) costs no thread hand-off.
    """
    token = request_token(request)
    if not token:
        raise NotAuthenticatedError("send Authorization: Bearer <token> or sign in at /login")
    cache = context_of(request).token_cache
    principal = cache.get(token)
    if principal is None:
        principal = await run_in_threadpool(_lookup, request, token)
        if principal is None:
            raise NotAuthenticatedError("the token is unknown or has expired")
        cache.put(token, principal)
    limiter = context_of(request).rate_limiter
    limiter.take(principal.account_id)
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def viewing_town(principal: PrincipalDep, town: Annotated[str | None, Query(
        max_length=64, description="only the incidents of this town (the wall drilled into "
                                   "one town of the county)")] = None) -> Principal:
    """The caller, narrowed to one town's incidents when `town` is given (never widened)."""
    return replace(principal, viewing=town) if town else principal


ViewerDep = Annotated[Principal, Depends(viewing_town)]


def role_in(roles: frozenset[Role], refusal: str) -> Callable[[Principal], Principal]:
    """A dependency giving the caller when their role is one of `roles` (the sets of
    auth/permissions.py); 403 with `refusal` (`{role}` filled in) otherwise."""
    def allowed(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise ForbiddenError(refusal.format(role=principal.role))
        return principal
    return allowed


def request_token(request: Request) -> str:
    """The request's bearer token, else its session cookie ("" when it has neither)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token
    return str(request.cookies.get(context_of(request).settings.session_cookie, ""))


def _lookup(request: Request, token: str) -> Principal | None:
    with context_of(request).session_factory() as session:
        return principal_for_token(session, token)
