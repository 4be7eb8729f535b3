"""/api/v1/subscriptions: the admin's event subscriptions and their deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from gis_service.auth.deps import PrincipalDep
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.events import subscriptions
from gis_service.events.endpoints import allowed_hosts
from gis_service.events.schemas import (
    DeliveryPage,
    DeliveryRead,
    SubscriptionChange,
    SubscriptionCreate,
    SubscriptionMade,
    SubscriptionRead,
)

router = APIRouter(prefix="/api/v1", tags=["subscriptions"])


@router.post("/subscriptions", status_code=201)
def create_subscription(request: Request, body: SubscriptionCreate, session: SessionDep,
                        principal: PrincipalDep) -> SubscriptionMade:
    """Subscribe an endpoint to events (admin). Deliveries are Standard Webhooks signed with
    the returned `secret`, shown only now; its host must be in GIS_WEBHOOK_ALLOWED_HOSTS."""
    allowed = allowed_hosts(context_of(request).settings.webhook_allowed_hosts)
    made, secret = subscriptions.create(session, principal=principal, body=body,
                                        allowed=allowed, now=datetime.now(UTC))
    return SubscriptionMade(**SubscriptionRead.model_validate(made).model_dump(), secret=secret)


@router.get("/subscriptions")
def list_subscriptions(session: SessionDep, principal: PrincipalDep) -> list[SubscriptionRead]:
    """Every subscription (admin), without secrets."""
    return [SubscriptionRead.model_validate(s)
            for s in subscriptions.list_all(session, principal=principal)]


@router.get("/subscriptions/{subscription_id}")
def get_subscription(subscription_id: int, session: SessionDep,
                     principal: PrincipalDep) -> SubscriptionRead:
    """One subscription (admin): whether it is enabled, and why not."""
    return SubscriptionRead.model_validate(
        subscriptions.get(session, principal=principal, subscription_id=subscription_id))


@router.patch("/subscriptions/{subscription_id}")
def change_subscription(subscription_id: int, body: SubscriptionChange, session: SessionDep,
                        principal: PrincipalDep) -> SubscriptionRead:
    """Enable an endpoint again after it was disabled (410, or failing too long), or
    disable it; enabled, its pending deliveries are sent at once."""
    return SubscriptionRead.model_validate(subscriptions.change(
        session, principal=principal, subscription_id=subscription_id, body=body,
        now=datetime.now(UTC)))


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(subscription_id: int, session: SessionDep,
                        principal: PrincipalDep) -> Response:
    """Remove a subscription and its deliveries (admin)."""
    subscriptions.remove(session, principal=principal, subscription_id=subscription_id)
    return Response(status_code=204)


@router.get("/subscriptions/{subscription_id}/deliveries")
def list_deliveries(subscription_id: int, session: SessionDep, principal: PrincipalDep,
                    status: Literal["pending", "delivered", "failed"] | None = None,
                    before: int | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> DeliveryPage:
    """A subscription's deliveries, newest first: status, attempts, last answer, next try."""
    return subscriptions.deliveries(session, principal=principal,
                                    subscription_id=subscription_id, status=status,
                                    before=before, limit=limit)


@router.post("/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver")
def redeliver(subscription_id: int, delivery_id: int, session: SessionDep,
              principal: PrincipalDep) -> DeliveryRead:
    """Send a delivery again now, from the start of the retry schedule (same webhook-id)."""
    return subscriptions.redeliver(session, principal=principal,
                                   subscription_id=subscription_id, delivery_id=delivery_id,
                                   now=datetime.now(UTC))
