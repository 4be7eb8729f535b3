"""A grid's team as a caller may see it: who sees it at all, and whose phone numbers whole.

Team members' names and posts are what a grid's card is for; their phone numbers are personal
data, masked as a hotline reporter's are (incidents/contact.py: 138****5678) for everyone but
the command center. Who sees a grid's team:
- the command center (admin, commander, dispatcher): every team; phones whole in its own area
  (an unscoped account everywhere, a town's or county's account in the grids under it),
  masked elsewhere;
- a planner: every team, phones masked;
- a grid worker, and a team member signed in (role `team`): the teams along its own grid's
  line — phones whole for its own grid and the grids under it (the people it works beside and
  calls from the phone page: the grid's police group on a public-order matter), masked for the
  grids above it (village, town, county);
- anyone else (squads, departments): none (`team` is null).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.auth.permissions import CENTER, Role
from gis_service.auth.service import Principal
from gis_service.grids.queries import lineage
from gis_service.incidents.contact import masked
from gis_service.people.models import GridTeamMember
from gis_service.people.team_roles import TEAM_ROLES

IN_A_GRID = frozenset({Role.GRID_WORKER, Role.TEAM})  # field accounts that belong to a grid


class Phones(Enum):
    """How a team's phone numbers are shown to a caller who may see the team."""

    WHOLE = "whole"
    MASKED = "masked"


def team_access(principal: Principal, grid_line: tuple[str, ...],
                own_line: tuple[str, ...]) -> Phones | None:
    """Whether (and how) `principal` sees the team of the grid whose lineage is `grid_line`
    (the grid first); `own_line` is the lineage of a field account's own grid (`own_grid`).
    None: not at all."""
    scope = principal.scope_code
    if principal.role in CENTER:
        return Phones.WHOLE if not scope or scope in grid_line else Phones.MASKED
    if principal.role == Role.PLANNER:
        return Phones.MASKED
    if principal.role in IN_A_GRID and own_line and grid_line:
        if own_line[0] in grid_line:  # its own grid, or one under it
            return Phones.WHOLE
        if grid_line[0] in own_line:  # a grid above its own
            return Phones.MASKED
    return None


def member_of(session: Session, principal: Principal) -> GridTeamMember | None:
    """The grid team member a `team` account is (its scope is the member's code)."""
    if principal.role != Role.TEAM or not principal.scope_code:
        return None
    return session.scalar(select(GridTeamMember)
                          .where(GridTeamMember.code == principal.scope_code))


def own_grid(session: Session, principal: Principal) -> str | None:
    """The grid a field account belongs to: a grid worker's scope, a team member's grid."""
    if principal.role == Role.GRID_WORKER:
        return principal.scope_code
    member = member_of(session, principal)
    return member.grid_code if member is not None else None


def members(session: Session, grid: str) -> list[GridTeamMember]:
    """The grid's team, by role as TEAM_ROLES lists them (the police group first), then code."""
    order = {role: i for i, role in enumerate(TEAM_ROLES)}
    stmt = select(GridTeamMember).where(GridTeamMember.grid_code == grid)
    return sorted(session.scalars(stmt), key=lambda m: (order.get(m.role, len(order)), m.code))


def _phone(phone: str | None, phones: Phones) -> str | None:
    if not phone or phones is Phones.WHOLE:
        return phone
    shown = masked({"phone": phone})
    return str(shown["phone"]) if shown else None


def visible_team(session: Session, principal: Principal, grid: str,
                 now: datetime) -> list[dict[str, Any]] | None:
    """The grid's team as `principal` may see it (phones whole or masked), or None when the
    team is not theirs to see."""
    grid_line = lineage(session, grid, now)
    mine = own_grid(session, principal)
    own_line = lineage(session, mine, now) if mine else ()
    phones = team_access(principal, grid_line, own_line)
    if phones is None:
        return None
    return [{"code": m.code, "name": m.name, "role": m.role,
             "phone": _phone(m.phone, phones), "organisation": m.organisation}
            for m in members(session, grid)]
