"""Reports for any period and area (周研判、月分析): intake, flow, on time per step, handling
time, returns and escalations, the 721 ratio, satisfaction, repeat locations, busiest grids,
each compared with the period before; as the caller may see them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, true
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.errors import NotFoundError
from gis_service.hotspots.scan import Thresholds
from gis_service.hotspots.service import scan_hotspots
from gis_service.incidents.core.lifecycle import RESOLUTIONS
from gis_service.incidents.scope import EVERYWHERE, visible
from gis_service.reports import queries
from gis_service.reports.measures import RATIO_721_TARGET, mean_rating, rate, ratio_721
from gis_service.reports.periods import comparable, days, last_full_week, month_of, week_of
from gis_service.timeutil import CHINA_TIME

STEPS = ("dispatch", "accept", "resolve", "close")
TOP = 10
UNCATEGORISED = "未分类"


def resolve_area(session: Session, code: str) -> dict[str, Any]:
    """A grid (any level) or a district by code; NotFoundError when it is neither."""
    grid = session.execute(queries.grid_area(code)).first()
    if grid is not None:
        return {"code": grid[0], "name": grid[1], "kind": "grid", "level": grid[2]}
    district = session.execute(queries.district_area(code)).first()
    if district is not None:
        return {"code": district[0], "name": district[1], "kind": "district", "level": None}
    raise NotFoundError(f"no grid or district {code!r}")


def covered_area(session: Session, principal: Principal | None,
                 area: dict[str, Any] | None) -> dict[str, Any]:
    """What the report covers, for its title: the area asked for, else the caller's scope
    (town, grid, district, squad or department), else the one town (or county) there is."""
    if area is not None:
        return {"code": area["code"], "name": area["name"], "kind": area["kind"]}
    scope = principal.scope_code if principal is not None else None
    if scope and principal is not None and principal.role not in EVERYWHERE:
        found = session.execute(queries.scope_name(scope)).first()
        if found is not None:
            return {"code": scope, "name": found[0], "kind": found[1]}
    towns = session.execute(queries.towns(datetime.now(UTC))).all()
    counties = [t for t in towns if t[2] == 0]
    if len(counties) == 1 or len(towns) == 1:
        code, name, _ = counties[0] if counties else towns[0]
        return {"code": code, "name": name, "kind": "grid"}
    return {"code": None, "name": f"全部{len(towns)}个镇" if towns else "全部", "kind": "all"}


def _condition(principal: Principal | None, area: dict[str, Any] | None) -> ColumnElement[bool]:
    scope = visible(principal) if principal is not None else true()
    if area is None:
        return scope
    return and_(scope, queries.in_area(area["kind"], area["code"], area["level"]))


def _hours(value: Any) -> float | None:
    return round(float(value), 2) if value is not None else None


def _ranked(counts: dict[str | None, int]) -> list[dict[str, Any]]:
    """Most first, then by code (no code — no category, no grid — last among equals)."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
    return [{"code": code, "count": count} for code, count in ordered]


def _intake(session: Session, scope: ColumnElement[bool], start: datetime,
            end: datetime) -> dict[str, Any]:
    sets: dict[str, dict[str | None, int]] = {"channel": {}, "category": {}, "day": {},
                                              "grid3": {}}
    for which, key, count in session.execute(queries.intake(scope, start, end)):
        sets[which][key] = count
    return {"total": sum(sets["channel"].values()),
            "by_channel": _ranked(sets["channel"]),
            "by_category": _ranked(sets["category"]),
            "daily": [{"date": d.isoformat(), "count": sets["day"].get(d.isoformat(), 0)}
                      for d in days(start, end)],
            "by_grid3": [r for r in _ranked(sets["grid3"]) if r["code"] is not None]}


def _step_block(row: Any, offset: int) -> dict[str, Any]:
    on_time, late = row[offset], row[offset + 1]
    return {"on_time": on_time, "late": late, "rate": rate(on_time, on_time + late)}


def _steps(session: Session, scope: ColumnElement[bool], start: datetime,
           end: datetime) -> dict[str, Any]:
    rows = session.execute(queries.step_figures(scope, start, end)).all()
    found = next((r for r in rows if r[0] == 1), None)
    total: Sequence[Any] = (found if found is not None
                            else (1, None, *([0] * 10), None, None, *([0] * 10)))
    i = 2 + 2 * len(STEPS)
    closed, on_time, median, p90 = total[i:i + 4]
    resolutions = dict(zip(RESOLUTIONS, total[i + 4:i + 7], strict=True))
    ratings = dict(zip(queries.RATINGS, total[i + 7:i + 12], strict=True))
    returns, escalations = total[i + 12:i + 14]
    rated = sum(ratings.values())
    returned = _ranked({r[1]: int(r[i + 12]) for r in rows if r[0] == 0 and r[i + 12]})
    return {
        "on_time": {step: _step_block(total, 2 + 2 * n) for n, step in enumerate(STEPS)},
        "closures": {"closed": closed, "on_time": on_time, "on_time_rate": rate(on_time, closed),
                     "handling_hours": {"median": _hours(median), "p90": _hours(p90)}},
        "returns": {"returns": int(returns), "escalations": int(escalations),
                    "top_returned_categories": returned[:TOP]},
        "ratio_721": {"counts": resolutions, "ratio": ratio_721(resolutions),
                      "target": RATIO_721_TARGET},
        "satisfaction": {"rated": rated,
                         "mean": mean_rating(sum(k * n for k, n in ratings.items()), rated),
                         "distribution": {str(k): n for k, n in ratings.items()}},
    }


def _repeats(session: Session, scope: ColumnElement[bool], start: datetime,
             end: datetime) -> list[dict[str, Any]]:
    found = [{"kind": "point", "lon": round(lon, 6), "lat": round(lat, 6), "count": count,
              "address": address, "category": category, "grid3": grid3,
              "spread_m": round(max(dlon * 95_400, dlat * 111_320))}
             for lon, lat, count, address, category, grid3, dlon, dlat
             in session.execute(queries.repeat_points(scope, start, end))]
    found += [{"kind": "address", "lon": None, "lat": None, "count": count, "address": address,
               "category": category, "grid3": None, "spread_m": None}
              for address, count, category
              in session.execute(queries.repeat_addresses(scope, start, end))]
    return sorted(found, key=lambda r: -int(r["count"]))[:TOP]


def figures(session: Session, scope: ColumnElement[bool], start: datetime,
            end: datetime) -> dict[str, Any]:
    """Every figure of one period under one condition."""
    intake = _intake(session, scope, start, end)
    steps = _steps(session, scope, start, end)
    open_at_start, open_at_end = session.execute(queries.open_at(scope, start, end)).one()
    return {"intake": intake,
            "flow": {"open_at_start": open_at_start, "opened": intake["total"],
                     "closed": steps["closures"]["closed"], "open_at_end": open_at_end},
            **steps, "repeat_locations": _repeats(session, scope, start, end)}


def headline(session: Session, scope: ColumnElement[bool], start: datetime,
             end: datetime, open_at_end: int) -> dict[str, Any]:
    """The figures a period is compared on, read without walking its history (what was
    open at its end is known: it is what was open at the next period's start)."""
    intake = session.execute(queries.counted_reports(scope, start, end)).scalar_one()
    closed, on_time, median, p90, rated_sum, rated = session.execute(
        queries.closure_figures(scope, start, end)).one()
    return {"intake": intake, "closed": closed,
            "open_at_end": open_at_end,
            "close_on_time_rate": rate(on_time, closed),
            "handling_median_hours": _hours(median), "handling_p90_hours": _hours(p90),
            "satisfaction_mean": mean_rating(rated_sum or 0, rated)}


def _delta(now: Any, before: Any) -> dict[str, Any]:
    change = (round(now - before, 4) if now is not None and before is not None else None)
    return {"value": now, "previous": before, "delta": change}


def comparison(now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The headline figures against the period before."""
    current = {"intake": now["intake"]["total"], "closed": now["flow"]["closed"],
               "open_at_end": now["flow"]["open_at_end"],
               "close_on_time_rate": now["closures"]["on_time_rate"],
               "handling_median_hours": now["closures"]["handling_hours"]["median"],
               "handling_p90_hours": now["closures"]["handling_hours"]["p90"],
               "satisfaction_mean": now["satisfaction"]["mean"]}
    return {key: _delta(value, before[key]) for key, value in current.items()}


def _name(rows: list[dict[str, Any]], names: dict[str, str]) -> None:
    for row in rows:
        row["name"] = names.get(row["code"], row["code"])


def category_name(code: str | None, names: dict[str, str]) -> str:
    """A category's name in the responsibility list; 未分类 for an incident without one (a
    code no longer in the list is shown as it is)."""
    return UNCATEGORISED if code is None else names.get(code, code)


def _add_names(session: Session, report: dict[str, Any]) -> None:
    intake = report["intake"]
    categories = [r["code"] for r in intake["by_category"]]
    categories += [r["code"] for r in report["returns"]["top_returned_categories"]]
    categories += [r["category"] for r in report["repeat_locations"]]
    names = {code: name for code, name in session.execute(
        queries.category_names([c for c in categories if c is not None]))}
    for row in (*intake["by_category"], *report["returns"]["top_returned_categories"]):
        row["name"] = category_name(row["code"], names)
    for place in report["repeat_locations"]:
        place["category_name"] = category_name(place["category"], names)
    grids = [r["code"] for r in intake["by_grid3"]]
    grid_names = {code: name for code, name in session.execute(queries.grid_names(grids))}
    _name(intake["by_grid3"], grid_names)
    report["top_grids"] = intake["by_grid3"][:TOP]


def _china(moment: datetime) -> str:
    return moment.astimezone(CHINA_TIME).isoformat(timespec="seconds")


def build_report(session: Session, *, principal: Principal | None, area: str | None,
                 start: datetime, end: datetime, now: datetime | None = None) -> dict[str, Any]:
    """The report of [start, end) for the area (any grid or district code; None = all the
    caller may see), with the period before for comparison; NotFoundError for an unknown
    area. `principal` None is the command line: everything. A period still running at `now`
    is counted to `now` and compared with as much of the period before (month to date
    against the same days of the month before). Times are China time."""
    place = resolve_area(session, area) if area else None
    scope = _condition(principal, place)
    session.execute(queries.without_jit())
    moment = now or datetime.now(UTC)
    until = max(start, min(end, moment))
    before_start, before_end = comparable(start, end, until)
    current = figures(session, scope, start, until)
    open_before = (current["flow"]["open_at_start"] if before_end == start
                   else session.execute(queries.open_at(scope, before_start, before_end)).one()[1])
    before = headline(session, scope, before_start, before_end, open_before)
    report: dict[str, Any] = {
        "area": place, "covers": covered_area(session, principal, place),
        "period": {"start": _china(start), "end": _china(end), "days": (end - start).days,
                   "until": _china(until), "to_date": until < end},
        "previous_period": {"start": _china(before_start), "end": _china(before_end)},
        "generated_at": _china(moment), **current,
        "comparison": comparison(current, before),
    }
    _add_names(session, report)
    return report


def _warnings(session: Session, principal: Principal | None, area: str | None,
              week_end: datetime, thresholds: Thresholds) -> dict[str, Any]:
    """The early warnings of the week (the hotspot scan the wall shows too)."""
    found = scan_hotspots(session, principal=principal, area=area, week_end=week_end,
                          thresholds=thresholds)
    return {"available": True, "warnings": list(found["warnings"])}


def weekly_report(session: Session, *, principal: Principal | None, area: str | None,
                  thresholds: Thresholds, day: date | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """The weekly review (周研判) of the Monday–Sunday week of `day` (None: the last full
    week), with early warnings."""
    moment = now or datetime.now(UTC)
    start, end = (week_of(day) if day is not None
                  else last_full_week(moment.astimezone(CHINA_TIME).date()))
    report = build_report(session, principal=principal, area=area, start=start, end=end,
                          now=moment)
    report["kind"] = "weekly"
    report["early_warnings"] = _warnings(session, principal, area, end, thresholds)
    return report


def monthly_report(session: Session, *, principal: Principal | None, area: str | None,
                   month: date, now: datetime | None = None) -> dict[str, Any]:
    """The monthly analysis (月分析) of the calendar month of `month` (this month: to date)."""
    start, end = month_of(month)
    report = build_report(session, principal=principal, area=area, start=start, end=end,
                          now=now)
    report["kind"] = "monthly"
    return report


def report_map(session: Session, *, report: dict[str, Any]) -> list[dict[str, Any]]:
    """The area's level-3 grids (code, name, GeoJSON geometry) with the period's intake."""
    covers = report["covers"]
    area = report["area"] or (covers if covers["kind"] in ("grid", "district") else None)
    at = datetime.fromisoformat(report["period"]["until"]) - timedelta(microseconds=1)
    counts = {r["code"]: r["count"] for r in report["intake"]["by_grid3"]}
    kind, code = (area["kind"], area["code"]) if area else (None, None)
    rows = session.execute(queries.area_grids(kind, code, at)).all()
    if not rows:  # grids drawn after the period: show today's
        rows = session.execute(queries.area_grids(kind, code, datetime.now(UTC))).all()
    return [{"code": code, "name": name, "geometry": geometry, "count": counts.get(code, 0)}
            for code, name, geometry in rows]
