"""Who may do what: the roles, and one table of the role sets every guard checks against.
The incidents' scope (which incidents a role sees or may act on) stays in incidents/scope.py;
the moves each role may make on an incident in incidents/core/lifecycle.py, using these sets."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """An account's role (the values are what the database and the API carry)."""

    ADMIN = "admin"
    COMMANDER = "commander"
    DISPATCHER = "dispatcher"
    PLANNER = "planner"
    GRID_WORKER = "grid_worker"
    SQUAD = "squad"
    DEPARTMENT = "department"
    # a grid team member (police group, volunteer, liaison: people/team_roles.py) signed in:
    # it cooperates and reports, it handles nothing assigned
    TEAM = "team"


ROLES = tuple(role.value for role in Role)

# the command center: takes in, dispatches, verifies and closes incidents, checks the field
CENTER = frozenset({Role.ADMIN, Role.COMMANDER, Role.DISPATCHER})
# the field: handle what they are assigned
HANDLERS = frozenset({Role.GRID_WORKER, Role.SQUAD, Role.DEPARTMENT})
# see every incident, whatever their scope
SEE_ALL_INCIDENTS = frozenset({Role.ADMIN, Role.COMMANDER, Role.PLANNER})
# see every worker's tracks, scores and the responsibility health
OVERSEERS = CENTER | {Role.PLANNER}
# record patrol tracks
PATROL_WALKERS = frozenset({Role.GRID_WORKER, Role.SQUAD, Role.ADMIN})
# redraw boundaries; and look at the plans
PLAN_EDITORS = frozenset({Role.PLANNER, Role.ADMIN})
PLAN_READERS = PLAN_EDITORS | {Role.COMMANDER}
