"""The monthly town report over 1,000,000 incidents with their history, against computing
the same figures in Python from the month's rows.

    .venv/bin/python bench/bench_reports.py [--incidents 1000000] [--json bench/out/reports.json]

Starts a throw-away embedded PostGIS, loads the demo town (`load_demo_town`, 23,000
incidents with real histories) and adds `--incidents` more made from the demo's own, as
`tiles_fill.sql` does (spread over the last year, older than ten days closed), here also
with a resolution (70/20/10) and, for half the closed ones, a satisfaction. Then one SQL
statement writes their history: report, dispatch, accept, resolve, verify, close, evaluate as
far as each incident's state goes, a return + re-dispatch for 1 in 33 and an escalation for
1 in 50, at times drawn around the incident's deadlines (hashes left empty: the chain is
not what is measured). Timed: `monthly_report` for the town and the last full month (with
the month before, as the report compares), cold and warm; the baseline reads both months'
incidents and their history into Python and computes intake, on time per step, handling
median/p90, 721, satisfaction and returns there (no repeat-location clustering: the
baseline is spared that).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import demo_town_filled, throwaway_database, write_json
from gis_service import migrations
from gis_service.reports.periods import month_of, previous
from gis_service.reports.service import monthly_report
from gis_service.timeutil import CHINA_TIME

FILL = text("""
INSERT INTO incident (source, external_id, category_code, description, lon, lat, geom,
    reported_at, status, priority, town_code, grid2_code, grid3_code, district_code,
    zone_codes, special_codes, assignee_type, assignee_code, cooperating, respond_due_at,
    due_at, resolution, satisfaction, history_head, version, created_at, updated_at)
SELECT 'bench', 'B' || m.copy || '-' || m.id, m.category_code, m.description, m.x, m.y,
       ST_SetSRID(ST_MakePoint(m.x, m.y), 4490), m.at, m.state, m.priority, m.town_code,
       m.grid2_code, m.grid3_code, m.district_code, m.zone_codes, m.special_codes,
       m.assignee_type, m.assignee_code, m.cooperating,
       m.at + coalesce(m.respond_due_at - m.reported_at, interval '2 hours'),
       m.at + coalesce(m.due_at - m.reported_at, interval '24 hours'),
       CASE WHEN m.state = 'closed' THEN CASE WHEN m.r < 0.7 THEN 'service'
            WHEN m.r < 0.9 THEN 'management' ELSE 'enforcement' END END,
       CASE WHEN m.state = 'closed' AND m.r2 < 0.5 THEN 1 + floor(m.r2 * 10)::int END,
       '', 1, m.at, m.at
FROM (
    SELECT d.*, CASE WHEN d.at < now() - interval '10 days' THEN 'closed'
                ELSE (ARRAY['dispatched', 'accepted', 'in_progress', 'resolved', 'verified',
                            'closed'])[1 + floor(d.pick * 6)::int] END AS state
    FROM (SELECT d.*, d.lon + (random() - 0.5) * 0.0003 AS x,
                 d.lat + (random() - 0.5) * 0.0003 AS y,
                 now() - random() * interval '365 days' AS at, random() AS pick,
                 random() AS r, random() AS r2
          FROM (SELECT d.*, copy FROM incident AS d CROSS JOIN generate_series(1, :copies) AS copy
                WHERE d.geom IS NOT NULL AND d.source <> 'bench'
                ORDER BY random() LIMIT :n) AS d) AS d
) AS m
ORDER BY m.at""")
HISTORY = text("""
INSERT INTO incident_event (incident_id, seq, at, actor, action, prev_hash, hash)
SELECT s.id, row_number() OVER (PARTITION BY s.id ORDER BY s.ord), s.at, 'bench', s.action,
       '', ''
FROM (
    SELECT i.id, v.ord, v.action, v.at, v.keep
    FROM (SELECT i.*, CASE i.status WHEN 'dispatched' THEN 2 WHEN 'accepted' THEN 3
                      WHEN 'in_progress' THEN 3 WHEN 'resolved' THEN 5 WHEN 'verified' THEN 5
                      ELSE 6 END AS stage,
                 i.reported_at + (i.respond_due_at - i.reported_at) * (0.3 + random() * 0.9)
                     AS accepted,
                 i.reported_at + (i.due_at - i.reported_at) * (0.4 + random() * 0.8)
                     AS resolved
          FROM incident AS i WHERE i.source = 'bench') AS i
    CROSS JOIN LATERAL (VALUES
        (1, 'report', i.reported_at, true),
        (2, 'dispatch', i.reported_at + interval '3 minutes', true),
        (3, 'return', i.reported_at + interval '20 minutes', i.id % 33 = 0 AND i.stage >= 3),
        (4, 'dispatch', i.reported_at + interval '30 minutes', i.id % 33 = 0 AND i.stage >= 3),
        (5, 'accept', i.accepted, i.stage >= 3),
        (6, 'escalate', i.accepted + interval '1 hour', i.id % 50 = 0),
        (7, 'resolve', i.resolved, i.stage >= 5),
        (8, 'verify', i.resolved + interval '30 minutes', i.stage >= 5),
        (9, 'close', i.resolved + interval '1 hour', i.stage >= 6),
        (10, 'evaluate', i.resolved + interval '2 hours', i.satisfaction IS NOT NULL)
    ) AS v(ord, action, at, keep)
) AS s
WHERE s.keep""")


def build(url: str, n: int) -> tuple[sessionmaker[Session], dict[str, Any]]:
    """The demo town plus n incidents with history, analysed; seconds per step."""
    engine = migrations.migrated_engine(url)
    factory = sessionmaker(bind=engine)
    took: dict[str, Any] = {}
    with factory() as session:
        took.update(demo_town_filled(session, FILL, n))
        start = time.perf_counter()
        session.execute(HISTORY)
        session.commit()
        took["history fill s"] = round(time.perf_counter() - start, 1)
        for table in ("incident", "incident_event"):
            took[f"{table} rows"] = session.scalar(text(f"SELECT count(*) FROM {table}"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("incident", "incident_event"):
            connection.execute(text(f"VACUUM ANALYZE {table}"))
    print(took, flush=True)
    return factory, took


def last_full_month() -> date:
    """The first day of the month before this one (China time)."""
    today = datetime.now(UTC).astimezone(CHINA_TIME).date()
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def _python_figures(session: Session, town: str, start: datetime,
                    end: datetime) -> dict[str, Any]:
    """The baseline: the period's rows into Python, the figures computed there."""
    incidents = session.execute(text("""
        SELECT id, source, category_code, reported_at, respond_due_at, due_at, resolution,
               satisfaction, status FROM incident
        WHERE town_code = :town AND ((reported_at >= :start AND reported_at < :end)
           OR id IN (SELECT incident_id FROM incident_event
                     WHERE action = 'close' AND at >= :start AND at < :end))"""),
        {"town": town, "start": start, "end": end}).all()
    ids = [row.id for row in incidents]
    events: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    for incident_id, action, at in session.execute(text(
            "SELECT incident_id, action, at FROM incident_event "
            "WHERE incident_id = ANY(:ids) AND at < :end ORDER BY incident_id, seq"),
            {"ids": ids, "end": end}):
        events[incident_id].append((action, at))
    channels: Counter[str] = Counter()
    categories: Counter[str | None] = Counter()
    on_time: Counter[str] = Counter()
    late: Counter[str] = Counter()
    hours: list[float] = []
    resolutions: Counter[str | None] = Counter()
    ratings: Counter[int] = Counter()
    returns = 0
    for row in incidents:
        history = events[row.id]
        new = row.reported_at >= start
        if new:
            channels[row.source] += 1
            categories[row.category_code] += 1
        first = {a: t for a, t in reversed(history)}
        last = dict(history)
        returns += sum(1 for a, t in history if a == "return" and t >= start)
        for step, done, due in (("dispatch", first.get("dispatch"), row.respond_due_at),
                                ("accept", first.get("accept"), row.respond_due_at),
                                ("resolve", last.get("resolve"), row.due_at),
                                ("close", last.get("close"), row.due_at)):
            if not new or row.status == "rejected":
                continue
            if done is not None and (due is None or done <= due):
                on_time[step] += 1
            elif due is not None and (done is not None or due < end):
                late[step] += 1
        closed = last.get("close")
        if closed is not None and closed >= start:
            hours.append((closed - row.reported_at).total_seconds() / 3600)
            resolutions[row.resolution] += 1
            if row.satisfaction is not None:
                ratings[row.satisfaction] += 1
    deciles = statistics.quantiles(hours, n=10, method="inclusive") if len(hours) > 1 else []
    return {"intake": sum(channels.values()), "closed": len(hours),
            "median": statistics.median(hours) if hours else None,
            "p90": deciles[-1] if deciles else None, "on_time": dict(on_time),
            "late": dict(late), "721": dict(resolutions), "ratings": dict(ratings),
            "returns": returns, "categories": len(categories)}


def timed(factory: sessionmaker[Session], town: str, month: date,
          rounds: int) -> dict[str, Any]:
    """The report's and the baseline's seconds, each over `rounds` runs (first one cold)."""
    report_s, baseline_s = [], []
    report: dict[str, Any] = {}
    baseline: dict[str, Any] = {}
    start, end = month_of(month)
    for _ in range(rounds):
        with factory() as session:
            began = time.perf_counter()
            report = monthly_report(session, principal=None, area=town, month=month)
            report_s.append(round(time.perf_counter() - began, 3))
        with factory() as session:
            began = time.perf_counter()
            baseline = _python_figures(session, town, start, end)
            _python_figures(session, town, *previous(start, end))
            baseline_s.append(round(time.perf_counter() - began, 3))
        print(report_s[-1], baseline_s[-1], flush=True)
    assert report["intake"]["total"] == baseline["intake"], (report["intake"], baseline)
    assert report["closures"]["closed"] == baseline["closed"]
    warm = statistics.median(report_s[1:] or report_s)
    warm_baseline = statistics.median(baseline_s[1:] or baseline_s)
    return {"month": month.isoformat(), "town": town,
            "intake": report["intake"]["total"], "closed": report["closures"]["closed"],
            "handling_hours": report["closures"]["handling_hours"],
            "ratio_721": report["ratio_721"]["ratio"],
            "on_time": {k: v["rate"] for k, v in report["on_time"].items()},
            "repeat_locations": len(report["repeat_locations"]),
            "report s (cold, then warm)": report_s,
            "baseline s (cold, then warm)": baseline_s,
            "report warm median s": warm, "baseline warm median s": warm_baseline,
            "baseline / report": round(warm_baseline / warm, 1) if warm else None,
            "target s": 5.0, "within target": max(report_s) < 5.0}


def run(url: str, n: int, rounds: int) -> dict[str, Any]:
    factory, took = build(url, n)
    with factory() as session:
        town = session.scalar(text(
            "SELECT code FROM grid_version WHERE level = 1 AND valid_to IS NULL LIMIT 1"))
    results: dict[str, Any] = {"build": took,
                               "monthly town report": timed(factory, str(town),
                                                            last_full_month(), rounds)}
    factory.kw["bind"].dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with throwaway_database() as url:
        results = run(url, args.incidents, args.rounds)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_json(results, args.json)


if __name__ == "__main__":
    main()
