"""Who may see which incidents: the token's role and area scope, as one SQL condition."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from gis_service.auth.service import Principal
from gis_service.incidents.models import Incident

EVERYWHERE = frozenset({"admin", "commander", "planner"})


def visible(principal: Principal) -> ColumnElement[bool]:
    """The condition an incident must meet for `principal` to see it."""
    scope = principal.scope_code
    if principal.role in EVERYWHERE or (principal.role == "dispatcher" and not scope):
        return true()
    if not scope:
        return false()  # a field account without an area sees nothing
    if principal.role == "dispatcher":
        # an unplaced report (no town yet) is every dispatcher's to place
        return or_(Incident.town_code == scope, Incident.town_code.is_(None))
    if principal.role == "grid_worker":
        return or_(Incident.grid3_code == scope, Incident.grid2_code == scope)
    if principal.role == "squad":
        return or_(Incident.district_code == scope, Incident.assignee_code == scope)
    if principal.role == "department":
        return or_(Incident.assignee_code == scope, Incident.cooperating.any_() == scope)
    return false()
