"""Whom a dispatcher could hand an incident to: first the handler the responsibility list names
at its place (and that post's AB backup), then others of the same kind ranked by how far their
area is from the incident and how much they already have in hand, the departments the list
names for the category, and the town center as the last resort.

Distances are to the handler's area (home grid, enforcement district, town): last known
positions of people on patrol would be better, but are not something this package reads.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gis_service.auth.permissions import CENTER
from gis_service.auth.service import Principal
from gis_service.errors import ForbiddenError
from gis_service.incidents import queries
from gis_service.incidents.core.routing import Assignment, RoutingBook, Rule
from gis_service.incidents.models import Incident
from gis_service.incidents.routing_book import Snapshot, routing_book
from gis_service.incidents.service import get_visible

WORKLOAD_METRES = 500.0  # one incident in hand weighs as much as 500 m more to travel
OFF_DUTY_METRES = 1_000_000.0  # someone off duty comes after everyone on duty
KIND_OF_HANDLER = {"grid": "grid_worker", "squad": "squad", "department": "department",
                   "town": "town"}
HANDLER_NAMES = {"grid": "网格员", "squad": "执法中队", "department": "职能部门",
                 "town": "镇指挥中心"}


@dataclass(frozen=True)
class Suggestion:
    """One handler the incident could go to, and why."""

    type: str
    code: str
    name: str
    reason: str
    rule: bool
    distance_m: float | None
    open_items: int
    on_duty: bool
    score: float  # ranking cost: metres plus WORKLOAD_METRES per item in hand; lower first

    @property
    def to(self) -> str:
        """The `to` of a dispatch action naming this handler."""
        return f"{self.type}:{self.code}"


@dataclass(frozen=True)
class Suggestions:
    """The incident as seen, the ranked handlers, and geocoder candidates when unplaced."""

    incident: Incident
    items: list[Suggestion]
    candidates: list[dict[str, Any]] | None


def suggest(session: Session, *, snapshot: Snapshot, principal: Principal,
            incident_id: int, now: datetime, limit: int = 10) -> Suggestions:
    """Ranked handlers for dispatching or re-assigning a visible incident (center roles)."""
    if principal.role not in CENTER:
        raise ForbiddenError(f"a {principal.role} may not dispatch: suggestions are for the "
                             "command center")
    incident = get_visible(session, principal, incident_id)
    book = routing_book(snapshot, session)
    rule = book.rule(incident.category_code, incident.town_code)
    pool, backups = _pool(session, incident, now)
    picked = _rule_pick(book, snapshot, incident, rule)
    ranked = _mark_returner(session, incident, _rank(pool, backups, picked, rule))
    candidates = None
    if incident.status == "needs_location":
        candidates = list(incident.candidates or [])
    return Suggestions(incident, ranked[:limit], candidates)


def _mark_returner(session: Session, incident: Incident,
                   ranked: list[Suggestion]) -> list[Suggestion]:
    """Say which handler sent a returned incident back, so it is not simply sent there again."""
    if incident.status != "returned":
        return ranked
    detail = queries.last_detail(session, incident.id, "return") or {}
    by = detail.get("returned_by") or {}
    returner = f"{by.get('type')}:{by.get('code')}"
    return [replace(s, reason=f"{s.reason}（曾退回此件）") if s.to == returner else s
            for s in ranked]


def _rule_pick(book: RoutingBook, snapshot: Snapshot, incident: Incident,
               rule: Rule | None) -> Assignment | None:
    """What the responsibility list names for the incident at its place."""
    if rule is None:
        return None
    if incident.lon is None or incident.lat is None:
        if rule.handler == "department" and rule.department_code:
            return Assignment("department", rule.department_code, (),
                              rule.why())
        return None  # grid, squad and town depend on the place
    located = snapshot.where(incident.lon, incident.lat)
    if not located.in_service_area:
        return None
    return book.handler(located, rule)


def _pool(session: Session, incident: Incident,
          now: datetime) -> tuple[dict[str, Suggestion], dict[str, str]]:
    """Every handler keyed by `type:code`, with distance and workload (no reason yet); and
    each grid worker's AB backup."""
    load = queries.workload(session)
    lon, lat = incident.lon, incident.lat
    pool: dict[str, Suggestion] = {}
    backups: dict[str, str] = {}

    def add(kind: str, code: str, name: str, metres: float | None, on_duty: bool = True) -> None:
        items = load.get((kind, code), 0)
        cost = (metres or 0.0) + WORKLOAD_METRES * items + (0 if on_duty else OFF_DUTY_METRES)
        distance = None if metres is None else round(float(metres), 1)
        pool[f"{kind}:{code}"] = Suggestion(kind, code, name, "", False, distance, items,
                                            on_duty, round(cost, 1))

    for row in queries.grid_worker_areas(session, lon=lon, lat=lat, at=now):
        add("grid_worker", row.code, row.name, row.metres, row.on_duty)
        if row.backup_code:
            backups[f"grid_worker:{row.code}"] = f"grid_worker:{row.backup_code}"
    for row in queries.squad_areas(session, lon=lon, lat=lat):
        add("squad", row.squad_code, row.name, row.metres)
    for code, name in sorted(queries.departments(session, incident.town_code).items()):
        add("department", code, name, None)
    for row in queries.town_areas(session, lon=lon, lat=lat, at=now):
        if incident.town_code in (None, row.code):  # never another town's center
            add("town", row.code, f"{row.name}指挥中心", row.metres)
    return pool, backups


def _rank(pool: dict[str, Suggestion], backups: dict[str, str], picked: Assignment | None,
          rule: Rule | None) -> list[Suggestion]:
    """The rule's pick and its AB partner; then the others of the rule's kind (any kind when
    the category is unknown) by cost, those with no known distance after; the departments
    the list names; the town center."""
    first: list[Suggestion] = []
    if picked is not None and f"{picked.type}:{picked.code}" in pool:
        chosen = pool.pop(f"{picked.type}:{picked.code}")
        first.append(replace(chosen, rule=True, score=0.0, reason=_rule_reason(picked, rule)))
        partner = backups.get(chosen.to)
        if partner is not None and partner in pool and pool[partner].on_duty:
            backup = pool.pop(partner)
            first.append(replace(backup, reason=f"AB岗：{chosen.name}的搭档岗位；"
                                                + _distance_reason(backup)))
    listed = _listed(rule)
    kind = KIND_OF_HANDLER.get(rule.handler) if rule else None
    others = sorted((s for s in pool.values() if s.type != "town"
                     and (kind is None or s.type == kind or s.to in listed)),
                    key=lambda s: (kind is not None and s.type != kind, s.to not in listed,
                                   s.distance_m is None, s.score, s.code))
    rest = [replace(s, reason=listed.get(s.to, "") + _distance_reason(s)) for s in others]
    towns = sorted((s for s in pool.values() if s.type == "town"),
                   key=lambda s: (s.score, s.code))
    return first + rest + [replace(s, reason="镇指挥中心统筹") for s in towns]


def _listed(rule: Rule | None) -> dict[str, str]:
    """The departments the responsibility list names for the category (主责 / 配合)."""
    if rule is None:
        return {}
    named = {f"department:{code}": "责任清单配合部门；" for code in rule.cooperating}
    if rule.department_code:
        named[f"department:{rule.department_code}"] = "责任清单主责部门；"
    return named


def _rule_reason(picked: Assignment, rule: Rule | None) -> str:
    why = picked.why
    handler = HANDLER_NAMES.get(str(why.get("handler", "")), "")
    text = f"规则：{rule.code if rule else ''}由{handler}处理"
    if why.get("post") == "A":
        return f"{text}（本网格A岗）"
    if why.get("post") == "B":
        return f"{text}（AB岗：A岗{why.get('absent', '')}不在岗，由B岗接替）"
    if why.get("fallback"):
        return f"{text}（无人在岗，转镇指挥中心）"
    return text


def _distance_reason(item: Suggestion) -> str:
    where = "距离：未知" if item.distance_m is None else (
        "距离：就在辖区内" if item.distance_m < 1 else f"距离：{item.distance_m:.0f}米")
    duty = "，不在岗" if not item.on_duty else ""
    return f"{where}，在办{item.open_items}件{duty}"
