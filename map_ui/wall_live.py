"""The wall's live part: the script that keeps it current (wall_live.js) and the panels it
fills — KPIs, viewpoints, the day replay bar and the card of what was clicked.

The page carries no incidents itself: the script asks the service (`/api/v1/wall/...`,
`/tiles/incidents/...`, the cameras and a grid's team) as the signed-in user, so the page
stays small with any amount of history and everything on it is as current as the last poll.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

import folium
from branca.element import Figure, MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template

from map_ui import wall_style as style
from map_ui.assets import OWN_URL, VENDOR_URL

FEED_POLL_MS = 3_000  # the wall shows a new report within this (plus one request)
KPI_POLL_MS = 10_000
RESET_MS = 60_000  # start afresh: catches bulk imports and keeps colours honest
WARNING_POLL_MS = 300_000  # a week's warnings change slowly; the scan reads nine weeks
WARNINGS_SHOWN = 50  # drawn and listed; the banner counts them all
LEAGUE_POLL_MS = 120_000  # the towns' league of the month: a county-wide read, slow to move
API = "/api/v1/wall"


@dataclass(frozen=True)
class LiveLinks:
    """Where the script finds its data (kept here so tests and pages agree)."""

    feed: str = f"{API}/feed"
    kpi: str = f"{API}/kpi"
    heat: str = f"{API}/heat"
    replay: str = f"{API}/replay"
    grid_card: str = f"{API}/grids/"
    incident: str = "/api/v1/incidents/"
    positions: str = "/api/v1/patrols/positions"
    incident_tiles: str = "/tiles/incidents/{z}/{x}/{y}.pbf"
    hotspots: str = "/api/v1/hotspots"
    league: str = "/api/v1/reports/league"
    cameras: str = "/api/v1/cameras"
    camera: str = "/api/v1/cameras/"  # + code: the camera's card (its open incidents)
    grid: str = "/api/v1/grids/"  # + code: the grid with its team, for the grid's card


@dataclass(frozen=True)
class Names:
    """What the cards call codes the API gives: categories and grids (code -> name)."""

    categories: dict[str, str] = field(default_factory=dict)
    grids: dict[str, str] = field(default_factory=dict)


class LiveWall(JSCSSMixin, MacroElement):
    """Starts wall_live.js once the map, its layers and the layer control exist."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            startWall({{ this.config }}, {{ this.refs }});
        {% endmacro %}
    """)
    default_js = [  # noqa: RUF012  (folium reads it)
        ("vectorgrid", f"{VENDOR_URL}/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js"),
        ("page", f"{OWN_URL}/page.js"),  # the pages' API calls and elements
        ("labels", f"{OWN_URL}/labels.js"),  # the pages' words (window.GisLabels)
        ("wall_live", f"{OWN_URL}/wall_live.js"),
    ]

    def __init__(self, config: dict[str, Any], refs: str) -> None:
        super().__init__()
        self._name = "LiveWall"
        # inside a <script>: no "</" may end it early
        self.config = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
        self.refs = refs


def live_refs(fmap: folium.Map, control: folium.LayerControl,
              layers: dict[str, folium.FeatureGroup], grid_layers: list[folium.GeoJson]) -> str:
    """The map, control and layers as JavaScript references (folium declares the control
    with `let`, so it is no property of `window`: the script gets the objects themselves)."""
    named = ", ".join(f"{style.LAYER_KEYS[name]}: {layer.get_name()}"
                      for name, layer in layers.items())
    grids = ", ".join(g.get_name() for g in grid_layers)
    return (f"{{map: {fmap.get_name()}, control: {control.get_name()}, "
            f"layers: {{{named}}}, grids: [{grids}]}}")


def live_config(links: LiveLinks = LiveLinks(), names: Names = Names(),
                town: str | None = None, league: bool = False,
                area_town: str | None = None) -> dict[str, Any]:
    """What the script needs besides the map's objects: links, viewpoints, names, colours
    (the words for the API's codes are static/labels.js's); the town a county viewer drilled
    into (its answers are narrowed to it), whether the towns' league is shown, and the one
    town the wall shows, if it shows one (its cameras are the ones drawn)."""
    return {
        "town": town, "league": links.league if league else None, "areaTown": area_town,
        "names": {style.LAYER_KEYS[name]: name for name in style.LIVE_LAYERS},
        "views": {key: list(shown) for key, _, shown in style.VIEWPOINTS},
        "defaultView": style.DEFAULT_VIEW,
        "links": links.__dict__,
        "feedMs": FEED_POLL_MS, "kpiMs": KPI_POLL_MS, "resetMs": RESET_MS,
        "warningMs": WARNING_POLL_MS, "warningsShown": WARNINGS_SHOWN,
        "leagueMs": LEAGUE_POLL_MS,
        "deadlineColours": style.DEADLINE_COLOURS,
        "categories": names.categories,
        "gridNames": names.grids,
        "statusGroups": [[label, colour, list(statuses)]
                         for label, colour, statuses in style.INCIDENT_GROUPS],
    }


def _views_html() -> str:
    buttons = "".join(f'<button type="button" class="wall-view" data-view="{key}">'
                      f"{html.escape(label)}</button>" for key, label, _ in style.VIEWPOINTS)
    return f'<nav class="wall-views" aria-label="视角">{buttons}</nav>'


# (element id, label, extra class) of the KPI panel's big figures, in rows of three
KPI_FIGURES = ((("kpi-today", "今日受理", ""), ("kpi-open", "在办", ""),
                ("kpi-overdue", "超期", "kpi-red")),
               (("kpi-ontime", "本月按期办结率", ""), ("kpi-721", "本月“721”", ""),
                ("kpi-closed", "本月办结", "")))
KPI_LISTS = (("ul", "kpi-sources", "今日各渠道"), ("ol", "kpi-top-open", "在办最多的网格"),
             ("ol", "kpi-top-month", "本月上报最多的网格"))


# the banner opens this week's warnings; wall_live.js fills both
WARNINGS_HTML = """<div class="wall-warnings" id="wall-warnings" hidden>
<button type="button" id="wall-warnings-toggle" aria-expanded="false">本周预警
<b id="wall-warnings-n">0</b> 条</button>
<ol class="kpi-list wall-warnings-list" id="wall-warnings-list" hidden></ol></div>"""


LEAGUE_HTML = """<section class="wall-league" id="wall-league" hidden>
<h3>各镇本月排名</h3><table class="wall-league-table"><thead><tr><th>镇</th><th>受理</th>
<th>在办</th><th>超期</th><th>按期</th><th>满意度</th><th>上报</th><th>退回</th></tr></thead>
<tbody id="league-rows"></tbody></table></section>"""


def _kpi_html(league: bool) -> str:
    rows = "".join(
        '<div class="kpi-row">' + "".join(
            f'<div class="kpi {extra}"><span class="kpi-n" id="{key}">–</span>'
            f'<span class="kpi-l">{label}</span></div>' for key, label, extra in row) + "</div>"
        for row in KPI_FIGURES)
    lists = "".join(f'<h3>{title}</h3><{tag} class="kpi-list" id="{key}"></{tag}>'
                    for tag, key, title in KPI_LISTS)
    return (f'<aside class="wall-kpi" id="wall-kpi" aria-live="polite">{WARNINGS_HTML}{rows}'
            f"{LEAGUE_HTML if league else ''}{lists}</aside>")



REPLAY_HTML = """<div class="wall-replay" id="wall-replay">
<button type="button" id="replay-toggle">回放一天</button>
<span class="replay-controls" hidden>
  <input type="date" id="replay-day" aria-label="回放日期">
  <button type="button" id="replay-play" aria-label="播放">▶</button>
  <input type="range" id="replay-slider" min="0" max="1439" step="1" value="0"
    aria-label="回放时刻">
  <span id="replay-clock">00:00</span> <span id="replay-count"></span>
</span></div>"""

CARD_HTML = """<section class="wall-card" id="wall-card" hidden>
<button type="button" class="wall-card-close" aria-label="关闭">×</button>
<div id="wall-card-body"></div></section>"""


def add_live(fmap: folium.Map, control: folium.LayerControl,
             layers: dict[str, folium.FeatureGroup], grid_layers: list[folium.GeoJson],
             names: Names = Names(), town: str | None = None, league: bool = False,
             area_town: str | None = None) -> None:
    """The script (after the map, layers and control it names) and its panels."""
    LiveWall(live_config(names=names, town=town, league=league, area_town=area_town),
             live_refs(fmap, control, layers, grid_layers)).add_to(fmap)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    for part in (_views_html(), _kpi_html(league), REPLAY_HTML, CARD_HTML):
        root.html.add_child(folium.Element(part))
