"""Gathering what the wall shows, through the services (map_ui runs no spatial queries)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.config import Settings
from gis_service.grids.service import list_grid_features
from gis_service.open311.service import list_services
from gis_service.people.service import grid_worker_names
from gis_service.places import service as places
from map_ui.wall import Basemap, WallData


def plain(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Features with their ready-made geometry text parsed, so folium can serialise them."""
    return list(orjson.loads(orjson.dumps(features)))


def basemap(settings: Settings) -> Basemap | None:
    """The configured tile layer; none by default (the command center has no internet)."""
    if not settings.basemap_url:
        return None
    return Basemap(settings.basemap_url, settings.basemap_attribution)


def gather_wall(session: Session, *, principal: Principal, now: datetime,
                settings: Settings) -> WallData:
    """The wall's data as `principal` may see it, at `now`."""
    return WallData(
        now=now,
        grids=plain(list_grid_features(session, at=now)),
        workers=grid_worker_names(session),
        districts=plain(places.district_features(session)),
        zones=plain(places.zone_features(session)),
        projects=plain(places.project_features(session)),
        stations=plain(places.station_features(session)),
        categories={s["service_code"]: s["service_name"] for s in list_services(session)},
        role=principal.role, username=principal.username,
        basemap=basemap(settings),
    )
