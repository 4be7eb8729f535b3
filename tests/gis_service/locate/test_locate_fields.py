"""POST /api/v1/locate with `fields`: only the codes asked for, one array per field or CSV,
equal to the full answer's codes; unknown fields refused; the form is in the OpenAPI
document."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

Headers = dict[str, str]
ALL = "in_service_area,county,town,grid2,grid3,district,squad,special,zones,worker"


def _points() -> list[list[float]]:
    rng = np.random.default_rng(5)
    inside = np.column_stack([rng.uniform(120.395, 120.425, 300), rng.uniform(30.895, 30.925, 300)])
    edges = [[x, y] for x in (120.40, 120.41, 120.42) for y in (30.90, 30.91, 30.92)]
    return [*inside.tolist(), *edges, [121.5, 31.5]]  # the last one outside every town


def _expected(result: dict[str, Any], field: str) -> Any:
    """What the compact form must say for `field`, read off the full answer."""
    if field == "in_service_area":
        return result["in_service_area"]
    if field == "squad":
        return result["district"]["squad_code"] if result["district"] else None
    if field in ("special", "zones"):
        return [item["code"] for item in result[field]]
    return result[field]["code"] if result[field] else None


def test_columns_equal_the_full_answer(client: TestClient, town: dict[str, Path],
                                       auth: Headers) -> None:
    points = _points()
    full = client.post("/api/v1/locate", headers=auth, json={"points": points})
    assert full.status_code == 200, full.text
    results = full.json()["results"]
    compact = client.post("/api/v1/locate", headers=auth, params={"fields": ALL},
                          json={"points": points})
    assert compact.status_code == 200, compact.text
    table = compact.json()
    assert list(table) == ALL.split(",")
    for field in ALL.split(","):
        assert table[field] == [_expected(r, field) for r in results], field
    assert table["town"][-1] is None and table["in_service_area"][-1] is False
    assert "T-A-1" in table["grid3"] and ["Z1", "Z2"] in table["zones"]


def test_fields_in_the_body_and_only_those(client: TestClient, town: dict[str, Path],
                                           auth: Headers) -> None:
    response = client.post("/api/v1/locate", headers=auth, json={
        "points": [[120.402, 30.902], [121.5, 31.5]], "fields": ["grid3", "town"]})
    assert response.status_code == 200, response.text
    assert response.json() == {"grid3": ["T-A-1", None], "town": ["T", None]}
    # the query parameter wins over the body
    response = client.post("/api/v1/locate", headers=auth, params={"fields": "grid2"},
                           json={"points": [[120.402, 30.902]], "fields": "town"})
    assert response.json() == {"grid2": ["T-A"]}


def test_csv(client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    response = client.post("/api/v1/locate", headers={**auth, "Accept": "text/csv"},
                           params={"fields": "town,grid3,zones,in_service_area"},
                           json={"points": [[120.402, 30.902], [121.5, 31.5]]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows == [["town", "grid3", "zones", "in_service_area"],
                    ["T", "T-A-1", "Z1;Z2", "true"], ["", "", "", "false"]]


def test_unknown_fields_are_refused(client: TestClient, town: dict[str, Path],
                                    auth: Headers) -> None:
    for asked in ("town,nope", ",", "worker_name"):
        response = client.post("/api/v1/locate", headers=auth, params={"fields": asked},
                               json={"points": [[120.402, 30.902]]})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "grid3" in response.json()["fields"]


def test_the_openapi_document_names_the_fields(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/locate"]["post"]
    fields = next(p for p in operation["parameters"] if p["name"] == "fields")
    assert "grid3" in fields["description"]
    content = operation["responses"]["200"]["content"]
    assert "text/csv" in content
    shapes = content["application/json"]["schema"]["anyOf"]
    assert any("grid3" in shape.get("properties", {}) for shape in shapes)
