"""Request and response shapes of /api/v1/locate, and the batch request's reader."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import orjson
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_POINTS = 1_000_000  # per POST /locate body; the service's setting may allow fewer


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


# What a point's answer can be reduced to (`fields=`): a code per layer (null where no area),
# the district's squad, the level-3 grid's worker on duty, whether the point is in a town, and
# the codes of the special grids and zones covering it.
FieldName = Literal["in_service_area", "county", "town", "grid2", "grid3", "district", "squad",
                    "special", "zones", "worker"]

FIELDS_HELP = ("only these codes, answered one array per field (or CSV with `Accept: text/csv`)"
               ": `in_service_area`, `county`, `town`, `grid2`, `grid3`, `district`, `squad`, "
               "`special`, `zones`, `worker`")


class LocateBatchRequest(BaseModel):
    """Many points in one CRS, each [lon, lat]; `fields` asks for the compact answer."""

    crs: str = "wgs84"
    points: list[tuple[float, float]] = Field(max_length=MAX_POINTS)
    fields: list[str] | str | None = Field(
        default=None, description=FIELDS_HELP + "; a list or a comma-separated string, as the "
        "`fields` query parameter (which wins when both are given)",
        examples=[["town", "grid2", "grid3"], "town,grid2,grid3"])


class LocateBatchResponse(BaseModel):
    results: list[LocateResult]


class LocateColumns(BaseModel):
    """The compact answer (`fields=`): one array per field asked for, in the order asked, each
    as long as `points` and in their order — a code or null (no such area there), a list of
    codes for `special` and `zones`, a boolean for `in_service_area`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "town": ["QD", None], "grid2": ["QD-01", None], "grid3": ["QD-01-02", None]}]})

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


@dataclass(frozen=True)
class LocateBatch:
    """A POST /locate body as read: the CRS, the fields asked for and the points as an array."""

    crs: str
    fields: list[str] | str | None
    points: NDArray[np.float64]  # shape (n, 2): lon, lat in `crs`


def read_batch(raw: bytes) -> LocateBatch:
    """The body read, the points straight into an array; pydantic's ValidationError when the
    body does not fit LocateBatchRequest."""
    quick = _points_quickly(raw)
    if quick is not None:
        rest, points = quick
        try:
            body = LocateBatchRequest.model_validate_json(rest)
        except ValidationError:
            pass  # the whole body again below, for pydantic's own account of what is wrong
        else:
            if not body.points:  # the array taken out was the body's `points`
                return LocateBatch(body.crs, body.fields, points)
    body = LocateBatchRequest.model_validate_json(raw)
    return LocateBatch(body.crs, body.fields,
                       np.asarray(body.points, dtype=np.float64).reshape(-1, 2))


# Reading 200,000 points as pydantic tuples and then into an array took 120-200 ms here (most
# of a compact answer's time in the service); reading the `points` array as one flat list of
# numbers with orjson takes ~65 ms. The quick path takes it only when it is exactly an array of
# [number, number] pairs (the brackets and commas are checked to be in that pattern, orjson
# checks every number), and hands back the body with `"points": []` for pydantic to check the
# rest; anything else (a second "points" key, a string or null among the numbers, a pair of
# three) goes to pydantic whole, which gives the usual answer and errors.
_POINTS_KEY = re.compile(rb'"points"\s*:\s*\[')
_NUMBER_OR_SPACE = b"0123456789.eE+- \t\r\n"


def _points_quickly(raw: bytes) -> tuple[bytes, NDArray[np.float64]] | None:
    """(the body with `points` emptied, the points) when `points` is a plain array of pairs."""
    if raw.count(b'"points"') != 1:
        return None
    found = _POINTS_KEY.search(raw)
    if found is None:
        return None
    start = found.end() - 1  # the array's opening bracket
    stop = min((i for i in (raw.find(b'"', start), raw.find(b"}", start)) if i >= 0),
               default=len(raw))
    end = raw.rfind(b"]", start, stop) + 1  # the array ends before the next key or the body
    span = raw[start:end]
    if not span or span.translate(None, _NUMBER_OR_SPACE + b"[],"):
        return None
    n = span.count(b"[") - 1
    pattern = b"[]" if n == 0 else b"[[,]" + b",[,]" * (n - 1) + b"]"
    if n > MAX_POINTS or span.translate(None, _NUMBER_OR_SPACE) != pattern:
        return None
    try:
        numbers = orjson.loads(b"[" + span.translate(None, b"[]") + b"]")
        points = np.array(numbers, dtype=np.float64).reshape(n, 2)
    except (orjson.JSONDecodeError, ValueError, TypeError, OverflowError):
        return None
    return raw[:start] + b"[]" + raw[end:], points
