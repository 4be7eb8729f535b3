"""Reading districts, zones, projects and village service stations as GeoJSON features."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.geojson import feature, geometry_json
from gis_service.places.models import District, Project, Station, Zone


def district_features(session: Session) -> list[dict[str, Any]]:
    """Every enforcement district with its squad."""
    rows = session.execute(select(District, geometry_json(District.geom)).order_by(District.code))
    return [feature(d.code, {"code": d.code, "name": d.name, "squad_code": d.squad_code,
                             "squad_name": d.squad_name, "attributes": d.attributes}, geom)
            for d, geom in rows]


def zone_features(session: Session) -> list[dict[str, Any]]:
    """Every protection zone."""
    rows = session.execute(select(Zone, geometry_json(Zone.geom)).order_by(Zone.code))
    return [feature(z.code, {"code": z.code, "name": z.name, "level": z.level,
                             "attributes": z.attributes}, geom) for z, geom in rows]


def project_features(session: Session) -> list[dict[str, Any]]:
    """Every key project."""
    rows = session.execute(select(Project, geometry_json(Project.geom)).order_by(Project.code))
    return [feature(p.code, {"code": p.code, "name": p.name, "status": p.status,
                             "department": p.department_code, "attributes": p.attributes}, geom)
            for p, geom in rows]


def station_features(session: Session) -> list[dict[str, Any]]:
    """Every village service station."""
    rows = session.execute(select(Station, geometry_json(Station.geom)).order_by(Station.code))
    return [feature(s.code, {"code": s.code, "name": s.name, "grid_code": s.grid_code,
                             "attributes": s.attributes}, geom) for s, geom in rows]
