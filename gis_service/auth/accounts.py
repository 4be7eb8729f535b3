"""Running accounts: create, list, change (password, role, scope, worker, disabled), remove,
and a user changing their own password. The command line and the accounts API both call
these, so the password policy (auth/passwords.py) and the scope rule (auth/scopes.py) hold
on every path; each commits its change (`forget` runs once it is stored: the API's
cached tokens of the account are looked up again).

Disabling an account deletes its bearer tokens and browser sessions, so neither works again
(enabling it does not bring them back: sign in, or `gis-service token NAME`). Setting a new
password ends the account's browser sessions (bearer tokens are not made from the password
and stay). Removing is for accounts made by mistake: an account that has acted (incident
history, photos, patrol tracks, spot checks, boundary plans name it) is refused, since those
records would lose who did them; disable it instead. The last enabled admin can be neither
disabled, removed nor given another role.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from gis_service.assessment.models import SpotCheck
from gis_service.attachments.models import IncidentPhoto
from gis_service.auth import service
from gis_service.auth.models import Account
from gis_service.auth.passwords import require_good_password
from gis_service.auth.permissions import ROLES
from gis_service.auth.schemas import AccountCreate, AccountRead, AccountUpdate
from gis_service.auth.scopes import check_scope
from gis_service.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotAuthenticatedError,
    NotFoundError,
)
from gis_service.incidents.models import IncidentEvent
from gis_service.patrols.models import PatrolTrack
from gis_service.people.models import Worker
from gis_service.plans.models import Plan, PlanEdit, PlanPublication
from gis_service.unit_of_work import after_commit

Forget = Callable[[str], None]  # drops a process's cached tokens of an account


def to_read(account: Account) -> AccountRead:
    """The account as the API shows it (no hash, no tokens)."""
    return AccountRead(username=account.username, role=account.role,
                       scope_code=account.scope_code, worker_code=account.worker_code,
                       disabled=account.disabled, has_password=bool(account.password_hash),
                       created_at=account.created_at)


def list_accounts(session: Session) -> list[Account]:
    """Every account, by name."""
    return list(session.scalars(select(Account).order_by(Account.username)))


def get_account(session: Session, username: str) -> Account:
    """The account called `username`; NotFoundError (404) when there is none."""
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFoundError(f"用户 {username!r} 不存在")
    return account


def create_account(session: Session, data: AccountCreate, *,
                   password_policy: bool = True) -> Account:
    """A new account, its scope checked against the role and what exists, its password
    against the policy; `password_policy=False` only for the demo's documented password."""
    _check_new_name(data.username)
    if data.role not in ROLES:
        raise InvalidInputError(f"未知角色 {data.role!r}；角色为 {'、'.join(ROLES)}")
    scope = check_scope(session, role=data.role, scope_code=data.scope_code)
    if data.password is not None and password_policy:
        require_good_password(data.username, data.password)
    worker = _check_worker(session, data.worker_code)
    account = service.add_account(session, username=data.username, role=data.role,
                                  scope_code=scope, password=data.password)
    account.worker_code = worker
    session.commit()
    return account


def update_account(session: Session, *, username: str, changes: AccountUpdate,
                   forget: Forget | None = None) -> Account:
    """Apply the fields sent (`model_fields_set`); a new role re-checks the scope it keeps."""
    account = get_account(session, username)
    sent = changes.model_fields_set
    role = changes.role if changes.role is not None else account.role
    if role not in ROLES:
        raise InvalidInputError(f"未知角色 {role!r}；角色为 {'、'.join(ROLES)}")
    scope = changes.scope_code if "scope_code" in sent else account.scope_code
    if role != account.role or "scope_code" in sent:
        scope = check_scope(session, role=role, scope_code=scope)
    disabled = changes.disabled if changes.disabled is not None else account.disabled
    if account.role == "admin" and not account.disabled and (role != "admin" or disabled):
        _keep_an_admin(session, account, "停用或改为其他角色")
    if changes.password is not None:
        require_good_password(account.username, changes.password)
        account.password_hash = service.hash_password(changes.password)
        service.revoke_tokens(session, account_id=account.id, kind="session")
    if "worker_code" in sent:
        account.worker_code = _check_worker(session, changes.worker_code)
    if disabled and not account.disabled:
        service.revoke_tokens(session, account_id=account.id)
    account.role, account.scope_code, account.disabled = role, scope, disabled
    _commit(session, account.username, forget)
    return account


def remove_account(session: Session, *, username: str, forget: Forget | None = None) -> None:
    """Delete an account that has left no record; ConflictError (409) naming the records
    otherwise (disable it instead)."""
    account = get_account(session, username)
    if account.role == "admin" and not account.disabled:
        _keep_an_admin(session, account, "删除")
    traces = _traces(session, account)
    if traces:
        raise ConflictError(f"用户 {username!r} 已有{'、'.join(traces)}，删除会让这些记录"
                            "失去经手人：请改为停用（disable）")
    service.revoke_tokens(session, account_id=account.id)
    session.delete(account)
    _commit(session, username, forget)


def change_own_password(session: Session, *, account_id: int, current_password: str,
                        new_password: str, keep_token: str | None = None,
                        forget: Forget | None = None) -> Account:
    """A signed-in user's new password, after the current one; ends their other browser
    sessions. ForbiddenError (403) when the current password is wrong."""
    account = session.get(Account, account_id)
    if account is None or account.disabled:
        raise NotAuthenticatedError("the token is unknown or has expired")
    try:
        service.check_password(session, username=account.username, password=current_password)
    except NotAuthenticatedError as exc:
        raise ForbiddenError("当前密码不对") from exc
    if new_password == current_password:
        raise InvalidInputError("新密码与当前密码相同")
    require_good_password(account.username, new_password)
    account.password_hash = service.hash_password(new_password)
    service.revoke_tokens(session, account_id=account.id, kind="session", keep=keep_token)
    _commit(session, account.username, forget)
    return account


def _commit(session: Session, username: str, forget: Forget | None) -> None:
    """Store the change; then the process's cached tokens of the account are looked up again."""
    if forget is not None:
        after_commit(session, partial(forget, username))
    session.commit()


def _check_new_name(username: str) -> None:
    if not username.strip():
        raise InvalidInputError("用户名为空")
    if any(c.isspace() or c == "/" or unicodedata.category(c).startswith("C")
           for c in username):
        raise InvalidInputError(f"用户名 {username!r} 含空白、斜杠或控制字符")


def _check_worker(session: Session, code: str | None) -> str | None:
    code = (code or "").strip() or None
    if code is not None and session.scalar(select(Worker.id).where(Worker.code == code)) is None:
        raise InvalidInputError(f"人员编号 {code!r} 不存在：请先导入 workers")
    return code


def _keep_an_admin(session: Session, account: Account, what: str) -> None:
    others = session.scalar(select(func.count()).select_from(Account).where(
        Account.role == "admin", Account.disabled.is_(False), Account.id != account.id))
    if not others:
        raise ConflictError(f"{account.username!r} 是最后一个启用中的管理员，不能{what}："
                            "请先添加另一个管理员")


def _traces(session: Session, account: Account) -> list[str]:
    """The kinds of record that name the account (by user name or id)."""
    name = account.username
    checks: list[tuple[str, Any]] = [
        ("事件处置记录", IncidentEvent.actor == name),
        ("事件照片", IncidentPhoto.taken_by == name),
        ("巡查轨迹", PatrolTrack.account_id == account.id),
        ("抽查记录", SpotCheck.checker == name),
        ("边界方案", Plan.owner == name),
        ("边界方案编辑", PlanEdit.actor == name),
        ("边界发布", PlanPublication.published_by == name),
    ]
    return [label for label, condition in checks
            if session.scalar(select(exists().where(condition)))]
