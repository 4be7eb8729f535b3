"""The delivery worker: claim due deliveries (FOR UPDATE SKIP LOCKED, so any number of service
processes share the work and none sends a row another holds), sign and send them as Standard
Webhooks, and record each answer in the same transaction.

The claim holds its rows until the answers are recorded: a process killed mid-send leaves them
pending, to be sent again (at least once; receivers de-duplicate by `webhook-id`). Per
subscription, a message waits while an earlier message of the same incident (or plan) is still
pending, so each incident's events arrive in the order they happened; other incidents' go on.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook
from starlette.concurrency import run_in_threadpool

from gis_service import sql_files
from gis_service.config import Settings
from gis_service.events.endpoints import EndpointRefused, allowed_hosts, check_url
from gis_service.events.models import Delivery, Subscription
from gis_service.incidents.contact import masked

logger = logging.getLogger(__name__)
CLAIM = sql_files.load(Path(__file__).resolve().parent / "sql", "claim")
DELIVERED = sql_files.load(Path(__file__).resolve().parent / "sql", "delivered")
MAX_RETRY_AFTER = 86_400.0  # a receiver's Retry-After is honoured up to a day
ERROR_CHARS = 500  # of a receiver's answer kept as the last error


@dataclass(frozen=True)
class Claimed:
    """A delivery to send: where, with which secret, and the message."""

    delivery_id: int
    subscription_id: int
    attempts: int
    uid: str
    payload: dict[str, Any]
    url: str
    secret: str
    contact_allowed: bool


@dataclass(frozen=True)
class Answer:
    """What a try came to: the HTTP status (None: no answer) and the error, if any."""

    status: int | None
    error: str | None = None
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Policy:
    """The settings the worker follows."""

    allowed: frozenset[str]
    retries: tuple[float, ...]
    timeout: float
    batch: int
    disable_after: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        retries = tuple(float(s) for s in settings.webhook_retry_seconds.split(",") if s.strip())
        return cls(allowed_hosts(settings.webhook_allowed_hosts), retries,
                   settings.webhook_timeout_seconds, settings.webhook_batch,
                   timedelta(days=settings.webhook_disable_after_days))


def claim(session: Session, now: datetime, batch: int) -> list[Claimed]:
    """Due deliveries whose incident has no earlier one pending, locked for this
    transaction."""
    rows = session.execute(CLAIM, {"now": now, "batch": batch})
    return [Claimed(*row) for row in rows]


def signed_request(item: Claimed, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and the Standard Webhooks headers of one try (signed at `now`); the
    reporter's contact masked unless the subscription may have it whole."""
    body = orjson.dumps(item.payload if item.contact_allowed else _masked(item.payload))
    signature = Webhook(item.secret).sign(item.uid, now, body)
    return body, {"webhook-id": item.uid, "webhook-timestamp": str(int(now.timestamp())),
                  "webhook-signature": signature, "content-type": "application/json",
                  "user-agent": "gis-service-webhooks"}


def _masked(payload: dict[str, Any]) -> dict[str, Any]:
    incident = payload.get("data", {}).get("incident")
    if not incident or not incident.get("contact"):
        return payload
    data = {**payload["data"], "incident": {**incident, "contact": masked(incident["contact"])}}
    return {**payload, "data": data}


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - now).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def send(client: httpx.Client, item: Claimed, policy: Policy, now: datetime) -> Answer:
    """One try: nothing leaves for a host not allowed; no redirect is followed."""
    try:
        check_url(item.url, policy.allowed)
    except EndpointRefused as exc:
        return Answer(None, str(exc))
    body, headers = signed_request(item, now)
    try:
        response = client.post(item.url, content=body, headers=headers,
                               timeout=policy.timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])
    if 200 <= response.status_code < 300:
        return Answer(response.status_code)
    return Answer(response.status_code, response.text[:ERROR_CHARS] or response.reason_phrase,
                  _retry_after(response.headers.get("retry-after"), now))


def record_delivered(session: Session, done: list[tuple[Claimed, Answer]],
                     now: datetime) -> None:
    """Store the round's 2xx answers in two statements (a delivery round is mostly these):
    the deliveries delivered, their subscriptions no longer failing."""
    if not done:
        return
    session.execute(DELIVERED, {"ids": [item.delivery_id for item, _ in done],
                                "statuses": [answer.status for _, answer in done],
                                "now": now})
    session.execute(update(Subscription)
                    .where(Subscription.id.in_({item.subscription_id for item, _ in done}),
                           Subscription.failing_since.is_not(None))
                    .values(failing_since=None))


def record_failed(session: Session, item: Claimed, answer: Answer, policy: Policy,
                  now: datetime) -> None:
    """Store a failed try: the next one by the schedule (or `failed` when it has run out);
    a 410 disables the subscription."""
    attempts = item.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_status": answer.status,
                              "last_error": answer.error, "last_try_at": now}
    if answer.status == 410:  # Gone: the endpoint asks not to be called again
        values["next_try_at"] = now  # kept pending, sent when the endpoint is enabled again
        session.execute(update(Subscription).where(Subscription.id == item.subscription_id)
                        .values(enabled=False, disabled_reason="the endpoint answered 410 Gone"))
    else:
        if attempts > len(policy.retries):
            values["status"] = "failed"
        else:
            wait = max(policy.retries[attempts - 1], answer.retry_after or 0.0)
            values["next_try_at"] = now + timedelta(seconds=wait)
        _note_failing(session, item.subscription_id, policy, now)
    session.execute(update(Delivery).where(Delivery.id == item.delivery_id).values(**values))


def _note_failing(session: Session, subscription_id: int, policy: Policy,
                  now: datetime) -> None:
    """A subscription failing since longer than the policy allows is disabled."""
    found = session.get(Subscription, subscription_id, with_for_update={"key_share": True})
    if found is None:
        return
    found.failing_since = found.failing_since or now
    if found.enabled and now - found.failing_since >= policy.disable_after:
        found.enabled = False
        found.disabled_reason = (f"failing since {found.failing_since.isoformat()} "
                                 f"(over {policy.disable_after.days} days)")


def deliver_round(factory: sessionmaker[Session], client: httpx.Client,
                  pool: ThreadPoolExecutor, policy: Policy) -> int:
    """Claim a batch, send it (in parallel), record the answers, commit: how many were sent."""
    with factory() as session:
        now = datetime.now(UTC)
        items = claim(session, now, policy.batch)
        if not items:
            session.rollback()
            return 0
        answers = list(pool.map(lambda item: send(client, item, policy, now), items))
        done = datetime.now(UTC)
        answered = list(zip(items, answers, strict=True))
        record_delivered(session, [(i, a) for i, a in answered if a.delivered], done)
        for item, answer in answered:
            if not answer.delivered:
                record_failed(session, item, answer, policy, done)
        session.commit()
    return len(items)


async def delivery_loop(factory: sessionmaker[Session], settings: Settings) -> None:
    """Deliver until cancelled: at once again after a full batch, else after a pause."""
    policy = Policy.of(settings)
    with httpx.Client() as client, ThreadPoolExecutor(max_workers=min(policy.batch, 16),
                                                      thread_name_prefix="webhook") as pool:
        while True:
            try:
                sent = await run_in_threadpool(deliver_round, factory, client, pool, policy)
            except Exception:  # a failed round is logged and tried again, never fatal
                logger.exception("webhook delivery round failed")
                sent = 0
            if sent < policy.batch:
                await asyncio.sleep(settings.webhook_poll_seconds)
