"""Request and response shapes of /api/v1/locate."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AreaRef(BaseModel):
    """A grid or district in an answer."""

    code: str
    name: str


class SpecialRef(AreaRef):
    kind: str


class DistrictRef(AreaRef):
    squad_code: str


class ZoneRef(AreaRef):
    level: int


class LocateResult(BaseModel):
    """Where a point falls: its town, grids per level, overlays, district, zones and worker."""

    in_service_area: bool
    town: AreaRef | None
    grid2: AreaRef | None
    grid3: AreaRef | None
    special: list[SpecialRef]
    district: DistrictRef | None
    zones: list[ZoneRef]
    worker: AreaRef | None


class LocateBatchRequest(BaseModel):
    """Many points in one CRS, each [lon, lat]."""

    crs: str = "wgs84"
    points: list[tuple[float, float]] = Field(max_length=1_000_000)


class LocateBatchResponse(BaseModel):
    results: list[LocateResult]
