"""`gis-service load-demo`: every file through the importers, times moved to the present,
demo accounts, idempotent, and never over another town."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.demo import (
    CAMERA_EVENTS,
    DEMO_DIR,
    HISTORY_ENDS,
    demo_town_loaded,
    history_shift,
    load_demo_town,
    send_camera_events,
    shift_times,
)
from tests.town import grid_features, write_csv, write_geojson, write_town

runner = CliRunner()
INCIDENT_HEADER = ["source", "external_id", "category", "lon", "lat", "reported_at",
                   "closed_at", "resolution", "satisfaction"]


def test_the_shift_moves_the_history_end_to_now() -> None:
    now = datetime(2027, 3, 5, 9, 0, 7, 250_000, tzinfo=UTC)  # 17:00:07 China time
    shift = history_shift(now)
    assert HISTORY_ENDS + shift == now.replace(microsecond=0)  # not the last 18:00 before
    assert history_shift(HISTORY_ENDS) == timedelta(0)


def test_shift_times_moves_every_time_column_and_nothing_else(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", INCIDENT_HEADER, [
        ["grid_patrol", "E1", "GARBAGE", "120.402", "30.902", "2026-03-01T09:00:00+08:00",
         "2026-03-02T09:00:00+08:00", "service", "5"],
        ["grid_patrol", "E2", "GARBAGE", "120.402", "30.902", "2026-03-01T09:00:00+08:00",
         "", "", ""]])
    moved = shift_times(source, tmp_path / "out.csv", timedelta(days=10))
    with moved.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["reported_at"] == "2026-03-11T09:00:00+08:00"
    assert rows[0]["closed_at"] == "2026-03-12T09:00:00+08:00"
    assert rows[1]["closed_at"] == "" and rows[1]["external_id"] == "E2"


def _demo_folder(tmp_path: Path) -> Path:
    """The test town laid out as a demo folder, its town grid coded as the demo's."""
    folder = tmp_path / "demo"
    folder.mkdir()
    for kind, path in write_town(tmp_path).items():
        if kind != "grids":
            shutil.copy(path, folder / {"zone_rules": "zone_rules.csv"}.get(kind, path.name))
    features = grid_features()
    for feature in features:
        props = feature["properties"]
        props["code"] = "QD" if props["code"] == "T" else props["code"]
        props["parent_code"] = "QD" if props["parent_code"] == "T" else props["parent_code"]
    write_geojson(folder / "grids.geojson", features)
    end = HISTORY_ENDS.isoformat()
    walk = {"type": "LineString", "coordinates": [[120.401, 30.911], [120.408, 30.918]]}
    write_geojson(folder / "patrols.geojson", [
        {"type": "Feature", "geometry": walk, "properties": {
            "worker_code": code, "grid_code": grid,
            "started_at": (HISTORY_ENDS - timedelta(hours=hours)).isoformat(),
            "ended_at": (HISTORY_ENDS - timedelta(hours=hours - 1)).isoformat()}}
        for code, grid, hours in (("W1", "T-A-1", 30), ("W2", "T-A-2", 8), ("W2", "T-A-2", 3))])
    write_csv(folder / "spot_checks.csv",
              ["worker_code", "checked_at", "checker", "passed", "score", "note"],
              [["W2", (HISTORY_ENDS - timedelta(days=2)).isoformat(), "dispatcher", "no",
                "45", "台账缺失"]])
    write_csv(folder / "incidents.csv", INCIDENT_HEADER, [
        ["grid_patrol", "D1", "GARBAGE", "120.402", "30.902", end, "", "", ""],
        ["grid_patrol", "D2", "GARBAGE", "120.402", "30.902",
         (HISTORY_ENDS - timedelta(days=40)).isoformat(),
         (HISTORY_ENDS - timedelta(days=39)).isoformat(), "service", "4"]])
    return folder


def test_load_demo_loads_everything_once(scratch_url: str, tmp_path: Path) -> None:
    folder = _demo_folder(tmp_path)
    engine = create_engine(scratch_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        assert demo_town_loaded(session) is False
        lines = list(load_demo_town(session, folder, now=now))
        assert demo_town_loaded(session) is True
        again = list(load_demo_town(session, folder, now=now))
        counts = dict(session.execute(text(
            "SELECT 'incidents', count(*) FROM incident UNION ALL "
            "SELECT 'stations', count(*) FROM station UNION ALL "
            "SELECT 'grids', count(*) FROM grid_version UNION ALL "
            "SELECT 'accounts', count(*) FROM account")).all())
        latest = session.scalar(text("SELECT max(reported_at) FROM incident"))
        closed = session.scalar(text("SELECT status FROM incident WHERE external_id = 'D2'"))
        tracks = session.execute(text(
            "SELECT a.username, t.worker_code, t.started_at, t.length_m FROM patrol_track t "
            "JOIN account a ON a.id = t.account_id ORDER BY t.started_at")).all()
        positions = dict(session.execute(text(
            "SELECT a.username, p.at FROM worker_position p "
            "JOIN account a ON a.id = p.account_id")).all())
        fields = dict(session.execute(text(
            "SELECT username, worker_code FROM account WHERE password_hash IS NULL")).all())
        check = session.execute(text(
            "SELECT worker_code, checker, passed, score, checked_at FROM spot_check")).one()
    engine.dispose()
    assert counts == {"incidents": 2, "stations": 1, "grids": 8, "accounts": 10}
    assert any("demo account gridworker: grid_worker (scope T-A-1)" in line for line in lines)
    assert not any(line.startswith("demo account") for line in again)
    shift = history_shift(now)
    assert latest == HISTORY_ENDS + shift  # the history ends now, not at the last 18:00
    assert closed == "closed"
    # every grid worker without an account gets one, without a password
    assert fields == {"w2": "W2", "w3": "W3", "w4": "W4"}
    # tracks belong to the worker's account (W1's is the demo's gridworker), moved as incidents
    assert [(u, w, at) for u, w, at, _ in tracks] == [
        ("gridworker", "W1", HISTORY_ENDS + shift - timedelta(hours=30)),
        ("w2", "W2", HISTORY_ENDS + shift - timedelta(hours=8)),
        ("w2", "W2", HISTORY_ENDS + shift - timedelta(hours=3))]
    assert all(900 < length < 1100 for *_, length in tracks)  # ~1 km on the ellipsoid
    assert positions == {"gridworker": HISTORY_ENDS + shift - timedelta(hours=29),
                         "w2": HISTORY_ENDS + shift - timedelta(hours=2)}
    assert check == ("W2", "dispatcher", False, 45, HISTORY_ENDS + shift - timedelta(days=2))
    assert any("3 patrol tracks of 2 grid workers" in line for line in lines)
    assert "patrol tracks: stored before, none loaded" in again
    assert "spot checks: stored before, none loaded" in again


def test_load_demo_if_empty_leaves_another_town_alone(scratch_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    files = write_town(tmp_path)
    assert runner.invoke(app, ["import", "grids", str(files["grids"])]).exit_code == 0
    result = runner.invoke(app, ["load-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "holds another town" in result.output
    engine = create_engine(scratch_url)
    with engine.connect() as connection:
        codes = set(connection.scalars(text("SELECT code FROM grid_version WHERE level = 1")))
    engine.dispose()
    assert codes == {"T"}


CAMERA_ROWS = [  # code, name, lon, lat
    ["32050906001320000001", "七都镇西村路口", "120.405", "30.905"],
    ["32050906081326000002", "七都镇东村路口", "120.415", "30.915"]]
EVENT_HEADER = ["external_id", "reported_at", "camera_code", "scene", "confidence", "lon", "lat"]


def _camera_day(folder: Path) -> None:
    """Two cameras, two scenes, a team per grid and a few hours of camera events (minutes
    before the history ends) beside the test town's demo files."""
    write_csv(folder / "cameras.csv", ["code", "name", "lon", "lat"], CAMERA_ROWS)
    write_csv(folder / "video_scenes.csv", ["scene", "category_code", "min_confidence",
                                            "dwell_seconds", "needs_confirmation"],
              [["暴露垃圾", "GARBAGE", "0.6", "0", "no"],
               ["人员聚集", "POLLUTION", "0.7", "0", "yes"]])
    write_csv(folder / "grid_team.csv", ["grid_code", "code", "name", "role", "phone",
                                         "organisation"],
              [[grid, f"TM-{grid}-{k}", name, role, "10012345678", "派出所"]
               for grid in ("T-A-1", "T-A-2", "T-B-1", "T-B-2")
               for k, (name, role) in enumerate((("沈民", "police_officer"),
                                                 ("吴辅", "police_auxiliary")))])
    west, east = CAMERA_ROWS[0][0], CAMERA_ROWS[1][0]

    def at(minutes: int) -> str:
        return (HISTORY_ENDS - timedelta(minutes=minutes)).isoformat()

    write_csv(folder / CAMERA_EVENTS, EVENT_HEADER, [
        ["AI-1", at(180), west, "暴露垃圾", "0.90", "", ""],
        ["AI-2", at(175), west, "暴露垃圾", "0.88", "", ""],  # 5 min on: folds
        ["AI-3", at(150), west, "暴露垃圾", "0.91", "", ""],  # 25 min on: folds
        ["AI-4", at(120), east, "暴露垃圾", "0.30", "", ""],  # unsure: waits
        ["AI-5", at(90), east, "人员聚集", "0.95", "120.4152", "30.9152"],  # a person looks
        ["AI-6", at(60), west, "暴露垃圾", "0.90", "", ""]])  # 90 min on: a new incident


def test_load_demo_sends_the_camera_day_through_the_intake(scratch_url: str,
                                                           tmp_path: Path) -> None:
    folder = _demo_folder(tmp_path)
    _camera_day(folder)
    engine = create_engine(scratch_url)
    now = datetime.now(UTC)
    shift = history_shift(now)
    camera_incidents = ("SELECT external_id, camera_code, scene, status, detections, lon, lat, "
                        "reported_at, last_seen_at FROM incident WHERE camera_code IS NOT NULL "
                        "ORDER BY reported_at")
    with Session(engine) as session:
        lines = list(load_demo_town(session, folder, now=now))
        found = session.execute(text(camera_incidents)).all()
        counts = session.execute(text(
            "SELECT (SELECT count(*) FROM camera), (SELECT count(*) FROM video_scene), "
            "(SELECT count(DISTINCT grid_code) FROM grid_team_member "
            " WHERE role = 'police_officer'), (SELECT count(*) FROM incident)")).one()
        again = list(load_demo_town(session, folder, now=now + timedelta(hours=1)))
        after = session.execute(text(camera_incidents)).all()
        total = session.scalar(text("SELECT count(*) FROM incident"))
    engine.dispose()
    assert tuple(counts) == (2, 2, 4, 2 + 4)  # the history's two reports, four of the cameras
    west, east = CAMERA_ROWS[0][0], CAMERA_ROWS[1][0]
    assert [(e, c, s, st, n) for e, c, s, st, n, *_ in found] == [
        ("AI-1", west, "暴露垃圾", "dispatched", 3),
        ("AI-4", east, "暴露垃圾", "needs_confirmation", 1),
        ("AI-5", east, "人员聚集", "needs_confirmation", 1),
        ("AI-6", west, "暴露垃圾", "dispatched", 1)]
    first = found[0]
    # first and last seen at the events' moved times; placed at the camera, or the event's point
    assert first.reported_at == HISTORY_ENDS - timedelta(minutes=180) + shift
    assert first.last_seen_at == HISTORY_ENDS - timedelta(minutes=150) + shift
    assert (first.lon, first.lat) == (120.405, 30.905)
    assert (found[2].lon, found[2].lat) == (120.4152, 30.9152)
    assert "6 camera events sent through the intake: 4 incidents made, 2 repeats folded in" \
        in lines
    # a re-run, even an hour later (another shift), sends nothing and changes nothing
    assert "camera events: all 6 sent before, none sent" in again
    assert after == found and total == counts[3]


def test_a_rerun_completes_an_interrupted_camera_day(scratch_url: str,
                                                     tmp_path: Path) -> None:
    folder = _demo_folder(tmp_path)
    _camera_day(folder)
    path = folder / CAMERA_EVENTS
    day = path.read_text(encoding="utf-8")
    path.write_text("".join(day.splitlines(keepends=True)[:3]), encoding="utf-8")  # AI-1, 2
    engine = create_engine(scratch_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        list(load_demo_town(session, folder, now=now))
        path.write_text(day, encoding="utf-8")
        lines = list(send_camera_events(session, path, history_shift(now), now))
        found = session.execute(text(
            "SELECT external_id, detections FROM incident WHERE camera_code IS NOT NULL "
            "ORDER BY reported_at")).all()
    engine.dispose()
    # the rest is sent, the third repeat folding into the incident stored before
    assert lines == ["4 camera events sent through the intake: 3 incidents made, 1 repeats "
                     "folded in (2 sent before)"]
    assert [tuple(row) for row in found] == [("AI-1", 3), ("AI-4", 1), ("AI-5", 1),
                                             ("AI-6", 1)]


# the session's loaded demo (tests/conftest.py): minutes when this module runs alone
@pytest.mark.timeout(900)
def test_the_demo_town_has_its_cameras_teams_and_camera_day(demo_copy: str) -> None:
    with (DEMO_DIR / CAMERA_EVENTS).open(encoding="utf-8", newline="") as handle:
        events = list(csv.DictReader(handle))
    seen: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for event in events:
        seen[(event["camera_code"], event["scene"])].append(
            datetime.fromisoformat(event["reported_at"]))
    window = timedelta(minutes=30)  # GIS_VIDEO_FOLD_MINUTES's default
    episodes = sum(1 + sum(1 for a, b in pairwise(times) if b - a > window)
                   for times in seen.values())
    engine = create_engine(demo_copy)
    with Session(engine) as session:
        cameras = session.scalar(text("SELECT count(*) FROM camera"))
        teamless = session.scalars(text(
            "SELECT g.code FROM grid_version g WHERE g.level = 3 AND g.valid_to IS NULL "
            "AND g.code LIKE 'QD-%' AND NOT EXISTS (SELECT 1 FROM grid_team_member m "
            "WHERE m.grid_code = g.code AND m.role = 'police_officer')")).all()
        made = session.execute(text(
            "SELECT count(*), sum(detections), count(*) FILTER (WHERE detections > 1), "
            "count(*) FILTER (WHERE status = 'needs_confirmation'), "
            "count(*) FILTER (WHERE status = 'dispatched') "
            "FROM incident WHERE camera_code IS NOT NULL")).one()
        now = datetime.now(UTC)
        again = list(send_camera_events(session, DEMO_DIR / CAMERA_EVENTS, history_shift(now),
                                        now))
        after = session.execute(text(
            "SELECT count(*), sum(detections) FROM incident WHERE camera_code IS NOT NULL")).one()
    engine.dispose()
    assert 35 <= cameras <= 45
    assert teamless == []
    incidents, detections, repeated, waiting, dispatched = made
    # every episode one incident, every event counted once
    assert (incidents, detections) == (episodes, len(events))
    assert repeated > 30 and waiting > 10 and dispatched > 10, made
    assert again == [f"camera events: all {len(events)} sent before, none sent"]
    assert tuple(after) == (incidents, detections)
