"""Patrol request and response shapes."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis_service.timeutil import aware
from grid_layers.crs import inside_china

# [lon, lat] or [lon, lat, "ISO time"] (a time without a zone is China time)
PatrolPoint = tuple[float, float] | tuple[float, float, datetime]


class PatrolCreate(BaseModel):
    """A walked track as the phone recorded it: points in `crs`, in the order walked."""

    model_config = ConfigDict(extra="forbid")

    crs: str = "wgs84"
    points: list[PatrolPoint] = Field(min_length=2)
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @model_validator(mode="after")
    def _sane(self) -> PatrolCreate:
        for number, point in enumerate(self.points):
            if not inside_china(point[0], point[1]):
                raise ValueError(f"第 {number} 个点 ({point[0]}, {point[1]}) 不在中国境内："
                                 "经纬度写反了，还是投影坐标？")
        times = self.times()
        for number, (earlier, later) in enumerate(pairwise(times)):
            if earlier is not None and later is not None and later < earlier:
                raise ValueError(f"第 {number + 1} 个点的时间早于前一个点")
        start, end = aware(self.started_at), aware(self.ended_at)
        if start is not None and end is not None and end < start:
            raise ValueError("ended_at is before started_at")
        return self

    def times(self) -> list[datetime | None]:
        """Each point's time (zone-aware), or None where the point has none."""
        return [aware(point[2]) if len(point) == 3 else None
                for point in self.points]


class PatrolRead(BaseModel):
    """A stored track, without its line (GET /patrols gives the lines as GeoJSON)."""

    id: int
    username: str
    worker_code: str | None
    grid_code: str | None
    started_at: datetime
    ended_at: datetime
    point_count: int
    length_m: float
    created_at: datetime


class GridCoverage(BaseModel):
    """How much of one level-3 grid a month's patrols covered."""

    code: str
    name: str
    area_m2: float
    covered_m2: float
    share: float = Field(description="covered_m2 / area_m2, 0–1")


class CoverageRead(BaseModel):
    """Patrol coverage of the level-3 grids in one month (China time)."""

    month: str
    buffer_m: float
    tracks: int
    grids: list[GridCoverage]
