"""Named places (POIs) and the 26 village service stations, each beside a house of its village."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import Point, Polygon

from demo_town.addresses import Address, VillageArea, village_areas, with_lonlat
from demo_town.common import feature, to_metric
from demo_town.grids import TownGrids
from demo_town.names import FACTORIES, TOWN_POIS, VILLAGE_POI_KINDS, committee, short_names
from demo_town.sites import HOTSPOTS, TOWN_SEAT

STATIONS = 26


@dataclass(frozen=True)
class Station:
    """A village service station (点位)."""

    code: str
    name: str
    grid_code: str
    lon: float
    lat: float

    def feature(self) -> dict[str, Any]:
        """The GeoJSON point feature."""
        return feature(Point(self.lon, self.lat),
                       {"code": self.code, "name": self.name, "grid_code": self.grid_code})


def _beside(rng: random.Random, house: Address, area: VillageArea, name: str) -> Address | None:
    """A POI 12–25 m from a house, in the same village; None when that falls outside."""
    for _ in range(8):
        angle, distance = rng.uniform(0, 2 * math.pi), rng.uniform(12.0, 25.0)
        x, y = house.x + distance * math.cos(angle), house.y + distance * math.sin(angle)
        if area.holds(x, y):
            return Address(f"{house.address}{name}", house.village, house.road, house.number,
                           name, x, y)
    return None


def _nearest(houses: list[Address], x: float, y: float) -> Address:
    return min(houses, key=lambda h: ((h.x - x) ** 2 + (h.y - y) ** 2, h.address))


def _central(houses: list[Address], area: VillageArea) -> Address:
    """The house nearest the village's inner point: where its office stands."""
    centre = shapely.point_on_surface(area.inner)
    return _nearest(houses, centre.x, centre.y)


def _site_xy(key: str) -> tuple[float, float]:
    if key == "seat":
        lon, lat = TOWN_SEAT
    else:
        site = next(s for s in HOTSPOTS if s.key == key)
        lon, lat = site.lon, site.lat
    point = to_metric(Point(lon, lat))
    assert isinstance(point, Point)
    return point.x, point.y


class _Placer:
    """Places POIs beside houses, village by village."""

    def __init__(self, rng: random.Random, houses: list[Address], grids: TownGrids) -> None:
        self.rng = rng
        self.areas = {a.grid.name: a for a in village_areas(grids)}
        self.by_village: dict[str, list[Address]] = {}
        for house in houses:
            if "-" not in house.number:
                self.by_village.setdefault(house.village, []).append(house)
        self.pois: list[Address] = []
        self.used: set[str] = set()  # one POI per house

    def free(self, village: str) -> list[Address]:
        """The houses of a village without a POI yet."""
        return [h for h in self.by_village[village] if h.address not in self.used]

    def near(self, name: str, x: float, y: float) -> Address | None:
        """A POI beside the free house nearest (x, y) in the village holding (x, y)."""
        area = next((a for a in self.areas.values() if a.holds(x, y)), None)
        if area is None or area.grid.name not in self.by_village:
            return None
        return self.at(name, _nearest(self.free(area.grid.name), x, y))

    def at(self, name: str, house: Address) -> Address | None:
        """A POI beside the given house."""
        poi = _beside(self.rng, house, self.areas[house.village], name)
        if poi is not None:
            self.pois.append(poi)
            self.used.add(house.address)
        return poi


def build_pois(rng: random.Random, houses: list[Address],
               grids: TownGrids) -> tuple[list[Address], list[Station]]:
    """About a hundred POIs and the 26 stations."""
    placer = _Placer(rng, houses, grids)
    for site in HOTSPOTS:
        placer.near(site.name, *_site_xy(site.key))
    specials = {g.name: g for g in grids.specials}
    for name, key in TOWN_POIS:
        if name in specials:  # the named special grid: beside the house nearest its middle
            middle = to_metric(specials[name].geometry.centroid)
            assert isinstance(middle, Point)
            placer.near(name, middle.x, middle.y)
        else:
            x, y = _site_xy(key)
            placer.near(name, x + rng.uniform(-400, 400), y + rng.uniform(-400, 400))
    park = next(g.geometry for g in grids.specials if g.kind == "industrial")
    _factories(rng, placer, park)
    stations = _villages(rng, placer, grids)
    return with_lonlat(placer.pois), stations


def _factories(rng: random.Random, placer: _Placer, park: Polygon) -> None:
    """Factories beside houses inside the industrial park."""
    park_m = to_metric(park)
    inside = [h for village in placer.by_village for h in placer.free(village)
              if park_m.contains(Point(h.x, h.y))]
    for name in FACTORIES:
        if inside:
            placer.at(name, inside.pop(rng.randrange(len(inside))))


def _villages(rng: random.Random, placer: _Placer, grids: TownGrids) -> list[Station]:
    """Each village's office, clinic, service station(s) and a few shops."""
    twice = {g.code for g in sorted(grids.villages, key=lambda g: (-(g.households or 0),
                                                                    g.code))[:STATIONS - 18]}
    stations: list[Station] = []
    short = short_names([g.name for g in grids.villages])
    for grid in grids.villages:
        village = grid.name
        houses = placer.free(village)
        office = _central(houses, placer.areas[village])
        placer.at(committee(village), office)
        placer.at(f"{short[village]}卫生室", rng.choice(placer.free(village)))
        names = [f"{village}便民服务站"]
        if grid.code in twice:
            names.append(f"{village}第二便民服务站")
        spots = [office, max(houses, key=lambda h: ((h.x - office.x) ** 2
                                                    + (h.y - office.y) ** 2, h.address))]
        for name, house in zip(names, spots, strict=False):
            poi = placer.at(name, house)
            if poi is not None:
                stations.append(Station("", name, grid.code, poi.x, poi.y))
        for kind in rng.sample(VILLAGE_POI_KINDS, 2):
            placer.at(f"{short[village]}{kind}", rng.choice(placer.free(village)))
    return _numbered(stations)


def _numbered(stations: list[Station]) -> list[Station]:
    rows = with_lonlat([Address("", "", "", "", s.name, s.lon, s.lat) for s in stations])
    return [Station(f"ST-{k:02d}", s.name, s.grid_code, r.lon, r.lat)
            for k, (s, r) in enumerate(zip(stations, rows, strict=True), start=1)]
