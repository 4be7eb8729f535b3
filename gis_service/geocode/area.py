"""Where this deployment serves: the administrative names an address may open with and still
be placed here, and why an address is refused when it names another place.

A hotline address often opens with its province … town (江苏省苏州市吴江区松陵镇…). The
gazetteer holds this deployment's towns only, so an address of another town still finds its
road's namesake here (环湖大道 runs through several towns of 吴江区) — with full confidence,
had the geocoder forgotten the names it cut off. It does not: an address naming a province,
city, county/district or town that is not this deployment's is refused, with the candidates
for a person to judge (the caller may have misspoken), and a town that is this deployment's
but not the one the matched point lies in lowers that match below any sensible threshold.

The towns are the level-1 grids (their names may carry a note such as "（演示）": names are
compared by their stem, without it and without the 省/市/区/县/镇… suffix, so 吴江市 is 吴江区
and 七都 is 七都镇（演示）). The names above the towns come from the setting
`GIS_SERVICE_AREA_NAMES` (the grids importer takes no level-0 county grid). A deployment with
no towns stored judges no town names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from gis_service.config import Settings
from gis_service.geocode.normalize import AdminName
from gis_service.locate.snapshot import LocatorSnapshot

# The demo's county and what lies above it, and its development zones (which open addresses
# there): the setting's default, for callers given no settings (tests, benchmarks).
DEFAULT_AREA_NAMES: str = Settings.model_fields["service_area_names"].default

# Longest first; a suffix is taken off only when two characters remain (沙县 stays 沙县).
STEM_SUFFIXES = ("自治区", "自治州", "自治县", "街道",
                 "省", "市", "区", "县", "旗", "盟", "镇", "乡")
NOTE = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")  # 七都镇（演示）, 七都镇(测试)

TownAt = Callable[[float, float], str | None]


def without_note(name: str) -> str:
    """A name without its bracketed note: 七都镇（演示） → 七都镇."""
    return NOTE.sub("", name).strip()


def admin_stem(name: str) -> str:
    """A place name as compared: no note, no administrative suffix (吴江区 → 吴江)."""
    name = without_note(name)
    for suffix in STEM_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def area_names(setting: str) -> tuple[str, ...]:
    """The names of a comma-separated setting (also 、 or ，), blanks dropped."""
    return tuple(n.strip() for n in re.split("[,，、]", setting) if n.strip())


@dataclass(frozen=True)
class ServiceArea:
    """The names this deployment answers for: `regions` above the towns (province, city,
    county, development zones) and its `towns`; `town_at` names the town a point lies in."""

    regions: tuple[str, ...]
    towns: tuple[str, ...]
    town_at: TownAt | None = field(default=None, compare=False)

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The names an address of this deployment may open with, as the parser strips them."""
        names = (*self.regions, *(without_note(t) for t in self.towns))
        return tuple(dict.fromkeys(n for n in names if n))

    def foreign(self, named: tuple[AdminName, ...]) -> AdminName | None:
        """The first name that is not this deployment's: a town none of its towns, a region
        none of its regions (nor towns); None when every name is its own. A name that opens
        with one of its own is its own too (七都古镇 is in 七都镇)."""
        towns = tuple(admin_stem(t) for t in self.towns)
        regions = (*(admin_stem(r) for r in self.regions), *towns)
        for name in named:
            if name.town and towns and not _is_one_of(name.name, towns):
                return name
            if not name.town and not _is_one_of(name.name, regions):
                return name
        return None

    def named_town(self, named: tuple[AdminName, ...]) -> AdminName | None:
        """The town the address names, when it names one of several towns (with a single
        town, naming it says nothing about where in it)."""
        if len(self.towns) < 2 or self.town_at is None:
            return None
        return next((n for n in named if n.town), None)

    def other_town(self, town: AdminName, lon: float, lat: float) -> str | None:
        """The name of the town a point lies in, when that is not `town` (None: the same town,
        or outside every town)."""
        found = self.town_at(lon, lat) if self.town_at else None
        if found is None or admin_stem(found) == admin_stem(town.name):
            return None
        return without_note(found)


def _is_one_of(name: str, stems: tuple[str, ...]) -> bool:
    """Whether a name is, or opens with, one of the stems."""
    stem = admin_stem(name)
    return any(stem == own or (len(own) >= 2 and stem.startswith(own)) for own in stems)


def service_area(snapshot: LocatorSnapshot | None, regions: tuple[str, ...]) -> ServiceArea:
    """The area of a locator snapshot's towns (its level-1 grids) under `regions`."""
    if snapshot is None:
        return ServiceArea(regions, ())
    towns = snapshot.by_code["town"]

    def town_at(lon: float, lat: float) -> str | None:
        info = towns.get(snapshot.town_layer.locate_point(lon, lat))
        return str(info["name"]) if info else None

    return ServiceArea(regions, tuple(str(info["name"]) for info in towns.values()), town_at)


def outside_reason(name: AdminName) -> str:
    """Why an address naming another place is not placed, as an operator reads it."""
    return f"地址中的{name.name}不在本系统辖区"


def other_town_reason(named: str, found: str) -> str:
    """Why a match in another of this deployment's towns is not placed."""
    return f"地址中的{named}与匹配地点所在的{found}不符"
