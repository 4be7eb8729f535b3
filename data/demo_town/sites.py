"""Named places of the demo town (lon/lat): the town seat, the hotspots and the special grids.

Chosen by hand inside the cut; the harbour and the scenic spot sit just inland of the shore.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely import affinity
from shapely.geometry import Point, Polygon

from demo_town.common import TOWN_PREFIX, to_lonlat, to_metric
from demo_town.names import GROUP_VILLAGES
from demo_town.town import Town

TOWN_SEAT = (120.4045, 30.9525)


@dataclass(frozen=True)
class Site:
    """A named place: where it is, and how far around it reports gather (metres)."""

    key: str
    name: str
    lon: float
    lat: float
    spread_m: float


HOTSPOTS = (
    Site("market", "七都农贸市场", 120.4018, 30.9548, 60.0),
    Site("harbour", "庙港渔港", 120.3913, 30.9609, 90.0),
    Site("industrial", "七都光电产业园", 120.4555, 30.9405, 250.0),
    Site("scenic", "湖滨公园", 120.4356, 30.9840, 120.0),
    Site("school", "七都中心小学", 120.4102, 30.9478, 40.0),
    Site("construction", "滨湖安置房工地", 120.4275, 30.9318, 80.0),
)


@dataclass(frozen=True)
class Locale:
    """What a town's addresses and reports are made of: what its addresses start with, its
    seat and hotspots, the villages numbered by 组, and its town roads (numbered across
    villages): the one along the lake shore, if any, and an avenue through the given stops."""

    prefix: str
    seat: tuple[float, float]
    hotspots: tuple[Site, ...]
    group_villages: tuple[str, ...]
    shore_road: str | None
    avenue: str
    avenue_stops: tuple[tuple[float, float], ...]

    @property
    def town_roads(self) -> tuple[str, ...]:
        """The roads numbered across villages (where the town's cameras watch)."""
        return (self.avenue, self.shore_road) if self.shore_road else (self.avenue,)


QIDU = Locale(TOWN_PREFIX, TOWN_SEAT, HOTSPOTS, GROUP_VILLAGES, "环湖大道", "七都大道",
              ((120.3913, 30.9609), (120.4018, 30.9548), TOWN_SEAT, (120.430, 30.9455),
               (120.4555, 30.9405), (120.4715, 30.9395)))


@dataclass(frozen=True)
class SpecialSite:
    """A special-purpose grid's code, name, kind and outline (lon/lat)."""

    code: str
    name: str
    kind: str
    outline: Polygon


def _rectangle(lon: float, lat: float, width_m: float, height_m: float,
               angle: float = 0.0) -> Polygon:
    """A rectangle around (lon, lat), drawn in metres, turned by `angle` degrees."""
    centre = to_metric(Point(lon, lat))
    assert isinstance(centre, Point)
    box = shapely.box(centre.x - width_m / 2, centre.y - height_m / 2,
                      centre.x + width_m / 2, centre.y + height_m / 2)
    turned = affinity.rotate(box, angle, origin=centre)
    result = to_lonlat(turned)
    assert isinstance(result, Polygon)
    return result


def _shore_belt(town: Town, width_m: float) -> Polygon:
    """The land within `width_m` of the shore (cut to the town later, by the faces)."""
    belt = to_lonlat(to_metric(town.shore).buffer(width_m, quad_segs=4))
    assert isinstance(belt, Polygon)
    return shapely.simplify(belt, 1e-6)


def special_sites(town: Town) -> list[SpecialSite]:
    """The special-purpose grids that overlay the village grids."""
    return [
        SpecialSite("QD-S01", "七都中心小学", "education",
                    _rectangle(120.4102, 30.9483, 220.0, 160.0, 12.0)),
        SpecialSite("QD-S02", "七都中学", "education",
                    _rectangle(120.3975, 30.9420, 300.0, 220.0, -8.0)),
        SpecialSite("QD-S03", "七都光电产业园", "industrial",
                    _rectangle(120.4560, 30.9400, 1_500.0, 1_100.0, 5.0)),
        SpecialSite("QD-S04", "太湖岸线生态带", "environment", _shore_belt(town, 500.0)),
        SpecialSite("QD-S05", "七都镇应急避难场所", "emergency",
                    _rectangle(120.4180, 30.9450, 260.0, 200.0, 0.0)),
        SpecialSite("QD-S06", "七都人民医院", "health",
                    _rectangle(120.4125, 30.9570, 180.0, 150.0, 20.0)),
        SpecialSite("QD-S07", "七都农贸市场", "market",
                    _rectangle(120.4018, 30.9548, 120.0, 90.0, 15.0)),
    ]
