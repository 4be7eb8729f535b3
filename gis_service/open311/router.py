"""/open311/v2: GeoReport v2 routes. The suffix picks the format (.json or .xml; any other is
404); no token is needed; errors leave in Open311's shape with their HTTP status.
`jurisdiction_id` may be sent on every route and must then name a town served (404 if not);
`api_key` may be sent and is ignored (an open intake)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from gis_service.context import context_of
from gis_service.database import SessionDep
from gis_service.errors import DomainError, NotFoundError
from gis_service.incidents import service as incident_service
from gis_service.jsonresponse import JSONBytesResponse
from gis_service.open311 import attributes, discovery, mapping, service, tokens, xml
from gis_service.open311.mapping import BadRequestError, ServiceRequestCreate

Format = Literal["json", "xml"]
JSON_MEDIA_TYPE = "application/json; charset=utf-8"
XML_MEDIA_TYPE = "text/xml; charset=utf-8"  # as the spec asks
SUBMISSION = ServiceRequestCreate.model_json_schema()
POST_BODY = {"requestBody": {"required": True, "content": {
    "application/x-www-form-urlencoded": {"schema": SUBMISSION},
    "application/json": {"schema": SUBMISSION}}}}


def respond(fmt: Format, root: str, value: Any, status: int = 200) -> Response:
    """`value` as JSON, or as XML under the element `root`."""
    if fmt == "xml":
        return Response(xml.document(root, value), status_code=status,
                        media_type=XML_MEDIA_TYPE)
    return JSONBytesResponse(value, status_code=status, media_type=JSON_MEDIA_TYPE)


def error_response(request: Request, status: int, descriptions: list[str]) -> Response:
    """Open311's error list, in the format the path asked for (JSON when it named none)."""
    fmt: Format = "xml" if request.path_params.get("response_format") == "xml" else "json"
    return respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions],
                   status)


class Open311Route(APIRoute):
    """A route whose errors take Open311's shape instead of the service's problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except DomainError as exc:
                problems = exc.extra.get("problems") or [exc.detail]
                return error_response(request, exc.status, [str(p) for p in problems])
            except RequestValidationError as exc:
                return error_response(request, 400, [mapping.problem(e) for e in exc.errors()])
            except StarletteHTTPException as exc:
                return error_response(request, exc.status_code, [str(exc.detail)])
            except DataError:
                return error_response(request, 400, ["a value cannot be stored or compared"])
            except (OperationalError, InterfaceError):
                response = error_response(request, 503, ["the database is unavailable; retry"])
                response.headers["Retry-After"] = "1"
                return response

        return handle


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def response_format(response_format: str) -> Format:
    """The format the path's suffix names; 404 for any but json and xml."""
    if response_format == "json":
        return "json"
    if response_format == "xml":
        return "xml"
    raise NotFoundError(f"unknown format .{response_format}: use .json or .xml")


FormatDep = Annotated[Format, Depends(response_format)]


async def submitted_fields(request: Request) -> dict[str, Any]:
    """The POST's fields, form-encoded as the spec has it or a JSON object, with the
    `attribute[code]` keys gathered into `attribute`."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise BadRequestError("the body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise BadRequestError("the JSON body must be an object of fields")
        return attributes.gather(body.items())
    form = await request.form()
    # an uploaded file is no Open311 field: media come as media_url
    return attributes.gather((key, value) for key, value in form.multi_items()
                             if isinstance(value, str))


FieldsDep = Annotated[dict[str, Any], Depends(submitted_fields)]


def _check_jurisdiction(request: Request, session: Session, jurisdiction_id: Any) -> None:
    """404 when a jurisdiction_id is sent and names no town served."""
    service.check_jurisdiction(session, str(jurisdiction_id or "") or None,
                               now=datetime.now(UTC),
                               alias=context_of(request).settings.open311_jurisdiction)


def served(request: Request, session: SessionDep, jurisdiction_id: str | None = None) -> None:
    """The query's jurisdiction_id checked."""
    _check_jurisdiction(request, session, jurisdiction_id)


def served_post(request: Request, session: SessionDep, fields: FieldsDep) -> None:
    """A POST's jurisdiction_id (a field, or in the query) checked."""
    _check_jurisdiction(request, session, fields.get("jurisdiction_id")
                       or request.query_params.get("jurisdiction_id"))


@router.get("/discovery.{response_format}", dependencies=[Depends(served)])
def get_discovery(request: Request, session: SessionDep, fmt: FormatDep) -> Response:
    """The service discovery document of this GeoReport v2 endpoint."""
    url = str(request.url_for("list_services", response_format=fmt)).rsplit("/", 1)[0]
    return respond(fmt, "discovery", discovery.document(
        url=url, changeset=service.changeset(session),
        contact=context_of(request).settings.open311_contact))


@router.get("/services.{response_format}", dependencies=[Depends(served)])
def list_services(session: SessionDep, fmt: FormatDep) -> Response:
    """Every category of the responsibility list as a service (group = its handler)."""
    return respond(fmt, "services", service.list_services(session))


@router.get("/services/{service_code}.{response_format}", dependencies=[Depends(served)])
def get_service_definition(service_code: str, session: SessionDep, fmt: FormatDep) -> Response:
    """A service's definition: its attributes (`attribute[code]` fields of a POST)."""
    return respond(fmt, "service_definition", service.service_definition(session, service_code))


@router.post("/requests.{response_format}", status_code=201, openapi_extra=POST_BODY,
             dependencies=[Depends(served_post)])
def create_request(request: Request, session: SessionDep, fmt: FormatDep,
                   fields: FieldsDep) -> Response:
    """Report: service_code, lat + long (WGS84) or address_string, `attribute[code]` as the
    definition asks; contacts not kept. Answers with the id and a token."""
    submission = mapping.parse_submission(fields)
    incident = service.submit(session, snapshot=context_of(request).locator.current(),
                              submission=submission, now=datetime.now(UTC),
                              policy=_policy(request))
    token = tokens.token_for(incident.id, key=context_of(request).settings.open311_token_key)
    return respond(fmt, "service_requests", [mapping.receipt(incident, token)], 201)


@router.get("/requests.{response_format}", dependencies=[Depends(served)])
def list_requests(session: SessionDep, fmt: FormatDep, service_request_id: str | None = None,
                  service_code: str | None = None, start_date: str | None = None,
                  end_date: str | None = None, status: str | None = None) -> Response:
    """Requests newest first, at most 1000: by default those of the last 90 days."""
    query = mapping.request_query(
        service_request_id=service_request_id, service_code=service_code,
        start_date=start_date, end_date=end_date, status=status, now=datetime.now(UTC))
    return respond(fmt, "service_requests", service.find_requests(session, query))


@router.get("/requests/{service_request_id}.{response_format}", dependencies=[Depends(served)])
def get_request(service_request_id: str, session: SessionDep, fmt: FormatDep) -> Response:
    """One request (a list of one, as Open311 has it)."""
    return respond(fmt, "service_requests", service.get_request(session, service_request_id))


@router.get("/tokens/{token}.{response_format}", dependencies=[Depends(served)])
def get_token(token: str, request: Request, session: SessionDep, fmt: FormatDep) -> Response:
    """The service_request_id a POST's token stands for (a list of one)."""
    key = context_of(request).settings.open311_token_key
    return respond(fmt, "service_requests", service.resolve_token(session, token, key=key))


def _policy(request: Request) -> incident_service.IntakePolicy:
    """The intake's policy, as the incidents API takes it."""
    context = context_of(request)
    return incident_service.intake_policy(context.settings, context.incident_ids)
