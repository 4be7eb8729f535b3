"""Bulk import of incidents: rows land exactly where and with whom the online intake puts
them, a re-run stores nothing twice, a bad row rejects the file, the history chain holds."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.imports.incidents import _keep_statistics_honest, import_incidents
from gis_service.imports.readers import UnreadableInputError
from gis_service.imports.service import run_import
from gis_service.incidents.audit import verify_all
from gis_service.incidents.schemas import IncidentCreate
from gis_service.incidents.service import intake
from gis_service.locate.service import LocatorSnapshot, load_layers
from gis_service.timeutil import aware
from grid_layers.crs import point_from_storage
from tests.town import write_town

HEADER = ["source", "external_id", "category", "description", "lon", "lat", "crs", "address",
          "reported_at", "parent_ticket_id", "county_due_at"]
# (lon, lat) in storage coordinates: each quarter, the school, the Taihu strip, outside
PLACES = [(120.402, 30.902), (120.415, 30.902), (120.404, 30.916), (120.416, 30.916),
          (120.409, 30.909), (120.401, 30.917), (121.0, 31.5), None]
CATEGORIES = ["GARBAGE", "BUILDING", "POLLUTION", "FLOOD", "UFO", None]
INCIDENT_FIELDS = ("status", "assignee_type", "assignee_code", "cooperating", "town_code",
                   "grid2_code", "grid3_code", "district_code", "zone_codes", "special_codes",
                   "due_at", "respond_due_at", "lon", "lat", "reported_at", "category_code",
                   "description", "address", "parent_ticket_id", "priority", "version")
EVENT_FIELDS = ("seq", "at", "actor", "action", "before", "after", "note", "detail")


def sample_rows(n: int, seed: int = 5) -> list[dict[str, Any]]:
    """n IncidentCreate-shaped rows over every place, category, CRS and deadline case."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        second_line = "\n(两行)" if i % 10 == 0 else ""  # a quoted CSV field over two lines
        row: dict[str, Any] = {"source": rng.choice(["hotline_12345", "county_ticket"]),
                               "external_id": f"B{i:04d}", "category": CATEGORIES[i % 6],
                               "description": f"第{i}号 \"来电\"{second_line}",
                               "address": None}
        place = PLACES[i % len(PLACES)]
        if place is not None:
            crs = ["wgs84", "gcj02", "bd09", "cgcs2000"][i % 4]
            lon, lat = point_from_storage(place[0] + rng.uniform(-3e-3, 3e-3),
                                          place[1] + rng.uniform(-3e-3, 3e-3), crs)
            row["location"] = {"lon": lon, "lat": lat, "crs": crs}
        if i % 5:  # naive (China time) or with a zone; every fifth row has no time at all
            zone = "+08:00" if i % 2 else ""
            row["reported_at"] = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:15:30{zone}"
        if row["source"] == "county_ticket" and i % 3:
            row["parent_ticket_id"] = f"C-{i}"
            row["county_due_at"] = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T23:00:00Z"
        rows.append(row)
    return rows


def write_rows_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as the CSV form (flat lon/lat/crs columns)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for row in rows:
            where = row.get("location") or {}
            flat = {**row, **{k: where.get(k) for k in ("lon", "lat", "crs")}}
            writer.writerow(["" if flat.get(k) is None else flat[k] for k in HEADER])
    return path


def write_rows_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as JSON lines, every other location flat."""
    lines = []
    for i, row in enumerate(rows):
        body = {k: v for k, v in row.items() if v is not None}
        if i % 2 and "location" in body:
            body |= body.pop("location")
        lines.append(json.dumps(body, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def incidents(session: Session, prefix: str) -> dict[str, dict[str, Any]]:
    """Stored incidents whose external_id starts with `prefix`, by the rest of it."""
    rows = session.execute(text(
        "SELECT * FROM incident WHERE external_id LIKE :p ORDER BY id"), {"p": f"{prefix}%"})
    return {r.external_id[len(prefix):]: dict(r._mapping) for r in rows}


def events(session: Session, incident_id: int) -> list[tuple[Any, ...]]:
    """The history rows of an incident, without ids and hashes."""
    rows = session.execute(text(f"SELECT {', '.join(EVENT_FIELDS)} FROM incident_event "
                                "WHERE incident_id = :i ORDER BY seq"), {"i": incident_id})
    return [tuple(r) for r in rows]


def count(session: Session, table: str = "incident") -> int:
    return int(session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def test_csv_and_jsonl_rows_land_as_the_online_intake_puts_them(
        db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    rows = sample_rows(150)
    now = datetime.now(UTC)  # rows without reported_at count from the import's moment
    for path in (write_rows_csv(tmp_path / "a.csv", rows[:75]),
                 write_rows_jsonl(tmp_path / "b.jsonl", rows[75:])):
        report = import_incidents(db_session, path, now=now)
        assert report.accepted, report.lines()
        assert report.counts["stored"] == 75
    snapshot = LocatorSnapshot(load_layers(db_session, now))
    for row in rows:
        body = IncidentCreate.model_validate({**row, "external_id": "O" + row["external_id"]})
        reported_at = aware(body.reported_at)
        intake(db_session, snapshot, "import", body,
               reported_at.astimezone(UTC) if reported_at else now)
    db_session.flush()
    bulk, online = incidents(db_session, "B"), incidents(db_session, "OB")
    assert len(bulk) == len(online) == 150
    for key, stored in bulk.items():
        twin = online[key]
        assert {f: stored[f] for f in INCIDENT_FIELDS} == {f: twin[f] for f in INCIDENT_FIELDS}
        assert events(db_session, stored["id"]) == events(db_session, twin["id"])
    statuses = {r["status"] for r in bulk.values()}
    assert statuses == {"dispatched", "needs_location", "reported"}
    assignees = {(r["assignee_type"], r["assignee_code"]) for r in bulk.values()}
    assert {("grid_worker", "W1"), ("grid_worker", "W4"), ("squad", "Q1"), ("squad", "Q2"),
            ("department", "HB"), ("town", "T")} <= assignees
    assert ("grid_worker", "W3") not in assignees  # off duty: W4 holds the B post
    assert any(r["priority"] == 2 for r in bulk.values())  # the Taihu zone rule applied


def test_deadlines_and_history_count_from_reported_at(
        db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    path = write_rows_csv(tmp_path / "one.csv", [
        {"source": "hotline_12345", "external_id": "H1", "category": "GARBAGE",
         "location": {"lon": 120.402, "lat": 30.902, "crs": "wgs84"},
         "reported_at": "2025-03-01T08:00"},
        {"source": "county_ticket", "external_id": "C1", "category": "BUILDING",
         "location": {"lon": 120.402, "lat": 30.902, "crs": "wgs84"},
         "reported_at": "2025-03-01T08:00", "county_due_at": "2025-03-01T12:00"}])
    assert run_import(db_session, "incidents", path).accepted
    stored = incidents(db_session, "")
    garbage, county = stored["H1"], stored["C1"]
    assert garbage["reported_at"] == datetime(2025, 3, 1, 0, 0, tzinfo=UTC)  # 08:00 China
    assert garbage["respond_due_at"] == datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    assert garbage["due_at"] == datetime(2025, 3, 2, 0, 0, tzinfo=UTC)
    assert county["due_at"] == datetime(2025, 3, 1, 4, 0, tzinfo=UTC)  # the county's cap
    history = events(db_session, garbage["id"])
    assert [(e[1], e[2], e[3]) for e in history] == [
        (garbage["reported_at"], "import", "report"),
        (garbage["reported_at"], "system", "dispatch")]
    assert garbage["created_at"] > garbage["reported_at"]  # when it was imported


def test_a_rerun_stores_nothing_twice(db_session: Session, town: dict[str, Path],
                                      tmp_path: Path) -> None:
    rows = sample_rows(40)
    path = write_rows_csv(tmp_path / "a.csv", [*rows, rows[3], rows[7]])
    first = run_import(db_session, "incidents", path)
    assert first.accepted, first.lines()
    assert first.counts["stored"] == 40 and first.counts["repeated in the file"] == 2
    stored, history = count(db_session), count(db_session, "incident_event")
    again = run_import(db_session, "incidents", path)
    assert again.counts == {"stored": 0, "already stored": 40, "repeated in the file": 2}
    assert (count(db_session), count(db_session, "incident_event")) == (stored, history)
    more = run_import(db_session, "incidents",
                      write_rows_jsonl(tmp_path / "b.jsonl", sample_rows(50)))
    assert more.counts["stored"] == 10 and more.counts["already stored"] == 40
    assert count(db_session) == stored + 10
    # one history row for a report left `reported`, two for every other
    assert count(db_session, "incident_event") == db_session.scalar(text(
        "SELECT sum(CASE WHEN status = 'reported' THEN 1 ELSE 2 END) FROM incident"))


def test_a_bad_row_rejects_the_whole_file(db_session: Session, town: dict[str, Path],
                                          tmp_path: Path) -> None:
    rows = sample_rows(6)
    rows[1]["location"] = {"lon": "east", "lat": 30.9, "crs": "wgs84"}
    rows[2]["source"] = "fax"
    rows[3]["reported_at"] = "yesterday"
    rows[4]["location"] = {"lon": 120.41, "lat": 30.91, "crs": "mars"}
    rows[5].pop("external_id")
    report = run_import(db_session, "incidents", write_rows_csv(tmp_path / "bad.csv", rows))
    assert not report.accepted
    reasons = {p.grids[0]: p.message for p in report.problems}
    # the first row's description spans two lines: a row is named by the line it starts on
    assert list(reasons) == ["line 4", "line 5", "line 6", "line 7", "line 8"]
    assert "lon" in reasons["line 4"] and "'east'" in reasons["line 4"]
    assert "source" in reasons["line 5"] and "'fax'" in reasons["line 5"]
    assert "reported_at" in reasons["line 6"]
    assert "mars" in reasons["line 7"]
    assert "external_id is required" in reasons["line 8"]
    assert all(p.type == "invalid_attribute" for p in report.problems)
    assert count(db_session) == 0


def test_json_lines_report_their_line_numbers(db_session: Session, town: dict[str, Path],
                                              tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"source": "walk_in", "external_id": "1"}\n\n[1, 2]\n{"source": \n'
                    '{"source": "walk_in", "external_id": "2", "lon": 200, "lat": 30}\n'
                    '{"source": "walk_in", "external_id": "3", "status": "closed"}\n')
    report = run_import(db_session, "incidents", path)
    reasons = {p.grids[0]: p.message for p in report.problems}
    assert list(reasons) == ["line 3", "line 4", "line 5", "line 6"]
    assert "not a JSON object" in reasons["line 3"] and "not JSON" in reasons["line 4"]
    assert "lon" in reasons["line 5"] and "status" in reasons["line 6"]
    assert count(db_session) == 0


def test_check_only_and_unreadable_files(db_session: Session, town: dict[str, Path],
                                         tmp_path: Path) -> None:
    path = write_rows_csv(tmp_path / "a.csv", sample_rows(10))
    checked = run_import(db_session, "incidents", path, check_only=True)
    assert checked.accepted and checked.rows == 10 and count(db_session) == 0
    extra = tmp_path / "extra.csv"
    extra.write_text("source,external_id,status\nwalk_in,1,closed\n", encoding="utf-8")
    with pytest.raises(UnreadableInputError, match="status"):
        run_import(db_session, "incidents", extra)
    no_source = tmp_path / "no_source.csv"
    no_source.write_text("external_id\n1\n", encoding="utf-8")
    with pytest.raises(UnreadableInputError, match="source"):
        run_import(db_session, "incidents", no_source)
    spreadsheet = tmp_path / "a.xlsx"
    spreadsheet.write_bytes(b"PK")
    with pytest.raises(UnreadableInputError, match="csv"):
        run_import(db_session, "incidents", spreadsheet)


def test_default_crs_rows_without_coordinates_and_empty_files(
        db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    lon, lat = point_from_storage(120.402, 30.902, "gcj02")
    path = tmp_path / "a.csv"
    path.write_text("source,external_id,category,lon,lat\n"
                    f"grid_patrol,P1,GARBAGE,{lon},{lat}\n"
                    "grid_patrol,P2,GARBAGE,,\n", encoding="utf-8")
    report = run_import(db_session, "incidents", path, crs="gcj02")
    assert report.counts == {"stored": 2, "dispatched": 1, "needing a location": 1}
    stored = incidents(db_session, "P")
    assert stored["1"]["grid3_code"] == "T-A-1" and stored["1"]["assignee_code"] == "W1"
    assert stored["2"]["lon"] is None and stored["2"]["status"] == "needs_location"
    nowhere = tmp_path / "b.jsonl"
    nowhere.write_text('{"source": "walk_in", "external_id": "N1"}\n', encoding="utf-8")
    assert run_import(db_session, "incidents", nowhere).counts["needing a location"] == 1
    empty = tmp_path / "c.csv"
    empty.write_text("source,external_id\n", encoding="utf-8")
    assert run_import(db_session, "incidents", empty).counts == {"stored": 0}


def test_history_of_imported_rows_verifies(db_session: Session, town: dict[str, Path],
                                          tmp_path: Path) -> None:
    report = run_import(db_session, "incidents",
                        write_rows_jsonl(tmp_path / "a.jsonl", sample_rows(60)))
    assert report.accepted, report.lines()
    assert count(db_session, "incident_event") > 60
    assert list(verify_all(db_session)) == []


def test_statistics_that_hide_the_import_are_refreshed(
        db_session: Session, town: dict[str, Path], tmp_path: Path, engine: Engine) -> None:
    """An autovacuum ANALYZE during the import sees none of its rows ("no rows" over many
    pages); planned from that, every history row's foreign-key check scans a whole index."""
    rows = sample_rows(400)
    assert run_import(db_session, "incidents", write_rows_csv(tmp_path / "a.csv", rows)).accepted
    with engine.connect() as other:  # sees none of this test's rows, as autovacuum would not
        other.execute(text("ANALYZE incident"))
        other.commit()
    assert planner_rows(db_session) < 10
    _keep_statistics_honest(db_session, 400)
    assert planner_rows(db_session) == pytest.approx(400, rel=0.2)


def planner_rows(session: Session) -> float:
    return float(session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'incident'"))
                 or 0)


def test_gcj02_points_land_in_the_same_grids(db_session: Session, town: dict[str, Path],
                                            tmp_path: Path) -> None:
    rows = []
    for i, place in enumerate(p for p in PLACES if p is not None):
        for crs in ("wgs84", "gcj02"):
            lon, lat = point_from_storage(*place, crs)
            rows.append({"source": "hotline_12345", "external_id": f"{crs}-{i}",
                         "category": "GARBAGE", "location": {"lon": lon, "lat": lat, "crs": crs}})
    assert run_import(db_session, "incidents", write_rows_csv(tmp_path / "g.csv", rows)).accepted
    stored = incidents(db_session, "")
    fields = ("town_code", "grid2_code", "grid3_code", "district_code", "zone_codes",
              "special_codes", "assignee_code")
    for i in range(len(rows) // 2):
        wgs, gcj = stored[f"wgs84-{i}"], stored[f"gcj02-{i}"]
        assert [gcj[f] for f in fields] == [wgs[f] for f in fields]
        assert (gcj["lon"], gcj["lat"]) == (pytest.approx(wgs["lon"], abs=1e-8),
                                            pytest.approx(wgs["lat"], abs=1e-8))
    assert stored["gcj02-0"]["grid3_code"] == "T-A-1"


def test_command_line_import(scratch_url: str, monkeypatch: pytest.MonkeyPatch,
                             tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    runner = CliRunner()
    for kind, path in write_town(tmp_path).items():
        assert runner.invoke(app, ["import", kind, str(path)]).exit_code == 0
    good = write_rows_csv(tmp_path / "good.csv", sample_rows(30))
    imported = runner.invoke(app, ["import", "incidents", str(good)])
    assert imported.exit_code == 0, imported.output
    assert "30 stored" in imported.output
    bad = sample_rows(3)
    bad[2]["source"] = "fax"
    rejected = runner.invoke(app, ["import", "incidents",
                                   str(write_rows_csv(tmp_path / "bad.csv", bad))])
    assert rejected.exit_code == 1 and "line 5" in rejected.output
    again = runner.invoke(app, ["import", "incidents", str(good)])
    assert again.exit_code == 0 and "30 already stored" in again.output
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_grid_workers_report_is_theirs(db_session: Session, town: dict[str, Path],
                                         tmp_path: Path) -> None:
    """`reporter` names the account (by its name or its worker's code) whose report row it
    is, as the assessment counts a worker's finds; an unknown reporter refuses the file."""
    from gis_service.auth.service import add_account

    add_account(db_session, username="zhangsan", role="grid_worker",
                scope_code="T-A-1").worker_code = "W1"
    add_account(db_session, username="lisi", role="grid_worker", scope_code="T-A-2")
    db_session.flush()
    rows = [{"source": "grid_patrol", "external_id": f"P{i}", "category": "GARBAGE",
             "location": {"lon": 120.402, "lat": 30.902, "crs": "cgcs2000"},
             "reporter": reporter} for i, reporter in enumerate(("W1", "lisi", None))]
    bad = write_rows_jsonl(tmp_path / "bad.jsonl", [*rows, {**rows[0], "external_id": "P9",
                                                             "reporter": "W9"}])
    refused = run_import(db_session, "incidents", bad)
    assert not refused.accepted and count(db_session) == 0
    assert [p.message for p in refused.problems] == [
        "line 4: reporter 'W9': no account of that name or worker code"]
    report = run_import(db_session, "incidents", write_rows_jsonl(tmp_path / "ok.jsonl", rows))
    assert report.accepted, report.problems
    actors = db_session.execute(text(
        "SELECT i.external_id, e.actor FROM incident i JOIN incident_event e "
        "ON e.incident_id = i.id AND e.action = 'report' ORDER BY i.external_id")).all()
    assert [tuple(a) for a in actors] == [("P0", "zhangsan"), ("P1", "lisi"), ("P2", "import")]
    assert list(verify_all(db_session)) == []
