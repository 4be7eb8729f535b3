"""Repeat addresses: the same place reported again and again in one week — by the same
address once normalised, or by points within a few tens of metres (addresses are typed
differently for the same spot, or missing). The warning names the place by the address point
nearest the group's centre, else by its grid: never by the callers' words."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from gis_service.hotspots.scan import Thresholds
from grid_layers.hotspots import repeat_groups as near_groups

METRES_PER_DEGREE = 111_320.0
_NOISE = re.compile(r"[\s\W_]+")


# an address point this near a group's centre names the place; beyond it, the grid does
PLACE_RADIUS_M = 100.0


class Namer(Protocol):
    """Names grids and categories for messages."""

    def grid(self, code: str | None) -> str: ...

    def category(self, code: str | None) -> str: ...


@dataclass(frozen=True)
class RepeatGroup:
    """Reports of one week at one place: the rows, their centre, and whether they were
    grouped by their address text (else by being within the radius of each other)."""

    members: tuple[Any, ...]
    lon: float
    lat: float
    by_address: bool


def normalised(address: str | None) -> str:
    """The address without width, case, spaces, punctuation or markup differences."""
    if not address:
        return ""
    text = unicodedata.normalize("NFKC", re.sub(r"<[^>]*>", "", address)).lower()
    return _NOISE.sub("", text)


def repeat_groups(points: Sequence[Any], limits: Thresholds) -> list[RepeatGroup]:
    """Groups of (id, lon, lat, address, category, grid3) rows of one week, largest first."""
    by_address: dict[str, list[int]] = defaultdict(list)
    for i, point in enumerate(points):
        key = normalised(point[3])
        if key:
            by_address[key].append(i)
    groups = [(members, True) for members in by_address.values()
              if len(members) >= limits.repeat_address]
    taken = {i for members, _ in groups for i in members}
    rest = [i for i in range(len(points)) if i not in taken]
    if rest:
        lat0 = math.radians(float(np.mean([points[i][2] for i in rest])))
        xs = [points[i][1] * METRES_PER_DEGREE * math.cos(lat0) for i in rest]
        ys = [points[i][2] * METRES_PER_DEGREE for i in rest]
        groups += [([rest[j] for j in group], False) for group in near_groups(
            xs, ys, radius_m=limits.repeat_radius_m, min_count=limits.repeat_address)]
    made = [RepeatGroup(tuple(points[i] for i in members),
                        float(np.mean([points[i][1] for i in members])),
                        float(np.mean([points[i][2] for i in members])), by_text)
            for members, by_text in groups]
    return sorted(made, key=lambda g: -len(g.members))


def repeat_warnings(groups: Sequence[RepeatGroup], places: Sequence[str | None],
                    limits: Thresholds, names: Namer) -> list[dict[str, Any]]:
    """A warning per group; `places` holds the matched address near each group's centre
    (None where there is none). The callers' own words never name the place: they may say
    "我家住在…" or carry a name and a phone number."""
    return [_warning(group, place, limits, names)
            for group, place in zip(groups, places, strict=True)]


def _warning(group: RepeatGroup, place: str | None, limits: Thresholds,
             names: Namer) -> dict[str, Any]:
    members = group.members
    grid = Counter(m[5] for m in members).most_common(1)[0][0]
    category = Counter(m[4] for m in members).most_common(1)[0][0]
    if place is not None:
        where = f"{place}附近"
    elif group.by_address:
        where = f"{names.grid(grid)}同一地址"
    else:
        where = f"{names.grid(grid)}附近同一地点（{limits.repeat_radius_m:.0f}米内）"
    return {"kind": "repeat_address", "address": place, "grid": grid, "count": len(members),
            "expected": None, "ratio": None, "p": None,
            "incidents": sorted(int(m[0]) for m in members),
            "geometry": {"type": "Point", "coordinates": [group.lon, group.lat]},
            "message": f"{where}本周重复上报{len(members)}起（多为{names.category(category)}类）"}
