"""Loading the routing book (`core/routing.py`): the responsibility list, the zone rules,
every grid worker's post, each grid's team and the key projects' areas, held in memory beside
the locator snapshot. Intake then routes without a database round trip; the book is rebuilt
whenever the locator snapshot is (any import of boundaries, people or rules records a layer
change)."""

from __future__ import annotations

from datetime import UTC, datetime

import shapely
from geoalchemy2 import functions as gfn
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.grids.queries import counties, towns
from gis_service.incidents.core.routing import (
    COUNTY_CENTER,
    Directory,
    Post,
    RoutingBook,
    Rule,
)
from gis_service.incidents.queries import zone_rules
from gis_service.locate.snapshot import LocatorSnapshot
from gis_service.people.models import Department, GridTeamMember, Worker
from gis_service.people.team_roles import split_cooperating
from gis_service.places.models import District, Project
from gis_service.responsibilities.models import Category
from grid_layers.locator import OverlayLayer


def load_routing_book(session: Session) -> RoutingBook:
    """Read the routing data from the database."""
    rules: dict[str, Rule] = {}
    town_rules: dict[tuple[str, str], Rule] = {}
    for c in session.scalars(select(Category)):
        departments, team_roles = split_cooperating(c.cooperating)
        rule = Rule(c.code, c.handler, c.department_code, departments,
                    c.respond_hours, c.resolve_hours, c.town_code, team_roles)
        if c.town_code:
            town_rules[(c.code, c.town_code)] = rule
        else:
            rules[c.code] = rule
    now = datetime.now(UTC)
    county_of = {t.code: t.county for t in towns(session, now) if t.county}
    workers = list(session.scalars(select(Worker).order_by(Worker.code)))
    posts = {w.code: Post(w.code, w.name, w.on_duty, w.backup_code) for w in workers}
    by_grid: dict[str, list[Post]] = {}
    for worker in workers:
        if worker.role == "grid_worker" and worker.grid_code:
            by_grid.setdefault(worker.grid_code, []).append(posts[worker.code])
    areas = session.execute(select(Project.code, gfn.ST_AsBinary(Project.geom))
                            .where(gfn.ST_Dimension(Project.geom) == 2)).all()
    projects = OverlayLayer([code for code, _ in areas],
                            [shapely.from_wkb(bytes(wkb)) for _, wkb in areas])
    department_towns = {code: town for code, town in session.execute(
        select(Department.code, Department.town_code).where(Department.tier == "town"))
        if town is not None}
    return RoutingBook(rules, town_rules, county_of, department_towns, zone_rules(session),
                       Directory(by_grid, posts, _teams(session)), projects,
                       _handler_names(session, workers, now))


def _teams(session: Session) -> dict[str, dict[str, tuple[str, ...]]]:
    """Grid code -> role -> the codes of its team's members of that role, in code order."""
    teams: dict[str, dict[str, list[str]]] = {}
    rows = session.execute(select(GridTeamMember.grid_code, GridTeamMember.role,
                                  GridTeamMember.code).order_by(GridTeamMember.code))
    for grid, role, code in rows:
        teams.setdefault(grid, {}).setdefault(role, []).append(code)
    return {grid: {role: tuple(codes) for role, codes in roles.items()}
            for grid, roles in teams.items()}


def _handler_names(session: Session, workers: list[Worker],
                   now: datetime) -> dict[tuple[str, str], str]:
    names = {("grid_worker", w.code): w.name for w in workers}
    names.update({("squad", code): name for code, name in session.execute(
        select(District.squad_code, District.squad_name))})
    names.update({("department", code): name for code, name in session.execute(
        select(Department.code, Department.name))})
    names.update({("town", t.code): t.name for t in towns(session, now)})
    names[("county", COUNTY_CENTER)] = "县指挥中心"
    names.update({("county", code): f"{name}指挥中心"
                  for code, name in counties(session, now).items()})
    return names


Snapshot = LocatorSnapshot[RoutingBook]  # the service's snapshots carry the routing book


def routing_book(snapshot: Snapshot, session: Session) -> RoutingBook:
    """The book built with the snapshot, or a fresh one (snapshots built by hand have none)."""
    return snapshot.extra if snapshot.extra is not None else load_routing_book(session)
