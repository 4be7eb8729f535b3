"""Names, colours and labels of the one-map wall: readable on a dark wall screen."""

from __future__ import annotations

from typing import Any

from gis_service.incidents.core.lifecycle import STATE_NAMES

BACKGROUND = "#0b1622"

LAKE = "太湖水域"
ZONES = "太湖保护区"
DISTRICTS = "执法片区（中队）"
GRID1 = "一级网格（镇）"
GRID2 = "二级网格（村/社区）"
GRID3 = "三级网格（网格员）"
SPECIAL = "专属网格"
PROJECTS = "重点工程"
STATIONS = "便民服务站"
# drawn in the browser from the live data (map_ui/static/wall_live.js)
HISTORY = "近30天事件（分布）"
HEAT7 = "热力·近7天"
HEAT30 = "热力·近30天"
WORKERS = "网格员位置"
CAMERAS = "视频监控点位"  # cameras with their lens direction; a click lists their incidents
LIVE = "在办事件（实时）"
WARNINGS = "预警（本周）"  # hotspots, new clusters, repeat addresses (gis_service/hotspots)
INCIDENTS = LIVE  # the wall's incident layer
# bottom to top: the lake under everything, the points above the areas
AREA_LAYERS = (LAKE, ZONES, DISTRICTS, GRID1, GRID2, GRID3, SPECIAL, PROJECTS, STATIONS)
LIVE_LAYERS = (HEAT7, HEAT30, HISTORY, WORKERS, CAMERAS, LIVE, WARNINGS)
LAYER_NAMES = AREA_LAYERS + LIVE_LAYERS
# short keys the viewpoints and the URL use
LAYER_KEYS = {LAKE: "lake", ZONES: "zones", DISTRICTS: "districts", GRID1: "grid1",
              GRID2: "grid2", GRID3: "grid3", SPECIAL: "special", PROJECTS: "projects",
              STATIONS: "stations", HEAT7: "heat7", HEAT30: "heat30", HISTORY: "history",
              WORKERS: "workers", CAMERAS: "cameras", LIVE: "live", WARNINGS: "warnings"}
# viewpoints: (key, label, the layers shown); the KPI panel shows in every one
VIEWPOINTS = (
    # the director sees this week's warnings where decisions are made, not only in analysis
    ("command", "指挥", ("lake", "grid1", "grid2", "grid3", "special", "projects", "workers",
                        "cameras", "live", "warnings")),
    ("dispatch", "调度", ("grid1", "grid2", "grid3", "stations", "workers", "cameras", "live")),
    ("enforcement", "执法", ("grid1", "districts", "grid2", "projects", "live")),
    ("taihu", "太湖保护", ("lake", "zones", "grid1", "grid2", "projects", "live")),
    ("analysis", "分析研判", ("lake", "grid1", "grid2", "heat30", "history", "warnings")),
)
DEFAULT_VIEW = "command"
# the words of static/labels.js (the pages' vocabulary); a browser test holds the two equal
SOURCE_NAMES = {"hotline_12345": "12345热线", "mayor_mailbox": "书记/镇长信箱",
                "grid_patrol": "网格巡查", "enforcement_patrol": "执法巡查",
                "video": "视频监控", "county_ticket": "上级派单", "open311": "网上受理",
                "walk_in": "来访", "import": "批量导入"}
CAMERA_COLOUR = "#ffd740"  # the camera icons' (static/wall.css)
DEADLINE_COLOURS = {"green": "#2ecc71", "yellow": "#ffd740", "red": "#ff1744",
                    "none": "#90a4ae", "done": "#9e9e9e"}

# outlines only for the big areas, so hovering reaches the level-3 grid beneath them
STYLES: dict[str, dict[str, Any]] = {
    LAKE: {"color": "#4a90c2", "weight": 1, "fillColor": "#1f4e79", "fillOpacity": 0.65},
    DISTRICTS: {"color": "#b388ff", "weight": 2, "dashArray": "8 6", "fill": False},
    GRID1: {"color": "#ffffff", "weight": 4, "fill": False},
    GRID2: {"color": "#4fc3f7", "weight": 2.5, "fill": False},
    GRID3: {"color": "#78909c", "weight": 1, "fillColor": "#26a69a", "fillOpacity": 0.10},
    SPECIAL: {"color": "#ff80ab", "weight": 2, "dashArray": "3 5", "fill": False},
    STATIONS: {"color": "#0b1622", "weight": 1.5, "fill": True, "fillColor": "#00e676",
               "fillOpacity": 0.9},
}
CLASS_NAMES = {LAKE: "wall-lake", ZONES: "wall-zone", DISTRICTS: "wall-district",
               GRID1: "wall-grid1", GRID2: "wall-grid2", GRID3: "wall-grid3",
               SPECIAL: "wall-special", PROJECTS: "wall-project", STATIONS: "wall-station",
               LIVE: "wall-live"}

ZONE_LEVELS = {1: ("一级保护区", "#ff7043"), 2: ("二级保护区", "#ffca28"),
               3: ("三级保护区", "#9ccc65")}
OTHER_ZONE = ("其他保护区", "#8d6e63")

PROJECT_STATUS = {"planned": "规划中", "approved": "已立项", "building": "在建",
                  "suspended": "停工", "completed": "已完工", "done": "已完工"}
PROJECT_COLORS = ("#ffd54f", "#4dd0e1", "#f06292", "#aed581", "#ba68c8", "#ff8a65")

# the words of static/labels.js (GisLabels.states); a browser test holds the two equal
INCIDENT_STATUS = STATE_NAMES  # the domain's words for the states
# status groups on the wall: (label, colour, statuses)
INCIDENT_GROUPS = (
    ("待处理", "#ff5252", ("reported", "registered", "returned", "needs_location",
                          "needs_confirmation")),
    ("处置中", "#ffab40", ("dispatched", "accepted", "in_progress")),
    ("已处置", "#69f0ae", ("resolved", "verified")),
    ("已结案", "#9e9e9e", ("closed", "rejected")),
)


def zone_style(level: int | None) -> tuple[str, dict[str, Any]]:
    """Label and style of a protection zone of the given level."""
    label, colour = ZONE_LEVELS.get(level or -1, OTHER_ZONE)
    return label, {"color": colour, "weight": 1.5, "dashArray": "6 4", "fillColor": colour,
                   "fillOpacity": 0.10}


def project_colours(statuses: list[str]) -> dict[str, str]:
    """A colour per project status, stable for the same set of statuses."""
    ordered = sorted(set(statuses))
    return {s: PROJECT_COLORS[i % len(PROJECT_COLORS)] for i, s in enumerate(ordered)}


def incident_group(status: str) -> tuple[str, str]:
    """The wall's label and colour for an incident status."""
    for label, colour, statuses in INCIDENT_GROUPS:
        if status in statuses:
            return label, colour
    return INCIDENT_GROUPS[0][0], INCIDENT_GROUPS[0][1]


def point_style(colour: str) -> dict[str, Any]:
    """A filled circle marker."""
    return {"color": "#0b1622", "weight": 1.5, "fill": True, "fillColor": colour,
            "fillOpacity": 0.9}
