"""A synthetic gazetteer near Taihu and a labelled set of messy hotline queries for the geocoder.

    build_gazetteer(seed)          6,000–7,500 address points: 12 villages (10 with 5–10
                                   named roads, 2 numbered by 组; one named like the town,
                                   七都社区, one like the lake, 太湖村), house numbers on both
                                   sides of each road, a few sub-numbers (18-1号), village and
                                   town POIs
    build_queries(points, seed)    ~850 queries derived from known points, each labelled with
                                   the level it should be placed at and the true coordinates

`QueryMaker` roughs up known points into queries of each kind; `bench/geocode_demo_set.py`
uses it on the demo town's gazetteer.

Everything is drawn from one seeded generator, so a seed always gives the same set.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass

from rapidfuzz import fuzz

LON0, LAT0 = 120.45, 30.95
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))
HOUSE_SPACING_M = 12.0
SIDE_OFFSET_M = 10.0

ROAD_VILLAGES = ("开弦弓村", "东庙桥村", "群幸村", "联强村", "吴溇村", "望湖村", "庙港社区",
                 "浦江源社区", "七都社区", "太湖村")
GROUP_VILLAGES = ("沧浦村", "丰民村")  # rural addressing: 村 + N组 + N号
ROAD_NAMES = (
    "南环路", "北环路", "太湖路", "港口路", "新民路", "兴业路", "庙前街", "渔港路", "蚕桑路",
    "丝绸路", "育才路", "胜利路", "和平街", "长漾路", "洋溪路", "临湖路", "沿河路", "桑园巷",
    "望湖路", "吴溇街", "浦江路", "东风路", "建设路", "人民路", "振兴路", "富民路", "创业路",
    "文化路", "学府路", "工业路", "环湖大道", "太湖大道", "七都大道", "湖滨路", "清风路", "明月路",
    "荷花路", "梅园路", "竹园路", "茶园路", "金港路", "银杏路", "枫桥路", "双塘路", "庄前路",
    "西河街", "东河街", "中山路", "光明路", "青云路", "瑞丰路", "永安路", "同心路", "友谊路",
    "翠湖路", "长春路", "联谊路", "新港路", "丰收路", "向阳路", "秀水路", "稻香路", "思贤路",
    "锦绣路", "朝阳路", "桃源路", "碧波路", "嘉禾路", "观澜路", "虹桥路", "杏花路", "柳堤路",
    "石桥路", "横港路", "溇港路", "渡口路", "港湾路", "月湾路", "景湖路", "云湖路", "乐业路",
    "惠民路", "致富路", "康宁路", "育英路", "书院路", "迎春路", "平安路",
)
SHARED_ROADS = ("幸福路", "村前路", "中心街")  # each in two or three villages: ambiguous alone
POI_KINDS = ("小学", "卫生室", "菜市场", "超市", "码头", "加油站", "幼儿园")
# Town POIs open with the town's or the lake's name, which 七都社区 and 太湖村 also bear; none
# of them stands in those two villages.
TOWN_POIS = ("七都中心小学", "七都汽车站", "七都人民医院", "太湖渔港码头", "七都文体中心",
             "七都农贸市场", "太湖线缆厂", "七都物流中心")
# POIs named without any village's name; callers put an area before them (太湖湖滨公园).
PLAIN_POIS = ("湖滨公园", "文化广场", "湿地公园")
AREA_WORDS = ("太湖", "七都")
# Characters a typist or a speech engine puts in place of another in a road name.
TYPO_CHARS = "还环湖护户港岗民明兴星业叶桑丧河合和荷风峰园元源塘堂庄装青清前钱新心金今洋阳"
PREFIXES = ("", "", "七都镇", "吴江区七都镇", "苏州市吴江区七都镇", "江苏省苏州市吴江区七都镇",
            "苏州市七都镇")
# The same levels without 省/市/区/镇, as callers often drop them.
BARE_PREFIXES = ("江苏苏州吴江七都镇", "苏州吴江", "江苏苏州吴江", "苏州吴江七都", "吴江七都",
                 "江苏吴江七都镇", "七都", "苏州七都")
BEFORE = ("", "", "", "我家在", "市民反映", "地址：", "在")
AFTER = ("", "", "门口", "附近", "旁边有垃圾", "对面占道经营", "噪音扰民", "门口有人乱扔垃圾",
         "路边积水", "东侧违章搭建")
DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class AddressPoint:
    """One gazetteer row, as the `addresses` import takes it."""

    address: str
    lon: float
    lat: float
    village: str
    road: str | None
    number: str | None
    poi: str | None


@dataclass(frozen=True)
class Query:
    """A messy query, the level it should be placed at ("none": not at all), and the truth."""

    query: str
    kind: str
    level: str
    lon: float
    lat: float
    village: str
    road: str | None


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    return lon + east_m / M_PER_DEG_LON, lat + north_m / M_PER_DEG_LAT


def _road_points(rng: random.Random, village: str, road: str, centre: tuple[float, float],
                 count: int) -> list[AddressPoint]:
    """Numbers 1..count along a road with one bend: odd on the left, even on the right."""
    start = _offset(*centre, rng.uniform(-500, 500), rng.uniform(-500, 500))
    heading = rng.uniform(0, 2 * math.pi)
    bend = rng.uniform(-0.7, 0.7)
    points = []
    for number in range(1, count + 1):
        along = ((number + 1) // 2) * HOUSE_SPACING_M
        half = count // 2 * HOUSE_SPACING_M / 2
        angle = heading if along < half else heading + bend
        # walk to the bend, then on in the new direction
        first = min(along, half)
        east = first * math.cos(heading) + (along - first) * math.cos(angle)
        north = first * math.sin(heading) + (along - first) * math.sin(angle)
        side = SIDE_OFFSET_M if number % 2 else -SIDE_OFFSET_M
        east -= side * math.sin(angle)
        north += side * math.cos(angle)
        lon, lat = _offset(*start, east, north)
        points.append(AddressPoint(f"{village}{road}{number}号", lon, lat, village, road,
                                   f"{number}号", None))
        if rng.random() < 0.03:  # a house split into 18-1号 and 18-2号 behind it
            for sub in (1, 2):
                back = _offset(lon, lat, -4.0 * sub * math.sin(angle), 4.0 * sub * math.cos(angle))
                points.append(AddressPoint(f"{village}{road}{number}-{sub}号", *back, village,
                                           road, f"{number}-{sub}号", None))
    return points


def build_gazetteer(seed: int = 7) -> list[AddressPoint]:
    """About 5,000 address points and POIs of 10 villages around (120.45, 30.95)."""
    rng = random.Random(seed)
    names = list(ROAD_NAMES)
    rng.shuffle(names)
    shared = {v: [r for i, r in enumerate(SHARED_ROADS) if (i + k) % 3 != 0]
              for k, v in enumerate(ROAD_VILLAGES[:5])}
    points: list[AddressPoint] = []
    villages = ROAD_VILLAGES + GROUP_VILLAGES
    for index, village in enumerate(villages):
        centre = _offset(LON0, LAT0, (index % 5 - 2) * 1800.0, (index // 5 - 0.5) * 1800.0)
        if village in GROUP_VILLAGES:
            roads = [f"{g}组" for g in range(1, rng.randint(6, 9))]
        else:
            own = [names.pop() for _ in range(rng.randint(5, 10) - len(shared.get(village, [])))]
            roads = own + shared.get(village, [])
        for road in roads:
            count = rng.randint(30, 50) if road.endswith("组") else rng.randint(60, 100)
            points += _road_points(rng, village, road, centre, count)
    return points + _pois(rng, points)


def _pois(rng: random.Random, points: list[AddressPoint]) -> list[AddressPoint]:
    """Three POIs per village and a few of the town, each within 15 m of a house."""
    by_village: dict[str, list[AddressPoint]] = defaultdict(list)
    for point in points:
        by_village[point.village].append(point)
    pois = []
    for village, houses in by_village.items():
        stem = village.removesuffix("社区").removesuffix("村")
        names = [f"{stem}{kind}" for kind in rng.sample(POI_KINDS, 3)]
        names += TOWN_POIS[:1] if village == "开弦弓村" else []
        names += [p for i, p in enumerate(TOWN_POIS[1:]) if ROAD_VILLAGES[i + 1] == village]
        names += [p for i, p in enumerate(PLAIN_POIS) if ROAD_VILLAGES[2 * i + 1] == village]
        for name in names:
            house = rng.choice(houses)
            lon, lat = _offset(house.lon, house.lat, rng.uniform(-15, 15), rng.uniform(-15, 15))
            pois.append(AddressPoint(f"{village}{house.road}{name}", lon, lat, village,
                                     house.road, None, name))
    return pois


def chinese_number(n: int, rng: random.Random) -> str:
    """18 → 十八, 103 → 一百零三 (or 一零三, read digit by digit, now and then)."""
    if n >= 100 and rng.random() < 0.3:
        return "".join(DIGITS[int(d)] for d in str(n))
    hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
    text = f"{DIGITS[hundreds]}百" if hundreds else ""
    if tens:
        text += "十" if (tens == 1 and not hundreds) else f"{DIGITS[tens]}十"
    elif hundreds and ones:
        text += "零"
    return text + (DIGITS[ones] if ones or not text else "")


def full_width(text: str) -> str:
    """ASCII digits, letters and spaces as their full-width forms."""
    return "".join("\u3000" if c == " " else chr(ord(c) + 0xFEE0) if c.isascii() and
                   c.isalnum() else c for c in text)


def _messy(rng: random.Random, body: str) -> str:
    return f"{rng.choice(BEFORE)}{rng.choice(PREFIXES)}{body}{rng.choice(AFTER)}"


def _typo(rng: random.Random, road: str, neighbours: set[str], names: set[str]) -> str | None:
    """The road name with one character (not its suffix) replaced, so that it is no road's
    name and still nearer its own road than any other road of its village (else the truth is
    ambiguous: 还民路 is as near 新民路 as 富民路); None when 50 tries find none."""
    for _ in range(50):
        i = rng.randrange(len(road) - 1 if road[-1] in "路街巷" else len(road) - 2)
        wrong = road[:i] + rng.choice(TYPO_CHARS.replace(road[i], "")) + road[i + 1:]
        if wrong not in names and all(fuzz.ratio(wrong, road) > fuzz.ratio(wrong, other)
                                      for other in neighbours - {road}):
            return wrong
    return None


def build_queries(points: list[AddressPoint], seed: int = 11) -> list[Query]:
    """About 850 labelled messy queries derived from the gazetteer."""
    rng = random.Random(seed)
    q = QueryMaker(rng, points, shared_roads=SHARED_ROADS)
    town: set[str | None] = {p.poi for p in points if p.poi in TOWN_POIS}
    makers = [*common_makers(q), (30, lambda: q.poi_named(town, "poi_town")),
              (20, q.poi_area_prefix)]
    return [make() for count, make in makers for _ in range(count)]


def common_makers(q: QueryMaker) -> list[tuple[int, Callable[[], Query]]]:
    """The kinds of query every set holds, and how many of each (in this order, so that a
    seed gives the same queries)."""
    return [
        (60, q.house_clean), (60, q.house_numerals), (40, q.house_full_width),
        (40, q.house_spaces), (60, q.house_noise), (60, q.house_typo), (40, q.house_no_village),
        (40, q.house_group), (20, q.house_sub_number), (30, q.house_village_stem),
        (30, q.house_typo_no_village), (50, q.road_no_number), (30, q.village_typo),
        (30, q.road_unknown_number), (40, q.village_only), (40, q.poi), (15, q.ambiguous),
        (15, q.unknown),
        # forms met in the demo town's tickets
        (40, q.house_bare_prefix), (30, q.house_sub_numeral), (30, q.road_mouth),
    ]


class QueryMaker:
    """One method per kind of query; each picks a random known point and roughs it up.
    `shared_roads`: the roads named alike in several villages (default: every road with a
    number that two villages have)."""

    def __init__(self, rng: random.Random, points: list[AddressPoint],
                 shared_roads: tuple[str, ...] | None = None) -> None:
        self.rng = rng
        self.houses = [p for p in points if p.number and "-" not in p.number
                       and not (p.road or "").endswith("组")]
        self.group_houses = [p for p in points if p.road and p.road.endswith("组") and p.number]
        self.subs = [p for p in points if p.number and "-" in p.number]
        self.pois = [p for p in points if p.poi]
        self.roads: dict[tuple[str, str], list[AddressPoint]] = defaultdict(list)
        for p in points:
            if p.road and p.number:
                self.roads[(p.village, p.road)].append(p)
        villages_of: dict[str, set[str]] = defaultdict(set)
        for village, road in self.roads:
            villages_of[road].add(village)
        shared = _roads_with_shared_numbers(self.roads)
        # a road of one village, or one numbered across villages (七都大道 1–500)
        self.unique_roads = {r for r, vs in villages_of.items() if len(vs) == 1 or r not in shared}
        self.shared_roads = shared_roads or tuple(sorted(shared))
        self.road_names = set(villages_of)
        self.by_village: dict[str, list[AddressPoint]] = defaultdict(list)
        for p in points:
            self.by_village[p.village].append(p)
        stems = {_stem(v) for v in self.by_village}
        self.plain_pois = [p for p in self.pois if not (p.poi or "").startswith(
            (*stems, *AREA_WORDS))]

    def _query(self, text: str, kind: str, level: str, point: AddressPoint) -> Query:
        return Query(text, kind, level, point.lon, point.lat, point.village, point.road)

    def _house(self) -> AddressPoint:
        return self.rng.choice(self.houses)

    def house_clean(self) -> Query:
        p = self._house()
        return self._query(f"{self.rng.choice(PREFIXES)}{p.address}", "house_clean", "house", p)

    def house_numerals(self) -> Query:
        p = self._house()
        n = chinese_number(_main_number(p), self.rng)
        return self._query(_messy(self.rng, f"{p.village}{p.road}{n}号"), "house_numerals",
                           "house", p)

    def house_full_width(self) -> Query:
        p = self._house()
        body = full_width(f"{p.village} {p.road} {p.number}")
        return self._query(_messy(self.rng, body), "house_full_width", "house", p)

    def house_spaces(self) -> Query:
        p = self._house()
        sep = self.rng.choice((" ", "，", "、", " , ", "  "))
        body = f"{p.village}{sep}{p.road}{sep}{_main_number(p)} 号"
        return self._query(_messy(self.rng, body), "house_spaces", "house", p)

    def house_noise(self) -> Query:
        p = self._house()
        after = self.rng.choice([a for a in AFTER if a])
        return self._query(f"{self.rng.choice(BEFORE)}{p.address}{after}", "house_noise",
                           "house", p)

    def house_typo(self) -> Query:
        while True:
            p = self._house()
            village_roads = {r for v, r in self.roads if v == p.village}
            wrong = _typo(self.rng, p.road or "", village_roads, self.road_names)
            if wrong:
                return self._query(_messy(self.rng, f"{p.village}{wrong}{p.number}"),
                                   "house_typo", "house", p)

    def house_no_village(self) -> Query:
        p = self.rng.choice([h for h in self.houses if h.road in self.unique_roads])
        return self._query(_messy(self.rng, f"{p.road}{p.number}"), "house_no_village",
                           "house", p)

    def house_group(self) -> Query:
        p = self.rng.choice(self.group_houses)
        group = int((p.road or "").removesuffix("组"))
        numerals = chinese_number(_main_number(p), self.rng)
        body = (f"{p.village}{chinese_number(group, self.rng)}组{numerals}号"
                if self.rng.random() < 0.7 else p.address)
        return self._query(_messy(self.rng, body), "house_group", "house", p)

    def house_sub_number(self) -> Query:
        p = self.rng.choice(self.subs)
        main, sub = (p.number or "").removesuffix("号").split("-")
        number = self.rng.choice((f"{main}-{sub}号", f"{main}号之{DIGITS[int(sub)]}",
                                  f"{main}—{sub}号"))
        return self._query(_messy(self.rng, f"{p.village}{p.road}{number}"), "house_sub_number",
                           "house", p)

    def house_village_stem(self) -> Query:
        """The village named without 村/社区: 开弦弓南环路18号."""
        p = self._house()
        return self._query(_messy(self.rng, f"{_stem(p.village)}{p.road}{p.number}"),
                           "house_village_stem",
                           "house", p)

    def house_typo_no_village(self) -> Query:
        """A wrong character in a road name found in one village only, and no village."""
        while True:
            p = self.rng.choice([h for h in self.houses if h.road in self.unique_roads])
            wrong = _typo(self.rng, p.road or "", self.road_names, self.road_names)
            if wrong:
                return self._query(_messy(self.rng, f"{wrong}{p.number}"),
                                   "house_typo_no_village", "house", p)

    def road_no_number(self) -> Query:
        (village, road), houses = self.rng.choice(list(self.roads.items()))
        return self._query(_messy(self.rng, f"{village}{road}"), "road_no_number", "road",
                           _nearest_centre(houses))

    def road_unknown_number(self) -> Query:
        (village, road), houses = self.rng.choice(
            [item for item in self.roads.items() if not item[0][1].endswith("组")])
        last = max(houses, key=_main_number)
        number = _main_number(last) + self.rng.randint(3, 40)
        return self._query(_messy(self.rng, f"{village}{road}{number}号"), "road_unknown_number",
                           "road", last)

    def village_only(self) -> Query:
        village = self.rng.choice(list(self.by_village))
        after = self.rng.choice(("", "村口", "有人焚烧垃圾", "附近噪音扰民", ""))
        return self._query(f"{self.rng.choice(BEFORE)}{self.rng.choice(PREFIXES)}{village}"
                           f"{after}", "village_only", "village",
                           _nearest_centre(self.by_village[village]))

    def village_typo(self) -> Query:
        """A wrong character in a village name of three characters or more before 村/社区
        (in 庙港社区 one character of two is too much to tell), the village only."""
        village = self.rng.choice([v for v in self.by_village if len(_stem(v)) >= 3])
        i = self.rng.randrange(len(village) - (2 if village.endswith("社区") else 1))
        wrong = village[:i] + self.rng.choice(TYPO_CHARS.replace(village[i], "")) + \
            village[i + 1:]
        return self._query(_messy(self.rng, wrong), "village_typo", "village",
                           _nearest_centre(self.by_village[village]))

    def poi(self) -> Query:
        p = self.rng.choice(self.pois)
        text = f"{p.village}{p.poi}" if self.rng.random() < 0.3 else p.poi
        return self._query(_messy(self.rng, text or ""), "poi", "poi", p)

    def house_bare_prefix(self) -> Query:
        """Region prefixes without 省/市/区/镇: 苏州吴江开弦弓村南环路18号."""
        p = self._house()
        body = f"{self.rng.choice(BARE_PREFIXES)}{p.village}{p.road}{p.number}"
        return self._query(f"{self.rng.choice(BEFORE)}{body}{self.rng.choice(AFTER)}",
                           "house_bare_prefix", "house", p)

    def house_sub_numeral(self) -> Query:
        """A sub-number with a Chinese numeral or a full-width dash: 18-一号, 18之一号, 18－1号."""
        p = self.rng.choice(self.subs)
        main, sub = (p.number or "").removesuffix("号").split("-")
        sub_cn = chinese_number(int(sub), self.rng)
        number = self.rng.choice((f"{main}-{sub_cn}号", f"{main}之{sub_cn}号", f"{main}－{sub}号",
                                  f"{chinese_number(int(main), self.rng)}-{sub_cn}号"))
        return self._query(_messy(self.rng, f"{p.village}{p.road}{number}"),
                           "house_sub_numeral", "house", p)

    def road_mouth(self) -> Query:
        """A road's mouth (路口), with the village unless the road is the only one so named."""
        (village, road), houses = self.rng.choice(
            [item for item in self.roads.items() if item[0][1].endswith("路")])
        body = road if road in self.unique_roads and self.rng.random() < 0.6 else village + road
        mouth = self.rng.choice(("口", "路口"))
        after = self.rng.choice(("", "有积水", "占道经营", "附近", ""))
        return self._query(f"{self.rng.choice(BEFORE)}{self.rng.choice(PREFIXES)}{body}{mouth}"
                           f"{after}", "road_mouth", "road", _nearest_centre(houses))

    def poi_named(self, names: set[str | None], kind: str) -> Query:
        """A POI of `names` (their names open with a village's or the town's), as it is."""
        p = self.rng.choice([p for p in self.pois if p.poi in names])
        return self._query(_messy(self.rng, p.poi or ""), kind, "poi", p)

    def poi_area_prefix(self) -> Query:
        """An area before a POI named without one: 太湖湖滨公园 (太湖 is also 太湖村's name)."""
        p = self.rng.choice(self.plain_pois)
        text = f"{self.rng.choice(AREA_WORDS)}{p.poi}"
        return self._query(_messy(self.rng, text), "poi_area_prefix", "poi", p)

    def ambiguous(self) -> Query:
        """A shared road name and a number its villages all have, without the village."""
        road = self.rng.choice(self.shared_roads)
        holders = [houses for (v, r), houses in self.roads.items() if r == road]
        numbers = set.intersection(*({h.number or "" for h in hs} for hs in holders))
        if not numbers - {""}:  # three villages with no number in common: two of them
            holders = holders[:2]
            numbers = set.intersection(*({h.number or "" for h in hs} for hs in holders))
        number = self.rng.choice(sorted(numbers - {""}))
        p = next(h for h in holders[0] if h.number == number)
        return self._query(_messy(self.rng, f"{road}{number}"), "ambiguous", "none", p)

    def unknown(self) -> Query:
        """A village and road that do not exist."""
        p = self._house()
        text = self.rng.choice(("火星村银河路8号", "花果山水帘洞", "蓬莱岛仙人路3号",
                                "无名村无名路99号", "北京市朝阳区建国门外大街1号"))
        return self._query(text, "unknown", "none", p)


def _stem(village: str) -> str:
    """开弦弓 for 开弦弓村, 庙港 for 庙港社区."""
    return village.removesuffix("社区").removesuffix("村")


def _roads_with_shared_numbers(
        roads: dict[tuple[str, str], list[AddressPoint]]) -> set[str]:
    """The roads on which two villages have a house of the same number."""
    holders: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for (village, road), houses in roads.items():
        for house in houses:
            holders[(road, house.number)].add(village)
    return {road for (road, _), villages in holders.items() if len(villages) > 1}


def _main_number(point: AddressPoint) -> int:
    """18 for 18号 and 18-2号."""
    return int((point.number or "0").removesuffix("号").split("-")[0])


def _nearest_centre(points: list[AddressPoint]) -> AddressPoint:
    """The point nearest the centroid of the points (what the geocoder answers for a road)."""
    lon = sum(p.lon for p in points) / len(points)
    lat = sum(p.lat for p in points) / len(points)
    return min(points, key=lambda p: (p.lon - lon) ** 2 + (p.lat - lat) ** 2)


def as_rows(points: list[AddressPoint]) -> list[dict[str, object]]:
    """The gazetteer as CSV rows for `gis-service import addresses`."""
    return [asdict(p) for p in points]
