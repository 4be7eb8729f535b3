"""SQL of hotspots and responsibility health; every incident query takes the caller's scope
condition (`incidents.scope.visible`, or true() for the command line and the report)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, cast, func, or_, select, text, true

from gis_service.auth.models import Account
from gis_service.database import STORAGE_SRID
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.incidents.models import Incident, IncidentEvent
from gis_service.responsibilities.models import Category

Rows = Select[*tuple[Any, ...]]  # a select of any columns


def in_area(area: str | None) -> ColumnElement[bool]:
    """Incidents inside a grid of any level, a special grid or an enforcement district."""
    if area is None:
        return true()
    return or_(Incident.town_code == area, Incident.grid2_code == area,
               Incident.grid3_code == area, Incident.district_code == area,
               Incident.special_codes.any_() == area)


def placed_reports(condition: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """(lon, lat, epoch seconds, category, level-3 grid) of placed reports in [start, end);
    the reported_at index serves the range."""
    epoch = cast(func.extract("epoch", Incident.reported_at), Float)  # numeric is slow to read
    return (select(Incident.lon, Incident.lat, epoch,
                   Incident.category_code, Incident.grid3_code)
            .where(condition, Incident.reported_at >= start, Incident.reported_at < end,
                   Incident.lon.is_not(None)))


def addressed_reports(condition: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """(id, lon, lat, address, category, level-3 grid) of placed reports in [start, end)."""
    return (select(Incident.id, Incident.lon, Incident.lat, Incident.address,
                   Incident.category_code, Incident.grid3_code)
            .where(condition, Incident.reported_at >= start, Incident.reported_at < end,
                   Incident.lon.is_not(None)).order_by(Incident.id))


def grid_names(at: datetime) -> Rows:
    """Code and name of every grid valid at `at`."""
    return select(GridVersion.code, GridVersion.name).where(valid_at(at))


def category_names() -> Rows:
    """Code and name of every category of the responsibility list."""
    return select(Category.code, Category.name)


def actions_per_category(scope: ColumnElement[bool], start: datetime, end: datetime,
                         actions: tuple[str, ...]) -> Rows:
    """(category, action, count) of the given actions taken in [start, end)."""
    return (select(Incident.category_code, IncidentEvent.action, func.count())
            .join(Incident, Incident.id == IncidentEvent.incident_id)
            .where(scope, IncidentEvent.action.in_(actions), IncidentEvent.at >= start,
                   IncidentEvent.at < end)
            .group_by(Incident.category_code, IncidentEvent.action))


def whistles(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """(incident id, at, detail) of whistles blown in [start, end)."""
    return (select(IncidentEvent.incident_id, IncidentEvent.at, IncidentEvent.detail)
            .join(Incident, Incident.id == IncidentEvent.incident_id)
            .where(scope, IncidentEvent.action == "whistle", IncidentEvent.at >= start,
                   IncidentEvent.at < end)
            .order_by(IncidentEvent.incident_id, IncidentEvent.at))


def department_actions(ids: list[int], since: datetime) -> Rows:
    """(incident id, at, department code) of actions department accounts took on the given
    incidents since `since`, oldest first."""
    return (select(IncidentEvent.incident_id, IncidentEvent.at, Account.scope_code)
            .join(Account, and_(Account.username == IncidentEvent.actor,
                                Account.role == "department"))
            .where(IncidentEvent.incident_id.in_(ids), IncidentEvent.at >= since)
            .order_by(IncidentEvent.at))


def level3_grids(at: datetime) -> Rows:
    """Code, name and households of the level-3 grids valid at `at`."""
    return (select(GridVersion.code, GridVersion.name, GridVersion.households)
            .where(valid_at(at), GridVersion.level == 3).order_by(GridVersion.code))


def reports_per_grid3(scope: ColumnElement[bool], start: datetime, end: datetime) -> Rows:
    """(level-3 grid, count) of reports in [start, end)."""
    return (select(Incident.grid3_code, func.count())
            .where(scope, Incident.reported_at >= start, Incident.reported_at < end,
                   Incident.grid3_code.is_not(None))
            .group_by(Incident.grid3_code))


# the address point nearest each (lon, lat), when within :radius metres: the KNN order serves
# the nearest from the GiST index, the sphere distance then keeps it or not
NEAREST_ADDRESSES = text("""
SELECT p.i, a.address
FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[])) WITH ORDINALITY AS p(lon, lat, i)
LEFT JOIN LATERAL (
    SELECT address, geom FROM address_point
    ORDER BY geom <-> ST_SetSRID(ST_MakePoint(p.lon, p.lat), :srid)
    LIMIT 1
) a ON ST_DistanceSphere(a.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), :srid)) <= :radius
ORDER BY p.i
""").bindparams(srid=STORAGE_SRID)
