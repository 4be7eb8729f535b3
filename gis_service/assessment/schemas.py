"""Assessment request and response shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ItemScore(BaseModel):
    """One item of a worker's score: what was measured, against what, for how many points,
    and the stored facts it was measured from."""

    item: str
    label: str
    value: float | None = Field(description="the measure; None when there was nothing to "
                                            "measure (无数据: the item earns nothing)")
    target: float | None
    weight: float
    points: float
    facts: dict[str, Any]
    missing: str | None = Field(default=None, description="why there was nothing to measure")


class WorkerScore(BaseModel):
    """A grid worker's month: each item's measure, the total, and its explanation."""

    rank: int = 0
    worker_code: str
    worker_name: str
    grid_code: str | None
    on_duty: bool
    coverage_share: float | None
    days_active: int
    events_found: int
    events_weighted: float
    closed: int
    closed_on_time: int
    on_time_rate: float | None
    returns: int
    spot_checks: int
    spot_pass_rate: float | None
    spot_mean_score: float | None
    total: float
    best_total: float
    explain: list[ItemScore]


class AssessmentRead(BaseModel):
    """The league table of one month (China time), best total first."""

    month: str
    scheme: str
    buffer_m: float
    workers: list[WorkerScore]


class SpotCheckCreate(BaseModel):
    """A spot check of a grid worker as the checking officer records it."""

    model_config = ConfigDict(extra="forbid")

    worker_code: str = Field(min_length=1, max_length=64)
    passed: bool
    score: int | None = Field(default=None, ge=0, le=100)
    note: str = Field(default="", max_length=4000)
    checked_at: datetime | None = None


class SpotCheckRead(BaseModel):
    """A stored spot check."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    worker_code: str
    grid_code: str | None
    checked_at: datetime
    checker: str
    passed: bool
    score: int | None
    note: str
    created_at: datetime


class WorkerMap(BaseModel):
    """What the worker's page draws: the home grid's outline and the month's tracks, both as
    GeoJSON geometries in storage lon/lat."""

    grid: dict[str, Any] | None
    tracks: list[dict[str, Any]]


class StationedPart(BaseModel):
    """One party's part of a stationed staff member's month: its rating and the points it
    gives at the party's weight (nothing when it has not rated: 未评)."""

    party: Literal["town", "county"]
    weight: float = Field(description="the most points this party's rating can give")
    score: int | None
    points: float
    note: str = ""
    rater: str | None = None
    rated_at: datetime | None = None


class StationedScore(BaseModel):
    """A county department's staff member stationed in a town: the department's work in that
    town over the month, the town's and the department's ratings, and the weighted total."""

    worker_code: str
    worker_name: str
    department_code: str
    department_name: str
    town_code: str
    town_name: str
    received: int = Field(description="tickets handed to the department in the town")
    cooperated: int = Field(description="the town's tickets of the month it co-handles (配合)")
    closed: int = Field(description="of the town's tickets it held, closed this month")
    closed_on_time: int
    on_time_rate: float | None
    returned: int = Field(description="tickets the department handed back")
    town: StationedPart
    county: StationedPart
    total: float
    may_rate: list[Literal["town", "county"]] = Field(
        description="the parties the caller rates as: the town center as `town`, the county "
                    "center as `county` (for the department)")


class StationedRead(BaseModel):
    """The month's stationed staff, by town then code; `town_share` is the town's weight."""

    month: str
    town_share: float
    staff: list[StationedScore]


class StationedRatingWrite(BaseModel):
    """A party's rating of a stationed staff member's month (rating again replaces it)."""

    model_config = ConfigDict(extra="forbid")

    party: Literal["town", "county"]
    score: int = Field(ge=0, le=100)
    note: str = Field(default="", max_length=4000)
