"""Accounts and tokens: passwords hashed with Argon2, tokens stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gis_service.auth.models import AccessToken, Account
from gis_service.auth.permissions import ROLES
from gis_service.errors import ConflictError, InvalidInputError, NotAuthenticatedError

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: their account, role and area scope; `viewing`, a town they look at
    for now (the wall drilled into one town: they see no more than before, only less)."""

    account_id: int
    username: str
    role: str
    scope_code: str | None
    viewing: str | None = None


def _digest(token: str) -> str:
    # Tokens are 256-bit random secrets: a plain SHA-256 is enough (no dictionary to guess).
    return hashlib.sha256(token.encode()).hexdigest()


def add_account(session: Session, *, username: str, role: str, scope_code: str | None = None,
                password: str | None = None) -> Account:
    """Store an account as given; the role must be one of ROLES and the name new.

    It checks neither the password policy nor the scope: people's paths (the command line,
    the accounts API, the demo) go through `accounts.create_account`, which does; tests and
    benchmarks call this to make accounts of any shape, unknown scopes included."""
    if role not in ROLES:
        raise InvalidInputError(f"未知角色 {role!r}；角色为 {'、'.join(ROLES)}")
    if not username.strip():
        raise InvalidInputError("用户名为空")
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise ConflictError(f"用户 {username!r} 已存在")
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
        raise InvalidInputError(f"没有启用中的用户 {username!r}")
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + lifetime if lifetime else None
    session.add(AccessToken(account_id=account.id, token_hash=_digest(token), kind=kind,
                            expires_at=expires))
    session.commit()
    return token


def hash_password(password: str) -> str:
    """The Argon2 hash stored for a password."""
    return _hasher.hash(password)


def revoke_tokens(session: Session, *, account_id: int, kind: str | None = None,
                  keep: str | None = None) -> int:
    """Delete an account's tokens (of one `kind` when given; all but the token `keep`);
    returns how many. Lookups find them no more: see TokenCache for the cached ones."""
    query = delete(AccessToken).where(AccessToken.account_id == account_id)
    if kind is not None:
        query = query.where(AccessToken.kind == kind)
    if keep is not None:
        query = query.where(AccessToken.token_hash != _digest(keep))
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


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
    """Recently seen tokens, so the hot paths skip a database round trip per request.

    An entry lives `seconds` (GIS_TOKEN_CACHE_SECONDS, 30 by default). A change made through
    this process's accounts API calls `forget` after its commit, so a disabled, removed or
    re-scoped account's cached tokens go at once. A change made elsewhere (the command line,
    another worker of `serve --workers N`) deletes the tokens in the database, and this
    process notices when its entry runs out: within `seconds`. Set the setting to 0 to look
    every request up (one indexed query each)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def forget(self, username: str) -> None:
        """Drop every cached token of `username`, so its next request is looked up again."""
        for token, (_, principal) in list(self._entries.items()):  # a copy: threads insert
            if principal.username == username:
                self._entries.pop(token, None)

    def put(self, token: str, principal: Principal) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[token] = (time.monotonic() + self.seconds, principal)
