"""/api/v1/peers: the platforms this one trades tickets with (admin), and the route their
events come in by (signed as Standard Webhooks with the peer's secret, no bearer token)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from gis_service.auth.deps import PrincipalDep
from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.events import inbound, peers
from gis_service.events.schemas import InboundOutcome, PeerCreate, PeerRead
from gis_service.incidents.service import intake_policy

router = APIRouter(prefix="/api/v1", tags=["peers"])


@router.post("/peers", status_code=201)
def add_peer(body: PeerCreate, session: SessionDep, principal: PrincipalDep) -> PeerRead:
    """Register the county's platform above (kind `county`, named by the county grid) or a
    town's below (kind `town`, named by its town grid), with the secret of the subscription
    it sends events here with."""
    return PeerRead.model_validate(peers.add(session, principal=principal, body=body,
                                             now=datetime.now(UTC)))


@router.get("/peers")
def list_peers(session: SessionDep, principal: PrincipalDep) -> list[PeerRead]:
    """The registered peers (admin)."""
    return [PeerRead.model_validate(p) for p in peers.list_all(session, principal=principal)]


@router.delete("/peers/{code}", status_code=204)
def remove_peer(code: str, session: SessionDep, principal: PrincipalDep) -> Response:
    """Stop taking in a peer's events."""
    peers.remove(session, principal=principal, code=code)
    return Response(status_code=204)


@router.post("/peers/{code}/events", responses={401: {"description": "not the peer's signature"}})
async def peer_event(request: Request, code: str) -> InboundOutcome:
    """An event from a peer platform (its subscription's delivery): a ticket the county sent
    down becomes a county_ticket here; a town's handling of one we sent is mirrored into our
    ticket's history, which follows it. Applied once per webhook-id."""
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    return await run_in_threadpool(_apply, request, code, body, headers)


def _apply(request: Request, code: str, body: bytes, headers: dict[str, str]) -> InboundOutcome:
    context = context_of(request)
    with context.session_factory() as session:
        peer, event = inbound.verified(session, code, body, headers)
        outcome = inbound.take_in(session, context.locator.current(), peer, event,
                                  headers["webhook-id"], datetime.now(UTC),
                                  intake_policy(context.settings, context.incident_ids))
    return InboundOutcome(outcome=outcome)
