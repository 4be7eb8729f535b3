"""Enforcement districts (three in the demo town), each a contiguous group of whole villages of
similar size."""

from __future__ import annotations

import shapely

from demo_town.common import TOWN_CODE
from demo_town.grids import District, Grid, TownGrids, single_polygon

NAMES = ("北片区", "中片区", "南片区")  # by latitude of the district's centre
SQUAD_NAMES = ("综合执法一中队", "综合执法二中队", "综合执法三中队")


def _neighbours(villages: list[Grid]) -> dict[int, dict[int, float]]:
    near: dict[int, dict[int, float]] = {i: {} for i in range(len(villages))}
    for i, a in enumerate(villages):
        for j in range(i + 1, len(villages)):
            shared = a.geometry.boundary.intersection(villages[j].geometry.boundary).length
            if shared > 0:
                near[i][j] = near[j][i] = shared
    return near


def _seeds(villages: list[Grid], squads: int) -> list[int]:
    """The northernmost village, then each time the one farthest from those chosen."""
    centres = [v.geometry.centroid for v in villages]
    chosen = [max(range(len(villages)), key=lambda i: (centres[i].y, -i))]
    while len(chosen) < squads:
        chosen.append(max((i for i in range(len(villages)) if i not in chosen),
                          key=lambda i: (min(centres[i].distance(centres[c]) for c in chosen), -i)))
    return chosen


def _grow(villages: list[Grid], squads: int) -> list[list[int]]:
    """Grow the districts from their seeds: the one with the fewest households takes the
    unassigned neighbour it borders most, until every village is taken."""
    near = _neighbours(villages)
    groups = [[s] for s in _seeds(villages, squads)]
    taken = {s for g in groups for s in g}
    while len(taken) < len(villages):
        for group in sorted(groups, key=lambda g: (sum(villages[i].households or 0 for i in g),
                                                   g[0])):
            border: dict[int, float] = {}
            for i in group:
                for j, length in near[i].items():
                    if j not in taken:
                        border[j] = border.get(j, 0.0) + length
            if border:
                pick = max(border, key=lambda j: (border[j], -j))
                group.append(pick)
                taken.add(pick)
                break
    return groups


def build_districts(grids: TownGrids, *, town_code: str = TOWN_CODE,
                    names: tuple[str, ...] = NAMES, squad_names: tuple[str, ...] = SQUAD_NAMES,
                    squad_prefix: str = "SQ") -> list[District]:
    """One district per name (`TOWN-ZF-n`, squad `SQ-n`), numbered north to south, each the
    union of its villages."""
    groups = _grow(grids.villages, len(names))
    shapes = [shapely.union_all([grids.villages[i].geometry for i in g]) for g in groups]
    order = sorted(range(len(names)), key=lambda k: -shapes[k].centroid.y)
    districts = []
    for number, k in enumerate(order, start=1):
        codes = sorted(grids.villages[i].code for i in groups[k])
        districts.append(District(f"{town_code}-ZF-{number}", names[number - 1],
                                  f"{squad_prefix}-{number}", squad_names[number - 1], codes,
                                  single_polygon(shapes[k])))
    return districts
