"""Incident tiles: counts per bin up to z11 (and up to z13 for a window longer than a week),
points above with their properties, both for the caller's scope only, with filters, cache
headers and 304s."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.tiles.cells import fold
from gis_service.tiles.tiling import Tile, bins_of, cell_of, tile_of
from gis_service.timeutil import CHINA_TIME
from tests.gis_service.tiles.conftest import TileGetter, features, town_tiles

Token = Callable[..., dict[str, str]]
Collect = Callable[..., list[dict[str, Any]]]
PLACES = {"T-A-1": (120.402, 30.902), "T-A-2": (120.405, 30.918),
          "T-B-1": (120.415, 30.903), "T-B-2": (120.418, 30.915)}
Z10 = town_tiles(10)[0]  # the whole town lies in this tile
POINTS_ZOOM = 14  # points whatever the window


def post(client: TestClient, auth: dict[str, str], grid: str, category: str = "GARBAGE",
         reported_at: datetime | None = None, nudge: float = 0.0) -> dict[str, Any]:
    lon, lat = PLACES[grid]
    body: dict[str, Any] = {"source": "grid_patrol", "category": category,
                            "location": {"lon": lon + nudge, "lat": lat, "crs": "wgs84"}}
    if reported_at is not None:
        body["reported_at"] = reported_at.isoformat()
    response = client.post("/api/v1/incidents", headers=auth, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def counted(get_tile: TileGetter, headers: dict[str, str], **query: Any) -> int:
    """All incidents counted in the aggregated tile holding the town."""
    found = features(get_tile("incidents", 10, *Z10, headers, **query), "incidents")
    return sum(f["properties"]["count"] for f in found)


def point_ids(town_features: Collect, headers: dict[str, str], **query: Any) -> set[int]:
    return {f["id"] for f in town_features("incidents", POINTS_ZOOM, headers, **query)}


def test_point_tiles_carry_each_incident_with_its_properties(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        town_features: Collect) -> None:
    made = [post(client, auth, grid) for grid in PLACES]
    found = {f["id"]: f for f in town_features("incidents", POINTS_ZOOM, auth)}
    assert set(found) == {m["id"] for m in made}
    first = made[0]
    reported = datetime.fromisoformat(first["reported_at"])
    assert found[first["id"]]["properties"] == {
        "status": "dispatched", "category": "GARBAGE", "priority": 0, "deadline": "green",
        "reported_at": int(reported.timestamp())}
    assert found[first["id"]]["geometry"]["type"] == "Point"


def test_deadline_colours_are_the_incident_api_s(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        town_features: Collect, db_session: Session) -> None:
    made = [post(client, auth, grid) for grid in PLACES]
    ids = [m["id"] for m in made]
    db_session.execute(text("UPDATE incident SET due_at = now() - interval '1 hour' "
                            "WHERE id = :i"), {"i": ids[1]})
    db_session.execute(text("UPDATE incident SET created_at = now() - interval '23 hours', "
                            "due_at = now() + interval '1 hour' WHERE id = :i"), {"i": ids[2]})
    db_session.execute(text("UPDATE incident SET status = 'closed' WHERE id = :i"),
                       {"i": ids[3]})
    # escalated: a fresh deadline for the center, the missed one kept
    db_session.execute(text("UPDATE incident SET overdue_since = now() - interval '2 hours', "
                            "due_at = now() + interval '20 hours' WHERE id = :i"), {"i": ids[0]})
    db_session.commit()
    colours = {f["id"]: f["properties"]["deadline"]
               for f in town_features("incidents", POINTS_ZOOM, auth)}
    assert sorted(colours.values()) == ["done", "red", "red", "yellow"]
    assert colours[ids[0]] == "red"
    for incident_id in ids:
        read = client.get(f"/api/v1/incidents/{incident_id}", headers=auth).json()
        assert colours[incident_id] == read["deadline_state"]


def test_a_grid_worker_sees_only_their_grid_s_incidents(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        town_features: Collect, get_tile: TileGetter) -> None:
    made = {grid: [post(client, auth, grid, nudge=i * 0.0005) for i in range(n)]
            for grid, n in zip(PLACES, (3, 1, 2, 1), strict=True)}
    worker = token_for("grid_worker", "T-A-1")
    assert point_ids(town_features, worker) == {m["id"] for m in made["T-A-1"]}
    assert counted(get_tile, worker) == 3
    village_lead = token_for("grid_worker", "T-A")
    assert counted(get_tile, village_lead) == 4
    assert point_ids(town_features, village_lead) == {
        m["id"] for m in made["T-A-1"] + made["T-A-2"]}
    assert counted(get_tile, auth) == 7


def test_aggregated_counts_follow_every_kind_of_scope(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        get_tile: TileGetter) -> None:
    for grid in PLACES:
        for category in ("GARBAGE", "BUILDING", "POLLUTION", "FLOOD"):
            post(client, auth, grid, category)
    tokens = [auth, token_for("dispatcher", "T"), token_for("dispatcher", "ELSEWHERE"),
              token_for("grid_worker", "T-B-1"), token_for("grid_worker", "T-B"),
              token_for("squad", "D1"), token_for("squad", "Q2"),
              token_for("department", "HB"), token_for("department", "JS"),
              token_for("grid_worker")]
    today = datetime.now(CHINA_TIME).replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [{}, {"since": today.isoformat()},  # whole days: the aggregate alone
               {"since": (today + timedelta(seconds=1)).isoformat(),  # partial days too
                "until": (datetime.now(CHINA_TIME) + timedelta(days=2)).isoformat()}]
    for headers in tokens:
        listed = client.get("/api/v1/incidents", headers=headers, params={"limit": 500})
        for window in windows:
            assert counted(get_tile, headers, **window) == len(listed.json()["items"])


def test_counts_sit_in_the_bins_of_their_cells(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        get_tile: TileGetter) -> None:
    for grid in PLACES:
        post(client, auth, grid)
    post(client, auth, "T-A-1", nudge=0.0001)
    bins = bins_of(Tile(10, *Z10))
    expected: Counter[tuple[float, float]] = Counter()
    for lon, lat in [*PLACES.values(), (PLACES["T-A-1"][0] + 0.0001, PLACES["T-A-1"][1])]:
        cx, cy = cell_of(lon, lat)
        bx, by = (cx >> bins.shift) - bins.first_x, (cy >> bins.shift) - bins.first_y
        expected[((bx + 0.5) * bins.size, (by + 0.5) * bins.size)] += 1
    found = features(get_tile("incidents", 10, *Z10, auth), "incidents")
    assert {tuple(f["geometry"]["coordinates"]): f["properties"]["count"]
            for f in found} == dict(expected)
    assert all(f["properties"]["open"] == f["properties"]["count"]
               and f["properties"]["done"] == 0 for f in found)


def town_counts(get_tile: TileGetter, z: int, headers: dict[str, str],
                **query: Any) -> int:
    """All incidents counted in the bins of the tiles the town touches at zoom z."""
    found = [f for x, y in town_tiles(z)
             for f in features(get_tile("incidents", z, x, y, headers, **query), "incidents")]
    assert all("count" in f["properties"] and not f["id"] for f in found)  # no feature id
    return sum(f["properties"]["count"] for f in found)


def test_z12_and_z13_count_per_cell_for_long_windows_and_show_points_for_short_ones(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        town_features: Collect, get_tile: TileGetter) -> None:
    now = datetime.now(CHINA_TIME)
    recent = [post(client, auth, grid, reported_at=now - timedelta(days=3))
              for grid in PLACES]
    older = [post(client, auth, grid, reported_at=now - timedelta(days=20))
             for grid in PLACES]
    week = (now - timedelta(days=7)).isoformat()
    month = (now - timedelta(days=30)).isoformat()
    for z in (12, 13):
        assert town_counts(get_tile, z, auth, since=month) == len(recent + older)
        assert town_counts(get_tile, z, auth) == len(recent + older)
        short = town_features("incidents", z, auth, since=week)
        assert {f["id"] for f in short} == {m["id"] for m in recent}
        assert all("count" not in f["properties"] for f in short)
    at_14 = town_features("incidents", POINTS_ZOOM, auth, since=month)
    assert {f["id"] for f in at_14} == {m["id"] for m in recent + older}


def test_z12_bins_are_the_cells_of_their_incidents(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        get_tile: TileGetter) -> None:
    places = [*PLACES.values(), (PLACES["T-A-1"][0] + 0.0001, PLACES["T-A-1"][1])]
    for grid in PLACES:
        post(client, auth, grid)
    post(client, auth, "T-A-1", nudge=0.0001)
    for z, side in ((12, 16), (13, 8)):
        expected: Counter[tuple[int, int, float, float]] = Counter()
        for lon, lat in places:
            x, y = tile_of(lon, lat, z)
            bins = bins_of(Tile(z, x, y))
            cx, cy = cell_of(lon, lat)
            bx, by = cx - bins.first_x, cy - bins.first_y  # a bin is a cell
            assert 0 <= bx < side and 0 <= by < side
            expected[(x, y, (bx + 0.5) * 4096 / side, (by + 0.5) * 4096 / side)] += 1
        found = {(x, y, *f["geometry"]["coordinates"]): f["properties"]["count"]
                 for x, y in town_tiles(z)
                 for f in features(get_tile("incidents", z, x, y, auth), "incidents")}
        assert found == dict(expected), z


def test_z12_and_z13_counts_of_long_windows_are_exact_for_every_scope(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        get_tile: TileGetter, db_session: Session) -> None:
    now = datetime.now(CHINA_TIME)
    month = now - timedelta(days=30)
    # inside and outside the window's partial first day, and older than it
    times = [now, now - timedelta(days=12), month + timedelta(hours=1),
             month - timedelta(hours=1), now - timedelta(days=70)]
    for i, (grid, category) in enumerate((g, c) for g in PLACES
                                         for c in ("GARBAGE", "BUILDING", "FLOOD")):
        post(client, auth, grid, category, times[i % len(times)])
    tokens = [auth, token_for("dispatcher", "T"), token_for("grid_worker", "T-B-1"),
              token_for("grid_worker", "T-A"), token_for("squad", "D1"),
              token_for("squad", "Q2"), token_for("department", "HB"),
              token_for("department", "JS")]
    windows = [{}, {"since": month.isoformat()},
               {"since": month.isoformat(), "until": (now - timedelta(days=5)).isoformat()}]
    for folded in (False, True):
        if folded:
            fold(db_session)
            db_session.commit()
        for headers in tokens:
            listed = client.get("/api/v1/incidents", headers=headers,
                                params={"limit": 500}).json()["items"]
            for window in windows:
                since = datetime.fromisoformat(window.get("since", "0001-01-01T00:00+00:00"))
                until = datetime.fromisoformat(window.get("until", "9999-01-01T00:00+00:00"))
                expected = sum(1 for item in listed
                               if since <= datetime.fromisoformat(item["reported_at"]) < until)
                for z in (12, 13):
                    assert town_counts(get_tile, z, headers, **window) == expected, (
                        z, window, folded)


def test_status_category_and_time_filters_apply_to_points_and_counts(
        client: TestClient, town: dict[str, Path], auth: dict[str, str], token_for: Token,
        town_features: Collect, get_tile: TileGetter) -> None:
    days_ago = [datetime.now(CHINA_TIME) - timedelta(days=d) for d in (0, 3, 8, 40)]
    made = [post(client, auth, grid, category, at)
            for grid, category, at in zip(PLACES, ("GARBAGE", "GARBAGE", "FLOOD", "GARBAGE"),
                                          days_ago, strict=True)]
    worker = token_for("grid_worker", "T-A-1")
    accepted = client.post(f"/api/v1/incidents/{made[0]['id']}/actions",
                           headers={**worker, "If-Match": '"1"'}, json={"action": "accept"})
    assert accepted.status_code == 200, accepted.text
    week = (datetime.now(CHINA_TIME) - timedelta(days=7)).isoformat()
    month_to_week = {"since": (datetime.now(CHINA_TIME) - timedelta(days=30)).isoformat(),
                     "until": week}
    cases: list[tuple[dict[str, Any], set[int]]] = [
        ({}, {m["id"] for m in made}),
        ({"status": "accepted"}, {made[0]["id"]}),
        ({"status": "dispatched,accepted"}, {m["id"] for m in made}),
        ({"status": "closed"}, set()),
        ({"category": "FLOOD"}, {made[2]["id"]}),
        ({"since": week}, {made[0]["id"], made[1]["id"]}),
        ({"since": week, "category": "GARBAGE", "status": "dispatched"}, {made[1]["id"]}),
        (month_to_week, {made[2]["id"]}),
    ]
    for query, expected in cases:
        assert point_ids(town_features, auth, **query) == expected, query
        assert counted(get_tile, auth, **query) == len(expected), query


def test_counts_stay_current_as_incidents_arrive_and_are_folded(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        get_tile: TileGetter, db_session: Session) -> None:
    assert get_tile("incidents", 10, *Z10, auth).status_code == 204
    post(client, auth, "T-B-2")
    assert counted(get_tile, auth) == 1  # from the unfolded delta
    assert fold(db_session) is not None
    db_session.commit()
    assert db_session.scalar(text("SELECT count(*) FROM incident_cell_delta")) == 0
    assert counted(get_tile, auth) == 1  # from the aggregate
    post(client, auth, "T-B-2")
    post(client, auth, "T-A-1")
    assert counted(get_tile, auth) == 3
    assert counted(get_tile, auth, status="dispatched") == 3


def test_incident_tiles_are_private_and_answer_304(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        get_tile: TileGetter) -> None:
    post(client, auth, "T-A-1")
    etags = {}
    for z, (x, y) in ((10, Z10), (POINTS_ZOOM, town_tiles(POINTS_ZOOM)[0])):
        first = get_tile("incidents", z, x, y, auth)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "private, max-age=5"
        etags[z] = first.headers["etag"]
        again = get_tile("incidents", z, x, y, {**auth, "If-None-Match": etags[z]})
        assert again.status_code == 304 and again.content == b""
    post(client, auth, "T-A-1")  # the same bin: one more in its count
    changed = get_tile("incidents", 10, *Z10, {**auth, "If-None-Match": etags[10]})
    assert changed.status_code == 200 and changed.headers["etag"] != etags[10]


@pytest.mark.parametrize("query", [{"status": "lost"}, {"since": "yesterday"},
                                   {"since": "2026-11-02T00:00", "until": "2026-11-01T00:00"}])
def test_bad_incident_filters_are_problems(client: TestClient, auth: dict[str, str],
                                           get_tile: TileGetter, query: dict[str, str]) -> None:
    response = get_tile("incidents", 10, *Z10, auth, **query)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_windows_over_months_count_exactly_once_folded(
        client: TestClient, town: dict[str, Path], auth: dict[str, str],
        get_tile: TileGetter, db_session: Session) -> None:
    now = datetime.now(CHINA_TIME)
    times = [now - timedelta(days=d, hours=h) for d in (1, 20, 40, 75, 120, 200)
             for h in (0, 5)]
    for i, at in enumerate(times):
        post(client, auth, list(PLACES)[i % 4], reported_at=at)
    fold(db_session)
    db_session.commit()
    for since_days, until_days in ((None, None), (100, None), (100, 20), (None, 50),
                                   (130, 30), (45, 39)):
        since = now - timedelta(days=since_days) if since_days else None
        until = now - timedelta(days=until_days) if until_days else None
        expected = sum(1 for at in times if (since is None or at >= since)
                       and (until is None or at < until))
        query = {"since": since.isoformat() if since else None,
                 "until": until.isoformat() if until else None}
        assert counted(get_tile, auth, **query) == expected, query
