"""The county's departments and its county–town responsibility list.

After Baoying's county–town list (matters with a primary and a cooperating party across county
departments and towns): a county-wide row for each of the demo's 25 categories, naming county
departments only; 七都's own list restated as its town's rows (they override the county-wide
rows in 七都, so 七都 is routed as before); a few rows of each neighbour naming its own
departments. One matter the county center keeps (`county`) where a town has no row of its own,
and rows where a county department is the primary and a town department cooperates.
"""

from __future__ import annotations

from demo_town.common import TOWN_CODE
from demo_town.people import CATEGORIES, DEPARTMENTS, Worker, category_rows

from demo_county.towns import TOWNS, TownPlan

DEPARTMENT_HEADER = ("code", "name", "tier", "town_code")
RESPONSIBILITY_HEADER = ("category_code", "category_name", "handler", "department_code",
                         "cooperating", "respond_hours", "resolve_hours", "town_code")

# (code, name, the town its staff are stationed in or ""): where the department works, as
# primary (水务局: sewage in 平望, 自然资源局: land in 桃源) or cooperating (公安: 震泽's parking)
COUNTY_DEPARTMENTS = (
    ("WJ-CGJ", "区城管局（综合行政执法局）", ""), ("WJ-STJ", "区生态环境局", ""),
    ("WJ-ZJJ", "区住房和城乡建设局", ""), ("WJ-SWJ", "区水务局", "PW"),
    ("WJ-GAJ", "区公安分局", "ZZ"), ("WJ-SJJ", "区市场监督管理局", ""),
    ("WJ-NYJ", "区农业农村局", ""), ("WJ-YJJ", "区应急管理局", ""),
    ("WJ-ZRJ", "区自然资源和规划局", "TY"), ("WJ-JTJ", "区交通运输局", ""),
)
# a neighbour's own bodies, after its code (ZZ-JD…); the first is its center
TOWN_DEPARTMENTS = (("JD", "集成指挥中心"), ("ZF", "综合执法局"), ("JS", "建设管理办"),
                    ("NY", "农业农村办"), ("SL", "水利站"), ("SH", "社会事业局"),
                    ("YJ", "应急管理办"))

# category -> (handler, department, cooperating) county-wide; hours stay the demo's
COUNTY_WIDE = {
    "GARBAGE": ("grid", "", ""), "MATERIAL": ("grid", "", ""),
    "FLOATING": ("grid", "", "WJ-SWJ"), "NEIGHBOUR": ("grid", "", ""),
    "POSTER": ("grid", "", ""), "GREENERY": ("grid", "", "WJ-ZJJ"),
    "STREET-VENDOR": ("squad", "", "WJ-SJJ"), "BUILDING": ("squad", "", "WJ-ZJJ"),
    "MUCK": ("squad", "", "WJ-ZJJ;WJ-JTJ"), "STRAW-BURNING": ("squad", "", "WJ-NYJ;WJ-STJ"),
    "NOISE": ("squad", "", "WJ-STJ"), "FUME": ("squad", "", "WJ-STJ"),
    "BILLBOARD": ("squad", "", "WJ-CGJ"), "PARKING": ("squad", "", "WJ-GAJ"),
    "ILLEGAL-FISHING": ("department", "WJ-NYJ", "WJ-GAJ"),
    "POLLUTION": ("department", "WJ-STJ", "WJ-SWJ"),
    "ROAD-DAMAGE": ("department", "WJ-JTJ", ""),
    "STREETLIGHT": ("department", "WJ-CGJ", ""),
    "MANHOLE": ("department", "WJ-ZJJ", "WJ-CGJ"),
    "FIRE-ACCESS": ("department", "WJ-YJJ", "WJ-GAJ"),
    "SAFETY-HAZARD": ("department", "WJ-YJJ", ""),
    "FOOD-SAFETY": ("department", "WJ-SJJ", ""),
    "ILLEGAL-LAND": ("county", "", "WJ-ZRJ;WJ-CGJ"),  # the county center keeps it
    "SEWAGE": ("department", "WJ-SWJ", "WJ-ZJJ"),
    "FLOOD": ("town", "", "WJ-SWJ;WJ-YJJ"),
}
# a neighbour's own rows, its departments written without the town's code (JS → ZZ-JS)
TOWN_ROWS = {
    "ZZ": {"ROAD-DAMAGE": ("department", "JS", ""),
           "SEWAGE": ("department", "SL", "WJ-SWJ"),
           "POLLUTION": ("department", "WJ-STJ", "SL"),  # county primary, town cooperating
           "NEIGHBOUR": ("grid", "", "SH")},
    "PW": {"STREETLIGHT": ("department", "JS", ""),
           "FIRE-ACCESS": ("department", "YJ", "WJ-GAJ"),
           "FLOOD": ("town", "", "SL;WJ-SWJ"),
           "ILLEGAL-FISHING": ("department", "WJ-NYJ", "NY;WJ-GAJ")},
    "TY": {"STRAW-BURNING": ("squad", "", "NY;WJ-STJ"),
           "MANHOLE": ("department", "JS", ""),
           "SAFETY-HAZARD": ("department", "YJ", ""),
           "ILLEGAL-LAND": ("department", "WJ-ZRJ", "ZF")},
}


def town_departments(plan: TownPlan) -> tuple[tuple[str, str], ...]:
    """A neighbour's departments, (code, name): ZZ-JD 震泽镇集成指挥中心, …"""
    return tuple((f"{plan.code}-{code}", f"{plan.locale.prefix}{name}")
                 for code, name in TOWN_DEPARTMENTS)


# the staff a county department stations in a town (two each, an AB pair), assessed by that
# town and the department (派驻人员考核); names fixed, so no draw moves the other files
STATIONED_NAMES = ("沈建国", "陆文静", "钱志强", "顾晓燕", "朱海峰", "吴丽萍")


def stationed_staff() -> list[Worker]:
    """workers.csv rows of the county departments' staff stationed in the towns."""
    stationed = [(code, town) for code, _, town in COUNTY_DEPARTMENTS if town]
    names = iter(STATIONED_NAMES)
    staff = []
    for code, _ in stationed:
        first, second = f"DS-{code}-1", f"DS-{code}-2"
        staff += [Worker(first, next(names), "department_staff", department_code=code,
                         backup_code=second),
                  Worker(second, next(names), "department_staff", department_code=code,
                         backup_code=first)]
    return staff


def department_rows() -> list[list[str]]:
    """departments.csv: the county's, 七都's restated (town tier, town QD), the neighbours'."""
    rows = [[code, name, "county", town] for code, name, town in COUNTY_DEPARTMENTS]
    rows += [[code, name, "town", TOWN_CODE] for code, name in DEPARTMENTS]
    for plan in TOWNS:
        rows += [[code, name, "town", plan.code] for code, name in town_departments(plan)]
    return rows


def _own(plan: TownPlan, codes: str) -> str:
    """A town row's department codes, its own written in full (JS → ZZ-JS)."""
    return ";".join(c if c.startswith("WJ-") else f"{plan.code}-{c}"
                    for c in codes.split(";") if c)


def responsibility_rows() -> list[list[str]]:
    """responsibilities.csv: county-wide rows, 七都's rows, each neighbour's rows."""
    hours = {c.code: c for c in CATEGORIES}
    rows = []
    for category in CATEGORIES:
        handler, department, cooperating = COUNTY_WIDE[category.code]
        rows.append([category.code, category.name, handler, department, cooperating,
                     f"{category.respond_hours:g}", f"{category.resolve_hours:g}", ""])
    rows += [[*row, TOWN_CODE] for row in category_rows()]
    for plan in TOWNS:
        for code, (handler, department, cooperating) in TOWN_ROWS[plan.code].items():
            category = hours[code]
            rows.append([code, category.name, handler, _own(plan, department),
                         _own(plan, cooperating), f"{category.respond_hours:g}",
                         f"{category.resolve_hours:g}", plan.code])
    return rows
