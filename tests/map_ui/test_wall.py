"""The wall's builder on small hand-made data, without a database or a browser."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import folium
from folium.plugins import MarkerCluster

from map_ui import wall_style as style
from map_ui.geometry import bounds_of
from map_ui.wall import Basemap, WallData, render_wall
from tests.town import box, grid_features

NOW = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)


def area(code: str, name: str, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"code": code, "name": name,
                                                                    **props}}


def town_data(**changes: Any) -> WallData:
    """The test town's grids with a lake, zones, a district, projects, a station, incidents."""
    values: dict[str, Any] = {
        "now": NOW,
        "grids": grid_features(),
        "workers": {"T-A-1": "张三", "T-B-2": "赵六"},
        "districts": [area("D1", "南片区", box(120.40, 30.90, 120.42, 30.91),
                           squad_code="Q1", squad_name="一中队")],
        "zones": [area("LAKE", "太湖", box(120.38, 30.90, 120.40, 30.92), level=0),
                  area("Z1", "太湖一级保护区", box(120.40, 30.90, 120.403, 30.92), level=1)],
        "projects": [area("P1", "环湖大道", {"type": "Point", "coordinates": [120.412, 30.912]},
                          status="building", department="JS"),
                     area("P2", "渔港改造", box(120.411, 30.911, 120.413, 30.913),
                          status="planned", department="JS")],
        "stations": [area("S1", "西村便民服务站",
                          {"type": "Point", "coordinates": [120.405, 30.915]}, grid_code="T-A")],
    }
    values.update(changes)
    return WallData(**values)


def test_every_layer_is_in_the_layer_control() -> None:
    page = render_wall(town_data())
    control = page[page.index("L.control.layers"):]
    for name in style.AREA_LAYERS:  # the live layers join the control from the script
        assert json.dumps(name) in page[page.index("overlays"):], name
    assert "collapsed\": false" in control


def test_page_loads_nothing_from_outside() -> None:
    page = render_wall(town_data())
    assert not re.search(r"https?://", page)
    assert not re.search(r"(?:src|href)=[\"']?//", page)  # nor protocol-relative
    for url in re.findall(r"(?:src|href)=\"([^\"]+)\"", page):
        assert url.startswith(("/static/vendor/", "/static/map_ui/")), url


def test_shows_names_workers_and_squads() -> None:
    page = render_wall(town_data())
    for text in ("七都镇(测试) · 网格化管理一张图", "2025-06-01 12:00"):
        assert text in page
    for value in ("T-A-1", "张三", "赵六", "一中队（Q1）", "太湖一级保护区", "在建", "规划中",
                  "西村便民服务站"):
        assert json.dumps(value)[1:-1] in page, value
    for class_name in ("wall-grid1", "wall-grid2", "wall-grid3", "wall-special", "wall-lake",
                       "wall-zone", "wall-district", "wall-project", "wall-station"):
        assert f'"className": "{class_name}"' in page, class_name


def _start_call(page: str) -> tuple[dict[str, Any], str]:
    """The config and the references the page hands to startWall."""
    match = re.search(r"startWall\((\{.*?\}), (\{map: .*?\]\})\);", page, re.S)
    assert match, "the page does not start the live wall"
    return json.loads(match.group(1)), match.group(2)


def test_the_live_script_gets_every_layer_and_the_viewpoints() -> None:
    page = render_wall(town_data())
    config, refs = _start_call(page)
    for name in style.AREA_LAYERS:
        assert f"{style.LAYER_KEYS[name]}: feature_group_" in refs, name
    assert refs.count("geo_json_") == 4  # grids of levels 1–3 and special are clickable
    assert set(config["names"]) == {style.LAYER_KEYS[n] for n in style.LIVE_LAYERS}
    known = set(style.LAYER_KEYS.values())
    assert set(config["views"]) == {"command", "dispatch", "enforcement", "taihu", "analysis"}
    for view, shown in config["views"].items():
        assert set(shown) <= known, view
        assert "live" in shown or view == "analysis", view
    assert config["feedMs"] <= 5000  # the wall shows a new report within 5 s
    assert "warnings" in config["views"]["analysis"]  # this week's hotspots, for analysts
    for url in ("/api/v1/wall/feed", "/api/v1/wall/kpi", "/tiles/incidents/{z}/{x}/{y}.pbf",
                "/api/v1/hotspots"):
        assert url in config["links"].values()
    for view in config["views"]:
        assert f'data-view="{view}"' in page
    for element in ('id="wall-kpi"', 'id="replay-slider"', 'id="wall-card"'):
        assert element in page
    assert "/static/map_ui/wall_live.js" in page
    assert "/static/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" in page


def test_the_lake_is_drawn_as_water() -> None:
    page = render_wall(town_data())
    lake = style.STYLES[style.LAKE]
    assert f'"fillColor": "{lake["fillColor"]}"' in page


def test_text_from_reports_cannot_become_markup() -> None:
    hostile = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    station = area("S9", hostile, {"type": "Point", "coordinates": [120.405, 30.915]},
                   grid_code="T-A")
    page = render_wall(town_data(stations=[station], workers={"T-A-1": "<b>张三</b>"}))
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>张三" not in page


def test_an_empty_town_gives_a_friendly_map() -> None:
    page = render_wall(WallData(now=NOW))
    assert "尚未载入镇域数据" in page and "fitBounds" not in page
    assert "startWall(" in page  # reports may still arrive: the live layers run anyway


def test_a_configured_basemap_is_the_only_outside_url() -> None:
    url = "http://tiles.county.example/{z}/{x}/{y}.png"
    page = render_wall(town_data(basemap=Basemap(url, "县政务底图")))
    assert re.findall(r"https?://[^\"' ]+", page) == [url]
    assert json.dumps("底图") in page


def test_folium_defaults_point_at_local_copies() -> None:
    # set on importing map_ui.wall
    for cls in (folium.Map, MarkerCluster):
        for _, url in [*cls.default_js, *cls.default_css]:
            assert url.startswith("/static/"), url


def test_bounds_of_features() -> None:
    assert bounds_of(grid_features()) == [[30.90, 120.40], [30.92, 120.42]]
    assert bounds_of([]) is None
