"""What each exportable layer holds: its table, its columns in order, and its geometry.

Grid exports hold exactly the columns `gis-service import grids` reads (plus each grid's own
extra attributes), so that an exported file, edited, imports again as new versions of only
what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gis_service.grids.models import GridVersion
from gis_service.incidents.models import Incident
from gis_service.places.models import District, Project, Station, Zone

# Column kinds: "str", "int", "float"
Columns = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Layer:
    """One exportable layer."""

    name: str
    model: Any
    order: Any
    columns: Columns
    values: Callable[[Any], tuple[Any, ...]]  # a row's values, in `columns` order
    geometry_type: str  # GDAL's name: "MultiPolygon", "Point", "Unknown"
    versioned: bool = False  # grids: the versions valid at `at`
    scoped: bool = False  # incidents: only those the caller may see

    @property
    def points(self) -> bool:
        """Point layers go to CSV as lon/lat columns; others as WKT."""
        return self.geometry_type == "Point"

    @property
    def has_attributes(self) -> bool:
        """Whether rows carry free attributes (a JSON column) to spread into columns."""
        return hasattr(self.model, "attributes")


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _joined(codes: list[str] | None) -> str | None:
    return ";".join(codes) if codes else None


INCIDENT_COLUMNS: Columns = (
    ("id", "int"), ("status", "str"), ("source", "str"), ("external_id", "str"),
    ("category", "str"), ("description", "str"), ("address", "str"), ("town", "str"),
    ("grid2", "str"), ("grid3", "str"), ("district", "str"), ("zones", "str"),
    ("assignee_type", "str"), ("assignee_code", "str"), ("cooperating", "str"),
    ("priority", "int"), ("resolution", "str"), ("satisfaction", "int"),
    ("reported_at", "str"), ("due_at", "str"), ("created_at", "str"), ("updated_at", "str"))


def _incident(i: Incident) -> tuple[Any, ...]:
    return (i.id, i.status, i.source, i.external_id, i.category_code, i.description, i.address,
            i.town_code, i.grid2_code, i.grid3_code, i.district_code, _joined(i.zone_codes),
            i.assignee_type, i.assignee_code, _joined(i.cooperating), i.priority, i.resolution,
            i.satisfaction, _when(i.reported_at), _when(i.due_at), _when(i.created_at),
            _when(i.updated_at))


LAYERS: dict[str, Layer] = {layer.name: layer for layer in (
    Layer("grids", GridVersion, GridVersion.code,
          (("code", "str"), ("name", "str"), ("kind", "str"), ("level", "int"),
           ("parent_code", "str"), ("households", "int"), ("population", "int")),
          lambda g: (g.code, g.name, g.kind, g.level, g.parent_code, g.households,
                     g.population),
          "MultiPolygon", versioned=True),
    Layer("districts", District, District.code,
          (("code", "str"), ("name", "str"), ("squad_code", "str"), ("squad_name", "str")),
          lambda d: (d.code, d.name, d.squad_code, d.squad_name), "MultiPolygon"),
    Layer("zones", Zone, Zone.code, (("code", "str"), ("name", "str"), ("level", "int")),
          lambda z: (z.code, z.name, z.level), "MultiPolygon"),
    Layer("projects", Project, Project.code,
          (("code", "str"), ("name", "str"), ("status", "str"), ("department", "str")),
          lambda p: (p.code, p.name, p.status, p.department_code), "Unknown"),
    Layer("stations", Station, Station.code,
          (("code", "str"), ("name", "str"), ("grid_code", "str")),
          lambda s: (s.code, s.name, s.grid_code), "Point"),
    Layer("incidents", Incident, Incident.id, INCIDENT_COLUMNS, _incident, "Point",
          scoped=True),
)}
