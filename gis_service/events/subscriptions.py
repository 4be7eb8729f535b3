"""Subscription use cases (the admin's): make one (its URL allowed, its areas known, a secret
made and shown once), list, change, remove; a subscription's deliveries and sending one again."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.events.access import require_admin
from gis_service.events.endpoints import EndpointRefused, check_url
from gis_service.events.models import Delivery, Message, Subscription
from gis_service.events.schemas import (
    DeliveryPage,
    DeliveryRead,
    SubscriptionChange,
    SubscriptionCreate,
)
from gis_service.grids.models import GridVersion
from gis_service.places.models import District

HANDLER_TYPES = ("grid_worker", "squad", "department", "town", "county")


def _admin(principal: Principal) -> None:
    require_admin(principal, managing="事件订阅")


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _unknown_areas(session: Session, codes: list[str]) -> list[str]:
    grids = set(session.scalars(select(GridVersion.code).where(GridVersion.code.in_(codes))))
    districts = set(session.scalars(select(District.code).where(District.code.in_(codes))))
    return [code for code in codes if code not in grids | districts]


def create(session: Session, *, principal: Principal, body: SubscriptionCreate,
           allowed: frozenset[str], now: datetime) -> tuple[Subscription, str]:
    """Store a subscription; its secret is returned this once."""
    _admin(principal)
    try:
        url = check_url(body.url, allowed)
    except EndpointRefused as exc:
        raise InvalidInputError(str(exc)) from exc
    if body.areas and (unknown := _unknown_areas(session, body.areas)):
        raise InvalidInputError(f"no grid or district {', '.join(unknown)}: an area filter "
                                "names grid, district, town or county codes")
    for assignee in body.assignees or []:
        kind, _, code = assignee.partition(":")
        if kind not in HANDLER_TYPES or not code:
            raise InvalidInputError(f"assignee {assignee!r} is not type:code with a type of "
                                    f"{', '.join(HANDLER_TYPES)}")
    secret = new_secret()
    made = Subscription(url=url, description=body.description, events=list(body.events),
                        sources=body.sources, areas=body.areas, assignees=body.assignees,
                        secret=secret, contact_allowed=body.contact_allowed, enabled=True,
                        created_by=principal.username,
                        created_at=now)
    session.add(made)
    session.commit()
    return made, secret


def list_all(session: Session, *, principal: Principal) -> list[Subscription]:
    _admin(principal)
    return list(session.scalars(select(Subscription).order_by(Subscription.id)))


def get(session: Session, *, principal: Principal, subscription_id: int) -> Subscription:
    _admin(principal)
    found = session.get(Subscription, subscription_id)
    if found is None:
        raise NotFoundError(f"没有订阅 #{subscription_id}")
    return found


def change(session: Session, *, principal: Principal, subscription_id: int,
           body: SubscriptionChange, now: datetime) -> Subscription:
    """Enable (its pending deliveries are due at once, its failing time forgotten) or
    disable a subscription by hand."""
    found = get(session, principal=principal, subscription_id=subscription_id)
    found.enabled = body.enabled
    if body.enabled:
        found.disabled_reason, found.failing_since = None, None
        session.execute(update(Delivery).where(Delivery.subscription_id == found.id,
                                               Delivery.status == "pending")
                        .values(next_try_at=now))
    else:
        found.disabled_reason = f"disabled by {principal.username}"
    session.commit()
    return found


def remove(session: Session, *, principal: Principal, subscription_id: int) -> None:
    """Delete a subscription with its deliveries (their messages stay for the others)."""
    session.delete(get(session, principal=principal, subscription_id=subscription_id))
    session.commit()


def deliveries(session: Session, *, principal: Principal, subscription_id: int,
               status: str | None, before: int | None, limit: int) -> DeliveryPage:
    """A subscription's deliveries, newest first, of one status when given."""
    get(session, principal=principal, subscription_id=subscription_id)
    stmt = (select(Delivery, Message).join(Message, Message.id == Delivery.message_id)
            .where(Delivery.subscription_id == subscription_id)
            .order_by(Delivery.id.desc()).limit(limit + 1))
    if status is not None:
        stmt = stmt.where(Delivery.status == status)
    if before is not None:
        stmt = stmt.where(Delivery.id < before)
    rows = session.execute(stmt).all()
    items = [_read(d, m) for d, m in rows[:limit]]
    return DeliveryPage(items=items, next_before=items[-1].id if len(rows) > limit else None)


def _read(delivery: Delivery, message: Message) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id, message_id=message.uid, type=message.type,
        incident_id=message.incident_id, version=message.version,
        status=delivery.status,
        attempts=delivery.attempts, next_try_at=delivery.next_try_at,
        last_status=delivery.last_status, last_error=delivery.last_error,
        last_try_at=delivery.last_try_at, delivered_at=delivery.delivered_at,
        created_at=delivery.created_at)


def redeliver(session: Session, *, principal: Principal, subscription_id: int,
              delivery_id: int, now: datetime) -> DeliveryRead:
    """Send a delivery again from the start of the retry schedule (the same `webhook-id`:
    a receiver that has it already ignores it)."""
    get(session, principal=principal, subscription_id=subscription_id)
    found = session.get(Delivery, delivery_id, with_for_update=True)
    if found is None or found.subscription_id != subscription_id:
        raise NotFoundError(f"订阅 #{subscription_id} 没有投递 #{delivery_id}")
    found.status, found.attempts, found.next_try_at = "pending", 0, now
    session.commit()
    message = session.get(Message, found.message_id)
    assert message is not None
    return _read(found, message)
