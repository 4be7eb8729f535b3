"""Accounts and tokens: passwords hashed with Argon2, tokens stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.auth.models import ROLES, AccessToken, Account
from gis_service.errors import ConflictError, InvalidInputError, NotAuthenticatedError

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: their account, role and area scope."""

    account_id: int
    username: str
    role: str
    scope_code: str | None


def _digest(token: str) -> str:
    # Tokens are 256-bit random secrets: a plain SHA-256 is enough (no dictionary to guess).
    return hashlib.sha256(token.encode()).hexdigest()


def add_account(session: Session, *, username: str, role: str, scope_code: str | None = None,
                password: str | None = None) -> Account:
    """Create an account; the role must be one of ROLES and the name new."""
    if role not in ROLES:
        raise InvalidInputError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if not username.strip():
        raise InvalidInputError("the user name is empty")
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise ConflictError(f"user {username!r} exists already")
    account = Account(username=username, role=role, scope_code=scope_code or None,
                      password_hash=_hasher.hash(password) if password else None)
    session.add(account)
    session.flush()
    return account


def issue_token(session: Session, *, username: str, kind: str = "api",
                lifetime: timedelta | None = None) -> str:
    """A new token for the account; only its hash is stored, the token is returned once."""
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None or account.disabled:
        raise InvalidInputError(f"no active user {username!r}")
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + lifetime if lifetime else None
    session.add(AccessToken(account_id=account.id, token_hash=_digest(token), kind=kind,
                            expires_at=expires))
    session.flush()
    return token


def check_password(session: Session, *, username: str, password: str) -> Account:
    """The account when the password is right; one vague error otherwise."""
    account = session.scalar(select(Account).where(Account.username == username))
    wrong = NotAuthenticatedError("wrong user name or password")
    if account is None or account.disabled or not account.password_hash:
        _hasher.hash(password)  # same cost either way, so timing tells nothing
        raise wrong
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise wrong from exc
    return account


def principal_for_token(session: Session, token: str) -> Principal | None:
    """The principal a token stands for, or None when unknown, expired or disabled."""
    row = session.execute(
        select(Account, AccessToken.expires_at)
        .join(AccessToken, AccessToken.account_id == Account.id)
        .where(AccessToken.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    account, expires_at = row
    if account.disabled or (expires_at is not None and expires_at < datetime.now(UTC)):
        return None
    return Principal(account.id, account.username, account.role, account.scope_code)


class TokenCache:
    """Recently seen tokens, so the hot paths skip a database round trip per request."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token] = (time.monotonic() + self.seconds, principal)
