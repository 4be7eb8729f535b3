"""Failed sign-ins are limited per user name and address, logged, and cleared by success;
requests are limited per account."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gis_service.auth.attempts import SignInGuard
from gis_service.auth.rate import RateLimiter
from gis_service.config import Settings
from gis_service.errors import TooManyRequestsError
from gis_service.main import create_app


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_guard_refuses_after_the_limit_until_the_window_passes() -> None:
    clock = Clock()
    guard = SignInGuard(3, 60, clock)
    for _ in range(3):
        guard.check("alice", "10.0.0.1")
        guard.failed("Alice", "10.0.0.1")  # names compare without case
        clock.now += 1
    with pytest.raises(TooManyRequestsError) as refused:
        guard.check("alice", "10.0.0.1")
    assert refused.value.extra["retry_after"] == 57  # the first failure leaves at 1060
    guard.check("alice", "10.0.0.2")  # another address is not affected
    guard.check("bob", "10.0.0.1")  # nor another name
    clock.now = 1060.5
    guard.check("alice", "10.0.0.1")  # the oldest failure has left the window


def test_a_success_clears_the_count_and_zero_means_no_limit() -> None:
    guard = SignInGuard(2, 60, Clock())
    guard.failed("alice", "a")
    guard.succeeded("alice", "a")
    guard.failed("alice", "a")
    guard.check("alice", "a")
    unlimited = SignInGuard(0, 60, Clock())
    for _ in range(10):
        unlimited.failed("alice", "a")
    unlimited.check("alice", "a")


def test_sign_in_over_http_is_limited_and_logged(client: TestClient, admin_token: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    wrong = {"username": "admin", "password": "nope"}
    with caplog.at_level(logging.WARNING, logger="gis_service.auth"):
        codes = [client.post("/login", data=wrong).status_code for _ in range(5)]
        refused = client.post("/login", data={"username": "admin", "password": "s3cret-pw"})
    assert codes == [401] * 5
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) > 0
    failures = [r for r in caplog.records if "sign-in failed for 'admin'" in r.getMessage()]
    assert len(failures) == 5
    assert any("sign-in refused" in r.getMessage() for r in caplog.records)


def test_the_rate_limiter_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(2.0, 3.0, clock)
    for _ in range(3):
        limiter.take(7)
    with pytest.raises(TooManyRequestsError) as refused:
        limiter.take(7)
    assert refused.value.extra["retry_after"] == 1
    limiter.take(8)  # another account has its own bucket
    clock.now += 0.5  # one request's worth at 2 a second
    limiter.take(7)
    with pytest.raises(TooManyRequestsError):
        limiter.take(7)
    RateLimiter(0, 1, clock).take(7)  # off


def test_an_account_over_its_rate_gets_429(session_factory: sessionmaker[Session],
                                           admin_token: str) -> None:
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0,
                        rate_limit_per_second=1, rate_limit_burst=3)
    auth = {"Authorization": f"Bearer {admin_token}"}
    with TestClient(create_app(settings, session_factory=session_factory)) as client:
        codes = [client.get("/api/v1/districts", headers=auth).status_code for _ in range(4)]
        refused = client.get("/api/v1/districts", headers=auth)
    assert codes == [200, 200, 200, 429]
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
