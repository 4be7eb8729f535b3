"""The three neighbour towns east of 七都: what each is called and holds, and their outlines,
cut from the real Wujiang boundary by hand-drawn lines.

The outlines are the district less 七都 (`difference` on the written precision grid, so their
west side is 七都's east edge with exactly its vertices), divided by lines that start at
vertices of 七都's edge (a line meeting that edge between its vertices would add a vertex 七都
lacks). Only the district's south and south-east boundary (the Zhejiang border) is real;
every other side is invented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from demo_town.common import GRID_SIZE
from demo_town.sites import Locale, Site
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

COUNTY_CODE = "WJ"
COUNTY_NAME = "吴江区（演示）"

# Hand-drawn lines (lon, lat). NORTH closes the county north of the towns, from 七都's
# corner vertex at (120.461, 30.998); SOUTH divides 震泽 and 平望 from 桃源, from 七都's
# south-east corner (120.462, 30.872); MIDDLE divides 震泽 from 平望, from a vertex of SOUTH;
# EAST closes the county in the east. Each runs past the district boundary or the line it
# ends on.
NORTH = ((120.461, 30.998), (120.478, 31.0005), (120.50, 31.003), (120.525, 31.0022),
         (120.55, 31.0065), (120.575, 31.008), (120.60, 31.009), (120.66, 31.012))
SOUTH = ((120.462, 30.872), (120.478, 30.8705), (120.50, 30.8745), (120.522, 30.8762),
         (120.545, 30.879), (120.565, 30.8835), (120.59, 30.8845), (120.62, 30.8872),
         (120.66, 30.89))
MIDDLE = ((120.545, 30.879), (120.5405, 30.902), (120.5385, 30.921), (120.5445, 30.943),
          (120.5482, 30.962), (120.5445, 30.985), (120.5462, 31.02))
EAST = ((120.635, 31.04), (120.6285, 30.99), (120.6305, 30.95), (120.6275, 30.91),
        (120.632, 30.885), (120.605, 30.864), (120.585, 30.84), (120.58, 30.80),
        (120.58, 30.70))


@dataclass(frozen=True)
class TownPlan:
    """One neighbour town: codes, names, where it lies and what it is made of."""

    code: str
    name: str
    login: str  # the pinyin its center's demo account is named by
    inside: tuple[float, float]  # a point inside the town, to pick its piece
    locale: Locale
    villages: tuple[str, ...]  # names, north-west first
    cells: int  # level-3 grids in all, 2–5 per village
    districts: tuple[str, ...]  # enforcement districts, north to south
    incidents: int  # a year of reports

    @property
    def stem(self) -> str:
        """The town's name without 镇 and the note (震泽)."""
        return self.locale.prefix.removesuffix("镇")


def _sites(stem: str, market: tuple[float, float], school: tuple[float, float],
           industrial: tuple[float, float], construction: tuple[float, float]) -> tuple[Site, ...]:
    return (Site("market", f"{stem}农贸市场", *market, 60.0),
            Site("school", f"{stem}中心小学", *school, 40.0),
            Site("industrial", f"{stem}工业园", *industrial, 220.0),
            Site("construction", f"{stem}安置房工地", *construction, 80.0))


# Village names are invented (none is meant to be a real village of these towns); no two
# share a stem with each other, with 七都's villages or with a road name.
TOWNS = (
    TownPlan(
        "ZZ", "震泽镇（演示）", "zhenze", (120.50, 30.93),
        Locale("震泽镇", (120.503, 30.918),
               _sites("震泽", (120.5008, 30.9195), (120.5065, 30.9155), (120.522, 30.945),
                      (120.488, 30.905)),
               ("桑田村", "蚕乡村"), None, "震泽大道",
               ((120.476, 30.921), (120.490, 30.919), (120.503, 30.918), (120.516, 30.917),
                (120.536, 30.916))),
        ("荻塘社区", "慈云社区", "宝塔村", "新乐村", "桑田村", "双阳村", "蚕乡村", "龙泉村",
         "众兴村", "永乐村", "齐力村", "花园村", "砥定村", "大船港村"),
        46, ("北片区", "南片区"), 3_000),
    TownPlan(
        "PW", "平望镇（演示）", "pingwang", (120.59, 30.95),
        Locale("平望镇", (120.595, 30.962),
               _sites("平望", (120.5935, 30.9635), (120.598, 30.959), (120.612, 30.925),
                      (120.575, 30.975)),
               ("草荡村",), None, "平望大道",
               ((120.551, 30.958), (120.570, 30.960), (120.595, 30.962), (120.612, 30.966),
                (120.626, 30.970))),
        ("莺湖社区", "运河社区", "通安社区", "草荡村", "新溪村", "联丰村", "南湖村", "金湾村",
         "长虹村", "秀湖村", "荷塘村", "双桥村", "前进村", "大龙港村", "雪湖村"),
        50, ("北片区", "南片区"), 3_200),
    TownPlan(
        "TY", "桃源镇（演示）", "taoyuan", (120.51, 30.83),
        Locale("桃源镇", (120.51, 30.838),
               _sites("桃源", (120.5085, 30.8395), (120.513, 30.8355), (120.54, 30.855),
                      (120.49, 30.825)),
               ("芦荡村", "白马村", "五福村"), None, "桃源大道",
               ((120.468, 30.845), (120.49, 30.842), (120.51, 30.838), (120.53, 30.836),
                (120.55, 30.84))),
        ("桃花社区", "青溪社区", "杏林村", "梧桐村", "仁和村", "安乐村", "五福村", "长桥村",
         "合心村", "石湾村", "金桥村", "芦荡村", "白马村"),
        42, ("全镇片区",), 2_800),
)


def cut_towns(district: BaseGeometry, qidu: Polygon) -> dict[str, Polygon]:
    """Each neighbour's outline (lon/lat, on the written precision grid), by town code."""
    rest = shapely.difference(district, qidu, grid_size=GRID_SIZE)
    lines = [shapely.boundary(rest), *(LineString(line) for line in (NORTH, SOUTH, MIDDLE, EAST))]
    noded = shapely.union_all(np.array(lines, dtype=object), grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    outlines = {}
    for plan in TOWNS:
        inside = Point(plan.inside)
        piece = next(f for f in faces if f.contains(inside))
        if not isinstance(piece, Polygon) or piece.interiors:
            raise SystemExit(f"{plan.code}: the cut is not one polygon without holes")
        outlines[plan.code] = shapely.orient_polygons(piece)
    return outlines
