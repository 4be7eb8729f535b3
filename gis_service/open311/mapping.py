"""Open311 GeoReport v2 ⇄ our incidents: the submitted fields, the search arguments, and the
public view of a category (a service) and of an incident (a service request). No database here.

Status mapping (our lifecycle → Open311):

    our state                                   status   status_notes
    closed, rejected                            closed   the state name
    reported, needs_location, registered,       open     the state name
    dispatched, accepted, in_progress,
    returned, resolved, verified

    agency_responsible = the assignee's code (worker, squad, department or town grid code)
    service_notice     = the deadline (due_at) in words; expected_datetime = due_at
    requested_datetime = reported_at; updated_datetime = updated_at
    address, lat, long = the incident's (storage CRS CGCS2000, which is WGS84 to centimetres)
    media_url          = the URL sent with an Open311 report (kept in its history, see service)
    description        = only for requests that came in through Open311: text sent to other
                         channels (the 12345 hotline, the mayor's mailbox…) was never given for
                         publication and often names people
    address_id, zipcode: always null (we keep neither)
    token              = the id sealed with a key (see `tokens`): a POST answers with both,
                         as the id is known at once; GET tokens/{token} gives the id back
    priority           = raised by the `severity` attribute (below); not published

Searching (GET requests): `status` open and/or closed as above, comma-separated;
`service_code` and `service_request_id` comma-separated (ids override every other argument);
`start_date`/`end_date` W3C date-times compared with requested_datetime, at most 90 days
apart, the last 90 days when neither is sent; at most 1000 requests, newest first.

Service attributes (see `attributes`): every service has `severity` (1 一般 / 2 较急 /
3 紧急 → the incident's priority 0 / 1 / 2, never lowering what a zone rule set) and
`landmark`; a category may add its own (POLLUTION: `pollution_kind`, required). Each accepted
attribute is written as a line under the published description, so it comes back here too.

Personal data: `email`, `first_name`, `last_name`, `phone`, `device_id` and `account_id` are
accepted, as the spec allows, and then dropped. They are not stored anywhere: not on the
incident, not in its history, not in the description. `account_id` comes back null.
`api_key` is accepted and ignored: the Open311 intake needs no key. `jurisdiction_id`, when
sent, must name a town served (see `service.check_jurisdiction`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gis_service.errors import DomainError
from gis_service.incidents.core.lifecycle import ALL_STATES
from gis_service.incidents.models import Incident
from gis_service.incidents.schemas import IncidentCreate, Location
from gis_service.responsibilities.models import Category
from gis_service.timeutil import CHINA_TIME, aware

CLOSED_STATES = frozenset({"closed", "rejected"})
MAX_RESULTS = 1000
MAX_DESCRIPTION = 4000  # the intake's limit
MAX_SPAN = timedelta(days=90)
HANDLER_WORDS = {"grid": "the grid worker of the place", "squad": "the district's squad",
                 "department": "department {department}", "town": "the town command center"}

Open311Status = Literal["open", "closed"]


class BadRequestError(DomainError):
    """A request Open311 answers with 400; `problems` lists every one found."""

    status, title = 400, "Bad request"


class ServiceRequestCreate(BaseModel):
    """The fields of an Open311 POST this service uses; any other field is ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True,
                              coerce_numbers_to_str=True)

    service_code: str = Field(min_length=1, max_length=64)
    lat: float | None = Field(default=None, ge=-90, le=90, description="WGS84")
    long: float | None = Field(default=None, ge=-180, le=180, description="WGS84")
    address_string: str | None = Field(default=None, max_length=400)
    description: str = Field(default="", max_length=4000)
    media_url: str | None = Field(default=None, max_length=1000)
    # `attribute[code]` fields gathered into one mapping (see `attributes.gather`)
    attribute: dict[str, str | list[str]] = Field(default_factory=dict)

    @field_validator("media_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        # only web links: a javascript: or file: URL would be live on the dispatch pages
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
                raise ValueError("media_url must be an http or https URL")
        return value


@dataclass(frozen=True)
class RequestQuery:
    """A GET requests search: either ids (overriding the rest) or the filters."""

    ids: tuple[int, ...]
    codes: tuple[str, ...]
    states: frozenset[str] | None
    start: datetime
    end: datetime


def open311_status(state: str) -> Open311Status:
    """Our lifecycle state as Open311's open/closed."""
    return "closed" if state in CLOSED_STATES else "open"


def parse_submission(fields: Mapping[str, Any]) -> ServiceRequestCreate:
    """The POSTed fields checked; every problem raised at once as a 400."""
    # Open311: an empty argument is the same as an absent one
    present = {k: v for k, v in fields.items() if v is not None and v != ""}
    try:
        submission = ServiceRequestCreate.model_validate(present)
    except ValidationError as exc:
        problems = [problem(e) for e in exc.errors(include_url=False)]
        raise BadRequestError("; ".join(problems), problems=problems) from exc
    if (submission.lat is None) != (submission.long is None):
        raise BadRequestError("lat and long must be sent together")
    if submission.lat is None and not submission.address_string:
        raise BadRequestError("a location is required: lat and long, or address_string")
    return submission


def problem(error: Any) -> str:
    """One pydantic or FastAPI validation error as a line."""
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", ""))


def incident_create(submission: ServiceRequestCreate,
                    attribute_lines: Sequence[str] = ()) -> IncidentCreate:
    """The intake body of a submission (its contact fields never reach it); the attributes
    read as lines under the description."""
    location = None
    if submission.lat is not None and submission.long is not None:
        location = Location(lon=submission.long, lat=submission.lat, crs="wgs84")
    description = "\n".join(part for part in (submission.description, *attribute_lines) if part)
    if len(description) > MAX_DESCRIPTION:
        raise BadRequestError(f"description and attributes together may have at most "
                              f"{MAX_DESCRIPTION} characters")
    return IncidentCreate(source="open311", category=submission.service_code,
                          description=description, location=location,
                          address=submission.address_string)


def service_entry(category: Category, *, metadata: bool) -> dict[str, Any]:
    """A category as an Open311 service (`metadata`: it has attributes to fill in)."""
    attributes = category.attributes or {}
    return {"service_code": category.code, "service_name": category.name,
            "description": str(attributes.get("description") or _describe(category)),
            "metadata": metadata, "type": "realtime",
            "keywords": _keywords(attributes.get("keywords"), category),
            "group": category.handler}


def _describe(category: Category) -> str:
    who = HANDLER_WORDS.get(category.handler, category.handler).format(
        department=category.department_code or "")
    return (f"{category.name}: handled by {who}; first response within "
            f"{category.respond_hours:g} h, resolved within {category.resolve_hours:g} h")


def _keywords(listed: Any, category: Category) -> str:
    # a responsibility list may carry a `keywords` column, `;`- or comma-separated
    if not listed:
        return f"{category.name}, {category.code}"
    text = str(listed)
    for separator in (";", "；", "，", "、"):
        text = text.replace(separator, ",")
    return ", ".join(word.strip() for word in text.split(",") if word.strip())


def w3c(moment: datetime | None) -> str | None:
    """A time as Open311 writes it: ISO 8601 with its offset, in China Standard Time."""
    return moment.astimezone(CHINA_TIME).isoformat(timespec="seconds") if moment else None


def notice(incident: Incident) -> str | None:
    """The deadline in words, as `service_notice`."""
    due = w3c(incident.due_at)
    if due is None or open311_status(incident.status) == "closed":
        return None
    if incident.status == "needs_location":
        return f"the command center will locate this request by {due}"
    return f"to be handled by {due}"


def receipt(incident: Incident, token: str) -> dict[str, Any]:
    """The answer to a POST: the id is known at once, the token is given as well."""
    return {"service_request_id": str(incident.id), "token": token,
            "service_notice": notice(incident), "account_id": None}


def request_entry(incident: Incident, service_name: str | None,
                  media_url: str | None) -> dict[str, Any]:
    """An incident as a public Open311 service request (see the module docstring)."""
    own = incident.source == "open311"
    return {
        "service_request_id": str(incident.id), "status": open311_status(incident.status),
        "status_notes": incident.status, "service_name": service_name,
        "service_code": incident.category_code,
        "description": incident.description if own else None,
        "agency_responsible": incident.assignee_code, "service_notice": notice(incident),
        "requested_datetime": w3c(incident.reported_at),
        "updated_datetime": w3c(incident.updated_at),
        "expected_datetime": w3c(incident.due_at), "address": incident.address,
        "address_id": None, "zipcode": None, "lat": incident.lat, "long": incident.lon,
        "media_url": media_url if own else None,
    }


def request_query(*, service_request_id: str | None, service_code: str | None,
                  start_date: str | None, end_date: str | None, status: str | None,
                  now: datetime) -> RequestQuery:
    """The search arguments of GET requests checked (400 when one is unreadable)."""
    start, end = window(_moment(start_date, "start_date"), _moment(end_date, "end_date"), now)
    return RequestQuery(ids=_ids(service_request_id), codes=tuple(_listed(service_code)),
                        states=_states(status), start=start, end=end)


def window(start: datetime | None, end: datetime | None,
           now: datetime) -> tuple[datetime, datetime]:
    """The searched span: at most 90 days, the last 90 days when neither end is given."""
    if start is None and end is None:
        return now - MAX_SPAN, now
    if start is None:
        assert end is not None
        return end - MAX_SPAN, end
    if end is None:
        return start, start + MAX_SPAN
    if end < start:
        raise BadRequestError("end_date is before start_date")
    if end - start > MAX_SPAN:
        raise BadRequestError("start_date and end_date may span at most 90 days")
    return start, end


def _listed(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def request_id(text: str) -> int | None:
    """The incident id a service_request_id names, or None when it names none."""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        return None
    return int(text)


def _ids(value: str | None) -> tuple[int, ...]:
    ids = [request_id(part) for part in _listed(value)]
    if None in ids:
        raise BadRequestError("service_request_id is a comma-separated list of request ids")
    return tuple(i for i in ids if i is not None)


def _states(value: str | None) -> frozenset[str] | None:
    wanted = {part.lower() for part in _listed(value)}
    if not wanted:
        return None
    if not wanted <= {"open", "closed"}:
        raise BadRequestError("status is open, closed, or both comma-separated")
    return frozenset(s for s in ALL_STATES if open311_status(s) in wanted)


def _moment(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    # an unencoded "+08:00" in a query string arrives as " 08:00"; a W3C time has no spaces
    text = value.strip().replace(" ", "+")
    try:
        return aware(datetime.fromisoformat(text))
    except ValueError as exc:
        raise BadRequestError(f"{name} must be a W3C date-time such as "
                              f"2026-05-01T08:00:00+08:00") from exc
