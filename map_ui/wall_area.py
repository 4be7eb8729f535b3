"""Which part of the county the wall shows, and its layers cut to it: one town (a town
center's own, or the town a county viewer drilled into with `/?town=CODE`), or the county
with its towns' outlines. Works on the features the wall is given (no database here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import shape

Feature = dict[str, Any]


@dataclass(frozen=True)
class Town:
    """A town the wall can show, for the county's links."""

    code: str
    name: str


@dataclass(frozen=True)
class WallArea:
    """What the wall shows: a town (`town` set), or the county or every town (`town` None);
    `towns` are the towns a viewer may drill into (none for a town center)."""

    name: str
    town: str | None = None
    county: str | None = None
    towns: list[Town] = field(default_factory=list)

    @property
    def drilled(self) -> bool:
        """A county viewer looking at one of its towns (the page offers the way back)."""
        return self.town is not None and bool(self.towns)


def choose_area(grids: list[Feature], *, own_town: str | None, own_county: str | None,
                asked: str | None) -> WallArea | None:
    """The wall's area: a town center's own town; else the town asked for, if the viewer's
    county holds it; else the viewer's county (or the one county, or every town). None when
    the town asked for is not one the viewer may drill into."""
    props = {_code(g): g["properties"] for g in grids}
    counties = [c for c, p in props.items() if p.get("level") == 0]
    county = own_county if own_county in props else (counties[0] if len(counties) == 1
                                                      else None)
    towns = [Town(c, str(p.get("name"))) for c, p in props.items() if p.get("level") == 1
             and (county is None or p.get("parent_code") == county)]
    if own_town is not None and own_town in props:
        return WallArea(str(props[own_town].get("name")), town=own_town,
                        county=props[own_town].get("parent_code"))
    if asked is not None:
        chosen = next((t for t in towns if t.code == asked), None)
        if chosen is None:
            return None
        return WallArea(chosen.name, town=chosen.code, county=county, towns=towns)
    if len(towns) == 1:  # a county of one town, or a town alone: the town's own view
        return WallArea(towns[0].name, town=towns[0].code, county=county)
    if county is not None:
        return WallArea(str(props[county].get("name")), county=county, towns=towns)
    return WallArea("、".join(t.name for t in towns), towns=towns)


def area_grids(grids: list[Feature], area: WallArea) -> list[Feature]:
    """A town's grids (its outline, villages, grids and special grids), or at county scale
    the county, the towns' outlines and the county's own special grids."""
    if area.town is None:
        return [g for g in grids if g["properties"].get("level") in (0, 1)
                or (g["properties"].get("level") is None
                    and g["properties"].get("parent_code") in (area.county, None))]
    places = {_code(g): (g["properties"].get("level"), g["properties"].get("parent_code"))
              for g in grids}
    return [g for g in grids if _town_of(_code(g), places) == area.town]


def within(features: list[Feature], grids: list[Feature], area: WallArea) -> list[Feature]:
    """The features (districts, projects, stations) lying in the area's town: those a point
    on their surface falls in (all of them at county scale)."""
    if area.town is None:
        return features
    outline = next((g for g in grids if _code(g) == area.town), None)
    if outline is None or not outline.get("geometry"):
        return features
    town = shape(outline["geometry"])
    shapely.prepare(town)
    return [f for f in features if f.get("geometry")
            and town.contains(shape(f["geometry"]).point_on_surface())]


def _code(feature: Feature) -> str:
    return str(feature["properties"].get("code"))


def _town_of(code: str, places: dict[str, tuple[Any, str | None]]) -> str | None:
    """The town a grid belongs to: itself for a town, else the town up its parents (None for
    the county and what belongs to it alone)."""
    current: str | None = code
    for _ in range(5):  # grid, village, town: a longer chain is a loop
        if current is None or current not in places:
            return None
        level, parent = places[current]
        if level == 1:
            return current
        if level == 0:
            return None
        current = parent
    return None
