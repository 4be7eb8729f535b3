"""The admin's peers: the other platforms whose events this one takes in (`inbound.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.errors import ConflictError, InvalidInputError, NotFoundError
from gis_service.events.access import require_admin
from gis_service.events.models import Peer
from gis_service.events.schemas import PeerCreate
from gis_service.grids.models import GridVersion


def _admin(principal: Principal) -> None:
    require_admin(principal, managing="互联平台")


def add(session: Session, *, principal: Principal, body: PeerCreate, now: datetime) -> Peer:
    """Register a peer by the code both sides know it by: a town peer by its town grid here;
    the county peer by the county grid our towns name as parent (any code when none does: a
    town's platform may hold its own town alone)."""
    _admin(principal)
    if body.kind == "town":
        known = session.scalar(select(GridVersion.code).where(
            GridVersion.code == body.code, GridVersion.level == 1).limit(1))
        if known is None:
            raise InvalidInputError(f"a town peer is named by its town grid here: no town "
                                    f"{body.code}")
    else:
        parents = {code for code in session.scalars(select(GridVersion.parent_code).where(
            GridVersion.level == 1)) if code}
        if parents and body.code not in parents:
            raise InvalidInputError(f"the county peer is named by the county grid the towns "
                                    f"here belong to ({', '.join(sorted(parents))}), not "
                                    f"{body.code}")
    if session.scalar(select(Peer.id).where(Peer.code == body.code)) is not None:
        raise ConflictError(f"peer {body.code} exists already")
    peer = Peer(code=body.code, kind=body.kind, secret=body.secret, created_at=now)
    session.add(peer)
    session.commit()
    return peer


def list_all(session: Session, *, principal: Principal) -> list[Peer]:
    _admin(principal)
    return list(session.scalars(select(Peer).order_by(Peer.code)))


def remove(session: Session, *, principal: Principal, code: str) -> None:
    _admin(principal)
    peer = session.scalar(select(Peer).where(Peer.code == code))
    if peer is None:
        raise NotFoundError(f"no peer {code!r}")
    session.delete(peer)
    session.commit()
