"""The incident aggregate: whatever happens to incidents (intake, actions, moves, deletes, bulk
statements), the aggregate plus its unfolded delta equals a recount, and folding keeps it so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.tiles.cells import fold
from gis_service.tiles.tiling import cell_of, china_day

AGGREGATES = {"incident_cell": "town_code, grid2_code, grid3_code, district_code",
              "incident_handler_cell": "district_code, assignee_code, cooperating"}
CODE_OF = {"town_code": "coalesce(town_code, '')", "grid2_code": "coalesce(grid2_code, '')",
           "grid3_code": "coalesce(grid3_code, '')",
           "district_code": "coalesce(district_code, '')",
           "assignee_code": "coalesce(assignee_code, '')", "cooperating": "cooperating"}


def stored(table: str, codes: str) -> str:
    """An aggregate's day rows plus the unfolded delta, per key."""
    key = f"day, cx, cy, status, {codes}"
    return (f"SELECT {key}, sum(n) FROM (SELECT {key}, n FROM {table} WHERE NOT month "
            f"UNION ALL SELECT {key}, n FROM incident_cell_delta) AS c "
            f"GROUP BY {key} HAVING sum(n) <> 0 ORDER BY {key}")


def recount(codes: str) -> str:
    """The same counted from the incidents."""
    columns = ", ".join(f"{CODE_OF[c]} AS {c}" for c in codes.split(", "))
    key = f"day, cx, cy, status, {codes}"
    return (f"SELECT {key}, count(*) FROM (SELECT incident_cell_day(reported_at) AS day, "
            f"incident_cell_x(ST_X(geom)) AS cx, incident_cell_y(ST_Y(geom)) AS cy, status, "
            f"{columns} FROM incident WHERE geom IS NOT NULL) AS i "
            f"GROUP BY {key} ORDER BY {key}")


def months(table: str, codes: str) -> tuple[str, str]:
    """An aggregate's month rows, and the sums of its day rows per month."""
    key = f"day, cx, cy, status, {codes}"
    month = f"CAST(date_trunc('month', day) AS date), cx, cy, status, {codes}"
    return (f"SELECT {key}, n FROM {table} WHERE month ORDER BY {key}",
            f"SELECT {month}, sum(n) FROM {table} WHERE NOT month GROUP BY {month} "
            f"ORDER BY {month}")


A_1, B_2 = {"lon": 120.402, "lat": 30.902}, {"lon": 120.415, "lat": 30.915}


def post(client: TestClient, auth: dict[str, str], where: dict[str, float] | None) -> int:
    body = {"source": "walk_in", "category": "GARBAGE",
            "location": {**where, "crs": "wgs84"} if where else None}
    response = client.post("/api/v1/incidents", headers=auth, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def assert_current(session: Session) -> None:
    """Each aggregate's day rows plus the delta equal a recount; once folded, its month rows
    sum its day rows."""
    folded = not session.scalar(text("SELECT count(*) FROM incident_cell_delta"))
    for table, codes in AGGREGATES.items():
        assert (list(session.execute(text(stored(table, codes))))
                == list(session.execute(text(recount(codes))))), table
        if folded:
            month_rows, month_sums = months(table, codes)
            assert (list(session.execute(text(month_rows)))
                    == list(session.execute(text(month_sums)))), table


def test_the_aggregate_always_equals_a_recount(client: TestClient, town: dict[str, Path],
                                               auth: dict[str, str],
                                               db_session: Session) -> None:
    ids = [post(client, auth, A_1), post(client, auth, B_2), post(client, auth, A_1)]
    unplaced = post(client, auth, None)  # no place: not on the map
    assert_current(db_session)
    accepted = client.post(f"/api/v1/incidents/{ids[0]}/actions",
                           headers={**auth, "If-Match": '"1"'}, json={"action": "accept"})
    assert accepted.status_code == 200
    placed = client.post(f"/api/v1/incidents/{unplaced}/actions",
                         headers={**auth, "If-Match": '"1"'},
                         json={"action": "dispatch", "location": {**B_2, "crs": "wgs84"}})
    assert placed.status_code == 200, placed.text
    assert_current(db_session)
    assert fold(db_session) is not None
    db_session.commit()
    assert_current(db_session)
    assert db_session.scalar(text("SELECT count(*) FROM incident_cell_delta")) == 0
    db_session.execute(text("UPDATE incident SET status = 'closed', grid3_code = NULL"))
    db_session.execute(text("UPDATE incident SET assignee_code = 'Q9', cooperating = "
                            "array_append(cooperating, 'HB') WHERE id % 2 = 0"))
    db_session.execute(text("INSERT INTO incident (source, external_id, reported_at, status, "
                            "geom, created_at, updated_at) SELECT 'video', 'v' || i, now(), "
                            "'reported', ST_SetSRID(ST_Point(120.41, 30.91 + i * 0.001), "
                            "4490), now(), now() FROM generate_series(1, 3) AS i"))
    db_session.execute(text("DELETE FROM incident WHERE source = 'video' AND external_id = 'v1'"))
    assert_current(db_session)
    fold(db_session)
    assert_current(db_session)
    for table in AGGREGATES:
        assert db_session.scalar(text(f"SELECT count(*) FROM {table} WHERE n = 0")) == 0


def test_updates_that_move_no_count_write_nothing(client: TestClient, town: dict[str, Path],
                                                  auth: dict[str, str],
                                                  db_session: Session) -> None:
    post(client, auth, A_1)
    before = db_session.scalar(text("SELECT count(*) FROM incident_cell_delta"))
    db_session.execute(text("UPDATE incident SET version = version + 1, description = 'x'"))
    assert db_session.scalar(text("SELECT count(*) FROM incident_cell_delta")) == before


def test_emptying_the_incidents_empties_the_aggregate(client: TestClient, town: dict[str, Path],
                                                      auth: dict[str, str],
                                                      db_session: Session) -> None:
    post(client, auth, A_1)
    fold(db_session)
    post(client, auth, B_2)
    db_session.execute(text("TRUNCATE incident CASCADE"))
    for table in (*AGGREGATES, "incident_cell_delta"):
        assert db_session.scalar(text(f"SELECT count(*) FROM {table}")) == 0


def test_cells_and_days_agree_with_their_python_twins(db_session: Session) -> None:
    moment = datetime(2026, 11, 21, 16, 30, tzinfo=UTC)  # 00:30 on the 22nd in China
    for lon, lat in ((120.402, 30.902), (120.41015625, 30.9), (-73.98, 40.75), (0.0, 0.0)):
        row = db_session.execute(
            text("SELECT incident_cell_x(:lon), incident_cell_y(:lat), incident_cell_day(:at)"),
            {"lon": lon, "lat": lat, "at": moment}).one()
        assert (row[0], row[1]) == cell_of(lon, lat)
        assert row[2] == china_day(moment)
