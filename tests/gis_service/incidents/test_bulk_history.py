"""Bulk import of a history export: closed tickets get their handling replayed, address-only
tickets are geocoded as intake would, inconsistent closing fields refuse the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.imports.incidents import import_incidents
from gis_service.imports.service import run_import
from gis_service.incidents.audit import verify_all
from tests.town import write_csv

HEADER = ["source", "external_id", "category", "lon", "lat", "address", "reported_at",
          "closed_at", "resolution", "satisfaction"]


def _import(session: Session, path: Path) -> Any:
    report = import_incidents(session, path)
    assert report.accepted, report.lines()
    return report


def _stored(session: Session, external_id: str) -> Any:
    return session.execute(text("SELECT * FROM incident WHERE external_id = :e"),
                           {"e": external_id}).one()


def _actions(session: Session, incident_id: int) -> list[tuple[str, str]]:
    rows = session.execute(text("SELECT action, actor FROM incident_event "
                                "WHERE incident_id = :i ORDER BY seq"), {"i": incident_id})
    return [(r.action, r.actor) for r in rows]


def test_closed_rows_replay_their_handling(db_session: Session, town: dict[str, Path],
                                           tmp_path: Path, client: TestClient,
                                           auth: dict[str, str]) -> None:
    path = write_csv(tmp_path / "h.csv", HEADER, [
        ["grid_patrol", "C1", "GARBAGE", "120.402", "30.902", "", "2026-03-01T09:00:00+08:00",
         "2026-03-01T15:00:00+08:00", "service", "5"],
        ["grid_patrol", "C2", "BUILDING", "120.402", "30.902", "", "2026-03-02T09:00:00+08:00",
         "2026-03-04T09:00:00+08:00", "enforcement", ""],
        ["grid_patrol", "C3", "GARBAGE", "120.402", "30.902", "", "2026-03-03T09:00:00+08:00",
         "", "", ""],
        ["grid_patrol", "C4", "GARBAGE", "", "", "", "2026-03-03T09:00:00+08:00",
         "2026-03-04T09:00:00+08:00", "service", ""]])
    report = _import(db_session, path)
    assert report.counts["closed (handling replayed)"] == 2
    assert report.counts["closed in the file but not routable here (left open)"] == 1
    first, second = _stored(db_session, "C1"), _stored(db_session, "C2")
    assert (first.status, first.resolution, first.satisfaction) == ("closed", "service", 5)
    assert (second.status, second.resolution, second.satisfaction) == (
        "closed", "enforcement", None)
    assert _stored(db_session, "C3").status == "dispatched"
    assert _stored(db_session, "C4").status == "needs_location"
    assert _actions(db_session, first.id) == [
        ("report", "import"), ("dispatch", "system"), ("accept", "grid_worker:W1"),
        ("start", "grid_worker:W1"), ("resolve", "grid_worker:W1"), ("verify", "import"),
        ("close", "import"), ("evaluate", "import")]
    assert first.version == 7 and second.version == 6  # as many moves as act() would make
    closed_at = db_session.scalar(text(
        "SELECT at FROM incident_event WHERE incident_id = :i AND action = 'close'"),
        {"i": first.id})
    assert closed_at.isoformat() == "2026-03-01T07:00:00+00:00"
    assert list(verify_all(db_session)) == []
    db_session.commit()
    history = client.get(f"/api/v1/incidents/{first.id}/history", headers=auth).json()
    assert history[-1]["after"]["status"] == "closed"
    assert history[-2]["detail"] == {"resolution": "service"}


def test_address_only_rows_are_geocoded_or_wait_with_candidates(
        db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    addresses = write_csv(tmp_path / "a.csv", ["address", "lon", "lat", "village", "road",
                                               "number"],
                          [["西村太湖路18号", "120.402", "30.902", "西村", "太湖路", "18"],
                           ["西村太湖路20号", "120.4022", "30.9021", "西村", "太湖路", "20"],
                           ["东村渔港路3号", "120.415", "30.915", "东村", "渔港路", "3"]])
    assert run_import(db_session, "addresses", addresses).accepted
    path = write_csv(tmp_path / "h.csv", HEADER, [
        ["hotline_12345", "G1", "GARBAGE", "", "", "七都镇西村太湖路十八号门口有垃圾",
         "2026-03-01T09:00:00+08:00", "", "", ""],
        ["hotline_12345", "G2", "GARBAGE", "", "", "东村渔港路3号附近",
         "2026-03-01T09:00:00+08:00", "", "", ""],
        ["hotline_12345", "G3", "GARBAGE", "", "", "火星基地99号",
         "2026-03-01T09:00:00+08:00", "", "", ""]])
    _import(db_session, path)
    placed = _stored(db_session, "G1")
    assert (placed.status, placed.grid3_code) == ("dispatched", "T-A-1")
    assert abs(placed.lon - 120.402) < 1e-6 and abs(placed.lat - 30.902) < 1e-6
    assert _stored(db_session, "G2").grid3_code == "T-B-2"
    lost = _stored(db_session, "G3")
    assert lost.status == "needs_location" and lost.lon is None
    assert isinstance(lost.candidates, list)
    report = db_session.scalar(text("SELECT detail FROM incident_event WHERE incident_id = :i "
                                    "AND action = 'report'"), {"i": placed.id})
    assert report["geocode"]["placed"] is True


def test_inconsistent_closing_fields_refuse_the_file(db_session: Session, town: dict[str, Path],
                                                     tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", HEADER, [
        ["grid_patrol", "X1", "GARBAGE", "120.402", "30.902", "", "2026-03-01T09:00:00+08:00",
         "2026-02-01T09:00:00+08:00", "service", ""],
        ["grid_patrol", "X2", "GARBAGE", "120.402", "30.902", "", "2026-03-01T09:00:00+08:00",
         "", "service", ""],
        ["grid_patrol", "X3", "GARBAGE", "120.402", "30.902", "", "2026-03-01T09:00:00+08:00",
         "2026-03-02T09:00:00+08:00", "bribery", ""],
        ["grid_patrol", "X4", "GARBAGE", "120.402", "30.902", "", "2026-03-01T09:00:00+08:00",
         "", "", "4"],
        ["grid_patrol", "X5", "GARBAGE", "120.402", "30.902", "", "2026-03-01T09:00:00+08:00",
         "2026-03-02T09:00:00+08:00", "service", "9"]])
    report = import_incidents(db_session, path)
    assert not report.accepted
    messages = " | ".join(p.message for p in report.problems)
    assert len(report.problems) == 5, messages
    assert "before reported_at" in messages and "come together" in messages
    assert "resolution must be one of" in messages and "needs closed_at" in messages
    assert db_session.scalar(text("SELECT count(*) FROM incident")) == 0
