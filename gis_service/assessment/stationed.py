"""County department staff stationed in a town, assessed by both: the town holds at least half
of the weight (`assessment_town_share`), the county department the rest. Each party rates the
month 0–100; the department's tickets in that town are shown beside as the facts to rate by."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_service.assessment import stationed_queries as queries
from gis_service.assessment.models import StationedRating
from gis_service.assessment.schemas import (
    StationedPart,
    StationedRatingWrite,
    StationedRead,
    StationedScore,
)
from gis_service.auth.models import ROLE_NAMES
from gis_service.auth.permissions import OVERSEERS, Role
from gis_service.auth.service import Principal
from gis_service.errors import ForbiddenError, InvalidInputError, NotFoundError
from gis_service.grids.queries import Town, towns
from gis_service.incidents.scope import CENTER_STAFF
from gis_service.patrols.service import month_bounds
from gis_service.reports.measures import rate
from gis_service.timeutil import CHINA_TIME

PARTY_NAMES = {"town": "镇（街道）", "county": "派驻部门"}  # who rates, in words


def _towns(session: Session, month_end: datetime, now: datetime) -> dict[str, Town]:
    at = min(month_end, now)
    return {t.code: t for t in towns(session, at) or towns(session, now)}


def _sees(principal: Principal, town: Town | None) -> bool:
    """A town center sees the staff stationed in its town, the county center those in its
    towns, overseers without a scope everyone."""
    scope = principal.scope_code
    if principal.role in CENTER_STAFF and scope:
        return town is not None and scope in (town.code, town.county)
    return principal.role in OVERSEERS


Party = Literal["town", "county"]


def _part(party: Party, weight: float, rating: StationedRating | None) -> StationedPart:
    if rating is None:
        return StationedPart(party=party, weight=weight, score=None, points=0.0)
    return StationedPart(party=party, weight=weight, score=rating.score,
                         points=round(weight * rating.score / 100, 2), note=rating.note,
                         rater=rating.rater, rated_at=rating.rated_at)


def assess(session: Session, *, principal: Principal, month: str, town_share: float,
           now: datetime | None = None) -> StationedRead:
    """The month's stationed staff the caller may see, with facts, ratings and totals."""
    if principal.role not in CENTER_STAFF and principal.role not in OVERSEERS:
        who = ROLE_NAMES.get(principal.role, principal.role)
        raise ForbiddenError(f"{who}无权查看派驻人员考核")
    start, end = month_bounds(month)
    places = _towns(session, end, now or datetime.now(UTC))
    staff = [s for s in queries.stationed(session) if _sees(principal, places.get(s.town_code))]
    work = queries.department_work(session, departments={s.department_code for s in staff},
                                   start=start, end=end)
    rated = queries.ratings(session, month=month, workers={s.worker_code for s in staff})
    town_weight, county_weight = 100 * town_share, 100 * (1 - town_share)
    rows = []
    for person in staff:
        done = work.get((person.department_code, person.town_code), queries.DepartmentWork())
        town = _part("town", town_weight, rated.get((person.worker_code, "town")))
        county = _part("county", county_weight, rated.get((person.worker_code, "county")))
        place = places.get(person.town_code)
        rows.append(StationedScore(
            worker_code=person.worker_code, worker_name=person.worker_name,
            department_code=person.department_code, department_name=person.department_name,
            town_code=person.town_code, town_name=place.name if place else person.town_code,
            received=done.received, cooperated=done.cooperated, closed=done.closed,
            closed_on_time=done.closed_on_time,
            on_time_rate=rate(done.closed_on_time, done.closed), returned=done.returned,
            town=town, county=county, total=round(town.points + county.points, 2),
            may_rate=_parties(principal, place)))
    return StationedRead(month=month, town_share=town_share, staff=rows)


def _parties(principal: Principal, town: Town | None) -> list[Party]:
    """The parties the caller rates as: the town center as the town, the county center as
    the department (it speaks for the county's departments); an admin either, entering a
    paper form."""
    if principal.role == Role.ADMIN:
        return ["town", "county"]
    scope = principal.scope_code
    if principal.role not in CENTER_STAFF or not scope or town is None:
        return []
    sides: tuple[tuple[Party, str | None], ...] = (("town", town.code), ("county", town.county))
    return [party for party, code in sides if scope == code]


def rate_month(session: Session, *, principal: Principal, worker_code: str, month: str,
               body: StationedRatingWrite, now: datetime) -> StationedRating:
    """Store (or replace) a party's rating of a stationed staff member's month."""
    start, end = month_bounds(month)
    if start > now.astimezone(CHINA_TIME):
        raise InvalidInputError(f"{month} 尚未开始，不能评分")
    places = _towns(session, end, now)
    person = next(iter(queries.stationed(session, worker=worker_code)), None)
    town = places.get(person.town_code) if person else None
    if person is None or not _sees(principal, town):
        raise NotFoundError(f"没有可查看的派驻人员 {worker_code}")
    if body.party not in _parties(principal, town):
        center = (f"{town.name if town else person.town_code}的指挥中心"
                  if body.party == "town" else "区县指挥中心")
        raise ForbiddenError(f"{PARTY_NAMES[body.party]}评分由{center}给出")
    # one statement, so two raters at once leave one row (the later), never an error
    stored = insert(StationedRating).values(
        worker_code=worker_code, month=month, party=body.party, score=body.score,
        note=body.note, rater=principal.username, rated_at=now)
    session.execute(stored.on_conflict_do_update(
        constraint="uq_stationed_rating_worker_code",
        set_={"score": body.score, "note": body.note, "rater": principal.username,
              "rated_at": now}))
    session.commit()
    return queries.ratings(session, month=month, workers={worker_code})[
        (worker_code, body.party)]
