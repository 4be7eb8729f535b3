"""The grid-worker assessment: hand-made facts in the test town, every item and the total
checked against the scheme by hand; scope; spot checks; a custom scheme; the CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from fastapi.testclient import TestClient
from pyproj import Geod
from sqlalchemy import create_engine, inspect, text, update
from sqlalchemy.orm import Session, sessionmaker

from alembic import command
from gis_service.assessment.schemas import WorkerScore
from gis_service.assessment.scheme import DEFAULT_SCHEME, SchemeError, load_scheme
from gis_service.assessment.scoring import ranked
from gis_service.auth.models import Account
from gis_service.config import Settings
from gis_service.incidents.escalation import escalate_overdue
from gis_service.main import create_app
from gis_service.migrations import ALEMBIC_DIR
from gis_service.patrols.queries import move_position
from gis_service.patrols.service import month_bounds
from gis_service.timeutil import CHINA_TIME

Token = Callable[..., dict[str, str]]
GEOD = Geod(ellps="GRS80")
WALK = [(120.401, 30.905), (120.405, 30.905), (120.409, 30.905)]  # inside T-A-1


def month_now() -> str:
    return datetime.now(CHINA_TIME).strftime("%Y-%m")


def linked(token_for: Token, db_session: Session, grid: str, code: str) -> dict[str, str]:
    """A grid worker's header; the account `grid_worker-<grid>` is the worker `code`."""
    headers = token_for("grid_worker", grid)
    db_session.execute(update(Account).where(Account.username == f"grid_worker-{grid}")
                       .values(worker_code=code))
    db_session.commit()
    return headers


def walk(client: TestClient, headers: dict[str, str], line: list[tuple[float, float]],
         start: datetime) -> None:
    points = [[lon, lat, (start + timedelta(seconds=30 * n)).isoformat()]
              for n, (lon, lat) in enumerate(line)]
    response = client.post("/api/v1/patrols", headers=headers, json={"points": points})
    assert response.status_code == 201, response.text


def report(client: TestClient, headers: dict[str, str], category: str, lon: float, lat: float,
           source: str = "grid_patrol") -> dict[str, Any]:
    response = client.post("/api/v1/incidents", headers=headers, json={
        "source": source, "category": category,
        "location": {"lon": lon, "lat": lat, "crs": "wgs84"}})
    assert response.status_code == 201, response.text
    return dict(response.json())


def act(client: TestClient, headers: dict[str, str], incident: dict[str, Any], action: str,
        **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/incidents/{incident['id']}/actions",
                           headers={**headers, "If-Match": f'"{incident["version"]}"'},
                           json={"action": action, **body})
    assert response.status_code == 200, (action, response.text)
    return dict(response.json())


def close(client: TestClient, worker: dict[str, str], center: dict[str, str],
          incident: dict[str, Any]) -> dict[str, Any]:
    for headers, action, extra in ((worker, "accept", {}), (worker, "resolve", {"note": "ok"}),
                                   (center, "verify", {}),
                                   (center, "close", {"resolution": "service"})):
        incident = act(client, headers, incident, action, **extra)
    return incident


@pytest.fixture()
def facts(client: TestClient, town: dict[str, Path], token_for: Token, db_session: Session,
          auth: dict[str, str]) -> dict[str, Any]:
    """W1's month: one track, a ping, three patrol reports, two assigned incidents closed
    (one late), one return, three spot checks; W2 walks in W1's grid."""
    month = month_now()
    start = month_bounds(month)[0]
    w1 = linked(token_for, db_session, "T-A-1", "W1")
    w2 = linked(token_for, db_session, "T-A-2", "W2")
    walk(client, w1, WALK, start + timedelta(days=1, hours=9))  # day 2
    walk(client, w1, [(120.401, 30.901), (120.409, 30.901)], start - timedelta(hours=1))
    walk(client, w2, [(120.401, 30.908), (120.409, 30.908)], start + timedelta(days=2, hours=9))
    account = db_session.query(Account).filter_by(username="grid_worker-T-A-1").one()
    # 00:30 China on day 6 is still day 5 in UTC: days are counted in China time
    move_position(db_session, account_id=account.id, lon=120.405, lat=30.905,
                  at=start + timedelta(days=5, minutes=30))
    db_session.commit()

    report(client, w1, "POLLUTION", 120.405, 30.905)  # weighs 2.0
    on_time = report(client, w1, "GARBAGE", 120.406, 30.906)  # routed to W1
    late = report(client, w1, "GARBAGE", 120.407, 30.907)
    assert on_time["assignee"]["code"] == late["assignee"]["code"] == "W1"
    close(client, w1, auth, on_time)
    db_session.execute(text("UPDATE incident SET due_at = now() - interval '1 hour' "
                            "WHERE id = :id"), {"id": late["id"]})
    db_session.commit()
    late = client.get(f"/api/v1/incidents/{late['id']}", headers=auth).json()
    close(client, w1, auth, late)
    # overdue, handed up to the town center with a fresh deadline, closed well before it:
    # still late, and still W1's (its first deadline was missed while W1 held it)
    escalated = report(client, w1, "GARBAGE", 120.403, 30.903)
    assert escalated["assignee"]["code"] == "W1"
    db_session.execute(text("UPDATE incident SET due_at = now() - interval '1 hour' "
                            "WHERE id = :id"), {"id": escalated["id"]})
    assert escalated["id"] in escalate_overdue(db_session, datetime.now(UTC))
    db_session.commit()
    escalated = client.get(f"/api/v1/incidents/{escalated['id']}", headers=auth).json()
    assert escalated["assignee"]["type"] == "town"
    close(client, auth, auth, escalated)
    hotline = report(client, auth, "GARBAGE", 120.408, 30.902, source="hotline_12345")
    act(client, w1, hotline, "return", note="不属于本网格")

    for passed, score in ((True, 80), (False, None), (True, None)):
        response = client.post("/api/v1/spot-checks", headers=auth, json={
            "worker_code": "W1", "passed": passed, "score": score, "note": "现场抽查",
            "checked_at": start.isoformat()})
        assert response.status_code == 201, response.text
    today = datetime.now(CHINA_TIME).date()
    days = {(start + timedelta(days=1)).date(), (start + timedelta(days=5)).date(), today}
    return {"month": month, "w1": w1, "w2": w2, "days": days, "late": late["id"],
            "on_time": on_time["id"], "escalated": escalated["id"], "hotline": hotline["id"]}


def items(score: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["item"]: entry for entry in score["explain"]}


def test_every_item_and_the_total_follow_the_scheme(client: TestClient, facts: dict[str, Any],
                                                    auth: dict[str, str]) -> None:
    response = client.get(f"/api/v1/assessment/W1?month={facts['month']}", headers=auth)
    assert response.status_code == 200, response.text
    score = response.json()
    explained = items(score)
    assert list(explained) == ["coverage", "days_active", "events_found", "closure_on_time",
                               "spot_checks", "returns"]

    # coverage: W1's own track only (not W2's walk in T-A-1, not last month's), 30 m band
    width = GEOD.line_length([120.40, 120.41], [30.905, 30.905])
    height = GEOD.line_length([120.405, 120.405], [30.90, 30.91])
    walked = GEOD.line_length([120.401, 120.409], [30.905, 30.905])
    share = (2 * 30 * walked + 3.14159 * 30**2) / (width * height)
    coverage = explained["coverage"]
    assert coverage["value"] == pytest.approx(share, rel=0.01)
    assert coverage["target"] == 0.8 and coverage["weight"] == 25
    assert coverage["points"] == pytest.approx(25 * share / 0.8, abs=0.02)
    assert len(coverage["facts"]["track_ids"]) == 1 and coverage["facts"]["grid_code"] == "T-A-1"
    assert coverage["facts"]["area_m2"] == pytest.approx(width * height, rel=1e-3)

    days = explained["days_active"]
    assert set(days["facts"]["days"]) == {d.isoformat() for d in facts["days"]}
    assert days["value"] == len(facts["days"]) == score["days_active"]
    assert days["points"] == round(20 * len(facts["days"]) / 22, 2)

    found = explained["events_found"]
    assert found["facts"]["by_category"] == {
        "POLLUTION": {"count": 1, "weight": 2.0, "weighted": 2.0},
        "GARBAGE": {"count": 3, "weight": 1.0, "weighted": 3.0}}
    assert found["value"] == 5.0 and found["points"] == 12.5  # 20 × 5 / 8
    assert score["events_found"] == 4 and score["events_weighted"] == 5.0

    closure = explained["closure_on_time"]
    assert closure["value"] == 0.3333 and closure["points"] == round(20 * 0.3333 / 0.95, 2)
    assert {row["id"]: row["on_time"] for row in closure["facts"]["incidents"]} == {
        facts["on_time"]: True, facts["late"]: False, facts["escalated"]: False}
    escalated = next(row for row in closure["facts"]["incidents"]
                     if row["id"] == facts["escalated"])
    assert escalated["overdue_since"] is not None
    assert escalated["closed_at"] < escalated["due_at"]  # before the fresh deadline: late
    assert score["closed"] == 3 and score["closed_on_time"] == 1

    checks = explained["spot_checks"]
    assert checks["value"] == 0.6  # (0.8 + 0 + 1) / 3
    assert checks["points"] == 10.0  # 15 × 0.6 / 0.9
    assert checks["facts"]["pass_rate"] == 0.6667 and checks["facts"]["mean_score"] == 80
    assert score["spot_checks"] == 3

    returns = explained["returns"]
    assert returns["value"] == 1 and returns["points"] == -2 and returns["weight"] == -2
    assert [row["id"] for row in returns["facts"]["incidents"]] == [facts["hotline"]]

    assert score["total"] == pytest.approx(sum(e["points"] for e in score["explain"]), abs=1e-6)
    assert score["best_total"] == 100


def test_the_league_table_ranks_every_grid_worker(client: TestClient, facts: dict[str, Any],
                                                  auth: dict[str, str]) -> None:
    league = client.get(f"/api/v1/assessment?month={facts['month']}", headers=auth).json()
    rows = {row["worker_code"]: row for row in league["workers"]}
    assert sorted(rows) == ["W1", "W2", "W3", "W4"]  # grid workers only, not the squad
    # W2: one day (its walk), nothing closed or checked: no data earns nothing
    assert rows["W2"]["total"] == round(20 / 22, 2)
    assert rows["W2"]["coverage_share"] == 0  # it walked in W1's grid, not its own
    assert rows["W3"]["total"] == rows["W4"]["total"] == 0
    assert rows["W3"]["coverage_share"] is None  # no track: nothing measured
    assert [row["worker_code"] for row in league["workers"]] == ["W1", "W2", "W3", "W4"]
    assert [row["rank"] for row in league["workers"]] == [1, 2, 3, 3]
    assert league["scheme"] == load_scheme(None).name and league["buffer_m"] == 30


def test_a_grid_worker_sees_only_their_own_score(
        client: TestClient, facts: dict[str, Any], token_for: Token) -> None:
    month = facts["month"]
    mine = client.get(f"/api/v1/assessment?month={month}", headers=facts["w1"]).json()
    assert [row["worker_code"] for row in mine["workers"]] == ["W1"]
    assert mine["workers"][0]["rank"] == 1  # ranked among all
    assert client.get(f"/api/v1/assessment/W1?month={month}",
                      headers=facts["w1"]).status_code == 200
    assert client.get(f"/api/v1/assessment/W2?month={month}",
                      headers=facts["w1"]).status_code == 404
    unlinked = token_for("grid_worker", "T-B-1")
    assert client.get(f"/api/v1/assessment?month={month}",
                      headers=unlinked).json()["workers"] == []
    squad = token_for("squad", "D1")
    assert client.get(f"/api/v1/assessment?month={month}", headers=squad).status_code == 403
    assert client.get("/api/v1/assessment?month=2026-13",
                      headers=facts["w1"]).status_code == 422
    assert client.get("/api/v1/assessment/NOBODY?month=2026-01",
                      headers=token_for("commander")).status_code == 404


def test_spot_checks_are_recorded_by_the_center_only(
        client: TestClient, facts: dict[str, Any], token_for: Token,
        auth: dict[str, str]) -> None:
    month = facts["month"]
    body = {"worker_code": "W2", "passed": True, "score": 95}
    assert client.post("/api/v1/spot-checks", headers=facts["w1"], json=body).status_code == 403
    assert client.post("/api/v1/spot-checks", headers=token_for("planner"),
                       json=body).status_code == 403
    assert client.post("/api/v1/spot-checks", headers=auth,
                       json={**body, "score": 101}).status_code == 422
    assert client.post("/api/v1/spot-checks", headers=auth,
                       json={**body, "worker_code": "Q1-1"}).status_code == 422
    assert client.post("/api/v1/spot-checks", headers=auth,
                       json={**body, "checked_at": "2099-01-01T00:00:00"}).status_code == 422
    made = client.post("/api/v1/spot-checks", headers=token_for("dispatcher", "T"), json=body)
    assert made.status_code == 201, made.text
    check = made.json()
    assert check["checker"] == "dispatcher-T" and check["grid_code"] == "T-A-2"
    assert check["score"] == 95 and check["note"] == ""

    listed = client.get(f"/api/v1/spot-checks?month={month}", headers=auth).json()
    assert sorted(c["worker_code"] for c in listed) == ["W1", "W1", "W1", "W2"]
    only = client.get(f"/api/v1/spot-checks?month={month}&worker=W2", headers=auth).json()
    assert [c["id"] for c in only] == [check["id"]]
    own = client.get(f"/api/v1/spot-checks?month={month}", headers=facts["w1"]).json()
    assert {c["worker_code"] for c in own} == {"W1"}


@pytest.fixture()
def custom_client(session_factory: sessionmaker[Session],
                  tmp_path: Path) -> Iterator[TestClient]:
    """The service with a scheme where only events found count, environmental ones × 5."""
    scheme = json.loads(DEFAULT_SCHEME.read_text(encoding="utf-8"))
    scheme["name"] = "只看发现"
    for key in ("coverage", "days_active", "closure_on_time", "spot_checks"):
        scheme[key]["weight"] = 0
    scheme["events_found"].update(weight=50, target=10)
    scheme["returns"].update(per_return=5, cap=5)
    scheme["category_weights"] = {"POLLUTION": 5}
    path = tmp_path / "scheme.json"
    path.write_text(json.dumps(scheme, ensure_ascii=False), encoding="utf-8")
    settings = Settings(database_url="postgresql+psycopg://unused/unused",
                        locator_refresh_seconds=0, escalation_interval_seconds=0,
                        webhook_poll_seconds=0,
                        assessment_scheme=path)
    with TestClient(create_app(settings, session_factory=session_factory)) as custom:
        yield custom


def test_a_custom_scheme_file_changes_the_weights(
        facts: dict[str, Any], custom_client: TestClient, auth: dict[str, str]) -> None:
    response = custom_client.get(f"/api/v1/assessment/W1?month={facts['month']}", headers=auth)
    assert response.status_code == 200, response.text
    score = response.json()
    explained = items(score)
    assert explained["events_found"]["value"] == 8.0  # 5 + 1 + 1 + 1
    assert explained["events_found"]["points"] == 40.0  # 50 × 8 / 10
    assert explained["returns"]["points"] == -5
    assert score["total"] == 35.0 and score["best_total"] == 50
    league = custom_client.get(f"/api/v1/assessment?month={facts['month']}", headers=auth)
    assert league.json()["scheme"] == "只看发现"


def test_a_broken_scheme_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "x"}), encoding="utf-8")
    with pytest.raises(SchemeError, match="not valid"):
        load_scheme(path)
    with pytest.raises(SchemeError):
        load_scheme(tmp_path / "missing.json")


def test_the_league_table_as_csv(client: TestClient, facts: dict[str, Any],
                                 auth: dict[str, str]) -> None:
    response = client.get(f"/api/v1/assessment.csv?month={facts['month']}", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.removeprefix("\ufeff"))))
    assert [row["worker_code"] for row in rows] == ["W1", "W2", "W3", "W4"]
    w1 = rows[0]
    assert w1["events_found"] == "4" and w1["closed_on_time"] == "1" and w1["returns"] == "1"
    assert w1["points_events_found"] == "12.5" and w1["points_returns"] == "-2.0"
    assert rows[2]["coverage_share"] == "" and rows[2]["points_coverage"] == "0.0"
    assert float(w1["total"]) == pytest.approx(
        sum(float(w1[f"points_{item}"]) for item in ("coverage", "days_active", "events_found",
                                                     "closure_on_time", "spot_checks",
                                                     "returns")), abs=1e-6)
    mine = client.get(f"/api/v1/assessment.csv?month={facts['month']}", headers=facts["w1"])
    assert len(list(csv.reader(io.StringIO(mine.text)))) == 2


def test_equal_totals_share_a_rank() -> None:
    def score(code: str, total: float) -> WorkerScore:
        return WorkerScore(worker_code=code, worker_name=code, grid_code=None, on_duty=True,
                           coverage_share=0, days_active=0, events_found=0, events_weighted=0,
                           closed=0, closed_on_time=0, on_time_rate=None, returns=0,
                           spot_checks=0, spot_pass_rate=None, spot_mean_score=None,
                           total=total, best_total=100, explain=[])

    order = ranked([score("B", 50), score("A", 70), score("C", 50), score("D", 10)])
    assert [(s.worker_code, s.rank) for s in order] == [("A", 1), ("B", 2), ("C", 2), ("D", 4)]


def test_the_migration_goes_down_and_up_again(scratch_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    engine = create_engine(scratch_url)
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0011")
            connection.commit()
            assert "spot_check" not in inspect(connection).get_table_names()
            command.upgrade(config, "head")
            connection.commit()
            indexes = {i["name"] for i in inspect(connection).get_indexes("spot_check")}
            assert "ix_spot_check_worker_code_checked_at" in indexes
    finally:
        engine.dispose()


def test_no_data_says_so_and_earns_nothing(
        client: TestClient, town: dict[str, Path], auth: dict[str, str]) -> None:
    league = client.get(f"/api/v1/assessment?month={month_now()}", headers=auth).json()
    assert {row["total"] for row in league["workers"]} == {0.0}
    explained = items(league["workers"][0])
    for item, why in (("coverage", "本月无巡查轨迹"), ("closure_on_time", "本月无办结的交办事件"),
                      ("spot_checks", "本月无抽查")):
        assert explained[item]["value"] is None and explained[item]["points"] == 0
        assert explained[item]["missing"] == why
    assert explained["days_active"]["value"] == 0 and explained["days_active"]["missing"] is None
    # a month before the grids were drawn (history imported later) is measured against
    # the grids as first drawn
    before = client.get("/api/v1/assessment?month=2020-01", headers=auth).json()
    coverage = items(before["workers"][0])["coverage"]
    assert coverage["facts"]["area_m2"] > 0 and coverage["missing"] == "本月无巡查轨迹"


def test_a_scheme_that_still_gives_points_for_no_data_is_refused(tmp_path: Path) -> None:
    scheme = json.loads(DEFAULT_SCHEME.read_text(encoding="utf-8"))
    scheme["spot_checks"]["when_none"] = 1.0
    path = tmp_path / "old.json"
    path.write_text(json.dumps(scheme, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SchemeError, match="when_none"):
        load_scheme(path)
