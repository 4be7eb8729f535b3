"""The feature collections the OGC API serves: what each is, its identifier, its queryable
properties and how a row becomes feature properties."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gis_service.cameras.models import Camera
from gis_service.cameras.service import camera_properties
from gis_service.grids.models import GridVersion
from gis_service.grids.service import grid_properties
from gis_service.incidents.models import Incident
from gis_service.places.models import District, Project, Station, Zone


class Temporal(Enum):
    """What `datetime` selects in a collection."""

    VERSIONS = "versions"  # the versions valid at an instant
    REPORTED = "reported"  # incidents reported at an instant or within an interval


@dataclass(frozen=True)
class Queryable:
    """A property the items may be filtered on by equality (`?name=value`)."""

    column: Any
    type: str  # JSON schema type: "string" or "integer"


@dataclass(frozen=True)
class Collection:
    """One feature collection."""

    id: str
    title: str
    description: str
    model: Any
    key: Any  # the column that is the feature id
    geometry_type: str
    properties: Callable[[Any], dict[str, Any]]
    queryables: dict[str, Queryable] = field(default_factory=dict)
    temporal: Temporal | None = None
    scoped: bool = False  # only what the caller's role and scope may see

    def parse_id(self, feature_id: str) -> Any:
        """The key value a feature id stands for, or None when it cannot be one."""
        if self.key.type.python_type is int:
            return int(feature_id) if feature_id.isdigit() else None
        return feature_id


def _text(column: Any) -> Queryable:
    return Queryable(column, "string")


def _number(column: Any) -> Queryable:
    return Queryable(column, "integer")


def _district(d: District) -> dict[str, Any]:
    return {"code": d.code, "name": d.name, "squad_code": d.squad_code,
            "squad_name": d.squad_name, "attributes": d.attributes}


def _zone(z: Zone) -> dict[str, Any]:
    return {"code": z.code, "name": z.name, "level": z.level, "attributes": z.attributes}


def _project(p: Project) -> dict[str, Any]:
    return {"code": p.code, "name": p.name, "status": p.status,
            "department": p.department_code, "attributes": p.attributes}


def _station(s: Station) -> dict[str, Any]:
    return {"code": s.code, "name": s.name, "grid_code": s.grid_code,
            "attributes": s.attributes}


def _when(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _incident(i: Incident) -> dict[str, Any]:
    return {"status": i.status, "source": i.source, "category": i.category_code,
            "description": i.description, "address": i.address, "town": i.town_code,
            "grid2": i.grid2_code, "grid3": i.grid3_code, "district": i.district_code,
            "zones": list(i.zone_codes), "assignee_type": i.assignee_type,
            "assignee_code": i.assignee_code, "priority": i.priority,
            "reported_at": _when(i.reported_at), "due_at": _when(i.due_at),
            "updated_at": _when(i.updated_at)}


COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection(
        "grids", "Grids", "The grid hierarchy (town, level 2, level 3) and special grids: the "
        "versions valid now, or at the instant `datetime` names.",
        GridVersion, GridVersion.code, "MultiPolygon", grid_properties,
        {"code": _text(GridVersion.code), "level": _number(GridVersion.level),
         "kind": _text(GridVersion.kind), "parent_code": _text(GridVersion.parent_code)},
        temporal=Temporal.VERSIONS),
    Collection(
        "districts", "Enforcement districts", "Enforcement districts and their squads.",
        District, District.code, "MultiPolygon", _district,
        {"code": _text(District.code), "squad_code": _text(District.squad_code)}),
    Collection(
        "zones", "Protection zones", "Protection zones, e.g. the Taihu levels 1–3.",
        Zone, Zone.code, "MultiPolygon", _zone,
        {"code": _text(Zone.code), "level": _number(Zone.level)}),
    Collection(
        "projects", "Key projects", "Key projects: any geometry, a status and a department.",
        Project, Project.code, "Geometry", _project,
        {"code": _text(Project.code), "status": _text(Project.status),
         "department": _text(Project.department_code)}),
    Collection(
        "stations", "Village service stations", "Village service stations (points).",
        Station, Station.code, "Point", _station,
        {"code": _text(Station.code), "grid_code": _text(Station.grid_code)}),
    Collection(
        "cameras", "Cameras", "Video cameras by their GB/T 28181 codes (decoded), with the "
        "lens direction (degrees from north), PTZ type and owner.",
        Camera, Camera.code, "Point", camera_properties,
        {"code": _text(Camera.code), "division": _text(Camera.division),
         "device_type": _text(Camera.device_type), "network": _text(Camera.network),
         "owner": _text(Camera.owner)}),
    Collection(
        "incidents", "Incidents", "Incidents the caller's token may see; `datetime` selects "
        "by the time they were reported.",
        Incident, Incident.id, "Point", _incident,
        {"status": _text(Incident.status), "category": _text(Incident.category_code),
         "source": _text(Incident.source), "grid2": _text(Incident.grid2_code),
         "grid3": _text(Incident.grid3_code), "district": _text(Incident.district_code)},
        temporal=Temporal.REPORTED, scoped=True),
)}
