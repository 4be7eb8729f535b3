"""Request and response bodies of the plan API (drafts, grid edits, operations, validation)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import mapping

from grid_layers.hierarchy import Problem
from grid_layers.repair import DEFAULT_TOLERANCE_M, MAX_TOLERANCE_M, Repair


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanCreate(_Strict):
    """A new draft: a copy of the boundaries valid at `at` (now when absent)."""

    name: str = Field(min_length=1, max_length=200)
    note: str = ""
    at: datetime | None = None


class PlanUpdate(_Strict):
    """A draft's name or note."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    note: str | None = None


class PlanRead(BaseModel):
    """A plan; `version` is its ETag."""

    id: int
    name: str
    note: str
    owner: str
    status: str
    based_on_at: datetime
    version: int
    grid_count: int
    created_at: datetime
    updated_at: datetime


class GridProperties(_Strict):
    """A plan grid's attributes as a PUT sends them."""

    code: str | None = Field(default=None, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    level: Literal[0, 1, 2, 3] | None = None  # 0: the county
    kind: str = Field(min_length=1, max_length=40)
    parent_code: str | None = Field(default=None, max_length=64)
    households: int | None = Field(default=None, ge=0)
    population: int | None = Field(default=None, ge=0)
    multipart: bool = False
    crs: str = "wgs84"


class GridFeature(_Strict):
    """A GeoJSON Feature holding one grid: (Multi)Polygon in lon/lat."""

    type: Literal["Feature"]
    id: str | int | None = None
    geometry: dict[str, Any]
    properties: GridProperties


class SplitOp(_Strict):
    """Cut a grid by a line in two: codes[0] names the piece left of the line as drawn."""

    op: Literal["split"]
    grid: str
    line: dict[str, Any]
    codes: Annotated[list[str], Field(min_length=2, max_length=2)]
    names: Annotated[list[str], Field(min_length=2, max_length=2)] | None = None


class MergeOp(_Strict):
    """Two grids of one level and parent, sharing an edge, as one."""

    op: Literal["merge"]
    grids: Annotated[list[str], Field(min_length=2, max_length=2)]
    into: str | None = None
    name: str | None = None


class MoveOp(_Strict):
    """The part of grid `from` inside `piece` goes to grid `to`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    op: Literal["move"]
    piece: dict[str, Any]
    from_: str = Field(alias="from")
    to: str


class ReassignOp(_Strict):
    """Whole level-3 grids to another level-2 parent; both parents' shapes follow."""

    op: Literal["reassign"]
    grids: Annotated[list[str], Field(min_length=1)]
    parent: str


Operation = Annotated[SplitOp | MergeOp | MoveOp | ReassignOp, Field(discriminator="op")]


class EditRead(BaseModel):
    """One entry of a plan's edit log."""

    seq: int
    at: datetime
    actor: str
    operation: str
    detail: dict[str, Any]
    undone: bool


class ProblemRead(BaseModel):
    """One validation problem: its type, the grids, the area, what to highlight and a point
    where it is (lon, lat; a marker there shows a sliver too thin to see as a shape)."""

    type: str
    grids: list[str]
    area_m2: float
    geometry: dict[str, Any] | None
    location: tuple[float, float] | None = None
    message: str

    @classmethod
    def of(cls, problem: Problem) -> ProblemRead:
        """The API view of a problem found by grid_layers.validation."""
        geometry = problem.geometry
        return cls(type=problem.type, grids=list(problem.grids),
                   area_m2=round(problem.area_m2, 3),
                   geometry=None if geometry is None or geometry.is_empty
                   else dict(mapping(geometry)),
                   location=problem.location, message=problem.message)


class ValidationRead(BaseModel):
    """The contract's validation result, and how many of its problems a repair within the
    default tolerance would clear (POST /plans/{id}/repair)."""

    valid: bool
    problems: list[ProblemRead]
    repairable: int = 0


class RepairRequest(_Strict):
    """How far a repair may move a vertex, in metres."""

    tolerance_m: float = Field(default=DEFAULT_TOLERANCE_M, gt=0.0, le=MAX_TOLERANCE_M)


class RepairRead(BaseModel):
    """One repair made to a draft (grid_layers.repair)."""

    kind: str
    grids: list[str]
    area_m2: float
    shift_m: float
    pieces: int
    location: tuple[float, float] | None
    message: str

    @classmethod
    def of(cls, repair: Repair) -> RepairRead:
        """The API view of a repair."""
        return cls(kind=repair.kind, grids=list(repair.grids), area_m2=round(repair.area_m2, 3),
                   shift_m=round(repair.shift_m, 3), pieces=repair.pieces,
                   location=repair.location, message=repair.message)

    def summary(self) -> dict[str, Any]:
        """What the edit log keeps of it."""
        return self.model_dump(exclude={"location"})


class RepairResult(BaseModel):
    """A repaired draft and the repairs made (none: the plan is unchanged)."""

    plan: PlanRead
    tolerance_m: float
    repairs: list[RepairRead]
