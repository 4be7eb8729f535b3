"""The one-map wall: a folium map of the town built from plain data (no database here)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import folium

from map_ui import wall_panels as panels
from map_ui import wall_style as style
from map_ui.assets import use_local_assets
from map_ui.geometry import bounds_of
from map_ui.nav import nav_html
from map_ui.wall_area import WallArea
from map_ui.wall_live import Names, add_live

Feature = dict[str, Any]
# Lake Taihu, where the towns this serves lie; used when no town is loaded yet
DEFAULT_CENTER = (31.0, 120.25)
MAX_ZOOM = 19

use_local_assets()  # before any map is built: folium's defaults name CDNs


@dataclass(frozen=True)
class Basemap:
    """An optional tile layer (e.g. the county's own tile server)."""

    url: str
    attribution: str


@dataclass(frozen=True)
class WallData:
    """Everything the wall shows, as GeoJSON features and plain rows."""

    now: datetime
    grids: list[Feature] = field(default_factory=list)
    workers: dict[str, str] = field(default_factory=dict)  # grid code -> worker name(s)
    districts: list[Feature] = field(default_factory=list)
    zones: list[Feature] = field(default_factory=list)
    projects: list[Feature] = field(default_factory=list)
    stations: list[Feature] = field(default_factory=list)
    categories: dict[str, str] = field(default_factory=dict)  # category code -> name
    role: str = ""  # who looks (the links to other pages follow it); none: no links
    username: str = ""
    basemap: Basemap | None = None
    area: WallArea | None = None  # the town or county shown (None: whatever is given)
    grid_names: dict[str, str] = field(default_factory=dict)  # every grid's, for the cards


def render_wall(data: WallData) -> str:
    """The wall as a complete HTML page."""
    return str(build_wall(data).get_root().render())


def build_wall(data: WallData) -> folium.Map:
    """The wall's folium map: the town's areas in a layer control, a title and a legend; the
    live layers, KPI panel, viewpoints, replay and cards are added by the page's script."""
    fmap = _base_map(data.basemap)
    layers = {name: folium.FeatureGroup(name=name) for name in style.AREA_LAYERS}
    _add_zones(layers, data.zones)
    _add_districts(layers[style.DISTRICTS], data.districts)
    grid_layers = _add_grids(layers, data.grids, data.workers)
    _add_projects(layers[style.PROJECTS], data.projects)
    _add_stations(layers[style.STATIONS], data.stations)
    for layer in layers.values():
        layer.add_to(fmap)
    control = folium.LayerControl(collapsed=False)
    control.add_to(fmap)
    bounds = bounds_of(data.grids)
    if bounds is not None:
        fmap.fit_bounds(bounds)
    area = data.area
    panels.decorate(fmap, data.now, town=area.name if area else _town_name(data.grids),
                    projects=[str(_prop(f, "status")) for f in data.projects],
                    empty=not data.grids,
                    nav=nav_html(data.role, "wall", username=data.username) if data.role else "",
                    back=area is not None and area.drilled)
    names = Names(categories=data.categories, grids=data.grid_names or {
        str(_prop(g, "code")): str(_prop(g, "name")) for g in data.grids})
    add_live(fmap, control, layers, grid_layers, names,
             town=area.town if area is not None and area.drilled else None,
             league=area is not None and area.town is None and len(area.towns) > 1,
             area_town=area.town if area is not None else None)
    return fmap


def _base_map(basemap: Basemap | None) -> folium.Map:
    """A dark map with no tiles, or with the configured basemap."""
    # no folium scale bar: it shows miles too (wall_live.js adds a metric one)
    fmap = folium.Map(location=DEFAULT_CENTER, zoom_start=11, tiles=None)
    fmap.options["max_zoom"] = MAX_ZOOM  # clustering needs it; with no tiles nothing sets it
    if basemap is None:
        fmap.options["zoom_snap"] = 0.25  # no tiles to keep sharp: fit the town closely
    else:
        folium.TileLayer(tiles=basemap.url, attr=basemap.attribution, name="底图",
                         max_zoom=MAX_ZOOM).add_to(fmap)
    return fmap


def _prop(item: Feature, key: str) -> Any:
    return (item.get("properties") or {}).get(key)


def _text(value: Any) -> str:
    # values end up in innerHTML (tooltips, popups) and inside a <script>: escape them all
    return "" if value is None else html.escape(str(value))


Shown = tuple[dict[str, Any] | None, dict[str, Any]]  # a geometry and what the wall says of it


def _collection(items: Iterable[Shown]) -> dict[str, Any]:
    """A FeatureCollection with only the (escaped) properties the wall shows."""
    features = [{"type": "Feature", "geometry": geometry,
                 "properties": {k: _text(v) for k, v in props.items()}}
                for geometry, props in items if geometry]
    return {"type": "FeatureCollection", "features": features}


def _geojson(items: Iterable[Shown], path_style: dict[str, Any], class_name: str,
             fields: dict[str, str], *, popup: bool = False,
             marker: folium.CircleMarker | None = None) -> folium.GeoJson:
    """A GeoJSON layer in one style; the class name lets pages and tests find its shapes."""
    styled = {**path_style, "className": class_name}
    names, aliases = list(fields), list(fields.values())
    return folium.GeoJson(_collection(items), style_function=lambda _: styled,
                          tooltip=None if popup else folium.GeoJsonTooltip(names, aliases),
                          popup=folium.GeoJsonPopup(names, aliases) if popup else None,
                          marker=marker)


AREA_FIELDS = {"code": "编码", "name": "名称"}


def _area(item: Feature, **extra: Any) -> Shown:
    return item.get("geometry"), {"code": _prop(item, "code"), "name": _prop(item, "name"),
                                  **extra}


def _add_districts(layer: folium.FeatureGroup, districts: list[Feature]) -> None:
    if not districts:
        return
    items = [_area(d, squad=f"{_prop(d, 'squad_name') or ''}（{_prop(d, 'squad_code') or ''}）")
             for d in districts]
    _geojson(items, style.STYLES[style.DISTRICTS], style.CLASS_NAMES[style.DISTRICTS],
             {**AREA_FIELDS, "squad": "执法中队"}).add_to(layer)


def _add_zones(layers: dict[str, folium.FeatureGroup], zones: list[Feature]) -> None:
    """Level 0 is the lake itself, drawn as water; the protection levels each in their colour."""
    lake = [_area(z) for z in zones if _prop(z, "level") == 0]
    if lake:
        _geojson(lake, style.STYLES[style.LAKE], style.CLASS_NAMES[style.LAKE],
                 AREA_FIELDS).add_to(layers[style.LAKE])
    levels = {_prop(z, "level") for z in zones} - {0}
    for level in sorted(levels, key=lambda lv: (lv is None, lv or 0)):
        label, zone_style = style.zone_style(level)
        items = [_area(z, level=label) for z in zones if _prop(z, "level") == level]
        _geojson(items, zone_style, style.CLASS_NAMES[style.ZONES],
                 {**AREA_FIELDS, "level": "级别"}).add_to(layers[style.ZONES])


def _add_grids(layers: dict[str, folium.FeatureGroup], grids: list[Feature],
               workers: dict[str, str]) -> list[folium.GeoJson]:
    """Grids by level (special-purpose grids apart), each with its grid worker; returns the
    layers a click opens a grid's card on."""
    by_level = {1: style.GRID1, 2: style.GRID2, 3: style.GRID3, None: style.SPECIAL}
    drawn = []
    for level, name in by_level.items():
        items = [_area(g, worker=workers.get(str(_prop(g, "code")), "—"))
                 for g in grids if _prop(g, "level") == level]
        if items:
            layer = _geojson(items, style.STYLES[name], style.CLASS_NAMES[name],
                             {**AREA_FIELDS, "worker": "网格员"})
            layer.add_to(layers[name])
            drawn.append(layer)
    return drawn


def _add_projects(layer: folium.FeatureGroup, projects: list[Feature]) -> None:
    """Key projects coloured by status; points as circles, areas as outlines."""
    colours = style.project_colours([str(_prop(p, "status")) for p in projects])
    fields = {**AREA_FIELDS, "status": "状态", "department": "责任部门"}
    for status, colour in colours.items():
        items = [_area(p, status=style.PROJECT_STATUS.get(status, status),
                       department=_prop(p, "department"))
                 for p in projects if str(_prop(p, "status")) == status]
        path_style = {"color": colour, "weight": 2.5, "fill": True, "fillColor": colour,
                      "fillOpacity": 0.35}
        _geojson(items, path_style, style.CLASS_NAMES[style.PROJECTS], fields,
                 marker=folium.CircleMarker(radius=8)).add_to(layer)


def _add_stations(layer: folium.FeatureGroup, stations: list[Feature]) -> None:
    if not stations:
        return
    items = [_area(s, grid_code=_prop(s, "grid_code")) for s in stations]
    _geojson(items, style.STYLES[style.STATIONS], style.CLASS_NAMES[style.STATIONS],
             {**AREA_FIELDS, "grid_code": "所在网格"},
             marker=folium.CircleMarker(radius=6)).add_to(layer)


def _town_name(grids: list[Feature]) -> str:
    names = [str(_prop(g, "name")) for g in grids if _prop(g, "level") == 1]
    return "、".join(names)
