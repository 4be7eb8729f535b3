"""Gathering what the wall shows, through the services (map_ui runs no spatial queries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.config import Settings
from gis_service.grids.service import list_grid_features
from gis_service.incidents.scope import CENTER_STAFF
from gis_service.open311.service import list_services
from gis_service.people.service import grid_worker_names
from gis_service.places import service as places
from map_ui.wall import Basemap, WallData
from map_ui.wall_area import area_grids, choose_area, within


def plain(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Features with their ready-made geometry text parsed, so folium can serialise them."""
    return list(orjson.loads(orjson.dumps(features)))


def basemap(settings: Settings) -> Basemap | None:
    """The configured tile layer; none by default (the command center has no internet)."""
    if not settings.basemap_url:
        return None
    return Basemap(settings.basemap_url, settings.basemap_attribution)


def gather_wall(session: Session, *, principal: Principal, now: datetime,
                settings: Settings, town: str | None = None) -> WallData | None:
    """The wall's data as `principal` may see it, at `now`: a town center's own town, the
    town a county viewer asked for (`town`), or the county with its towns' outlines. None
    when `town` is not a town the viewer may look at."""
    grids = plain(list_grid_features(session, at=now))
    own_town, own_county = _own_area(principal, grids)
    area = choose_area(grids, own_town=own_town, own_county=own_county, asked=town)
    if area is None:
        return None
    shown = area_grids(grids, area)
    return WallData(
        now=now,
        grids=shown,
        workers=grid_worker_names(session),
        districts=within(plain(places.district_features(session)), grids, area),
        zones=plain(places.zone_features(session)),
        projects=within(plain(places.project_features(session)), grids, area),
        stations=within(plain(places.station_features(session)), grids, area),
        categories={s["service_code"]: s["service_name"] for s in list_services(session)},
        role=principal.role, username=principal.username,
        basemap=basemap(settings), area=area,
        # a county viewer's cards name grids of any town; a town center's, its own
        grid_names={str(g["properties"]["code"]): str(g["properties"]["name"])
                    for g in (grids if area.towns else shown)},
    )


def _own_area(principal: Principal, grids: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """The town or county a center's account is scoped to, (town, county)."""
    if principal.role not in CENTER_STAFF or not principal.scope_code:
        return None, None
    level = next((g["properties"].get("level") for g in grids
                  if g["properties"].get("code") == principal.scope_code), None)
    scope = principal.scope_code
    return (scope if level == 1 else None), (scope if level == 0 else None)
