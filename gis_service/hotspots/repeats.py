"""Repeat addresses: the same place reported again and again in one week — by the same
address once normalised, or by points within a few tens of metres (addresses are typed
differently for the same spot, or missing)."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from gis_service.hotspots.scan import Thresholds
from grid_layers.hotspots import repeat_groups

METRES_PER_DEGREE = 111_320.0
_NOISE = re.compile(r"[\s\W_]+")


class Namer(Protocol):
    """Names grids and categories for messages."""

    def grid(self, code: str | None) -> str: ...

    def category(self, code: str | None) -> str: ...


def normalised(address: str | None) -> str:
    """The address without width, case, spaces, punctuation or markup differences."""
    if not address:
        return ""
    text = unicodedata.normalize("NFKC", re.sub(r"<[^>]*>", "", address)).lower()
    return _NOISE.sub("", text)


def repeat_warnings(points: Sequence[Any], limits: Thresholds,
                    names: Namer) -> list[dict[str, Any]]:
    """Warnings for (id, lon, lat, address, category, grid3) rows of one week."""
    by_address: dict[str, list[int]] = defaultdict(list)
    for i, point in enumerate(points):
        key = normalised(point[3])
        if key:
            by_address[key].append(i)
    groups = [members for members in by_address.values()
              if len(members) >= limits.repeat_address]
    taken = {i for members in groups for i in members}
    rest = [i for i in range(len(points)) if i not in taken]
    if rest:
        lat0 = math.radians(float(np.mean([points[i][2] for i in rest])))
        xs = [points[i][1] * METRES_PER_DEGREE * math.cos(lat0) for i in rest]
        ys = [points[i][2] * METRES_PER_DEGREE for i in rest]
        groups += [[rest[j] for j in group] for group in repeat_groups(
            xs, ys, radius_m=limits.repeat_radius_m, min_count=limits.repeat_address)]
    return sorted((_warning([points[i] for i in group], limits, names) for group in groups),
                  key=lambda w: -w["count"])


def _warning(members: list[Any], limits: Thresholds, names: Namer) -> dict[str, Any]:
    addresses = Counter(m[3] for m in members if m[3])
    address = addresses.most_common(1)[0][0] if addresses else None
    grid = Counter(m[5] for m in members).most_common(1)[0][0]
    category = Counter(m[4] for m in members).most_common(1)[0][0]
    lon = float(np.mean([m[1] for m in members]))
    lat = float(np.mean([m[2] for m in members]))
    where = address or f"{names.grid(grid)}附近同一地点（{limits.repeat_radius_m:.0f}米内）"
    return {"kind": "repeat_address", "address": address, "grid": grid, "count": len(members),
            "expected": None, "ratio": None, "p": None,
            "incidents": sorted(int(m[0]) for m in members),
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "message": f"{where}本周重复上报{len(members)}起（多为{names.category(category)}类）"}
