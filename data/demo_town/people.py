"""Departments, workers (AB posts), the responsibility list and the zone rules."""

from __future__ import annotations

import random
from dataclasses import dataclass

from shapely.geometry import Polygon

from demo_town.grids import District, TownGrids
from demo_town.names import person

DEPARTMENTS = (
    ("JD", "集成指挥中心"), ("ZF", "综合执法局"), ("HB", "生态环境办"), ("JS", "建设管理办"),
    ("NY", "农业农村办"), ("SL", "水利站"), ("SC", "市场监管所"), ("YJ", "应急管理办"),
    ("PCS", "派出所"), ("SH", "社会事业局"), ("ZR", "自然资源和规划所"),
)
WORKER_HEADER = ("code", "name", "role", "grid_code", "district_code", "department_code",
                 "backup_code", "on_duty")
DISPATCHERS = 5
STAFF_PER_DEPARTMENT = 2
OFF_DUTY_SHARE = 0.05


@dataclass(frozen=True)
class Category:
    """One row of the responsibility list."""

    code: str
    name: str
    handler: str  # grid, squad, department or town
    department: str
    cooperating: str  # ;-separated department codes and grid team roles (team:<role>)
    respond_hours: float
    resolve_hours: float


CATEGORIES = (
    Category("GARBAGE", "暴露垃圾", "grid", "", "", 2, 24),
    Category("MATERIAL", "乱堆物料", "grid", "", "", 4, 48),
    Category("FLOATING", "河道漂浮物", "grid", "", "SL", 4, 24),
    # a dispute brings in the grid's police group (1+1+N) beside the social affairs office
    Category("NEIGHBOUR", "邻里纠纷", "grid", "", "SH;team:police", 4, 72),
    Category("POSTER", "乱张贴乱涂写", "grid", "", "", 8, 48),
    Category("GREENERY", "绿地毁损", "grid", "", "JS", 8, 72),
    Category("STREET-VENDOR", "占道经营", "squad", "", "SC", 1, 12),
    Category("BUILDING", "违章搭建", "squad", "", "JS", 4, 72),
    Category("MUCK", "渣土撒漏", "squad", "", "JS", 2, 24),
    Category("STRAW-BURNING", "露天焚烧秸秆", "squad", "", "NY;HB", 0.5, 4),
    Category("NOISE", "噪声扰民", "squad", "", "HB", 1, 12),
    Category("FUME", "油烟污染", "squad", "", "HB", 4, 72),
    Category("BILLBOARD", "违规广告牌", "squad", "", "", 8, 72),
    Category("PARKING", "违章停车", "squad", "", "PCS", 1, 8),
    Category("ILLEGAL-FISHING", "非法捕捞（太湖禁捕）", "department", "NY", "ZF;PCS", 1, 24),
    Category("POLLUTION", "水体污染", "department", "HB", "SL", 2, 48),
    Category("ROAD-DAMAGE", "道路破损", "department", "JS", "", 8, 120),
    Category("STREETLIGHT", "路灯损坏", "department", "JS", "", 8, 72),
    Category("MANHOLE", "井盖缺失", "department", "JS", "", 1, 8),
    Category("FIRE-ACCESS", "消防通道堵塞", "department", "YJ", "PCS", 1, 12),
    Category("SAFETY-HAZARD", "安全生产隐患", "department", "YJ", "", 2, 48),
    Category("FOOD-SAFETY", "食品安全", "department", "SC", "", 2, 48),
    Category("ILLEGAL-LAND", "违法用地", "department", "ZR", "ZF", 8, 168),
    Category("SEWAGE", "污水外溢", "department", "SL", "JS", 2, 24),
    Category("FLOOD", "防汛险情", "town", "", "SL;YJ", 0.5, 6),
)

ZONE_RULES = (
    ("TAIHU-1", "1", "no", "POLLUTION;ILLEGAL-FISHING;BUILDING;STRAW-BURNING;SEWAGE", "2",
     "0.5", "HB", "太湖一级保护区"),
    ("TAIHU-2", "2", "no", "POLLUTION;BUILDING;SEWAGE", "1", "0.75", "HB", "太湖二级保护区"),
    ("KEY-PROJECT", "", "yes", "BUILDING;MUCK;SAFETY-HAZARD;NOISE", "1", "0.75", "",
     "重点工程区域"),
)


@dataclass(frozen=True)
class Worker:
    """One row of workers.csv."""

    code: str
    name: str
    role: str
    grid_code: str = ""
    district_code: str = ""
    department_code: str = ""
    backup_code: str = ""
    on_duty: str = "yes"

    def row(self) -> list[str]:
        """The CSV row."""
        return [self.code, self.name, self.role, self.grid_code, self.district_code,
                self.department_code, self.backup_code, self.on_duty]


def _pairs(codes: list[str]) -> dict[str, str]:
    """AB posts: 1↔2, 3↔4, …; an odd last one is backed by the first."""
    backup = {}
    for k in range(0, len(codes) - 1, 2):
        backup[codes[k]], backup[codes[k + 1]] = codes[k + 1], codes[k]
    if len(codes) % 2:
        backup[codes[-1]] = codes[0] if len(codes) > 1 else ""
    return backup


def _duty(rng: random.Random) -> str:
    return "no" if rng.random() < OFF_DUTY_SHARE else "yes"


def build_workers(rng: random.Random, grids: TownGrids, districts: list[District], *,
                  departments: tuple[tuple[str, str], ...] = DEPARTMENTS,
                  dispatchers: int = DISPATCHERS, dispatcher_prefix: str = "DP") -> list[Worker]:
    """Grid workers and heads (`GW-`/`GH-` and the grid's code less `QD-`), squads,
    dispatchers of the first department and staff of the others."""
    workers: list[Worker] = []
    for village in grids.villages:
        cells = grids.cells_of(village.code)
        codes = [f"GW-{c.code.removeprefix('QD-')}" for c in cells]
        backup = _pairs(codes)
        for cell, code in zip(cells, codes, strict=True):
            workers.append(Worker(code, person(rng), "grid_worker", grid_code=cell.code,
                                  backup_code=backup[code], on_duty=_duty(rng)))
    for village in grids.villages:
        workers.append(Worker(f"GH-{village.code.removeprefix('QD-')}", person(rng),
                              "grid_worker", grid_code=village.code))
    for district in districts:
        members = [f"{district.squad_code}-{k:02d}" for k in range(1, rng.randint(3, 5) + 1)]
        leader = f"{district.squad_code}-00"
        workers.append(Worker(leader, person(rng), "squad_leader",
                              district_code=district.code, backup_code=members[0]))
        backup = _pairs(members)
        for code in members:
            workers.append(Worker(code, person(rng), "squad_member", district_code=district.code,
                                  backup_code=backup[code], on_duty=_duty(rng)))
    center = [f"{dispatcher_prefix}-{k:02d}" for k in range(1, dispatchers + 1)]
    backup = _pairs(center)
    for code in center:
        workers.append(Worker(code, person(rng), "dispatcher", department_code=departments[0][0],
                              backup_code=backup[code], on_duty=_duty(rng)))
    for department, _ in departments[1:]:
        staff = [f"DS-{department}-{k}" for k in range(1, STAFF_PER_DEPARTMENT + 1)]
        backup = _pairs(staff)
        for code in staff:
            workers.append(Worker(code, person(rng), "department_staff",
                                  department_code=department, backup_code=backup[code],
                                  on_duty=_duty(rng)))
    return workers


def patrolled(grids: TownGrids, workers: list[Worker]) -> list[tuple[str, Polygon]]:
    """(worker code, grid) of who walks each level-3 grid: its grid worker, or the B post
    while that worker is away; their grid-app reports are theirs."""
    by_code = {w.code: w for w in workers}
    walks = []
    for cell in grids.cells:
        worker = next(w for w in workers if w.role == "grid_worker" and w.grid_code == cell.code)
        if worker.on_duty != "yes" and worker.backup_code in by_code:
            worker = by_code[worker.backup_code]
        walks.append((worker.code, cell.geometry))
    return walks


def category_rows() -> list[list[str]]:
    """responsibilities.csv rows."""
    return [[c.code, c.name, c.handler, c.department, c.cooperating, _hours(c.respond_hours),
             _hours(c.resolve_hours)] for c in CATEGORIES]


def _hours(value: float) -> str:
    return f"{value:g}"
