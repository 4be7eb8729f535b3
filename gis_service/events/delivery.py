"""The delivery worker: fan the outbox's new messages out into deliveries (one process at a
time), claim due deliveries (FOR UPDATE SKIP LOCKED, so any number of service processes share
the work and none sends a row another holds), sign and send them as Standard Webhooks, and
record each answer in the same transaction.

A change's transaction writes only its messages (`outbox`); each round begins with a fan-out
step (`fan_out`) that gives the oldest messages not yet fanned out their deliveries.

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

import orjson
import urllib3
from sqlalchemy import func, select, update
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
FANOUT = sql_files.load(Path(__file__).resolve().parent / "sql", "fanout")
FANOUT_BATCH = 500  # messages per fan-out step (a round with a full step goes on at once)
# the transaction-scoped advisory lock that lets one fan-out run at a time, whichever process
FANOUT_LOCK = 0x7765_6268_6F6F_6B31  # b"webhook1"
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
        return cls(allowed_hosts(settings.webhook_allowed_hosts), settings.webhook_retries,
                   settings.webhook_timeout_seconds, settings.webhook_batch,
                   timedelta(days=settings.webhook_disable_after_days))


def fan_out(session: Session, now: datetime, batch: int = FANOUT_BATCH) -> int | None:
    """Give the oldest `batch` messages not yet fanned out their pending deliveries, one per
    enabled subscription selecting each, and stamp them fanned; commits. How many messages
    were fanned out (None: another process holds the fan-out, and does it).

    Why one fan-out at a time keeps each incident's events in order. The claim holds a
    delivery back while an earlier message of the same `ordering_key` is pending for the same
    subscription; that holds only if a message's delivery is never written before those of
    the earlier messages of its key. Messages are fanned out in id order, and under
    `FANOUT_LOCK` (pg_try_advisory_xact_lock) only one fan-out runs at a time across all
    processes: two at once could each take a batch, and the later batch's commit could make
    a later event of an incident claimable before the earlier one had its delivery. The
    lock is released when this transaction ends, after its commit is visible, and the fan-out
    statement (READ COMMITTED: a snapshot per statement) is run after the lock is taken, so
    the next fan-out sees this one's stamps and deliveries.

    Ids are drawn when a message is written, not when it commits, so a message may commit
    after one with a higher id and be missed by a fan-out that takes the higher one. That
    can happen only across different incidents (or plans): changes to one incident are
    serialised by its row lock (taken by FOR UPDATE or by the row's update before its
    messages are written, and held to the change's commit), so a later change's message
    takes its id after the earlier change has committed, and a snapshot that sees the later
    message sees the earlier one, which is fanned out in the same step or an earlier one.
    The message that commits late is not skipped: fan-out goes by the `fanned_at IS NULL`
    mark, not by a highest id seen, so the next step takes it; its incident's later
    messages, if any, commit after it and wait behind it in the claim. One plan's messages
    are all written by its one publishing transaction, in order.

    At least once: a message is written in its change's transaction and stays unfanned until
    a fan-out transaction commits its deliveries and its stamp together; a process killed
    mid-step leaves both undone and the message is fanned out again. A subscription is matched
    as it stands when its message is fanned out (a subscription disabled by then does not
    get it, as one disabled when the change was stored did not)."""
    # JIT off for this transaction, in the same round trip as the lock: the statement's
    # estimate (the county lookup costed per message and subscription, the subscription table
    # seldom analysed) crosses jit_above_cost, and compiling took ~20 ms of PostgreSQL CPU
    # per step, more than the step itself
    locked, _ = session.execute(select(func.pg_try_advisory_xact_lock(FANOUT_LOCK),
                                       func.set_config("jit", "off", True))).one()
    if not locked:
        session.rollback()
        return None
    messages = session.execute(FANOUT, {"now": now, "batch": batch}).one().messages
    session.commit()
    return int(messages)


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


def sender(connections: int) -> urllib3.PoolManager:
    """The HTTP client deliveries go out on: up to `connections` kept-alive connections per
    receiver, no retries of its own (the retry schedule is the worker's), no redirect, no
    proxy taken from the environment. urllib3 rather than httpx: sending is most of a
    delivery's CPU, and with urllib3 an idle service's drain took 0.44 ms of its CPU per
    delivery instead of 0.71 (BENCHMARKS.md, "Events out")."""
    return urllib3.PoolManager(maxsize=connections, retries=False)


def send(client: urllib3.PoolManager, item: Claimed, policy: Policy, now: datetime) -> Answer:
    """One try: nothing leaves for a host not allowed; no redirect is followed."""
    try:
        check_url(item.url, policy.allowed)
    except EndpointRefused as exc:
        return Answer(None, str(exc))
    body, headers = signed_request(item, now)
    try:
        response = client.request("POST", item.url, body=body, headers=headers,
                                  timeout=policy.timeout, redirect=False, retries=False)
    except urllib3.exceptions.HTTPError as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS])
    if 200 <= response.status < 300:
        return Answer(response.status)
    said = response.data[:ERROR_CHARS * 4].decode("utf-8", "replace")[:ERROR_CHARS]
    return Answer(response.status, said or response.reason or str(response.status),
                  _retry_after(response.headers.get("retry-after"), now))


def record_delivered(session: Session, done: list[tuple[Claimed, Answer]],
                     now: datetime) -> None:
    """Store the round's 2xx answers in two statements (a delivery round is mostly these):
    the deliveries delivered, their subscriptions no longer failing (a third when some
    were)."""
    if not done:
        return
    session.execute(DELIVERED, {"ids": [item.delivery_id for item, _ in done],
                                "statuses": [answer.status for _, answer in done],
                                "now": now})
    subscriptions = {item.subscription_id for item, _ in done}
    failing = session.scalars(  # locked in id order, as lock_subscriptions does
        select(Subscription.id)
        .where(Subscription.id.in_(subscriptions), Subscription.failing_since.is_not(None))
        .order_by(Subscription.id).with_for_update(key_share=True)).all()
    if failing:
        session.execute(update(Subscription).where(Subscription.id.in_(failing))
                        .values(failing_since=None))


def lock_subscriptions(session: Session, ids: set[int]) -> None:
    """Lock the subscriptions a round will write (failing since, disabled), in id order
    before any of them: two processes' rounds that each failed for several subscriptions
    locked them in the order of their deliveries, and deadlocked. Every lock a round takes
    on subscriptions is taken in id order."""
    session.execute(select(Subscription.id).where(Subscription.id.in_(ids))
                    .order_by(Subscription.id).with_for_update(key_share=True))


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


def deliver_round(factory: sessionmaker[Session], client: urllib3.PoolManager,
                  pool: ThreadPoolExecutor, policy: Policy) -> int:
    """Fan out a step of new messages, then claim a batch, send it (in parallel), record the
    answers, commit: how many were sent."""
    return _round(factory, client, pool, policy)[0]


def _round(factory: sessionmaker[Session], client: urllib3.PoolManager, pool: ThreadPoolExecutor,
           policy: Policy) -> tuple[int, bool]:
    """A delivery round: how many were sent, and whether the fan-out step was full (more
    messages wait to be fanned out)."""
    with factory() as session:
        fanned = fan_out(session, datetime.now(UTC))
    with factory() as session:
        now = datetime.now(UTC)
        items = claim(session, now, policy.batch)
        if not items:
            session.rollback()
            return 0, fanned == FANOUT_BATCH
        answers = list(pool.map(lambda item: send(client, item, policy, now), items))
        done = datetime.now(UTC)
        answered = list(zip(items, answers, strict=True))
        failed = [(i, a) for i, a in answered if not a.delivered]
        if failed:  # their subscriptions' rows are written below, by every process's round
            lock_subscriptions(session, {item.subscription_id for item, _ in answered})
        record_delivered(session, [(i, a) for i, a in answered if a.delivered], done)
        for item, answer in failed:
            record_failed(session, item, answer, policy, done)
        session.commit()
    return len(items), fanned == FANOUT_BATCH


async def delivery_loop(factory: sessionmaker[Session], settings: Settings) -> None:
    """Deliver until cancelled: at once again after a round that sent anything (an
    incident's next event becomes due only when the one before it is delivered, so waiting a
    poll there would add one to each of its events) or left messages to fan out; after a
    pause when a round found nothing."""
    policy = Policy.of(settings)
    threads = min(policy.batch, 16)
    with sender(threads) as client, ThreadPoolExecutor(max_workers=threads,
                                                       thread_name_prefix="webhook") as pool:
        while True:
            try:
                sent, more = await run_in_threadpool(_round, factory, client, pool, policy)
            except Exception:  # a failed round is logged and tried again, never fatal
                logger.exception("webhook delivery round failed")
                sent, more = 0, False
            if not sent and not more:
                await asyncio.sleep(settings.webhook_poll_seconds)
