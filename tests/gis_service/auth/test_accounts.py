"""Running accounts: the password policy, scopes checked against the town and the role, the
admin's accounts API, a user's own password, and disabling that takes effect at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from gis_service.auth import accounts
from gis_service.auth import service as auth_service
from gis_service.auth.models import AccessToken, Account
from gis_service.auth.passwords import MIN_LENGTH, is_common, password_problems
from gis_service.auth.permissions import ROLES
from gis_service.auth.schemas import AccountCreate, AccountUpdate
from gis_service.auth.scopes import ROLE_SCOPES, check_scope
from gis_service.config import Settings
from gis_service.errors import ConflictError, InvalidInputError
from gis_service.grids.models import GridVersion
from gis_service.main import create_app

GOOD = "Taihu-lakeshore-47"
ACCOUNTS = "/api/v1/accounts"
Headers = dict[str, str]


def _bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def _tokens(session: Session, username: str) -> int:
    return int(session.scalar(select(func.count()).select_from(AccessToken).join(
        Account, Account.id == AccessToken.account_id).where(Account.username == username))
        or 0)


def _problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return str(response.json()["detail"])


def _sign_in(client: TestClient, username: str, password: str) -> Headers:
    """A browser session of its own: the cookie /login sets, sent as a header."""
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    cookie = response.cookies["gis_session"]
    client.cookies.clear()
    return {"Cookie": f"gis_session={cookie}"}


# ---------------------------------------------------------------------------------------
# the password policy (no database)
@pytest.mark.parametrize("password, why", [
    ("x", "太短"), ("short-pw1", "太短"),  # 9 characters
    ("wangwei-2026", "用户名"), ("WANGWEI-lake-9", "用户名"),  # the name inside, any case
    ("wangwei", "太短"),
    ("password123", "常见密码"), ("qwertyuiop", "常见密码"), ("1234567890", "常见密码"),
    ("Password123", "常见密码"),  # compared lower-cased
])
def test_weak_passwords_are_refused(password: str, why: str) -> None:
    problems = password_problems("wangwei", password)
    assert any(why in p for p in problems), problems


def test_good_passwords_pass_and_short_names_do_not_forbid_words() -> None:
    assert password_problems("wangwei", GOOD) == []
    assert len(GOOD) >= MIN_LENGTH and not is_common(GOOD)
    # a two-letter name is not looked for inside words ("reliable" holds "li") …
    assert password_problems("li", "reliable-harbour-7") == []
    # … but the name itself, whatever its case, is refused
    assert any("用户名" in p for p in password_problems("abcdefghijk", "ABCDEFGHIJK"))
    assert any("太长" in p for p in password_problems("wangwei", "k" * 300))


def test_every_role_has_a_scope_rule() -> None:
    assert set(ROLE_SCOPES) == set(ROLES)


# ---------------------------------------------------------------------------------------
# scopes against what exists
@pytest.mark.parametrize("role, scope", [
    ("grid_worker", "T-A-1"), ("grid_worker", "T-A"), ("squad", "D1"), ("squad", "Q2"),
    ("department", "HB"), ("dispatcher", "T"), ("dispatcher", None), ("admin", None),
    ("commander", None), ("planner", None),
])
def test_scopes_that_exist_and_suit_the_role_pass(db_session: Session, town: dict[str, Path],
                                                  role: str, scope: str | None) -> None:
    assert check_scope(db_session, role=role, scope_code=scope) == scope


@pytest.mark.parametrize("role, scope, words", [
    ("grid_worker", "QD-99", ["'QD-99'", "不存在", "二级或三级网格"]),
    ("grid_worker", "T", ["'T'", "镇级网格", "二级或三级网格"]),  # a town, not a grid
    ("grid_worker", "D1", ["'D1'", "执法片区"]),
    ("grid_worker", None, ["需要范围"]),
    ("squad", "NOSUCH", ["'NOSUCH'", "不存在", "执法片区编号或中队编号"]),
    ("squad", "T-A-1", ["'T-A-1'", "三级网格"]),
    ("department", "ZZ", ["'ZZ'", "不存在", "部门编号"]),
    ("department", "D2", ["'D2'", "执法片区"]),
    ("dispatcher", "T-A", ["'T-A'", "二级网格", "镇级网格"]),
    ("commander", "T-A-1", ["'T-A-1'", "三级网格", "区县网格"]),  # a center: town or county
    ("admin", "T-A-1", ["不带范围"]),
    ("king", None, ["未知角色"]),
])
def test_baseless_or_unsuitable_scopes_are_refused(db_session: Session, town: dict[str, Path],
                                                   role: str, scope: str | None,
                                                   words: list[str]) -> None:
    with pytest.raises(InvalidInputError) as refused:
        check_scope(db_session, role=role, scope_code=scope)
    assert all(word in refused.value.detail for word in words), refused.value.detail


def test_only_the_current_grid_version_counts(db_session: Session,
                                              town: dict[str, Path]) -> None:
    db_session.execute(update(GridVersion).where(GridVersion.code == "T-A-2").values(
        valid_to=GridVersion.valid_from + timedelta(microseconds=1)))  # T-A-2 retired
    with pytest.raises(InvalidInputError, match="T-A-2"):
        check_scope(db_session, role="grid_worker", scope_code="T-A-2")


def test_the_demo_keeps_its_password_only_by_saying_so(db_session: Session,
                                                       town: dict[str, Path]) -> None:
    demo = AccountCreate(username="gridworker", role="grid_worker", scope_code="T-A-1",
                         password="demo")
    with pytest.raises(InvalidInputError, match="太短"):
        accounts.create_account(db_session, demo)
    made = accounts.create_account(db_session, demo, password_policy=False)
    assert auth_service.check_password(db_session, username="gridworker", password="demo") \
        is made
    with pytest.raises(InvalidInputError, match="QD-99"):  # the scope is checked all the same
        accounts.create_account(db_session, AccountCreate(
            username="x2", role="grid_worker", scope_code="QD-99", password="demo"),
            password_policy=False)


# ---------------------------------------------------------------------------------------
# the admin's API
def test_an_admin_runs_accounts_over_http(client: TestClient, town: dict[str, Path],
                                          auth: Headers, db_session: Session) -> None:
    made = client.post(ACCOUNTS, headers=auth, json={
        "username": "wangwu", "role": "grid_worker", "scope_code": "T-A-1",
        "password": GOOD, "worker_code": "W1"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["username"] == "wangwu" and body["scope_code"] == "T-A-1"
    assert body["worker_code"] == "W1" and body["has_password"] and not body["disabled"]
    assert set(body) == {"username", "role", "scope_code", "worker_code", "disabled",
                         "has_password", "created_at"}  # no hash, no token
    assert GOOD not in made.text and "argon" not in made.text
    listed = client.get(ACCOUNTS, headers=auth)
    assert listed.status_code == 200
    assert [a["username"] for a in listed.json()] == ["admin", "wangwu"]
    assert "argon" not in listed.text
    assert client.post("/login", data={"username": "wangwu", "password": GOOD}).status_code \
        == 200

    moved = client.patch(f"{ACCOUNTS}/wangwu", headers=auth,
                         json={"role": "squad", "scope_code": "D1", "worker_code": None})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["role"], moved.json()["scope_code"], moved.json()["worker_code"]) \
        == ("squad", "D1", None)
    renewed = client.patch(f"{ACCOUNTS}/wangwu", headers=auth, json={"password": GOOD + "x"})
    assert renewed.status_code == 200
    assert client.post("/login", data={"username": "wangwu", "password": GOOD}).status_code \
        == 401
    off = client.patch(f"{ACCOUNTS}/wangwu", headers=auth, json={"disabled": True})
    assert off.status_code == 200 and off.json()["disabled"] is True
    on = client.patch(f"{ACCOUNTS}/wangwu", headers=auth, json={"disabled": False})
    assert on.json()["disabled"] is False
    gone = client.delete(f"{ACCOUNTS}/wangwu", headers=auth)
    assert gone.status_code == 204
    assert db_session.scalar(select(Account).where(Account.username == "wangwu")) is None
    assert "不存在" in _problem(client.delete(f"{ACCOUNTS}/wangwu", headers=auth), 404)
    assert "不存在" in _problem(client.patch(f"{ACCOUNTS}/nobody", headers=auth,
                                             json={"disabled": True}), 404)


@pytest.mark.parametrize("password, why", [("x", "太短"), ("ZHANGSAN-2026", "用户名"),
                                           ("password123", "常见密码")])
def test_weak_passwords_are_refused_over_http(client: TestClient, auth: Headers,
                                              db_session: Session, password: str,
                                              why: str) -> None:
    refused = client.post(ACCOUNTS, headers=auth, json={
        "username": "zhangsan", "role": "commander", "password": password})
    assert why in _problem(refused, 422)
    assert db_session.scalar(select(Account).where(Account.username == "zhangsan")) is None
    client.post(ACCOUNTS, headers=auth, json={"username": "zhangsan", "role": "commander"})
    changed = client.patch(f"{ACCOUNTS}/zhangsan", headers=auth, json={"password": password})
    assert why in _problem(changed, 422)
    stored = db_session.scalar(select(Account.password_hash).where(
        Account.username == "zhangsan"))
    assert stored is None  # nothing was set


@pytest.mark.parametrize("role, scope", [("grid_worker", "QD-99"), ("squad", "NOSUCH"),
                                         ("department", "D1"), ("grid_worker", None)])
def test_baseless_scopes_are_refused_over_http(client: TestClient, town: dict[str, Path],
                                               auth: Headers, role: str,
                                               scope: str | None) -> None:
    refused = client.post(ACCOUNTS, headers=auth, json={
        "username": "li", "role": role, "scope_code": scope})
    detail = _problem(refused, 422)
    assert (scope or "需要范围") in detail
    assert [a["username"] for a in client.get(ACCOUNTS, headers=auth).json()] == ["admin"]


def test_a_role_change_rechecks_the_scope(client: TestClient, town: dict[str, Path],
                                          auth: Headers) -> None:
    client.post(ACCOUNTS, headers=auth, json={"username": "zhao", "role": "grid_worker",
                                              "scope_code": "T-B-1"})
    kept = client.patch(f"{ACCOUNTS}/zhao", headers=auth, json={"role": "commander"})
    assert "不带范围" in _problem(kept, 422)
    cleared = client.patch(f"{ACCOUNTS}/zhao", headers=auth,
                           json={"role": "commander", "scope_code": None})
    assert cleared.status_code == 200 and cleared.json()["scope_code"] is None


def test_server_owned_fields_are_refused(client: TestClient, auth: Headers) -> None:
    for field, value in (("password_hash", "x"), ("id", 1), ("created_at", "2000-01-01"),
                         ("has_password", True)):
        made = client.post(ACCOUNTS, headers=auth,
                           json={"username": "qian", "role": "planner", field: value})
        assert made.status_code == 422, field
        changed = client.patch(f"{ACCOUNTS}/admin", headers=auth, json={field: value})
        assert changed.status_code == 422, field
    assert "已存在" in _problem(client.post(ACCOUNTS, headers=auth, json={
        "username": "admin", "role": "planner"}), 409)
    assert "空白" in _problem(client.post(ACCOUNTS, headers=auth, json={
        "username": "a b", "role": "planner"}), 422)


def test_only_an_admin_runs_accounts(client: TestClient, town: dict[str, Path], auth: Headers,
                                     token_for: Callable[[str, str | None], Headers]) -> None:
    calls: list[tuple[str, str, dict[str, object] | None]] = [
        ("GET", ACCOUNTS, None),
        ("POST", ACCOUNTS, {"username": "sun", "role": "planner"}),
        ("PATCH", f"{ACCOUNTS}/admin", {"disabled": True}),
        ("DELETE", f"{ACCOUNTS}/admin", None)]
    for role, scope in (("commander", None), ("planner", None), ("dispatcher", "T"),
                        ("grid_worker", "T-A-1"), ("squad", "D1"), ("department", "HB")):
        for method, path, body in calls:
            response = client.request(method, path, headers=token_for(role, scope), json=body)
            assert "admin" in _problem(response, 403), (role, method)
    for method, path, body in calls:
        assert client.request(method, path, json=body).status_code == 401
    assert client.get(ACCOUNTS, headers=auth).json()[0]["disabled"] is False


def test_the_last_enabled_admin_stays(client: TestClient, auth: Headers) -> None:
    assert "最后一个" in _problem(
        client.patch(f"{ACCOUNTS}/admin", headers=auth, json={"disabled": True}), 409)
    assert "最后一个" in _problem(
        client.patch(f"{ACCOUNTS}/admin", headers=auth, json={"role": "planner"}), 409)
    assert "最后一个" in _problem(client.delete(f"{ACCOUNTS}/admin", headers=auth), 409)
    client.post(ACCOUNTS, headers=auth, json={"username": "admin2", "role": "admin"})
    assert client.patch(f"{ACCOUNTS}/admin", headers=auth,
                        json={"disabled": True}).status_code == 200


def test_an_account_that_has_acted_is_disabled_not_removed(
        client: TestClient, town: dict[str, Path], auth: Headers, db_session: Session) -> None:
    client.post(ACCOUNTS, headers=auth, json={"username": "zhou", "role": "dispatcher",
                                              "scope_code": "T"})
    own = _bearer(auth_service.issue_token(db_session, username="zhou"))
    db_session.commit()
    reported = client.post("/api/v1/incidents", headers=own, json={
        "source": "hotline_12345", "category": "GARBAGE", "external_id": "acted-1",
        "location": {"lon": 120.402, "lat": 30.902, "crs": "wgs84"}})
    assert reported.status_code == 201, reported.text
    detail = _problem(client.delete(f"{ACCOUNTS}/zhou", headers=auth), 409)
    assert "事件处置记录" in detail and "停用" in detail
    assert [a["username"] for a in client.get(ACCOUNTS, headers=auth).json()] == \
        ["admin", "zhou"]
    history = client.get(f"/api/v1/incidents/{reported.json()['id']}/history", headers=auth)
    assert history.json()[0]["actor"] == "zhou"  # the record keeps its hand


# ---------------------------------------------------------------------------------------
# disabling ends tokens and sessions
def test_disabling_ends_tokens_and_sessions_at_once(client: TestClient, auth: Headers,
                                                    db_session: Session) -> None:
    client.post(ACCOUNTS, headers=auth, json={"username": "wu", "role": "commander",
                                              "password": GOOD})
    token = _bearer(auth_service.issue_token(db_session, username="wu"))
    db_session.commit()
    assert client.get("/api/v1/incidents", headers=token).status_code == 200  # now cached
    browser = _sign_in(client, "wu", GOOD)
    assert client.get("/api/v1/incidents", headers=browser).status_code == 200
    assert client.patch(f"{ACCOUNTS}/wu", headers=auth, json={"disabled": True}).status_code \
        == 200
    assert client.get("/api/v1/incidents", headers=browser).status_code == 401
    assert client.post("/login", data={"username": "wu", "password": GOOD}).status_code == 401
    assert client.get("/api/v1/incidents", headers=token).status_code == 401
    assert _tokens(db_session, "wu") == 0
    client.patch(f"{ACCOUNTS}/wu", headers=auth, json={"disabled": False})
    assert client.get("/api/v1/incidents", headers=token).status_code == 401  # not revived


@pytest.fixture()
def short_cache_client(session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The service with a 0.5 s token cache."""
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0,
                        token_cache_seconds=0.5)
    with TestClient(create_app(settings, session_factory=session_factory)) as test_client:
        yield test_client


def test_a_disable_from_elsewhere_ends_a_cached_token_within_the_cache_lifetime(
        short_cache_client: TestClient, db_session: Session) -> None:
    """The command line disables in another process: this one's cached token lasts at most
    `token_cache_seconds`, then the lookup finds no token."""
    auth_service.add_account(db_session, username="admin", role="admin")
    auth_service.add_account(db_session, username="chen", role="planner")
    token = auth_service.issue_token(db_session, username="chen")
    db_session.commit()
    assert short_cache_client.get("/api/v1/incidents", headers=_bearer(token)).status_code \
        == 200
    accounts.update_account(db_session, username="chen",
                            changes=AccountUpdate(disabled=True))
    db_session.commit()  # as `gis-service user disable chen` does, elsewhere
    assert auth_service.principal_for_token(db_session, token) is None
    time.sleep(0.6)
    assert short_cache_client.get("/api/v1/incidents", headers=_bearer(token)).status_code \
        == 401


def test_removing_ends_tokens(client: TestClient, auth: Headers, db_session: Session) -> None:
    client.post(ACCOUNTS, headers=auth, json={"username": "feng", "role": "planner"})
    token = _bearer(auth_service.issue_token(db_session, username="feng"))
    db_session.commit()
    assert client.get(ACCOUNTS, headers=token).status_code == 403  # cached as a planner
    assert client.delete(f"{ACCOUNTS}/feng", headers=auth).status_code == 204
    assert client.get("/api/v1/incidents", headers=token).status_code == 401
    assert _tokens(db_session, "feng") == 0


def test_a_role_change_applies_to_cached_tokens_at_once(client: TestClient, auth: Headers,
                                                        db_session: Session) -> None:
    client.post(ACCOUNTS, headers=auth, json={"username": "yang", "role": "planner"})
    token = _bearer(auth_service.issue_token(db_session, username="yang"))
    db_session.commit()
    assert client.get(ACCOUNTS, headers=token).status_code == 403
    client.patch(f"{ACCOUNTS}/yang", headers=auth, json={"role": "admin"})
    assert client.get(ACCOUNTS, headers=token).status_code == 200


# ---------------------------------------------------------------------------------------
# a user's own password
ME = "/api/v1/me/password"


def test_a_user_changes_their_own_password(client: TestClient, auth: Headers,
                                           db_session: Session) -> None:
    client.post(ACCOUNTS, headers=auth, json={"username": "hexin", "role": "commander",
                                              "password": GOOD})
    token = _bearer(auth_service.issue_token(db_session, username="hexin"))
    db_session.commit()
    here, elsewhere = _sign_in(client, "hexin", GOOD), _sign_in(client, "hexin", GOOD)
    wrong = client.post(ME, headers=here, json={"current_password": "not-it-at-all",
                                                "new_password": "Another-lake-58"})
    assert "当前密码" in _problem(wrong, 403)
    for new, why in (("password123", "常见密码"), ("Hexin-is-here-2026", "用户名"),
                     (GOOD, "相同"), ("short", "太短")):
        refused = client.post(ME, headers=here, json={"current_password": GOOD,
                                                      "new_password": new})
        assert why in _problem(refused, 422), new
    done = client.post(ME, headers=here, json={"current_password": GOOD,
                                               "new_password": "Another-lake-58"})
    assert done.status_code == 204, done.text
    assert client.get("/api/v1/incidents", headers=here).status_code == 200  # goes on
    assert client.get("/api/v1/incidents", headers=elsewhere).status_code == 401  # ended
    assert client.get("/api/v1/incidents", headers=token).status_code == 200  # bearer stays
    assert client.post("/login", data={"username": "hexin", "password": GOOD}).status_code == 401
    _sign_in(client, "hexin", "Another-lake-58")


def test_wrong_current_passwords_are_limited_like_sign_ins(client: TestClient,
                                                           auth: Headers) -> None:
    codes = [client.post(ME, headers=auth, json={
        "current_password": f"guess-{n}", "new_password": GOOD}).status_code for n in range(6)]
    assert codes == [403] * 5 + [429]
    assert client.post(ME, json={"current_password": "s3cret-pw",
                                 "new_password": GOOD}).status_code == 401  # no token


def test_the_service_functions_refuse_unknown_accounts(db_session: Session) -> None:
    with pytest.raises(InvalidInputError):
        accounts.create_account(db_session, AccountCreate(username="ma", role="king"))
    auth_service.add_account(db_session, username="admin", role="admin")
    with pytest.raises(ConflictError, match="最后一个"):
        accounts.remove_account(db_session, username="admin")
