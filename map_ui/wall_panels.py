"""The wall's fixed panels: title, legend, the empty-town message, and its own stylesheet."""

from __future__ import annotations

import html
from datetime import datetime

import folium
from branca.element import Figure
from folium.elements import JSCSSMixin

from gis_service.timeutil import CHINA_TIME
from map_ui import wall_style as style
from map_ui.assets import OWN_URL

TITLE = "网格化管理一张图"
EMPTY_MESSAGE = (
    '<div class="wall-empty"><h2>尚未载入镇域数据</h2>'
    "<p>运行 <code>gis-service load-demo</code> 载入演示镇，"
    "或用 <code>gis-service import grids 文件</code> 导入本镇网格后刷新本页。</p></div>")


def china_time(moment: datetime) -> str:
    """A moment as the command center reads it (China Standard Time, to the minute)."""
    return moment.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M")


def _swatch(colour: str, label: str, shape: str = "box") -> str:
    return (f'<div class="wall-key"><span class="wall-{shape}" style="--c:{colour}"></span>'
            f"{html.escape(label)}</div>")


def legend_html(project_statuses: list[str]) -> str:
    """The legend: areas, then points."""
    rows = [_swatch(style.STYLES[style.GRID1]["color"], "镇界", "line"),
            _swatch(style.STYLES[style.GRID2]["color"], "村/社区界", "line"),
            _swatch(style.STYLES[style.GRID3]["fillColor"], "三级网格"),
            _swatch(style.STYLES[style.SPECIAL]["color"], "专属网格", "dash"),
            _swatch(style.STYLES[style.DISTRICTS]["color"], "执法片区", "dash"),
            _swatch(style.STYLES[style.LAKE]["fillColor"], "太湖水域")]
    rows += [_swatch(colour, label) for label, colour in style.ZONE_LEVELS.values()]
    colours = style.project_colours(project_statuses)
    rows += [_swatch(colour, f"重点工程·{style.PROJECT_STATUS.get(status, status)}", "dot")
             for status, colour in colours.items()]
    rows.append(_swatch(style.STYLES[style.STATIONS]["fillColor"], "便民服务站", "dot"))
    rows.append(_swatch(style.CAMERA_COLOUR, "摄像机（扇形为朝向）", "dot"))
    rows += [_swatch(style.DEADLINE_COLOURS[key], f"在办事件·{label}", "dot")
             for key, label in (("green", "正常"), ("yellow", "临期"), ("red", "超期"))]
    rows += [_swatch(colour, f"边框·{label}", "ring") for label, colour, _ in
             style.INCIDENT_GROUPS[:3]]
    return f'<div class="wall-legend"><h3>图例</h3>{"".join(rows)}</div>'


def title_html(now: datetime, town: str, nav: str = "", back: bool = False) -> str:
    """The title bar: the town (or county), a status line the live script keeps current, the
    links to the other pages (map_ui.nav) and, in a town a county viewer drilled into, the
    way back to the county."""
    name = html.escape(f"{town} · {TITLE}" if town else TITLE)
    up = '<a class="wall-back" id="wall-back" href="/">‹ 返回全县</a>' if back else ""
    return (f'<div class="wall-title"><h1>{name}{up}</h1>'
            f'<p id="wall-status">页面生成于 {china_time(now)} · 正在连接…</p>{nav}</div>')


class WallStyle(JSCSSMixin):
    """The wall's stylesheet, linked after the libraries' so that its rules win."""

    default_css = [("wall_css", f"{OWN_URL}/wall.css")]  # noqa: RUF012  (folium reads it)


def decorate(fmap: folium.Map, now: datetime, *, town: str, projects: list[str],
             empty: bool, nav: str = "", back: bool = False) -> None:
    """Add the stylesheet, icon, title (with the links to other pages), legend and (with no
    town loaded) the empty message."""
    root = fmap.get_root()
    assert isinstance(root, Figure)  # a Map always sits in a Figure
    root.header.add_child(folium.Element(
        f'<title>{html.escape(town or "")} {TITLE}</title>'
        f'<link rel="icon" href="{OWN_URL}/favicon.svg" type="image/svg+xml">'))
    WallStyle().add_to(fmap)  # added last, so rendered (and linked) after the libraries
    root.html.add_child(folium.Element(title_html(now, town, nav, back)))
    root.html.add_child(folium.Element(legend_html(projects)))
    if empty:
        root.html.add_child(folium.Element(EMPTY_MESSAGE))
