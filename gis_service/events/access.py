"""Who wires the events: subscriptions (events out) and peers (events in) are the admin's
alone. The check lives in the use cases, not on the routes, so that every caller meets it: the
HTTP API with the signed-in principal, the CLI as its OPERATOR (an admin principal)."""

from __future__ import annotations

from gis_service.auth.permissions import Role
from gis_service.auth.service import Principal
from gis_service.errors import ForbiddenError


def require_admin(principal: Principal, *, managing: str) -> None:
    """Refuse (403) anyone but an admin; `managing` names what, in the refusal."""
    if principal.role != Role.ADMIN:
        raise ForbiddenError(f"只有管理员可以管理{managing}")
