"""Incident request and response shapes (the contract's fields, plus a few more)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from gis_service.incidents.core.lifecycle import ACTIONS, RESOLUTIONS
from grid_layers.crs import inside_china
from grid_layers.wording import swapped_coordinates

SOURCES = ("hotline_12345", "mayor_mailbox", "grid_patrol", "enforcement_patrol", "video",
           "county_ticket", "open311", "walk_in")
Source = Literal["hotline_12345", "mayor_mailbox", "grid_patrol", "enforcement_patrol", "video",
                 "county_ticket", "open311", "walk_in"]
Action = Literal["register", "reject", "dispatch", "accept", "return", "start", "resolve",
                 "verify", "reopen", "close", "escalate", "whistle", "evaluate", "merge",
                 "categorize", "place", "confirm"]
assert set(Action.__args__) == set(ACTIONS)  # type: ignore[attr-defined]


class Location(BaseModel):
    """A point in one of the supported CRSs."""

    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: str = "wgs84"

    @model_validator(mode="before")
    @classmethod
    def _not_swapped(cls, data: Any) -> Any:
        # before the bounds: a swapped pair fails `lat <= 90` first, which hides the cause
        if isinstance(data, dict):
            lon, lat = data.get("lon"), data.get("lat")
            if cls._number(lon) and cls._number(lat):
                hint = swapped_coordinates(float(lon), float(lat))
                if hint is not None:
                    raise PydanticCustomError("swapped_coordinates", hint)
        return data

    @staticmethod
    def _number(value: object) -> TypeGuard[float]:
        return isinstance(value, int | float) and not isinstance(value, bool)

    @model_validator(mode="after")
    def _in_china(self) -> Location:
        if not inside_china(self.lon, self.lat):
            raise ValueError(f"({self.lon}, {self.lat}) 不在中国境内：是投影坐标（米），"
                             "还是坐标写错了？")
        return self


class Contact(BaseModel):
    """Who reported it, for calling back (回访): shown in full to the command center only."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=60)
    phone: str = Field(default="", max_length=30, pattern=r"^[0-9+\- ]*$")


class ContactRead(BaseModel):
    """The reporter as the caller may see them (masked: 张*, 138****5678)."""

    name: str
    phone: str


class IncidentCreate(BaseModel):
    """A report from any channel. Server-owned fields (status, assignee, grid…) are not
    accepted: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    source: Source
    external_id: str | None = Field(default=None, max_length=120)
    category: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=4000)
    location: Location | None = None
    address: str | None = Field(default=None, max_length=400)
    reported_at: datetime | None = None
    parent_ticket_id: str | None = Field(default=None, max_length=120,
                                         description="county tickets: the county's ticket id")
    county_due_at: datetime | None = Field(default=None,
                                           description="county tickets: the county's deadline")
    contact: Contact | None = Field(default=None, description="the reporter's name and phone")
    camera_code: str | None = Field(
        default=None, pattern=r"^[0-9]{20}$",
        description="a camera's event (source `video`): the camera's GB/T 28181 code; placed "
                    "at `location` when given, else at the camera")
    scene: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="a camera's event: the algorithm's scene (店外经营, 占道经营 …) or a GB/T "
                    "28181 video alarm type as gb28181:<1-12>; its row in the video scenes "
                    "gives the category")
    confidence: float | None = Field(
        default=None, ge=0, le=1,
        description="a camera's event: how sure the algorithm is (none: 1, as an alarm)")

    @model_validator(mode="after")
    def _camera_event(self) -> IncidentCreate:
        if self.camera_code is None:
            if self.scene is not None or self.confidence is not None:
                raise ValueError("scene and confidence come with camera_code")
            return self
        if self.source != "video":
            raise ValueError("camera_code comes with source video")
        if self.scene is None:
            raise ValueError("a camera's event names its scene (or gb28181:<alarm type>)")
        return self


class Assignee(BaseModel):
    type: str
    code: str
    name: str | None = Field(default=None, description="the handler's name, when known")


class IncidentRead(BaseModel):
    """An incident as the API returns it."""

    id: int
    status: str
    source: str
    external_id: str | None
    category: str | None
    description: str
    address: str | None
    lon: float | None
    lat: float | None
    town: str | None
    grid2: str | None
    grid3: str | None
    district: str | None
    zones: list[str]
    special: list[str]
    assignee: Assignee | None
    cooperating: list[str]
    priority: int
    escalation_level: int
    respond_due_at: datetime | None
    due_at: datetime | None
    deadline_state: str = Field(description="green, yellow, red (overdue), done or none")
    overdue_since: datetime | None = Field(
        default=None, description="the first deadline it missed (kept after escalation)")
    parent_ticket_id: str | None
    contact: ContactRead | None = Field(default=None, description="in full for the command "
                                      "center, masked (张*, 138****5678) for everyone else")
    resolution: str | None
    satisfaction: int | None
    candidates: list[dict[str, object]] | None
    camera_code: str | None = Field(default=None, description="the camera it came from")
    scene: str | None = Field(default=None, description="what the camera saw")
    confidence: float | None = Field(default=None,
                                     description="the surest of its detections' confidence")
    detections: int | None = Field(
        default=None, description="a camera's incident: how many detections folded into it, "
                                  "the first included")
    last_seen_at: datetime | None = Field(default=None,
                                          description="a camera's incident: its newest detection")
    version: int
    reported_at: datetime
    created_at: datetime
    updated_at: datetime


class IncidentPage(BaseModel):
    items: list[IncidentRead]
    next_cursor: str | None


class ActionRequest(BaseModel):
    """An action on an incident. `to` names a handler as `type:code` (grid_worker:W1,
    squad:Q1, department:HB, town:T) for dispatch, or `;`-separated department codes for
    whistle, or the id of the incident to merge into; `location` places a needs_location
    incident when dispatching it, or re-places one (`place`); `category` is the
    responsibility list's code a `categorize` sets."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    note: str = Field(default="", max_length=4000)
    to: str | None = Field(default=None, max_length=400)
    resolution: Literal["service", "management", "enforcement"] | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    location: Location | None = None
    category: str | None = Field(default=None, max_length=64)


class LinkRead(BaseModel):
    """`incident_id` is a possible duplicate of, or was merged into, `other_id`."""

    model_config = ConfigDict(from_attributes=True)

    incident_id: int
    other_id: int
    kind: str
    created_at: datetime


class HistoryEntry(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    before: dict[str, object]
    after: dict[str, object]
    note: str
    detail: dict[str, object]
    hash: str


class SuggestionRead(BaseModel):
    """A handler the incident could be dispatched to; `to` goes into the dispatch action."""

    to: str
    type: str
    code: str
    name: str
    reason: str
    rule: bool = Field(description="what the responsibility list names at this place")
    distance_m: float | None = Field(description="from the incident to the handler's area")
    open_items: int = Field(description="incidents the handler has in hand")
    on_duty: bool
    score: float = Field(description="ranking cost (metres + 500 per item in hand); lower "
                                     "first after the rule's pick and its AB backup")


class SuggestionsRead(BaseModel):
    """Ranked handlers for an incident, and the geocoder's candidates when it has no place."""

    incident_id: int
    version: int
    status: str
    suggestions: list[SuggestionRead]
    candidates: list[dict[str, object]] | None


class QueueCounts(BaseModel):
    """How many visible incidents wait in each queue of the dispatcher console."""

    needs_location: int
    awaiting: int
    center: int
    escalated: int
    returned: int
    to_verify: int
    to_close: int
    overdue: int
    whistle: int


assert set(RESOLUTIONS) == {"service", "management", "enforcement"}
