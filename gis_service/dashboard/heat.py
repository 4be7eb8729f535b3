"""The wall's heat layer: reports of the last days counted per H3 hexagon."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.dashboard import queries
from gis_service.incidents.scope import visible
from grid_layers.h3_index import HEAT_RESOLUTION, cell_polygon, count_cells


def heat_cells(session: Session, *, principal: Principal, now: datetime, days: int,
               resolution: int = HEAT_RESOLUTION) -> dict[str, Any]:
    """A FeatureCollection of hexagons with `count`, and the largest count (for the scale)."""
    points = session.execute(queries.recent_points(visible(principal),
                                                   now - timedelta(days=days))).all()
    counts = count_cells(points, resolution)
    features = [{"type": "Feature", "id": cell, "geometry": cell_polygon(cell),
                 "properties": {"cell": cell, "count": n}}
                for cell, n in sorted(counts.items())]
    return {"type": "FeatureCollection", "features": features, "days": days,
            "resolution": resolution, "max": max(counts.values(), default=0),
            "total": sum(counts.values())}
