"""The words a town's planner reads for the geometry core's findings: grid levels and GEOS's
invalidity reasons in Chinese. Problem and refusal messages are built from these (the type
codes such as `overlap` stay English: they are the API's contract)."""

from __future__ import annotations

import re

from grid_layers.crs import inside_china

LEVEL_NAMES = {0: "县级网格", 1: "一级网格（镇）", 2: "二级网格", 3: "三级网格"}
# grid kinds (the import's `kind` column); others are shown as written
KIND_NAMES = {"comprehensive": "综合网格", "emergency": "应急", "environment": "环保",
              "education": "教育", "industrial": "工业园区", "hospital": "医疗",
              "market": "市场", "scenic": "景区"}

# GEOS TopologyValidationError messages (shapely.is_valid_reason), in words
GEOS_REASONS = {
    "Topology Validation Error": "拓扑错误",
    "Repeated Point": "重复的点",
    "Hole lies outside shell": "内环位于外环之外",
    "Holes are nested": "内环相互嵌套",
    "Interior is disconnected": "内部被分割成不相连的几块",
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "环自相交",
    "Nested shells": "外环相互嵌套",
    "Duplicate Rings": "重复的环",
    "Too few distinct points in geometry component": "构成部分的点太少",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
}
_REASON = re.compile(r"^(.*?)\[\s*(\S+)\s+(\S+)\s*\]")


def level_name(level: int | None) -> str:
    """A grid level in words ("三级网格")."""
    if level is None:
        return "专属网格"
    return LEVEL_NAMES.get(level, f"{level}级网格")


def kind_name(kind: str) -> str:
    """A grid kind in words ("应急"), or as written when it has none."""
    return KIND_NAMES.get(kind, kind)


def invalid_because(reason: str) -> tuple[str, tuple[float, float] | None]:
    """GEOS's invalidity reason in words, with the place (lon, lat) it names, if any."""
    match = _REASON.match(reason)
    if match is None:
        return GEOS_REASONS.get(reason.strip(), reason), None
    where = (float(match[2]), float(match[3]))
    words = GEOS_REASONS.get(match[1].strip(), match[1].strip())
    return f"{words}，位于 ({where[0]:.6f}, {where[1]:.6f})", where


def swapped_coordinates(lon: float, lat: float) -> str | None:
    """The hint for a point that lies outside China's box while (lat, lon) lies inside it
    (latitude sent as longitude and the other way round), else None."""
    if inside_china(lon, lat) or not inside_china(lat, lon):
        return None
    return f"经纬度可能写反了：lon={lon}, lat={lat}"
