"""GET /api/v1/exports/{layer}.{fmt}: a layer as a GeoPackage, GeoJSON or CSV file."""

from __future__ import annotations

import shutil
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from gis_service.auth.deps import PrincipalDep
from gis_service.database import ReadSessionDep
from gis_service.exports import service

router = APIRouter(prefix="/api/v1", tags=["exports"])
# the read role (ReadSessionDep, GIS_READ_DATABASE_URL): a file of a layer, long reads that
# may lag a little and are better kept off the primary


@router.get("/exports/{layer}.{fmt}", response_class=FileResponse,
            responses={200: {"description": "the file", "content": {
                "application/geopackage+sqlite3": {}, "application/geo+json": {},
                "text/csv": {}}}})
def export(layer: str, fmt: str, session: ReadSessionDep, principal: PrincipalDep,
           at: Annotated[datetime | None, Query(description="grids: ISO time; default now")]
           = None) -> FileResponse:
    """`layer`: grids, districts, zones, projects, stations, incidents (those you may see);
    `fmt`: gpkg, geojson, csv (points as lon/lat columns, other geometries as WKT)."""
    made = service.export_layer(session, principal, name=layer, fmt=fmt, at=at)
    return FileResponse(made.path, media_type=made.media_type, filename=made.filename,
                        background=BackgroundTask(shutil.rmtree, made.folder,
                                                  ignore_errors=True))
