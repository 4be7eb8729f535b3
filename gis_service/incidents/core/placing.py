"""Putting an incident at a point: its coordinates and the code of every area it falls in."""

from __future__ import annotations

from typing import Any

from gis_service.database import STORAGE_SRID
from gis_service.incidents.core.case import Placeable
from gis_service.locate.located import Located

# What the boundaries decide of an incident's place, as (field of `Located`, incident column):
# what re-attributing incidents to other boundaries rewrites — a plan's publication
# (plans/sql/reattribute.sql, held equal by a test), its sweep (plans/sweep.py) and
# `gis-service relocate`. Districts and zones have no versions: they stay as placed.
BOUNDARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("town", "town_code"), ("grid2", "grid2_code"), ("grid3", "grid3_code"),
    ("special", "special_codes"))


def boundary_codes(located: Located) -> dict[str, Any]:
    """The codes the boundaries give a place, by field (special grids as a sorted list)."""
    return {"town": located.town, "grid2": located.grid2, "grid3": located.grid3,
            "special": sorted(located.special)}


def place(case: Placeable, lon: float, lat: float, located: Located) -> None:
    """Put the case at a point (storage coordinates) and copy where it falls."""
    case.lon, case.lat = lon, lat
    # EWKT text for an ORM flush (actions); intake's statement builds the point from lon/lat,
    # so this must stay cheap: a shapely point and its WKB cost a tenth of a millisecond
    case.geom = f"SRID={STORAGE_SRID};POINT({lon!r} {lat!r})"
    case.town_code, case.grid2_code = located.town, located.grid2
    case.grid3_code, case.district_code = located.grid3, located.district
    case.zone_codes, case.special_codes = list(located.zones), list(located.special)
