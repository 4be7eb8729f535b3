"""Putting an incident at a point: its coordinates and the code of every area it falls in."""

from __future__ import annotations

from gis_service.database import STORAGE_SRID
from gis_service.incidents.core.case import Placeable
from gis_service.locate.located import Located


def place(case: Placeable, lon: float, lat: float, located: Located) -> None:
    """Put the case at a point (storage coordinates) and copy where it falls."""
    case.lon, case.lat = lon, lat
    # EWKT text for an ORM flush (actions); intake's statement builds the point from lon/lat,
    # so this must stay cheap: a shapely point and its WKB cost a tenth of a millisecond
    case.geom = f"SRID={STORAGE_SRID};POINT({lon!r} {lat!r})"
    case.town_code, case.grid2_code = located.town, located.grid2
    case.grid3_code, case.district_code = located.grid3, located.district
    case.zone_codes, case.special_codes = list(located.zones), list(located.special)
