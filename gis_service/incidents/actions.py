"""Taking an action on an incident: If-Match, scope, role, the lifecycle table, the effect,
and one history row — all under a row lock, so two dispatchers racing cannot both win."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.auth.models import ROLE_NAMES
from gis_service.auth.permissions import HANDLERS
from gis_service.auth.service import Principal
from gis_service.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from gis_service.etag import parse_etag
from gis_service.incidents import queries
from gis_service.incidents.core.assigning import assign, hand_back, route_by_book
from gis_service.incidents.core.case import state_of
from gis_service.incidents.core.deadlines import whistle_respond_by
from gis_service.incidents.core.escalation import MAX_LEVEL, hand_up_with_deadline
from gis_service.incidents.core.lifecycle import (
    ACTION_NAMES,
    BY_AREA,
    OPEN_STATES,
    STATE_NAMES,
    TRANSITIONS,
    next_state,
)
from gis_service.incidents.core.placing import place
from gis_service.incidents.core.routing import Assignment, RoutingBook
from gis_service.incidents.models import Incident, IncidentLink
from gis_service.incidents.routing_book import Snapshot, routing_book
from gis_service.incidents.schemas import ActionRequest
from gis_service.incidents.scope import assigned_to, held_above, visible
from gis_service.incidents.service import locate, record

ASSIGNEE_TYPES = ("grid_worker", "squad", "department", "town", "county")


def act(session: Session, snapshot: Snapshot, principal: Principal, incident_id: int,
        body: ActionRequest, if_match: str | None, now: datetime) -> Incident:
    """Apply one action and commit it."""
    expected = parse_etag(if_match)
    incident = queries.locked(session, incident_id, visible(principal))
    if incident is None:
        raise NotFoundError(f"没有事件 #{incident_id}")
    if incident.version != expected:
        raise PreconditionFailedError(f"事件已是第 {incident.version} 版，不是第 {expected} 版："
                                      "已被他人修改，请重新载入", version=incident.version)
    transition = TRANSITIONS[body.action]
    if principal.role not in transition.roles:
        raise ForbiddenError(f"{ROLE_NAMES.get(principal.role, principal.role)}不能"
                             f"{ACTION_NAMES[body.action]}")
    if (principal.role in HANDLERS and body.action not in BY_AREA
            and not _assigned(session, principal, incident.id)):
        raise ForbiddenError(f"事件 #{incident.id} 没有派给您：只能处理派给本人（或您作为 B 岗"
                             "顶岗的岗位）的事件")
    if held_above(principal, incident.assignee_type, incident.assignee_code):
        raise ForbiddenError(f"事件 #{incident.id} 在县指挥中心手中：待县里派下后再处理")
    target = next_state(body.action, incident.status)
    if target is None:
        raise ConflictError(f"事件处于“{STATE_NAMES.get(incident.status, incident.status)}”，"
                            f"不能{ACTION_NAMES[body.action]}",
                            allowed_from=sorted(transition.sources))
    before = state_of(incident)
    if body.action in NEEDS_PRINCIPAL:
        detail = NEEDS_PRINCIPAL[body.action](session, snapshot, incident, body, now, principal)
    else:
        detail = EFFECTS[body.action](session, snapshot, incident, body, now)
    incident.status = target
    incident.version += 1
    incident.updated_at = now
    record(session, incident, actor=principal.username, action=body.action, at=now,
           before=before, note=body.note, detail=detail)
    session.commit()
    return incident


def _assigned(session: Session, principal: Principal, incident_id: int) -> bool:
    """Whether the incident is assigned to the caller (or a post they cover)."""
    stmt = select(Incident.id).where(Incident.id == incident_id, assigned_to(principal))
    return session.scalar(stmt) is not None


def _nothing(*_: Any) -> dict[str, Any]:
    return {}


def _dispatch(session: Session, snapshot: Snapshot, incident: Incident,
              body: ActionRequest, now: datetime) -> dict[str, Any]:
    located = None
    if body.location is not None:
        lon, lat, located = locate(snapshot, body.location)
        if not located.in_service_area:
            raise InvalidInputError("该位置不在本系统辖区内")
        place(incident, lon, lat, located)
    elif incident.status == "needs_location":
        raise InvalidInputError("事件尚未定位：请给出位置（`location`）")
    book = routing_book(snapshot, session)
    rule = book.rule(incident.category_code, incident.town_code)
    if body.to:
        assignment = _named_handler(book, incident, body.to)
    elif rule is not None:
        if located is None:
            assert incident.lon is not None and incident.lat is not None
            located = snapshot.where(incident.lon, incident.lat)
        assignment = book.handler(located, rule)
    else:
        raise InvalidInputError("类别不在责任清单中：请指定处置人（`to`，类型:编号）")
    assign(incident, assignment, rule, now)
    return {"auto": not body.to, **assignment.why}


def _confirm(session: Session, snapshot: Snapshot, incident: Incident,
             body: ActionRequest, now: datetime) -> dict[str, Any]:
    """A person confirms a camera's detection: routed as a new report is, from now."""
    if incident.lon is None or incident.lat is None:
        raise InvalidInputError("事件尚未定位：请先重新定位")
    located = snapshot.where(incident.lon, incident.lat)
    if not located.in_service_area:
        raise InvalidInputError("该位置不在本系统辖区内：请先重新定位")
    why = route_by_book(routing_book(snapshot, session), incident, located, now)
    if why is None:
        raise InvalidInputError(f"类别 {incident.category_code!r} 在此处没有责任规则：请先设定"
                                "类别")
    return why


def _named_handler(book: RoutingBook, incident: Incident, to: str) -> Assignment:
    """The handler a dispatcher names (`type:code`): it must exist; a town center, or a town's
    own department, takes only that town's incidents (the county sends a ticket down to the
    town it lies in)."""
    kind, _, code = to.partition(":")
    if kind not in ASSIGNEE_TYPES or not code:
        raise InvalidInputError(f"`to` 应为 类型:编号，类型是 {', '.join(ASSIGNEE_TYPES)} 之一")
    if book.handler_name(kind, code) is None:
        raise InvalidInputError(f"没有处置人 {to}：请写现有的网格员、中队、部门、镇或县的编号")
    if kind == "town" and incident.town_code and code != incident.town_code:
        raise InvalidInputError(f"事件位于 {incident.town_code}，不能派给 {code}：请先重新定位")
    home = book.department_towns.get(code) if kind == "department" else None
    if home is not None and incident.town_code and home != incident.town_code:
        raise InvalidInputError(f"部门 {code} 属于 {home}，事件位于 {incident.town_code}："
                                "请派给县级部门或本镇部门")
    return Assignment(kind, code, (), {"named_by": "dispatcher"})


def _return(session: Session, snapshot: Snapshot, incident: Incident,
            body: ActionRequest, now: datetime) -> dict[str, Any]:
    if not body.note.strip():
        raise InvalidInputError("退回须在 `note` 中写明原因")
    book = routing_book(snapshot, session)
    return {"returned_by": hand_back(incident, book.county_of.get(incident.town_code or ""))}


def _reopen(session: Session, snapshot: Snapshot, incident: Incident,
            body: ActionRequest, now: datetime) -> dict[str, Any]:
    if not body.note.strip():
        raise InvalidInputError("重新派遣须在 `note` 中写明原因")
    incident.resolution = None
    return {}


def _close(session: Session, snapshot: Snapshot, incident: Incident,
           body: ActionRequest, now: datetime) -> dict[str, Any]:
    if body.resolution is None:
        raise InvalidInputError("结案须给出结案方式 `resolution`：service（服务）、"
                                "management（管理）或 enforcement（执法）")
    incident.resolution = body.resolution
    return {"resolution": body.resolution}


def _escalate(session: Session, snapshot: Snapshot, incident: Incident,
              body: ActionRequest, now: datetime) -> dict[str, Any]:
    if incident.escalation_level >= MAX_LEVEL or incident.assignee_type == "county":
        raise ConflictError("事件已在县指挥中心，不能再上报")
    book = routing_book(snapshot, session)
    rule = book.rule(incident.category_code, incident.town_code)
    to = hand_up_with_deadline(incident, now, rule.resolve_hours if rule else None,
                               book.county_center(incident.town_code))
    return {"to": to}


def _categorize(session: Session, snapshot: Snapshot, incident: Incident,
                body: ActionRequest, now: datetime) -> dict[str, Any]:
    book = routing_book(snapshot, session)
    if book.rule(body.category, incident.town_code) is None:
        raise InvalidInputError(f"类别 {body.category!r} 不在责任清单中")
    if body.category == incident.category_code:
        raise InvalidInputError("事件已是这个类别")
    before, incident.category_code = incident.category_code, body.category
    return {"category": {"from": before, "to": body.category}}


def _place(session: Session, snapshot: Snapshot, incident: Incident,
           body: ActionRequest, now: datetime) -> dict[str, Any]:
    if body.location is None:
        raise InvalidInputError("重新定位需要 `location`")
    lon, lat, located = locate(snapshot, body.location)
    if not located.in_service_area:
        raise InvalidInputError("该位置不在本系统辖区内")
    was = {"lon": incident.lon, "lat": incident.lat, "grid3": incident.grid3_code}
    place(incident, lon, lat, located)
    return {"from": was, "to": {"lon": lon, "lat": lat, "grid3": incident.grid3_code}}


def _whistle(session: Session, snapshot: Snapshot, incident: Incident,
             body: ActionRequest, now: datetime) -> dict[str, Any]:
    rule = routing_book(snapshot, session).rule(incident.category_code, incident.town_code)
    named = [code.strip() for code in (body.to or "").split(";") if code.strip()]
    departments = named or list(rule.cooperating if rule else ())
    if not departments:
        raise InvalidInputError("请在 `to` 中写明要通知的部门（编号;编号）")
    incident.cooperating = sorted(set(incident.cooperating) | set(departments))
    respond_by = whistle_respond_by(now).isoformat()
    return {"called": {code: {"respond_by": respond_by} for code in departments}}


def _evaluate(session: Session, snapshot: Snapshot, incident: Incident,
              body: ActionRequest, now: datetime) -> dict[str, Any]:
    if body.satisfaction is None:
        raise InvalidInputError("评价须给出满意度 `satisfaction`（1–5）")
    incident.satisfaction = body.satisfaction
    return {"satisfaction": body.satisfaction}


def _merge(session: Session, snapshot: Snapshot, incident: Incident,
           body: ActionRequest, now: datetime, principal: Principal) -> dict[str, Any]:
    target_id = (body.to or "").removeprefix("incident:")
    if not target_id.isdigit() or int(target_id) == incident.id:
        raise InvalidInputError("请在 `to` 中写明要并入的事件编号")
    target = queries.locked(session, int(target_id), visible(principal))
    if target is None:
        raise NotFoundError(f"没有事件 #{target_id}")
    if target.status not in OPEN_STATES:
        state = STATE_NAMES.get(target.status, target.status)
        raise ConflictError(f"事件 #{target_id} 已{state}：只能并入未办结的事件")
    session.add(IncidentLink(incident_id=incident.id, other_id=target.id, kind="merged_into",
                             created_at=now))
    record(session, target, actor=principal.username, action="link", at=now,
           before=state_of(target), note=body.note, detail={"merged": incident.id})
    return {"merged_into": target.id}


EFFECTS = {
    "register": _nothing, "reject": _nothing, "dispatch": _dispatch, "accept": _nothing,
    "return": _return, "start": _nothing, "resolve": _nothing, "verify": _nothing,
    "reopen": _reopen, "close": _close, "escalate": _escalate, "whistle": _whistle,
    "evaluate": _evaluate, "categorize": _categorize, "place": _place, "confirm": _confirm,
}
NEEDS_PRINCIPAL = {"merge": _merge}
