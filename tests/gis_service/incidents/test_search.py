"""Finding incidents by words of their description or address (`q=` on the list): Chinese
words inside sentences, every word required, wildcards taken literally, the caller's scope
kept, and the search served by the character-pair index."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gis_service.incidents.models import Incident
from gis_service.incidents.queries import conditions

Headers = dict[str, str]
REPORTS = [
    ("Q1", "东村路口有人违章搭建彩钢棚", "七都镇东村12号"),
    ("Q2", "西村河边垃圾堆放多日", "七都镇西村"),
    ("Q3", "渔港码头违规停车", None),
    ("Q4", "折扣100%_促销横幅占道", "庙港大街"),
]


def _post(client: TestClient, auth: Headers) -> dict[str, int]:
    ids = {}
    for number, description, address in REPORTS:
        response = client.post("/api/v1/incidents", headers=auth, json={
            "source": "hotline_12345", "external_id": number, "category": "GARBAGE",
            "description": description, "address": address,
            "location": {"lon": 120.402, "lat": 30.902}})
        assert response.status_code == 201, response.text
        ids[number] = response.json()["id"]
    return ids


def _found(client: TestClient, auth: Headers, q: str, ids: dict[str, int]) -> list[str]:
    response = client.get("/api/v1/incidents", headers=auth, params={"q": q, "limit": 100})
    assert response.status_code == 200, response.text
    names = {v: k for k, v in ids.items()}
    return sorted(names[item["id"]] for item in response.json()["items"])


def test_words_are_found_inside_descriptions_and_addresses(
        client: TestClient, town: Any, auth: Headers) -> None:
    ids = _post(client, auth)
    assert _found(client, auth, "违章", ids) == ["Q1"]
    assert _found(client, auth, "违章搭建", ids) == ["Q1"]
    assert _found(client, auth, "西村", ids) == ["Q2"]  # in both description and address
    assert _found(client, auth, "12号", ids) == ["Q1"]  # the address alone
    assert _found(client, auth, "村 多日", ids) == ["Q2"]  # every word must occur
    assert _found(client, auth, "违 停", ids) == ["Q3"]  # one-character words too
    assert _found(client, auth, "100%_", ids) == ["Q4"]  # % and _ are characters, not wildcards
    assert _found(client, auth, "%", ids) == ["Q4"]
    assert _found(client, auth, "违章 垃圾", ids) == []
    too_long = client.get("/api/v1/incidents", headers=auth, params={"q": "长" * 101})
    assert too_long.status_code == 422


def test_a_search_keeps_the_callers_scope(client: TestClient, town: Any, auth: Headers,
                                          token_for: Any) -> None:
    ids = _post(client, auth)
    worker = token_for("grid_worker", "T-B-2")  # the reports lie in T-A-1
    assert _found(client, worker, "违章", ids) == []


def test_the_search_is_served_by_the_pair_index(db_session: Session) -> None:
    db_session.execute(text("SET LOCAL enable_seqscan = off"))
    stmt = select(Incident.id).where(*conditions({"q": "违章搭建"}, datetime.now(UTC)))
    compiled = stmt.compile(db_session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(db_session.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_incident_text" in plan, plan

