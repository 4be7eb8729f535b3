"""Reading grids as GeoJSON features, at any moment of their history; one grid with its team
(people/team.py says who sees it, and whose phones whole)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.errors import NotFoundError
from gis_service.geojson import feature
from gis_service.grids import queries
from gis_service.grids.models import GridVersion
from gis_service.people.team import visible_team
from gis_service.timeutil import aware


def grid_properties(grid: GridVersion) -> dict[str, Any]:
    """The public properties of a grid version."""
    return {
        "code": grid.code, "name": grid.name, "level": grid.level, "kind": grid.kind,
        "parent_code": grid.parent_code, "households": grid.households,
        "population": grid.population, "version": grid.version,
        "valid_from": grid.valid_from.isoformat(),
        "valid_to": grid.valid_to.isoformat() if grid.valid_to else None,
        "attributes": grid.attributes,
    }


def list_grid_features(session: Session, *, at: datetime | None = None,
                       level: int | None = None, parent: str | None = None,
                       kind: str | None = None) -> list[dict[str, Any]]:
    """Features of the grids valid at `at` (now by default) matching the filters."""
    stmt = queries.select_grids(at=aware(at) or datetime.now(UTC), level=level, parent=parent,
                                kind=kind)
    return [feature(g.code, grid_properties(g), geom) for g, geom in session.execute(stmt)]


def get_grid_feature(session: Session, *, code: str, principal: Principal,
                     at: datetime | None = None) -> dict[str, Any]:
    """The feature of one grid as valid at `at`, its `team` (its people beyond the grid
    worker) as `principal` may see them, null when not theirs to see; NotFoundError when
    there is no such grid."""
    now = datetime.now(UTC)
    moment = aware(at) or now
    row = session.execute(queries.select_grids(at=moment, code=code)).first()
    if row is None:
        raise NotFoundError(f"no grid {code!r} at that time")
    team = visible_team(session, principal, row[0].code, now)
    return feature(row[0].code, {**grid_properties(row[0]), "team": team}, row[1])
