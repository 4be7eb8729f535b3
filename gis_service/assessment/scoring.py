"""Item scores from a worker's facts, by the scheme: pure functions, no database."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from gis_service.assessment.models import SpotCheck
from gis_service.assessment.queries import Closed, Coverage, Found
from gis_service.assessment.schemas import ItemScore, WorkerScore
from gis_service.assessment.scheme import Item, Scheme
from gis_service.people.models import Worker


@dataclass
class WorkerFacts:
    """Everything stored about one grid worker's month that the score is computed from."""

    coverage: Coverage = field(default_factory=lambda: Coverage(None, 0.0, []))
    days: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))
    found: list[Found] = field(default_factory=list)
    closed: list[Closed] = field(default_factory=list)
    returns: list[tuple[int, datetime]] = field(default_factory=list)
    checks: list[SpotCheck] = field(default_factory=list)


def ratio_points(item: Item, value: float | None) -> float:
    """`weight` at or above `target`, pro rata below; nothing without a measure."""
    if value is None:
        return 0.0
    return round(item.weight * min(max(value, 0.0) / item.target, 1.0), 2)


def _entry(key: str, item: Item, value: float | None, facts: dict[str, Any],
           missing: str | None = None) -> ItemScore:
    return ItemScore(item=key, label=item.label, value=value, target=item.target,
                     weight=item.weight, points=ratio_points(item, value), facts=facts,
                     missing=missing if value is None else None)


def _coverage(scheme: Scheme, worker: Worker, cover: Coverage, buffer_m: float) -> ItemScore:
    measured = bool(cover.area_m2) and bool(cover.track_ids)
    share = (round(min(cover.covered_m2 / cover.area_m2, 1.0), 4)
             if measured and cover.area_m2 else None)
    return _entry("coverage", scheme.coverage, share, {
        "grid_code": worker.grid_code, "buffer_m": buffer_m,
        "area_m2": round(cover.area_m2, 1) if cover.area_m2 is not None else None,
        "covered_m2": round(cover.covered_m2, 1), "track_ids": cover.track_ids},
        "本月无巡查轨迹" if cover.area_m2 else "无所属网格")


def _days(scheme: Scheme, days: dict[date, set[str]]) -> ItemScore:
    listed = {day.isoformat(): sorted(sources) for day, sources in sorted(days.items())}
    return _entry("days_active", scheme.days_active, float(len(days)), {"days": listed})


def _found(scheme: Scheme, worker: Worker, found: list[Found]) -> tuple[ItemScore, int]:
    mine = [f for f in found if f.grid3_code == worker.grid_code]
    by_category: dict[str, dict[str, float]] = {}
    for report in mine:
        key = report.category or ""
        row = by_category.setdefault(key, {"count": 0, "weight": scheme.category_weight(key),
                                           "weighted": 0.0})
        row["count"] += 1
        row["weighted"] = round(row["count"] * row["weight"], 4)
    weighted = round(sum(row["weighted"] for row in by_category.values()), 4)
    return _entry("events_found", scheme.events_found, weighted, {
        "count": len(mine), "by_category": by_category,
        "incident_ids": [f.incident_id for f in mine],
        "outside_grid_ids": [f.incident_id for f in found if f.grid3_code != worker.grid_code],
    }), len(mine)


def _closure(scheme: Scheme, closed: list[Closed]) -> tuple[ItemScore, int]:
    rows = [{"id": c.incident_id, "closed_at": c.closed_at.isoformat(),
             "due_at": c.due_at.isoformat() if c.due_at else None,
             "overdue_since": c.overdue_since.isoformat() if c.overdue_since else None,
             "on_time": c.on_time} for c in closed]
    on_time = sum(1 for row in rows if row["on_time"])
    rate = round(on_time / len(rows), 4) if rows else None
    return _entry("closure_on_time", scheme.closure_on_time, rate, {
        "closed": len(rows), "on_time": on_time, "incidents": rows},
        "本月无办结的交办事件"), on_time


def check_result(check: SpotCheck) -> float:
    """A check's result, 0–1: 0 when failed, its score / 100 when scored, else 1."""
    if not check.passed:
        return 0.0
    return check.score / 100 if check.score is not None else 1.0


def _checks(scheme: Scheme, checks: list[SpotCheck]) -> ItemScore:
    results = [check_result(c) for c in checks]
    scores = [c.score for c in checks if c.score is not None]
    return _entry("spot_checks", scheme.spot_checks,
                  round(sum(results) / len(results), 4) if results else None, missing="本月无抽查",
                  facts={
                      "count": len(checks), "passed": sum(1 for c in checks if c.passed),
                      "pass_rate": (round(sum(1 for c in checks if c.passed) / len(checks), 4)
                                    if checks else None),
                      "mean_score": round(sum(scores) / len(scores), 2) if scores else None,
                      "checks": [{"id": c.id, "checked_at": c.checked_at.isoformat(),
                                  "checker": c.checker, "passed": c.passed, "score": c.score,
                                  "result": round(r, 4)} for c, r in zip(checks, results,
                                                                          strict=True)]})


def _returns(scheme: Scheme, returns: list[tuple[int, datetime]]) -> ItemScore:
    penalty = scheme.returns
    return ItemScore(item="returns", label=penalty.label, value=float(len(returns)),
                     target=None, weight=-penalty.per_return,
                     points=-round(min(len(returns) * penalty.per_return, penalty.cap), 2),
                     facts={"per_return": penalty.per_return, "cap": penalty.cap,
                            "incidents": [{"id": i, "at": at.isoformat()}
                                          for i, at in returns]})


def score_worker(scheme: Scheme, worker: Worker, facts: WorkerFacts,
                 buffer_m: float) -> WorkerScore:
    """A worker's score: each item explained, the total their sum (never below 0)."""
    coverage = _coverage(scheme, worker, facts.coverage, buffer_m)
    found, found_count = _found(scheme, worker, facts.found)
    closure, on_time = _closure(scheme, facts.closed)
    checks = _checks(scheme, facts.checks)
    explain = [coverage, _days(scheme, facts.days), found, closure, checks,
               _returns(scheme, facts.returns)]
    return WorkerScore(
        worker_code=worker.code, worker_name=worker.name, grid_code=worker.grid_code,
        on_duty=worker.on_duty, coverage_share=coverage.value,
        days_active=len(facts.days), events_found=found_count,
        events_weighted=found.value or 0.0, closed=len(facts.closed), closed_on_time=on_time,
        on_time_rate=closure.value, returns=len(facts.returns), spot_checks=len(facts.checks),
        spot_pass_rate=checks.facts["pass_rate"], spot_mean_score=checks.facts["mean_score"],
        total=max(round(sum(e.points for e in explain), 2), 0.0),
        best_total=scheme.best_total(), explain=explain)


def ranked(scores: list[WorkerScore]) -> list[WorkerScore]:
    """Best total first (then by code); equal totals share a rank."""
    ordered = sorted(scores, key=lambda s: (-s.total, s.worker_code))
    for position, score in enumerate(ordered):
        same = position > 0 and ordered[position - 1].total == score.total
        score.rank = ordered[position - 1].rank if same else position + 1
    return ordered
