"""Who may see which incidents, and which of them are assigned to the caller: the token's
role and area scope, each as one SQL condition that composes into a query."""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, and_, any_, cast, false, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from gis_service.auth.models import Account
from gis_service.auth.permissions import SEE_ALL_INCIDENTS
from gis_service.auth.service import Principal
from gis_service.grids.models import GridVersion
from gis_service.incidents.models import Incident
from gis_service.people.models import GridTeamMember, Worker
from gis_service.places.models import District

EVERYWHERE = SEE_ALL_INCIDENTS  # see every incident
CENTER_HANDLERS = ("town", "county")  # the assignee types a command center answers for
# a command center's people: with no scope they see everywhere; scoped to a town they are its
# town center, scoped to the county grid the county center
CENTER_STAFF = ("dispatcher", "commander")


def visible(principal: Principal) -> ColumnElement[bool]:
    """The condition an incident must meet for `principal` to see it (in the town they are
    viewing, when they look at one)."""
    seen = _visible(principal)
    return and_(seen, Incident.town_code == principal.viewing) if principal.viewing else seen


def sees_all(principal: Principal) -> bool:
    """Whether the caller sees every incident (`visible` is no condition at all)."""
    return visible(principal) is true()


def _visible(principal: Principal) -> ColumnElement[bool]:
    scope = principal.scope_code
    if principal.role in CENTER_STAFF and scope:
        return _center_area(scope)
    if principal.role in EVERYWHERE or principal.role in CENTER_STAFF:
        return true()
    if not scope:
        return false()  # a field account without an area sees nothing
    # a handler sees its area, and whatever is assigned to it wherever it lies (a B post
    # covering the grid next door)
    if principal.role == "grid_worker":
        return or_(Incident.grid3_code == scope, Incident.grid2_code == scope,
                   assigned_to(principal))
    if principal.role == "squad":
        return or_(Incident.district_code == scope, assigned_to(principal))
    if principal.role == "department":
        return or_(assigned_to(principal), Incident.cooperating.any_() == scope)
    if principal.role == "team":  # what it was brought in on, and what lies in its grid
        grid = (select(GridTeamMember.grid_code).where(GridTeamMember.code == scope)
                .scalar_subquery())
        return or_(assigned_to(principal), Incident.grid3_code == grid,
                   Incident.grid2_code == grid)
    return false()


def assigned_to(principal: Principal) -> ColumnElement[bool]:
    """Incidents assigned to the caller: a grid worker's own post or a post they cover as its
    B (the A post off duty); a squad's or department's own code; for the command center,
    what is assigned to the center; for a grid team member, what it was brought in on as
    cooperating (its share to follow; it acts on none). Handler roles may act only on these."""
    scope = principal.scope_code
    if principal.role == "grid_worker":
        return and_(Incident.assignee_type == "grid_worker",
                    Incident.assignee_code.in_(_posts_of(principal.account_id)))
    if principal.role == "squad" and scope:
        squads = select(District.squad_code).where(District.code == scope)
        return and_(Incident.assignee_type == "squad",
                    or_(Incident.assignee_code == scope, Incident.assignee_code.in_(squads)))
    if principal.role == "department" and scope:
        return and_(Incident.assignee_type == "department", Incident.assignee_code == scope)
    if principal.role == "team" and scope:  # a grid team member's share: what it cooperates on
        return Incident.cooperating.any_() == scope
    if principal.role in CENTER_STAFF and scope:
        # a town center answers for its own town's queue, the county center for the county's
        return and_(Incident.assignee_type.in_(CENTER_HANDLERS), Incident.assignee_code == scope)
    if principal.role in EVERYWHERE or principal.role in CENTER_STAFF:
        return Incident.assignee_type.in_(CENTER_HANDLERS)
    return false()


def held_above(principal: Principal, assignee_type: str | None,
               assignee_code: str | None) -> bool:
    """Whether a town center's person faces an incident the county center holds: they see
    it (it lies in their town) but may not act on it until the county sends it down."""
    return (principal.role in CENTER_STAFF and bool(principal.scope_code)
            and assignee_type == "county" and assignee_code != principal.scope_code)


def _center_area(scope: str) -> ColumnElement[bool]:
    """A center's incidents: its town's, or for the county center those of every town that
    names the county as parent (in any version of the boundaries); and the reports not yet
    placed in a town, which every center may place."""
    # one array computed once per statement (an InitPlan), not `IN (subquery)`: the planner
    # costs that subquery again for every row an index reaches, and so chose to read every
    # incident where a month's closures needed a few thousand (the league: 420 ms → 22 ms)
    county_towns = (select(func.array_agg(GridVersion.code))
                    .where(GridVersion.level == 1, GridVersion.parent_code == scope)
                    .scalar_subquery())
    # the cast makes it `= ANY (array)`; bare, SQLAlchemy writes `= ANY (subquery)`, an IN
    return or_(Incident.town_code == scope,
               Incident.town_code == any_(cast(county_towns, ARRAY(String))),
               Incident.town_code.is_(None))


def _posts_of(account_id: int) -> ColumnElement[str]:
    """The worker codes an account answers for: its own, and each A post it backs up while
    that post is off duty (AB岗)."""
    own = select(Account.worker_code).where(Account.id == account_id,
                                            Account.worker_code.is_not(None))
    covered = (select(Worker.code).join(Account, Account.worker_code == Worker.backup_code)
               .where(Account.id == account_id, Worker.on_duty.is_(False)))
    return own.union(covered).scalar_subquery()
