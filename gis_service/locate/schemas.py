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
    county: AreaRef | None = Field(
        default=None, description="the county grid (level 0), when the deployment has one")
    town: AreaRef | None
    grid2: AreaRef | None
    grid3: AreaRef | None
    special: list[SpecialRef]
    district: DistrictRef | None
    zones: list[ZoneRef]
    worker: AreaRef | None


class LocateBatchRequest(BaseModel):
    """Many points in one CRS, each [lon, lat]; `fields` asks for the compact answer."""

    crs: str = "wgs84"
    points: list[tuple[float, float]] = Field(max_length=1_000_000)
    fields: list[str] | str | None = Field(
        default=None, description="only these codes, one array per field (as the `fields` "
        "query parameter: `town,grid2,grid3` or a list)")


class LocateBatchResponse(BaseModel):
    results: list[LocateResult]


class LocateColumns(BaseModel):
    """The compact answer (`fields=`): one array per field asked for, in point order; a code
    or null, a list of codes for `special` and `zones`, a boolean for `in_service_area`.
    With `Accept: text/csv`: a header of the fields and a row per point (lists joined by
    `;`)."""

    in_service_area: list[bool] | None = None
    county: list[str | None] | None = None
    town: list[str | None] | None = None
    grid2: list[str | None] | None = None
    grid3: list[str | None] | None = None
    district: list[str | None] | None = None
    squad: list[str | None] | None = None
    special: list[list[str]] | None = None
    zones: list[list[str]] | None = None
    worker: list[str | None] | None = None
