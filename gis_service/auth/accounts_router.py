"""/api/v1/accounts: an admin runs the accounts; /api/v1/me/password: anyone signed in changes
their own password. The rules (policy, scopes, what disabling ends) are in auth/accounts.py.

    GET    /accounts                     -> [account]                          (admin)
    POST   /accounts {username, role, scope_code?, password?, worker_code?}
                                         -> 201 account                         (admin)
    PATCH  /accounts/{username} {password?, disabled?, role?, scope_code?, worker_code?}
                                         -> account                             (admin)
    DELETE /accounts/{username}          -> 204; 409 when the account has acted (admin)
    POST   /me/password {current_password, new_password} -> 204
An account: {username, role, scope_code, worker_code, disabled, has_password, created_at};
never a password hash or a token. Other roles get 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from gis_service.auth import accounts
from gis_service.auth.deps import PrincipalDep, request_token, role_in
from gis_service.auth.permissions import Role
from gis_service.auth.schemas import AccountCreate, AccountRead, AccountUpdate, PasswordChange
from gis_service.auth.service import Principal
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.errors import ForbiddenError

router = APIRouter(prefix="/api/v1", tags=["accounts"])
CONFLICT: dict[int | str, dict[str, str]] = {
    409: {"description": "the name exists, the account has acted (removal), or it is the "
                         "last enabled admin"}}


AdminDep = Annotated[Principal, Depends(role_in(frozenset({Role.ADMIN}),
                                                "只有管理员（admin）能管理账号；{role} 不能"))]


@router.get("/accounts", summary="Every account (admin)")
def list_accounts(session: SessionDep, _: AdminDep) -> list[AccountRead]:
    """Every account by name, with its role, scope, worker, whether it is disabled."""
    return [accounts.to_read(account) for account in accounts.list_accounts(session)]


@router.post("/accounts", status_code=201, responses=CONFLICT, summary="Add an account (admin)")
def create_account(body: AccountCreate, session: SessionDep, _: AdminDep) -> AccountRead:
    """A new account; its scope must exist and suit the role, its password the policy."""
    return accounts.to_read(accounts.create_account(session, body))


@router.patch("/accounts/{username}", responses=CONFLICT, summary="Change an account (admin)")
def update_account(username: str, body: AccountUpdate, request: Request, session: SessionDep,
                   _: AdminDep) -> AccountRead:
    """Set a password, disable or enable, change role, scope or worker; disabling ends the
    account's tokens and sessions at once."""
    return accounts.to_read(accounts.update_account(
        session, username=username, changes=body, forget=context_of(request).token_cache.forget))


@router.delete("/accounts/{username}", status_code=204, responses=CONFLICT,
               summary="Remove an account that has not acted (admin)")
def remove_account(username: str, request: Request, session: SessionDep,
                   _: AdminDep) -> Response:
    """Remove an account made by mistake; one that has acted is refused (disable it)."""
    accounts.remove_account(session, username=username,
                            forget=context_of(request).token_cache.forget)
    return Response(status_code=204)


@router.post("/me/password", status_code=204, summary="Change your own password")
def change_own_password(body: PasswordChange, request: Request, session: SessionDep,
                        principal: PrincipalDep) -> Response:
    """The current password, then a new one that meets the policy; wrong current passwords
    count as failed sign-ins (429 after too many). Ends your other browser sessions."""
    guard = context_of(request).sign_in_guard
    client = request.client.host if request.client else "unknown"
    guard.check(principal.username, client)
    try:
        accounts.change_own_password(
            session, account_id=principal.account_id, current_password=body.current_password,
            new_password=body.new_password, keep_token=request_token(request),
            forget=context_of(request).token_cache.forget)
    except ForbiddenError:
        guard.failed(principal.username, client)
        raise
    guard.succeeded(principal.username, client)
    return Response(status_code=204)
