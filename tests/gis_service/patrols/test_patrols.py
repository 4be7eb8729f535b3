"""Patrol tracks: stored in CGCS2000 from any declared CRS, validated, scoped; last known
positions; the monthly coverage per level-3 grid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy import create_engine, inspect, text, update
from sqlalchemy.orm import Session

from alembic import command
from gis_service.auth.models import Account
from gis_service.migrations import ALEMBIC_DIR
from gis_service.patrols.service import month_bounds
from gis_service.timeutil import CHINA_TIME
from grid_layers import crs

Token = Callable[..., dict[str, str]]
GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid differs from GRS80 by 0.1 mm in b
WALK = [(120.401, 30.905), (120.405, 30.905), (120.409, 30.905)]  # inside T-A-1, west→east


def worker(token_for: Token, db_session: Session, grid: str = "T-A-1",
           code: str | None = "W1") -> dict[str, str]:
    """A grid worker's header; the account is the worker `code`."""
    headers = token_for("grid_worker", grid)
    db_session.execute(update(Account).where(Account.username == f"grid_worker-{grid}")
                       .values(worker_code=code))
    db_session.commit()
    return headers


def points(walk: list[tuple[float, float]], start: datetime,
           step: timedelta = timedelta(seconds=30)) -> list[list[Any]]:
    return [[lon, lat, (start + step * n).isoformat()] for n, (lon, lat) in enumerate(walk)]


def post(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/api/v1/patrols", headers=headers, json=body)


def test_a_worker_records_a_track(client: TestClient, town: dict[str, Path],
                                  token_for: Token, db_session: Session) -> None:
    me = worker(token_for, db_session)
    start = datetime(2026, 11, 3, 9, 0, tzinfo=CHINA_TIME)
    response = post(client, me, {"crs": "wgs84", "points": points(WALK, start)})
    assert response.status_code == 201, response.text
    track = response.json()
    expected = GEOD.line_length([p[0] for p in WALK], [p[1] for p in WALK])
    assert track["length_m"] == pytest.approx(expected, abs=0.05)
    assert track["point_count"] == 3 and track["grid_code"] == "T-A-1"
    assert track["worker_code"] == "W1" and track["username"] == "grid_worker-T-A-1"
    assert datetime.fromisoformat(track["started_at"]) == start
    assert datetime.fromisoformat(track["ended_at"]) == start + timedelta(seconds=60)
    stored = db_session.execute(text(
        "SELECT ST_SRID(geom), ST_AsText(geom) FROM patrol_track WHERE id = :id"),
        {"id": track["id"]}).one()
    assert stored[0] == 4490
    assert stored[1] == "LINESTRING(120.401 30.905,120.405 30.905,120.409 30.905)"

    positions = client.get("/api/v1/patrols/positions", headers=me).json()
    assert positions["type"] == "FeatureCollection"
    [mine] = positions["features"]
    assert mine["geometry"] == {"type": "Point", "coordinates": [120.409, 30.905]}
    assert mine["properties"] == {"worker_code": "W1", "worker_name": "张三",
                                  "grid_code": "T-A-1", "username": "grid_worker-T-A-1",
                                  "at": (start + timedelta(seconds=60)).astimezone(UTC)
                                  .isoformat()}


def test_gcj02_tracks_are_stored_in_cgcs2000(client: TestClient, town: dict[str, Path],
                                             token_for: Token, db_session: Session) -> None:
    me = worker(token_for, db_session)
    gcj = [crs.point_from_storage(lon, lat, "gcj02") for lon, lat in WALK]
    response = post(client, me, {"crs": "gcj02", "points": [list(p) for p in gcj]})
    assert response.status_code == 201, response.text
    stored = db_session.execute(text(
        "SELECT ST_X(p.geom), ST_Y(p.geom) FROM patrol_track, ST_DumpPoints(geom) AS p "
        "WHERE id = :id ORDER BY p.path"), {"id": response.json()["id"]}).all()
    for (x, y), (lon, lat) in zip(stored, WALK, strict=True):
        assert x == pytest.approx(lon, abs=1e-7) and y == pytest.approx(lat, abs=1e-7)


@pytest.mark.parametrize("body, complaint", [
    ({"points": [[120.401, 30.905]]}, "at least 2"),
    ({"points": [[30.905, 120.401], [30.906, 120.401]]}, "不在中国境内"),
    ({"points": [[120.401, 30.905, "2026-11-03T09:01:00+08:00"],
                 [120.402, 30.905, "2026-11-03T09:00:00+08:00"]]}, "早于前一个点"),
    ({"crs": "mars", "points": [[120.401, 30.905], [120.402, 30.905]]}, "unknown crs"),
    ({"points": [[120.401, 30.905], [120.402, 30.905]], "started_at": "2026-11-03T10:00:00",
      "ended_at": "2026-11-03T09:00:00"}, "before"),
    ({"points": [[120.401, 30.905]] * 20_001}, "at most 20000"),
])
def test_bad_tracks_are_refused(client: TestClient, town: dict[str, Path], token_for: Token,
                                db_session: Session, body: dict[str, Any],
                                complaint: str) -> None:
    response = post(client, worker(token_for, db_session), body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert complaint in response.json()["detail"]
    assert db_session.scalar(text("SELECT count(*) FROM patrol_track")) == 0


def test_only_field_accounts_record_and_each_sees_their_own(
        client: TestClient, town: dict[str, Path], token_for: Token, auth: dict[str, str],
        db_session: Session) -> None:
    body = {"points": [[120.401, 30.905], [120.402, 30.905]]}
    assert post(client, token_for("dispatcher", "T"), body).status_code == 403
    assert post(client, token_for("department", "JS"), body).status_code == 403
    west, east = worker(token_for, db_session), worker(token_for, db_session, "T-B-2", "W4")
    assert post(client, west, body).status_code == 201
    assert post(client, east, {"points": [[120.415, 30.915], [120.416, 30.915]]}
                ).status_code == 201
    assert post(client, token_for("squad", "D1"), body).status_code == 201

    def seen(headers: dict[str, str], query: str = "") -> list[str | None]:
        response = client.get(f"/api/v1/patrols{query}", headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/geo+json"
        return sorted(f["properties"]["worker_code"] or "-" for f in response.json()["features"])

    assert seen(west) == ["W1"] and seen(east) == ["W4"]
    assert seen(auth) == ["-", "W1", "W4"] and seen(token_for("dispatcher", "T")) == seen(auth)
    assert seen(auth, "?worker=W4") == ["W4"]
    assert seen(auth, "?since=2999-01-01T00:00:00Z") == []
    names = [f["properties"]["username"] for f in
             client.get("/api/v1/patrols/positions", headers=auth).json()["features"]]
    assert names == ["grid_worker-T-A-1", "grid_worker-T-B-2", "squad-D1"]


def test_a_ping_moves_the_position_and_an_older_track_does_not(
        client: TestClient, town: dict[str, Path], token_for: Token, db_session: Session) -> None:
    me = worker(token_for, db_session)
    pinged = client.post("/api/v1/patrols/ping", headers=me,
                         json={"lon": 120.403, "lat": 30.903, "crs": "wgs84"})
    assert pinged.status_code == 200, pinged.text
    assert pinged.json()["geometry"]["coordinates"] == [120.403, 30.903]
    old = datetime.now(UTC) - timedelta(hours=2)
    assert post(client, me, {"points": points(WALK, old)}).status_code == 201
    [mine] = client.get("/api/v1/patrols/positions", headers=me).json()["features"]
    assert mine["geometry"]["coordinates"] == [120.403, 30.903]
    assert client.post("/api/v1/patrols/ping", headers=token_for("planner"),
                       json={"lon": 120.403, "lat": 30.903}).status_code == 403


def test_month_bounds_are_china_time() -> None:
    start, end = month_bounds("2026-12")
    assert start == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC)


def test_coverage_is_the_grid_area_within_the_buffer_of_the_month_tracks(
        client: TestClient, town: dict[str, Path], token_for: Token, db_session: Session,
        auth: dict[str, str]) -> None:
    me = worker(token_for, db_session)
    now = datetime.now(CHINA_TIME)
    month = now.strftime("%Y-%m")
    this_month = month_bounds(month)[0] + timedelta(hours=1)
    assert post(client, me, {"points": points(WALK, this_month)}).status_code == 201
    # last month's walk along the other edge counts in last month only
    earlier = month_bounds(month)[0] - timedelta(hours=1)
    assert post(client, me, {"points": points([(120.401, 30.901), (120.409, 30.901)], earlier)}
                ).status_code == 201

    response = client.get(f"/api/v1/patrols/coverage?month={month}", headers=me)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["tracks"] == 1 and report["buffer_m"] == 30.0
    grids = {g["code"]: g for g in report["grids"]}
    assert sorted(grids) == ["T-A-1", "T-A-2", "T-B-1", "T-B-2"]
    cell = grids["T-A-1"]
    width = GEOD.line_length([120.40, 120.41], [30.905, 30.905])
    height = GEOD.line_length([120.405, 120.405], [30.90, 30.91])
    assert cell["area_m2"] == pytest.approx(width * height, rel=1e-3)
    walked = GEOD.line_length([120.401, 120.409], [30.905, 30.905])
    band = 2 * 30 * walked + 3.14159 * 30**2  # a 30 m band with round ends
    assert cell["covered_m2"] == pytest.approx(band, rel=0.01)
    assert cell["share"] == pytest.approx(band / (width * height), rel=0.01)
    assert all(grids[c]["covered_m2"] == 0 and grids[c]["share"] == 0
               for c in ("T-A-2", "T-B-1", "T-B-2"))
    one = client.get(f"/api/v1/patrols/coverage?month={month}&grid=T-A-1", headers=auth).json()
    assert [g["code"] for g in one["grids"]] == ["T-A-1"]
    assert client.get("/api/v1/patrols/coverage?month=2026-13", headers=auth).status_code == 422


def test_the_migration_goes_down_and_up_again(scratch_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    engine = create_engine(scratch_url)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0008")
            connection.commit()
            tables = inspect(connection).get_table_names()
            assert "patrol_track" not in tables and "incident_photo" not in tables
            assert "worker_code" not in {c["name"] for c in inspect(connection)
                                         .get_columns("account")}
            command.upgrade(config, "head")
            connection.commit()
            assert {"patrol_track", "worker_position", "incident_photo"} <= set(
                inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_listed_tracks_keep_the_walking_order(client: TestClient, town: dict[str, Path],
                                              token_for: Token, db_session: Session) -> None:
    me = worker(token_for, db_session)
    assert post(client, me, {"points": [list(p) for p in WALK]}).status_code == 201
    [track] = client.get("/api/v1/patrols", headers=me).json()["features"]
    assert track["geometry"] == {"type": "LineString", "coordinates": [list(p) for p in WALK]}


def test_user_add_links_a_field_account_to_its_worker(
        town: dict[str, Path], db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from gis_service import cli

    class Here:  # the command's session, on the test's transaction
        def __enter__(self) -> Session:
            return db_session

        def __exit__(self, *_: object) -> None:
            return None

    monkeypatch.setattr(cli, "_session", lambda: Here())
    runner = CliRunner()
    added = runner.invoke(cli.app, ["user", "add", "zs", "--role", "grid_worker",
                                    "--scope", "T-A-1", "--worker", "W1"])
    assert added.exit_code == 0, added.output
    assert db_session.scalar(text("SELECT worker_code FROM account WHERE username = 'zs'")) \
        == "W1"
    unknown = runner.invoke(cli.app, ["user", "add", "ls", "--role", "grid_worker",
                                      "--scope", "T-A-1", "--worker", "NOBODY"])
    assert unknown.exit_code == 1 and "人员编号 'NOBODY' 不存在" in unknown.output
