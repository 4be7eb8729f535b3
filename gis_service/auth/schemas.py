"""What the accounts API takes and answers. No schema carries a password hash; unknown fields
are refused (422), so a body cannot set what the server owns (id, created_at, tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gis_service.auth.permissions import ROLES

ROLE_TEXT = "one of " + ", ".join(ROLES)
POLICY_TEXT = "at least 10 characters, not the user name, not a common password"


def _password(default: Any = ...) -> Any:
    return Field(default, min_length=1, max_length=1000, description=POLICY_TEXT)


class AccountCreate(BaseModel):
    """A new account: name, role, the area it is scoped to, optionally a password and the
    worker (people table) it is."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100, description="the name to sign in with")
    role: str = Field(max_length=20, description=ROLE_TEXT)
    scope_code: str | None = Field(None, max_length=64,
                                   description="grid, district, squad, department or town code")
    password: str | None = _password(None)
    worker_code: str | None = Field(None, max_length=64)


class AccountUpdate(BaseModel):
    """Changes to an account; a field left out stays as it is (send `scope_code: null` to
    clear a scope)."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = _password(None)
    disabled: bool | None = None
    role: str | None = Field(None, max_length=20, description=ROLE_TEXT)
    scope_code: str | None = Field(None, max_length=64)
    worker_code: str | None = Field(None, max_length=64)


class AccountRead(BaseModel):
    """An account as an admin sees it (never its password or tokens)."""

    model_config = ConfigDict(from_attributes=True)

    username: str
    role: str
    scope_code: str | None
    worker_code: str | None
    disabled: bool
    has_password: bool
    created_at: datetime


class PasswordChange(BaseModel):
    """A user changing their own password: the current one, then the new one."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = _password()
