"""Events taken in from a peer platform (区镇互联互通), over nothing but subscriptions and the
ordinary intake: the county's platform and a town's each subscribe the other's
`/api/v1/peers/{code}/events` and register the other as a peer with that subscription's secret.

- From the county above: a ticket the county sent down (assigned to one of our towns) becomes
  a `county_ticket` here, its `parent_ticket_id` `<county code>:<the county's id>`, with the
  county's deadline.
- From a town below: each change of a ticket we sent it is written into our ticket's history as
  a `mirror` row (the town's action, state, handler and note, its version and the event's
  `webhook-id`: read-only, in our hash chain), and our ticket follows: accepted and in hand as
  the town takes it, `resolved` (with the town's resolution) when the town closes it — the
  county verifies and closes its own — and back at the county center when the town escalates
  or returns it.

Each event is applied once per `webhook-id` (a repeat is answered and ignored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from standardwebhooks import Webhook, WebhookVerificationError

from gis_service.errors import InvalidInputError, NotAuthenticatedError, NotFoundError
from gis_service.events.models import Peer, PeerReceipt
from gis_service.grids.models import GridVersion
from gis_service.incidents.core.case import state_of
from gis_service.incidents.core.escalation import hand_up
from gis_service.incidents.core.routing import COUNTY_CENTER
from gis_service.incidents.models import Incident
from gis_service.incidents.routing_book import Snapshot
from gis_service.incidents.schemas import IncidentCreate
from gis_service.incidents.service import IntakePolicy, intake, record

# the town's action → the state our ticket moves to, forward only (None: history only)
FOLLOWS = {"accept": "accepted", "start": "in_progress", "resolve": "resolved",
           "close": "resolved"}
ORDER = ("dispatched", "accepted", "in_progress", "resolved")


def verified(session: Session, code: str, body: bytes, headers: dict[str, str]
             ) -> tuple[Peer, dict[str, Any]]:
    """The peer and its event, when the signature is the peer's (and recent)."""
    peer = session.scalar(select(Peer).where(Peer.code == code))
    if peer is None:
        raise NotFoundError(f"no peer {code!r}")
    try:
        event: dict[str, Any] = Webhook(peer.secret).verify(body, headers)
    except WebhookVerificationError as exc:
        raise NotAuthenticatedError(f"the event is not signed by peer {code}: {exc}") from exc
    return peer, event


def take_in(session: Session, snapshot: Snapshot, peer: Peer, event: dict[str, Any],
            webhook_id: str, now: datetime, policy: IntakePolicy) -> str:
    """Apply a verified event once; what came of it, in words."""
    receipt = (insert(PeerReceipt).values(peer_code=peer.code, webhook_id=webhook_id,
                                          type=str(event.get("type")), outcome="", received_at=now)
               .on_conflict_do_nothing(constraint="uq_peer_receipt_peer_code")
               .returning(PeerReceipt.id))
    receipt_id = session.scalar(receipt)
    if receipt_id is None:
        session.rollback()
        return "already taken in"
    data = event.get("data") or {}
    incident = data.get("incident") or {}
    change = data.get("change") or {}
    if peer.kind == "county":
        outcome = _from_county(session, snapshot, peer, incident, now, policy)
    else:
        outcome = _from_town(session, peer, incident, change, webhook_id, now)
    receipt_row = session.get(PeerReceipt, receipt_id)
    assert receipt_row is not None
    receipt_row.outcome = outcome
    session.commit()
    return outcome


def _ours(session: Session, level: int) -> set[str]:
    stmt = select(GridVersion.code).where(GridVersion.level == level,
                                          GridVersion.valid_to.is_(None))
    return set(session.scalars(stmt))


def _from_county(session: Session, snapshot: Snapshot, peer: Peer, incident: dict[str, Any],
                 now: datetime, policy: IntakePolicy) -> str:
    assignee = incident.get("assignee") or {}
    if assignee.get("type") != "town" or assignee.get("code") not in _ours(session, 1):
        return "ignored: not sent down to a town of this platform"
    if incident.get("status") not in ("dispatched", "accepted", "in_progress"):
        return "ignored: not in the town's hands"
    location = ({"lon": incident["lon"], "lat": incident["lat"], "crs": "cgcs2000"}
                if incident.get("lon") is not None else None)
    reference = f"{peer.code}:{incident.get('id')}"
    contact = incident.get("contact")
    if contact and "*" in str(contact.get("phone", "")):  # masked by the sender: not ours
        contact = None
    try:
        body = IncidentCreate.model_validate({
            "source": "county_ticket", "external_id": reference, "parent_ticket_id": reference,
            "category": incident.get("category"), "description": incident.get("description", ""),
            "address": incident.get("address"), "location": location,
            "county_due_at": incident.get("due_at"), "contact": contact})
    except ValueError as exc:
        raise InvalidInputError(f"the county's ticket {reference} cannot be taken in: "
                                f"{exc}") from exc
    result = intake(session, snapshot, f"peer:{peer.code}", body, now, policy)
    return (f"taken in as #{result.incident.id}" if result.created
            else f"already here as #{result.incident.id}")


def _from_town(session: Session, peer: Peer, incident: dict[str, Any], change: dict[str, Any],
               webhook_id: str, now: datetime) -> str:
    parent = str(incident.get("parent_ticket_id") or "")
    county, _, number = parent.partition(":")
    if incident.get("source") != "county_ticket" or not number.isdigit() \
            or county not in (_ours(session, 0) or {COUNTY_CENTER}):
        return "ignored: not a ticket this platform sent down"
    ours = session.scalar(select(Incident).where(Incident.id == int(number),
                                                 Incident.town_code == peer.code)
                          .with_for_update())
    if ours is None:
        return f"ignored: no ticket #{number} in town {peer.code}"
    before = state_of(ours)
    action = str(change.get("action", ""))
    _follow(ours, action, incident, county)
    ours.version += 1
    ours.updated_at = now
    record(session, ours, actor=f"peer:{peer.code}", action="mirror", at=now, before=before,
           note=str(change.get("note") or ""), detail={
               "peer": peer.code, "peer_incident": incident.get("id"),
               "peer_version": incident.get("version"), "action": action,
               "status": incident.get("status"), "assignee": incident.get("assignee"),
               "resolution": incident.get("resolution"), "webhook_id": webhook_id})
    return f"#{ours.id}: {action} mirrored"


def _follow(ours: Incident, action: str, theirs: dict[str, Any], county: str) -> None:
    """Our ticket follows the town's: forward through the loop, or back up to us."""
    handed_up = (action == "escalate"
                 and (theirs.get("assignee") or {}).get("type") == "county")
    if handed_up or action == "return":
        if ours.assignee_type != "county":
            hand_up(ours, county)
        if action == "return":
            ours.status = "returned"
        return
    target = FOLLOWS.get(action)
    if target and ours.status in ORDER and ORDER.index(target) > ORDER.index(ours.status):
        ours.status = target
    if action == "close" and ours.status == "resolved":  # the town's result, for our check
        ours.resolution = theirs.get("resolution")
