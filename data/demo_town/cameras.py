"""The town's cameras, the scenes their algorithms report, and a day of their events.

Forty cameras: at the key places (the market, the fishing harbour, the school gate, the
industrial park…), at junctions of the two town roads and of village roads (between the
houses of the two roads, so on the carriageway within a few metres), and along the Taihu
shore 60 m inland, looking out over the water. Each has a GB/T 28181 code: division 320509
(吴江区) with an invented grassroots unit, the industry of whoever connects it (00 public
security, 01 community, 04 traffic, 08 city management, 09 health and environment, 11
education), device type 132 (IP camera; a few 131), the network flag and a serial.

The events: a camera sees a stall, a parked car or a pile of rubbish for a while and reports
it every one to seven minutes (an episode); an episode of the same camera and scene starts at
least twice the fold window after the last one ended, so that the service folds each episode
into one incident and no two episodes into one, whatever window between FOLD_GAP and
FOLD_MINUTES × 2 it is set to. Beside them, single detections below their scene's confidence
(noise a person rejects), each as far from its pair's episodes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely
from shapely.geometry import LineString, Point

from demo_town.addresses import Address
from demo_town.common import ANCHOR, TOWN_PREFIX, coord, iso, points_to_lonlat, to_metric
from demo_town.names import committee
from demo_town.sites import HOTSPOTS, QIDU
from demo_town.town import Town

DIVISION = "32050906"  # 320509 吴江区 + an invented grassroots unit (七都's police station)
CAMERA_HEADER = ("code", "name", "lon", "lat", "direction", "ptz", "owner", "place",
                 "scenes")
SCENE_HEADER = ("scene", "category_code", "min_confidence", "dwell_seconds",
                "needs_confirmation", "note")
EVENT_HEADER = ("external_id", "reported_at", "camera_code", "scene", "confidence", "lon",
                "lat")
FOLD_MINUTES = 30  # GIS_VIDEO_FOLD_MINUTES's default
FOLD_GAP = timedelta(minutes=7)  # the longest pause between two detections of an episode
DAY_ENDS = ANCHOR - timedelta(minutes=5)  # before the history's last report
DAY_STARTS = ANCHOR - timedelta(hours=24)
NOISE = 40  # low-confidence single detections in the day
TOWN_ROAD_JUNCTIONS = 5  # per town road
VILLAGE_JUNCTIONS = 12
SHORE_CAMERAS = 8
SPACING_M = 350.0  # no two cameras closer
# owner -> (industry, network flag): 0 the video private network, 6 the government network,
# 8 the social-resources network
CONNECTED = {"公安": ("00", "0"), "社区": ("01", "0"), "交警": ("04", "0"), "城管": ("08", "6"),
             "水利": ("09", "6"), "教育": ("11", "8")}


@dataclass(frozen=True)
class SceneRow:
    """One row of video_scenes.csv and how its episodes go: how many a watching camera has
    in a day, how many detections each, in which hours."""

    scene: str
    category: str
    min_confidence: float
    dwell_seconds: int
    needs_confirmation: bool
    note: str
    per_day: float
    detections: tuple[int, int]
    hours: str


SCENES = (
    SceneRow("店外经营", "STREET-VENDOR", 0.70, 180, False, "店铺越门经营，停留3分钟后上报", 1.3,
             (2, 9), "shops"),
    SceneRow("占道经营", "STREET-VENDOR", 0.70, 300, False, "流动摊贩占道，停留5分钟后上报", 1.2,
             (2, 10), "stalls"),
    SceneRow("暴露垃圾", "GARBAGE", 0.60, 0, False, "垃圾堆放、满溢", 1.0, (1, 5), "day"),
    SceneRow("乱堆物料", "MATERIAL", 0.65, 600, False, "建材杂物堆放，停留10分钟后上报", 0.6,
             (2, 8), "day"),
    SceneRow("违规停车", "PARKING", 0.75, 300, False, "机动车违停，停留5分钟后上报", 1.4, (1, 8),
             "day"),
    SceneRow("渣土撒漏", "MUCK", 0.70, 0, False, "渣土车撒漏、带泥上路", 0.8, (1, 4), "trucks"),
    SceneRow("水面漂浮物", "FLOATING", 0.60, 0, False, "水面垃圾、水草漂浮", 0.9, (1, 5), "day"),
    SceneRow("消防通道占用", "FIRE-ACCESS", 0.70, 300, False, "消防通道停车、堆物", 0.5, (2, 6),
             "day"),
    SceneRow("烟火识别", "STRAW-BURNING", 0.60, 0, True, "烟雾、明火（雾气易误报，需人工确认）",
             0.3, (1, 4), "day"),
    SceneRow("人员聚集", "SAFETY-HAZARD", 0.70, 120, True, "人员聚集，需人工研判", 0.5, (1, 5),
             "crowds"),
    SceneRow("非法捕捞", "ILLEGAL-FISHING", 0.65, 0, True, "禁捕水域捕捞、垂钓，需人工确认", 0.5,
             (1, 4), "night"),
    SceneRow("gb28181:6", "ILLEGAL-FISHING", 0.0, 0, True, "GB/T 28181 入侵检测报警（禁捕水域）",
             0.4, (1, 3), "night"),
    SceneRow("gb28181:10", "SAFETY-HAZARD", 0.0, 0, True, "GB/T 28181 密度检测报警", 0.3, (1, 3),
             "crowds"),
)
BY_SCENE = {s.scene: s for s in SCENES}
ALARM = "gb28181:"  # alarms carry no confidence


def _profile(*spans: tuple[int, int, float]) -> tuple[float, ...]:
    """24 hourly weights: a little at any hour, more in the given (from, to, weight) spans."""
    weights = [0.05] * 24
    for start, end, weight in spans:
        for hour in range(start, end):
            weights[hour] = weight
    return tuple(weights)


HOURS = {
    "day": _profile((7, 18, 1.0), (18, 20, 0.5)),
    "shops": _profile((8, 12, 1.0), (15, 21, 1.2)),
    "stalls": _profile((5, 9, 1.5), (11, 13, 0.8), (16, 22, 1.3)),
    "trucks": _profile((0, 5, 0.8), (20, 24, 0.8), (9, 16, 0.4)),
    "crowds": _profile((7, 9, 1.0), (15, 18, 1.0), (19, 21, 0.8)),
    "night": _profile((0, 5, 1.0), (19, 24, 0.8), (5, 7, 0.5)),
}


@dataclass(frozen=True)
class KeyPlace:
    """A camera at a named place of the town (a POI of the gazetteer)."""

    poi: str
    name: str
    owner: str
    ptz: str
    scenes: tuple[str, ...]


KEY_PLACES = (
    KeyPlace("七都农贸市场", "七都镇农贸市场门口", "城管", "球机",
             ("店外经营", "占道经营", "暴露垃圾", "人员聚集", "违规停车")),
    KeyPlace("庙港渔港", "七都镇庙港渔港码头", "公安", "球机",
             ("水面漂浮物", "暴露垃圾", "违规停车", "非法捕捞")),
    KeyPlace("七都光电产业园", "七都镇光电产业园大门", "公安", "球机",
             ("消防通道占用", "烟火识别", "渣土撒漏")),
    KeyPlace("湖滨公园", "七都镇湖滨公园广场", "城管", "球机",
             ("暴露垃圾", "违规停车", "占道经营", "人员聚集", "水面漂浮物", "gb28181:10")),
    KeyPlace("七都中心小学", "七都镇中心小学校门口", "教育", "半球",
             ("违规停车", "占道经营", "人员聚集")),
    KeyPlace("滨湖安置房工地", "七都镇滨湖安置房工地出入口", "城管", "固定枪机",
             ("渣土撒漏", "乱堆物料", "烟火识别")),
    KeyPlace("七都镇人民政府", "七都镇人民政府门前广场", "公安", "球机",
             ("人员聚集", "违规停车", "gb28181:10")),
    KeyPlace("七都汽车站", "七都镇汽车站出入口", "交警", "球机",
             ("违规停车", "占道经营", "人员聚集")),
    KeyPlace("七都人民医院", "七都镇人民医院门口", "公安", "球机",
             ("违规停车", "占道经营", "店外经营")),
    KeyPlace("庙港水产市场", "七都镇庙港水产市场", "城管", "球机",
             ("店外经营", "暴露垃圾", "占道经营")),
)
TOWN_ROAD_SCENES = ("违规停车", "占道经营", "店外经营", "暴露垃圾", "渣土撒漏")
VILLAGE_SCENES = ("暴露垃圾", "乱堆物料", "占道经营", "烟火识别")
SHORE_SCENES = {"水利": ("水面漂浮物", "非法捕捞", "暴露垃圾"),
                "公安": ("非法捕捞", "gb28181:6", "水面漂浮物")}


@dataclass(frozen=True)
class Camera:
    """One row of cameras.csv (metres kept for placing its events)."""

    code: str
    name: str
    x: float
    y: float
    direction: float
    ptz: str
    owner: str
    place: str  # key, town_road, village_road or shore
    scenes: tuple[str, ...]

    def row(self) -> list[str]:
        """The CSV row (lon/lat from the metres)."""
        lon, lat = points_to_lonlat(np.array([self.x]), np.array([self.y]))
        return [self.code, self.name, coord(float(lon[0])), coord(float(lat[0])),
                f"{self.direction:.0f}", self.ptz, self.owner, self.place,
                ";".join(self.scenes)]


@dataclass(frozen=True)
class _Spot:
    """Where a camera goes, before it is numbered."""

    name: str
    x: float
    y: float
    direction: float
    ptz: str
    owner: str
    place: str
    scenes: tuple[str, ...]


def bearing(dx: float, dy: float) -> float:
    """Degrees clockwise from north of a step east `dx`, north `dy` (UTM 51N is within a
    degree of true north here)."""
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _road_bearing(rng: random.Random, houses: list[Address], x: float, y: float) -> float:
    """The direction a road runs near (x, y), from its houses within 150 m (their principal
    axis), one way or the other."""
    near = np.array([(h.x, h.y) for h in houses if math.hypot(h.x - x, h.y - y) < 150.0])
    if len(near) < 2:
        return rng.uniform(0.0, 360.0)
    centred = near - near.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    dx, dy = float(axes[0][0]), float(axes[0][1])
    return (bearing(dx, dy) + (180.0 if rng.random() < 0.5 else 0.0)) % 360.0


class _Placer:
    """Picks camera spots apart from each other, inside the town."""

    def __init__(self, town: Town, rows: list[Address]) -> None:
        self.outline = to_metric(town.outline).buffer(-15.0)
        shapely.prepare(self.outline)
        self.rows = rows
        self.by_road: dict[str, list[Address]] = {}
        for row in rows:
            if not row.poi:
                self.by_road.setdefault(row.road, []).append(row)
        self.spots: list[_Spot] = []

    def free(self, x: float, y: float, spacing: float = SPACING_M) -> bool:
        """True when (x, y) is in the town and no chosen spot is within `spacing`."""
        return bool(shapely.contains_xy(self.outline, x, y)) and all(
            math.hypot(s.x - x, s.y - y) >= spacing for s in self.spots)

    def on_road(self, road: str, x: float, y: float) -> tuple[float, float]:
        """The middle of `road` by (x, y): between its house nearest there and the house
        across the road from it (22 m away), else that house."""
        houses = self.by_road[road]
        house = min(houses, key=lambda h: (math.hypot(h.x - x, h.y - y), h.address))
        across = [h for h in houses if 18.0 < math.hypot(h.x - house.x, h.y - house.y) < 26.0]
        if not across:
            return house.x, house.y
        other = min(across, key=lambda h: (abs(math.hypot(h.x - house.x, h.y - house.y)
                                               - 22.0), h.address))
        return (house.x + other.x) / 2, (house.y + other.y) / 2

    def junctions(self, roads: list[str], others: list[str]) -> list[tuple[str, str, float,
                                                                          float]]:
        """(road, crossing road, x, y) where a house of a road in `roads` stands within 30 m
        of a house of another road in `others`: the roads meet there; one per pair."""
        other_rows = [h for road in others for h in self.by_road.get(road, [])]
        if not other_rows:
            return []
        tree = shapely.STRtree(shapely.points([(h.x, h.y) for h in other_rows]))
        found: dict[tuple[str, str], tuple[str, str, float, float]] = {}
        for road in roads:
            for house in self.by_road.get(road, []):
                near = [other_rows[int(i)] for i in tree.query(
                    Point(house.x, house.y), predicate="dwithin", distance=30.0)]
                near = [h for h in near if h.road != road and (road, h.road) not in found
                        and (h.road, road) not in found]
                if near:
                    other = min(near, key=lambda h: (math.hypot(h.x - house.x, h.y - house.y),
                                                     h.address))
                    found[(road, other.road)] = (road, other.road, (house.x + other.x) / 2,
                                                 (house.y + other.y) / 2)
        return list(found.values())


def _key_places(rng: random.Random, placer: _Placer) -> None:
    pois = {row.poi: row for row in placer.rows if row.poi}
    sites = {site.name: site for site in HOTSPOTS}
    for place in KEY_PLACES:
        poi = pois[place.poi]
        site = sites.get(place.poi)
        if site is not None:  # looking at where reports gather
            centre = to_metric(Point(site.lon, site.lat))
            assert isinstance(centre, Point)
            dx, dy = centre.x - poi.x, centre.y - poi.y
            direction = bearing(dx, dy) if math.hypot(dx, dy) > 5.0 else rng.uniform(0, 360)
        else:
            direction = _road_bearing(rng, placer.by_road.get(poi.road, []), poi.x, poi.y)
        placer.spots.append(_Spot(place.name, poi.x, poi.y, direction, place.ptz, place.owner,
                                  "key", place.scenes))


def _town_roads(rng: random.Random, placer: _Placer) -> None:
    """Cameras on each town road: at its crossings with village roads, then in front of
    houses along it."""
    streets = sorted(road for road in placer.by_road
                     if road not in QIDU.town_roads and not road.endswith("组"))
    for road in QIDU.town_roads:
        crossings = placer.junctions([road], streets)
        rng.shuffle(crossings)
        spots = [(f"{TOWN_PREFIX}{road}与{other}路口", x, y) for _, other, x, y in crossings]
        houses = list(placer.by_road[road])
        rng.shuffle(houses)
        spots += [(f"{TOWN_PREFIX}{road}{h.number}前", h.x, h.y) for h in houses]
        chosen = 0
        for name, x, y in spots:
            x, y = placer.on_road(road, x, y)
            if chosen == TOWN_ROAD_JUNCTIONS or not placer.free(x, y):
                continue
            owner = rng.choice(("交警", "公安", "城管"))
            placer.spots.append(_Spot(
                name, x, y, _road_bearing(rng, placer.by_road[road], x, y),
                rng.choice(("球机", "球机", "固定枪机")), owner, "town_road",
                tuple(rng.sample(TOWN_ROAD_SCENES, rng.randint(2, 3)))))
            chosen += 1


def _village_roads(rng: random.Random, placer: _Placer) -> None:
    """A camera in each of a dozen villages: at a crossing of two of its roads, else on the
    road in front of its office."""
    villages: dict[str, list[str]] = {}
    for road, houses in sorted(placer.by_road.items()):
        if road in QIDU.town_roads:
            continue
        for village in sorted({h.village for h in houses}):
            villages.setdefault(village, []).append(road)
    offices = {row.poi: row for row in placer.rows if row.poi}
    names = sorted(villages)
    rng.shuffle(names)
    chosen = 0
    for village in names:
        if chosen == VILLAGE_JUNCTIONS:
            break
        roads = villages[village]
        streets = [road for road in roads if not road.endswith("组")]
        crossings = [c for c in placer.junctions(streets, streets)
                     if _in_village(placer, c[0], village, c[2], c[3])]
        rng.shuffle(crossings)
        spots = [(f"{TOWN_PREFIX}{village}{road}与{other}路口", road, x, y)
                 for road, other, x, y in crossings]
        office = offices.get(committee(village))
        if office is not None and office.road in placer.by_road:
            spots.append((f"{TOWN_PREFIX}{village}{office.road}（{office.poi}门前）",
                          office.road, office.x, office.y))
        for name, road, x, y in spots:
            x, y = placer.on_road(road, x, y)
            if placer.free(x, y):
                placer.spots.append(_Spot(
                    name, x, y, _road_bearing(rng, placer.by_road[road], x, y),
                    rng.choice(("球机", "固定枪机", "固定枪机")), "社区", "village_road",
                    tuple(rng.sample(VILLAGE_SCENES, rng.randint(2, 3)))))
                chosen += 1
                break


def _in_village(placer: _Placer, road: str, village: str, x: float, y: float) -> bool:
    """True when the houses of `road` nearest (x, y) are the village's (a shared road name
    may run in another village)."""
    houses = placer.by_road.get(road, [])
    nearest = min(houses, key=lambda h: math.hypot(h.x - x, h.y - y))
    return nearest.village == village


def _shore(rng: random.Random, placer: _Placer, town: Town) -> None:
    shore = to_metric(town.shore)
    assert isinstance(shore, LineString)
    inland = shore.offset_curve(60.0)
    if not placer.outline.contains(inland.interpolate(0.5, normalized=True)):
        inland = shore.offset_curve(-60.0)
    villages: dict[str, int] = {}
    for k in range(SHORE_CAMERAS):
        tries = [inland.interpolate((k + rng.uniform(0.1, 0.9)) / SHORE_CAMERAS,
                                    normalized=True) for _ in range(6)]
        free = [p for p in tries if placer.free(p.x, p.y, SPACING_M / 2)]
        if not free:
            continue
        point = free[0]
        water = shore.interpolate(shore.project(point))
        village = min(placer.rows, key=lambda h: math.hypot(h.x - point.x,
                                                             h.y - point.y)).village
        villages[village] = villages.get(village, 0) + 1
        suffix = "" if villages[village] == 1 else f"{villages[village]}号"
        owner = "水利" if k % 2 == 0 else "公安"
        placer.spots.append(_Spot(
            f"{TOWN_PREFIX}太湖岸线{village}段{suffix}", point.x, point.y,
            bearing(water.x - point.x, water.y - point.y), "球机", owner, "shore",
            SHORE_SCENES[owner]))


def build_cameras(rng: random.Random, town: Town, rows: list[Address]) -> list[Camera]:
    """About forty cameras, numbered in the order placed (key places, town roads, village
    roads, shore)."""
    placer = _Placer(town, rows)
    _key_places(rng, placer)
    _town_roads(rng, placer)
    _village_roads(rng, placer)
    _shore(rng, placer, town)
    cameras = []
    for serial, spot in enumerate(placer.spots, start=101):
        industry, network = CONNECTED[spot.owner]
        device = "131" if rng.random() < 0.15 else "132"
        code = f"{DIVISION}{industry}{device}{network}{serial:06d}"
        cameras.append(Camera(code, spot.name, spot.x, spot.y, round(spot.direction),
                              spot.ptz, "公安" if spot.owner == "社区" else spot.owner,
                              spot.place, spot.scenes))
    return cameras


def scene_rows() -> list[list[str]]:
    """video_scenes.csv rows."""
    return [[s.scene, s.category, f"{s.min_confidence:g}", str(s.dwell_seconds),
             "yes" if s.needs_confirmation else "no", s.note] for s in SCENES]


@dataclass(frozen=True)
class Detection:
    """One camera event before it is numbered."""

    at: datetime
    camera: Camera
    scene: str
    confidence: float | None
    lon: float | None
    lat: float | None


def _moment(rng: random.Random, hours: str) -> datetime:
    """A moment of the day (DAY_STARTS..DAY_ENDS) drawn by the hour profile."""
    start = DAY_STARTS.replace(minute=0, second=0)
    slots = [start + timedelta(hours=k) for k in range(25)]
    weights = [HOURS[hours][slot.hour] for slot in slots]
    while True:
        slot = rng.choices(slots, weights)[0]
        moment = slot + timedelta(seconds=rng.randrange(3600))
        if DAY_STARTS <= moment < DAY_ENDS:
            return moment


def _target(rng: random.Random, camera: Camera, outline: shapely.Geometry
            ) -> tuple[float | None, float | None]:
    """Where a dome camera turned to put the thing it saw, 15–60 m along its view, or
    nothing (the event is placed at the camera)."""
    if camera.ptz != "球机" or rng.random() < 0.5:
        return None, None
    angle = math.radians(camera.direction + rng.uniform(-40.0, 40.0))
    distance = rng.uniform(15.0, 60.0)
    x, y = camera.x + distance * math.sin(angle), camera.y + distance * math.cos(angle)
    if not shapely.contains_xy(outline, x, y):
        return None, None
    lon, lat = points_to_lonlat(np.array([x]), np.array([y]))
    return round(float(lon[0]), 7), round(float(lat[0]), 7)


def _confidence(rng: random.Random, scene: SceneRow, base: float) -> float | None:
    if scene.scene.startswith(ALARM):
        return None
    return round(min(0.99, max(0.3, rng.gauss(base, 0.04))), 2)


def _episodes(rng: random.Random, camera: Camera, scene: SceneRow,
              outline: shapely.Geometry) -> list[list[Detection]]:
    """A camera's episodes of one scene in the day, each its detections, kept apart."""
    count = sum(1 for _ in range(4) if rng.random() < scene.per_day / 4)
    starts = sorted(_moment(rng, scene.hours) for _ in range(count))
    episodes: list[list[Detection]] = []
    for start in starts:
        if episodes and start < episodes[-1][-1].at + 2 * timedelta(minutes=FOLD_MINUTES):
            continue
        base = rng.uniform(scene.min_confidence + 0.04, 0.97)
        lon, lat = _target(rng, camera, outline)
        moment, detections = start, []
        for _ in range(rng.randint(*scene.detections)):
            if moment >= DAY_ENDS:
                break
            detections.append(Detection(moment, camera, scene.scene,
                                        _confidence(rng, scene, base), lon, lat))
            moment += timedelta(seconds=rng.randint(60, int(FOLD_GAP.total_seconds())))
        episodes.append(detections)
    return episodes


def _noise(rng: random.Random, cameras: list[Camera],
           taken: dict[tuple[str, str], list[datetime]]) -> list[Detection]:
    """Single detections below their scene's confidence, far from their pair's others."""
    noise: list[Detection] = []
    apart = 2 * timedelta(minutes=FOLD_MINUTES)
    while len(noise) < NOISE:
        camera = rng.choice(cameras)
        scored = [s for s in camera.scenes if not s.startswith(ALARM)]
        scene = BY_SCENE[rng.choice(scored)]
        at = _moment(rng, scene.hours)
        seen = taken.setdefault((camera.code, scene.scene), [])
        if any(abs(at - other) < apart for other in seen):
            continue
        seen.append(at)
        confidence = round(rng.uniform(0.25, scene.min_confidence - 0.05), 2)
        noise.append(Detection(at, camera, scene.scene, confidence, None, None))
    return noise


def build_camera_events(rng: random.Random, cameras: list[Camera],
                        town: Town) -> list[list[str]]:
    """camera_events.csv rows: a day of episodes and noise, in time order, numbered."""
    outline = to_metric(town.outline)
    shapely.prepare(outline)
    detections: list[Detection] = []
    taken: dict[tuple[str, str], list[datetime]] = {}
    for camera in cameras:
        for name in camera.scenes:
            for episode in _episodes(rng, camera, BY_SCENE[name], outline):
                detections += episode
                taken.setdefault((camera.code, name), []).extend(d.at for d in episode)
    detections += _noise(rng, cameras, taken)
    detections.sort(key=lambda d: (d.at, d.camera.code, d.scene))
    return [[f"AI-2026-{n:06d}", iso(d.at), d.camera.code, d.scene,
             "" if d.confidence is None else f"{d.confidence:.2f}",
             "" if d.lon is None else coord(d.lon), "" if d.lat is None else coord(d.lat)]
            for n, d in enumerate(detections, start=1)]
