"""When reports come: how often each category is seen by each channel, by month and by hour.

Floods peak in the plum-rain and typhoon months (June–September), straw burning at the June
and October–November harvests, illegal fishing in Taihu's spring closed season (March–June),
garbage around the Spring Festival (17 February 2026), fumes and noise on summer evenings.
"""

from __future__ import annotations

import math
from datetime import date

from demo_town.people import CATEGORIES

BASE: dict[str, float] = {
    "GARBAGE": 14, "MATERIAL": 7, "FLOATING": 4, "NEIGHBOUR": 5, "POSTER": 3, "GREENERY": 2,
    "STREET-VENDOR": 8, "BUILDING": 5, "MUCK": 3, "STRAW-BURNING": 2.5, "NOISE": 5, "FUME": 3,
    "BILLBOARD": 2, "PARKING": 7, "ILLEGAL-FISHING": 2, "POLLUTION": 3, "ROAD-DAMAGE": 4,
    "STREETLIGHT": 3, "MANHOLE": 1.5, "FIRE-ACCESS": 2, "SAFETY-HAZARD": 2, "FOOD-SAFETY": 1.5,
    "ILLEGAL-LAND": 1, "SEWAGE": 2, "FLOOD": 1.5,
}
assert set(BASE) == {c.code for c in CATEGORIES}

# month weights, January first
MONTHS: dict[str, tuple[float, ...]] = {
    "FLOOD": (0.1, 0.1, 0.2, 0.3, 0.6, 3.0, 3.5, 2.5, 2.5, 0.5, 0.1, 0.1),
    "STRAW-BURNING": (0.2, 0.1, 0.2, 0.2, 0.8, 4.0, 1.0, 0.2, 0.5, 3.5, 3.0, 0.8),
    "ILLEGAL-FISHING": (0.4, 0.6, 3.0, 3.0, 3.0, 3.0, 0.8, 0.5, 0.5, 0.5, 0.4, 0.4),
    "FUME": (0.5, 0.5, 0.6, 0.8, 1.0, 1.6, 2.0, 2.0, 1.5, 1.0, 0.6, 0.5),
    "NOISE": (0.6, 0.7, 0.7, 0.9, 1.1, 1.5, 1.8, 1.8, 1.4, 1.0, 0.8, 0.6),
    "STREET-VENDOR": (0.8, 1.2, 1.0, 1.1, 1.2, 1.2, 1.1, 1.1, 1.1, 1.1, 0.9, 0.9),
    "FLOATING": (0.6, 0.6, 0.8, 1.0, 1.2, 1.5, 1.6, 1.5, 1.2, 0.9, 0.7, 0.6),
    "POLLUTION": (0.7, 0.7, 0.8, 1.0, 1.2, 1.3, 1.5, 1.5, 1.2, 0.9, 0.8, 0.7),
    "ROAD-DAMAGE": (0.8, 0.8, 0.9, 0.9, 1.0, 1.2, 1.4, 1.4, 1.2, 1.0, 0.9, 0.8),
    "MUCK": (0.7, 0.4, 1.0, 1.2, 1.2, 1.0, 0.9, 0.9, 1.1, 1.2, 1.2, 1.0),
}
SPRING_FESTIVAL = date(2026, 2, 17)
FESTIVAL_BOOST: dict[str, float] = {"GARBAGE": 2.5, "STREET-VENDOR": 1.0, "PARKING": 1.0,
                                    "NOISE": 0.6}

# how much more (or less) a channel sees a category than the base mix; 1 where not named
AFFINITY: dict[str, dict[str, float]] = {
    "hotline_12345": {"NOISE": 2, "FUME": 2, "NEIGHBOUR": 1.5, "STREETLIGHT": 1.5,
                      "ROAD-DAMAGE": 1.3, "FOOD-SAFETY": 2, "FLOATING": 0.5, "POSTER": 0.3,
                      "MATERIAL": 0.6, "GREENERY": 0.5},
    "mayor_mailbox": {"BUILDING": 2, "ILLEGAL-LAND": 2, "POLLUTION": 2, "ROAD-DAMAGE": 1.5,
                      "NEIGHBOUR": 1.5, "POSTER": 0.2, "FLOATING": 0.3},
    "grid_patrol": {"GARBAGE": 1.5, "MATERIAL": 2, "FLOATING": 2, "POSTER": 2, "GREENERY": 1.5,
                    "NOISE": 0.3, "FUME": 0.3, "FOOD-SAFETY": 0.2, "STRAW-BURNING": 1.5,
                    "FLOOD": 1.5, "STREET-VENDOR": 0.6, "PARKING": 0.5},
    "enforcement_patrol": {"STREET-VENDOR": 3, "BUILDING": 3, "MUCK": 3, "BILLBOARD": 3,
                           "PARKING": 2, "STRAW-BURNING": 2, "ILLEGAL-FISHING": 2, "FUME": 1,
                           "NOISE": 1, "*": 0.2},
    "video": {"STREET-VENDOR": 3, "PARKING": 3, "MUCK": 2, "GARBAGE": 1, "STRAW-BURNING": 1.5,
              "FLOATING": 1, "FIRE-ACCESS": 2, "ILLEGAL-FISHING": 1, "*": 0.1},
    "county_ticket": {"BUILDING": 2, "POLLUTION": 2, "ILLEGAL-LAND": 3, "NOISE": 1.5,
                      "POSTER": 0.2, "MATERIAL": 0.4},
    "open311": {"GARBAGE": 2, "ROAD-DAMAGE": 2, "STREETLIGHT": 2, "MANHOLE": 2, "PARKING": 2},
    "walk_in": {"NEIGHBOUR": 3, "BUILDING": 1.5, "ILLEGAL-LAND": 1.5, "POSTER": 0.2},
}

_DAY = (0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 1.5, 2.5, 3.0, 3.0, 2.5,
        1.5, 2.0, 2.8, 3.0, 2.8, 2.0, 1.5, 1.2, 1.0, 0.8, 0.5, 0.3)
_EVENING = (0.8, 0.4, 0.2, 0.1, 0.1, 0.1, 0.3, 0.6, 0.8, 0.8, 0.8, 1.0,
            1.2, 0.8, 0.8, 0.8, 0.9, 1.2, 2.0, 3.0, 3.5, 3.2, 2.2, 1.3)
_DUSK = (0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 0.8, 1.0, 1.2, 1.4, 1.5,
         1.6, 1.8, 2.0, 2.4, 2.8, 3.0, 3.0, 2.6, 2.0, 1.2, 0.8, 0.5)
_ROUND_CLOCK = (0.7, 0.6, 0.6, 0.6, 0.6, 0.7, 0.9, 1.1, 1.3, 1.3, 1.3, 1.2,
                1.1, 1.2, 1.3, 1.3, 1.3, 1.2, 1.1, 1.0, 1.0, 0.9, 0.8, 0.8)
_NIGHT_OWL = (1.5, 1.5, 1.5, 1.2, 0.8, 0.5, 0.4, 0.4, 0.5, 0.5, 0.5, 0.5,
              0.5, 0.5, 0.5, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 1.8, 1.8, 1.6)
HOURS: dict[str, tuple[float, ...]] = {
    "FUME": _EVENING, "NOISE": _EVENING, "STRAW-BURNING": _DUSK, "FLOOD": _ROUND_CLOCK,
    "ILLEGAL-FISHING": _NIGHT_OWL, "MUCK": _NIGHT_OWL}
_WORK = (0.02, 0.01, 0.01, 0.01, 0.01, 0.05, 0.3, 1.0, 1.0, 1.0, 1.0, 0.8,
         0.5, 0.8, 1.0, 1.0, 1.0, 0.8, 0.4, 0.2, 0.15, 0.1, 0.05, 0.03)
_ALWAYS = (1.0,) * 24
SOURCE_HOURS: dict[str, tuple[float, ...]] = {
    "grid_patrol": _WORK, "enforcement_patrol": _WORK, "walk_in": _WORK, "county_ticket": _WORK,
    "video": _ALWAYS}


def category_weights(source: str, day: date) -> list[float]:
    """Relative chance of each category (in CATEGORIES order) for a report on that day."""
    affinity = AFFINITY.get(source, {})
    default = affinity.get("*", 1.0)
    festival = math.exp(-(((day - SPRING_FESTIVAL).days / 9.0) ** 2))
    weights = []
    for category in CATEGORIES:
        code = category.code
        weight = BASE[code] * affinity.get(code, default)
        weight *= MONTHS.get(code, (1.0,) * 12)[day.month - 1]
        weight *= 1.0 + FESTIVAL_BOOST.get(code, 0.0) * festival
        weights.append(weight)
    return weights


def hour_weights(source: str, category: str) -> list[float]:
    """Relative chance of each hour of the day for a report."""
    shape = HOURS.get(category, _DAY)
    if source == "video":
        return [max(a, 0.4) for a in shape]
    gate = SOURCE_HOURS.get(source, _ALWAYS)
    return [a * b for a, b in zip(shape, gate, strict=True)]
