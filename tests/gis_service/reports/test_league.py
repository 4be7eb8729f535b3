"""The towns' league of a month: each town's figures counted from its own incidents, the
towns a center oversees (the county center all of its towns, a town center its own), CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from gis_service.incidents.models import Incident
from gis_service.timeutil import CHINA_TIME
from tests.gis_service.incidents.test_county_tier import IN_T, IN_U, county_files

Headers = dict[str, str]
LEAGUE = "/api/v1/reports/league"


@pytest.fixture()
def county(db_session: Session, tmp_path: Path) -> dict[str, Path]:
    files = county_files(tmp_path)
    for kind in ("grids", "departments", "workers", "responsibilities"):
        assert run_import(db_session, kind, files[kind]).accepted
    db_session.commit()
    return files


def _report(client: TestClient, auth: Headers, number: str,
            where: tuple[float, float]) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", headers=auth, json={
        "source": "hotline_12345", "external_id": number, "category": "FLOOD",
        "description": "积水", "location": {"lon": where[0], "lat": where[1]}})
    assert response.status_code == 201, response.text
    return response.json()


def _act(client: TestClient, headers: Headers, incident: dict[str, Any], action: str,
         **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/incidents/{incident['id']}/actions",
                           headers={**headers, "If-Match": f'"{incident["version"]}"'},
                           json={"action": action, **body})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_league_counts_each_towns_own_incidents(
        client: TestClient, county: dict[str, Path], auth: Headers, db_session: Session,
        token_for: Callable[[str, str | None], Headers]) -> None:
    town_t, town_u = token_for("dispatcher", "T"), token_for("dispatcher", "U")
    county_c = token_for("commander", "C")
    done, escalated, late = (_report(client, auth, f"T{n}", IN_T) for n in range(3))
    _kept, returned = (_report(client, auth, f"U{n}", IN_U) for n in range(2))
    for action, extra in (("accept", {}), ("resolve", {}), ("verify", {}),
                          ("close", {"resolution": "service"}), ("evaluate", {"satisfaction": 4})):
        done = _act(client, town_t, done, action, **extra)
    _act(client, town_t, escalated, "escalate", note="镇里处理不了")
    _act(client, town_u, returned, "return", note="不属于本镇事权")
    db_session.execute(update(Incident).where(Incident.id == late["id"])
                       .values(due_at=datetime.now(UTC) - timedelta(hours=1)))
    db_session.commit()

    month = datetime.now(UTC).astimezone(CHINA_TIME).strftime("%Y-%m")
    answer = client.get(LEAGUE, headers=county_c, params={"month": month})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["month"] == month
    rows = {row["code"]: row for row in body["towns"]}
    assert rows["T"] == {"code": "T", "name": "七都镇(测试)", "intake": 3, "open": 2,
                         "overdue": 1, "on_time_rate": 1.0, "ratio_721": [10.0, 0.0, 0.0],
                         "satisfaction": 4.0, "escalated": 1, "returned": 0}
    assert rows["U"] == {"code": "U", "name": "邻镇(测试)", "intake": 2, "open": 2,
                         "overdue": 0, "on_time_rate": None, "ratio_721": None,
                         "satisfaction": None, "escalated": 0, "returned": 1}
    # the counts are the towns' incidents
    for code, row in rows.items():
        mine = db_session.query(Incident).filter(Incident.town_code == code).count()
        assert row["intake"] == mine

    own = client.get(LEAGUE, headers=town_u, params={"month": month}).json()
    assert [row["code"] for row in own["towns"]] == ["U"]
    table = client.get(LEAGUE, headers=county_c, params={"month": month, "format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(table.text)))
    assert [(r["code"], r["intake"], r["ratio_721"]) for r in lines] == [
        ("T", "3", "10.0:0.0:0.0"), ("U", "2", "")]
    earlier = client.get(LEAGUE, headers=county_c, params={"month": "2020-01"}).json()
    assert {row["intake"] for row in earlier["towns"]} == {0}


def test_the_league_refuses_field_roles_and_bad_months(
        client: TestClient, county: dict[str, Path], auth: Headers,
        token_for: Callable[[str, str | None], Headers]) -> None:
    worker = client.get(LEAGUE, headers=token_for("grid_worker", "T-A-1"))
    assert worker.status_code == 403
    assert worker.headers["content-type"].startswith("application/problem+json")
    bad = client.get(LEAGUE, headers=auth, params={"month": "2026-13"})
    assert bad.status_code == 422 and "2026-13" in bad.json()["detail"]
