"""POST /api/v1/locate with `fields`: only the codes asked for, `{field: [...]}` with one
array per field or CSV, equal to the full answer's codes; unknown fields refused; both forms in
the OpenAPI document; the batch body read quickly or by pydantic, to the same points."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gis_service.locate import columns as compact
from gis_service.locate.schemas import LocateBatchRequest, read_batch

Headers = dict[str, str]
ALL = list(compact.FIELDS)
OUTSIDE = [121.5, 31.5]
EDGE = [120.41, 30.905]  # on the edge T-A | T-B (and T-A-1 | T-B-1): the smaller code wins
CORNER = [120.41, 30.91]  # where the four level-3 grids meet


def _points() -> list[list[float]]:
    rng = np.random.default_rng(5)
    inside = np.column_stack([rng.uniform(120.395, 120.425, 300),
                              rng.uniform(30.895, 30.925, 300)])
    edges = [[x, y] for x in (120.40, 120.41, 120.42) for y in (30.90, 30.91, 30.92)]
    return [*inside.tolist(), *edges, EDGE, CORNER, OUTSIDE]


def _expected(result: dict[str, Any], field: str) -> Any:
    """What the compact form must say for `field`, read off the full answer."""
    if field == "in_service_area":
        return result["in_service_area"]
    if field == "squad":
        return result["district"]["squad_code"] if result["district"] else None
    if field in ("special", "zones"):
        return [item["code"] for item in result[field]]
    return result[field]["code"] if result[field] else None


def _cell(value: Any) -> str:
    """A compact JSON value as its CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return ";".join(value) if isinstance(value, list) else str(value)


def _locate(client: TestClient, auth: Headers, points: list[list[float]],
            params: dict[str, str] | None = None, accept: str | None = None) -> Any:
    headers = {**auth, "Accept": accept} if accept else auth
    response = client.post("/api/v1/locate", headers=headers, params=params,
                           json={"points": points})
    assert response.status_code == 200, response.text
    return response


def test_columns_equal_the_full_answer(client: TestClient, town: dict[str, Path],
                                       auth: Headers) -> None:
    points = _points()
    results = _locate(client, auth, points).json()["results"]
    answer = _locate(client, auth, points, params={"fields": ",".join(ALL)})
    assert answer.headers["content-type"] == "application/json"
    table = answer.json()
    assert list(table) == ALL  # in the order asked
    for field in ALL:
        assert table[field] == [_expected(r, field) for r in results], field
    columns = table
    assert columns["town"][-1] is None and columns["in_service_area"][-1] is False
    assert columns["zones"][-1] == [] and columns["special"][-1] == []
    edge, corner = len(points) - 3, len(points) - 2
    assert [columns[f][edge] for f in ("town", "grid2", "grid3", "district", "squad")] == \
        ["T", "T-A", "T-A-1", "D1", "Q1"]
    assert columns["grid3"][corner] == "T-A-1"
    assert columns["zones"][0] in (["Z1", "Z2"], ["Z2"], [])
    assert "W1" in columns["worker"] and ["Z1", "Z2"] in columns["zones"]


def test_csv_parses_to_the_same(client: TestClient, town: dict[str, Path],
                                auth: Headers) -> None:
    points = _points()
    fields = ",".join(ALL)
    table = _locate(client, auth, points, params={"fields": fields}).json()
    answer = _locate(client, auth, points, params={"fields": fields}, accept="text/csv")
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ALL and len(rows) == len(points) + 1
    for k, field in enumerate(ALL):
        assert [row[k] for row in rows[1:]] == [_cell(v) for v in table[field]]
    assert rows[-1][ALL.index("town")] == "" and rows[-1][ALL.index("in_service_area")] == "false"


def test_fields_in_the_body_and_only_those(client: TestClient, town: dict[str, Path],
                                           auth: Headers) -> None:
    for fields in (["grid3", "town"], "grid3,town", " grid3 , town,grid3 "):
        response = client.post("/api/v1/locate", headers=auth, json={
            "points": [[120.402, 30.902], OUTSIDE], "fields": fields})
        assert response.status_code == 200, response.text
        assert response.json() == {"grid3": ["T-A-1", None], "town": ["T", None]}
        assert list(response.json()) == ["grid3", "town"]
    # the query parameter wins over the body
    response = client.post("/api/v1/locate", headers=auth, params={"fields": "grid2"},
                           json={"points": [[120.402, 30.902]], "fields": "town"})
    assert response.json() == {"grid2": ["T-A"]}
    # no fields: the full answer, as before
    response = client.post("/api/v1/locate", headers=auth, json={"points": [[120.402, 30.902]]})
    assert response.json()["results"][0]["grid3"]["code"] == "T-A-1"


def test_no_points(client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    answer = _locate(client, auth, [], params={"fields": "town,zones"})
    assert answer.json() == {"town": [], "zones": []}
    answer = _locate(client, auth, [], params={"fields": "town,zones"}, accept="text/csv")
    assert answer.text == "town,zones\n"


def test_unknown_fields_are_refused(client: TestClient, town: dict[str, Path],
                                    auth: Headers) -> None:
    for asked, unknown in (("town,nope", ["nope"]), (",", []), ("worker_name", ["worker_name"])):
        for where in ("query", "body"):
            body: dict[str, Any] = {"points": [[120.402, 30.902]]}
            params = {"fields": asked} if where == "query" else {}
            if where == "body":
                body["fields"] = asked
            response = client.post("/api/v1/locate", headers=auth, params=params, json=body)
            assert response.status_code == 422, (asked, where, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["unknown"] == unknown and "grid3" in problem["fields"]
            assert all(name in problem["detail"] for name in unknown)


def test_the_openapi_document_names_both_forms(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/locate"]["post"]
    fields = next(p for p in operation["parameters"] if p["name"] == "fields")
    assert all(name in fields["description"] for name in ALL)
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert {"crs", "points", "fields"} <= set(body["properties"])
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}
    shapes = {ref["$ref"].rsplit("/", 1)[-1]
              for ref in content["application/json"]["schema"]["anyOf"]}
    assert shapes == {"LocateBatchResponse", "LocateColumns"}
    schemas = document["components"]["schemas"]
    assert set(schemas["LocateColumns"]["properties"]) == set(ALL)
    assert "text/csv" in operation["responses"]["200"]["description"] or \
        "CSV" in operation["responses"]["200"]["description"]


def test_csv_and_json_cells_of_awkward_codes() -> None:
    table = compact.Columns(("town", "zones", "in_service_area"), (
        compact.Column(['A,"1"', "七都", None], np.array([0, 1, 2, -1], np.intp)),
        compact.Column([[], ["Z1", "Z,2"]], np.array([1, 0, 0, 1], np.intp)),
        compact.Column([False, True], np.array([1, 1, 0, 0], np.intp))))
    document = json.loads(compact.to_json(table))
    assert document == {
        "town": ['A,"1"', "七都", None, None], "zones": [["Z1", "Z,2"], [], [], ["Z1", "Z,2"]],
        "in_service_area": [True, True, False, False]}
    rows = list(csv.reader(io.StringIO(compact.to_csv(table).decode())))
    assert rows == [["town", "zones", "in_service_area"], ['A,"1"', "Z1;Z,2", "true"],
                    ["七都", "", "true"], ["", "", "false"], ["", "Z1;Z,2", "false"]]


# --- reading the body: the quick path must read what pydantic reads, or leave it to pydantic

@pytest.mark.parametrize("raw", [
    b'{"points": [[120.4, 30.9], [1e2, -3.5E-1], [0, -0]]}',
    b'{ "crs" : "gcj02" ,\n "points" :\n [ [ 120.4 , 30.9 ] ,\t[120 , 31] ] , "fields": "town"}',
    b'{"fields": ["town", "grid3"], "points": []}',
    b'{"points":[[120.402,30.902]],"at":"2026-01-01"}',
])
def test_quick_reading_equals_pydantic(raw: bytes) -> None:
    body = LocateBatchRequest.model_validate_json(raw)
    read = read_batch(raw)
    assert (read.crs, read.fields) == (body.crs, body.fields)
    assert read.points.shape == (len(body.points), 2)
    assert read.points.tolist() == [list(p) for p in body.points]


@pytest.mark.parametrize("raw", [
    b'{"points": [[120.4, 30.9]], "points": [[121, 31]]}',  # the last one counts
    b'{"extra": {"points": [[1, 2]]}, "points": [[121, 31]]}',
    b'{"points": [["120.4", "30.9"]]}',  # numbers as strings: pydantic takes them
    b'{"points": [[120.4, 30.9]], "crs": "\\"points\\": [[1, 2]]"}',
])
def test_what_the_quick_path_leaves_to_pydantic_reads_the_same(raw: bytes) -> None:
    body = LocateBatchRequest.model_validate_json(raw)
    assert read_batch(raw).points.tolist() == [list(p) for p in body.points]


@pytest.mark.parametrize("raw", [
    b'{"points": [[120.4, 30.9, 1]]}', b'{"points": [[120.4]]}', b'{"points": [[1, 2] [3, 4]]}',
    b'{"points": [[1,, 2]]}', b'{"points": [[1 2, 3]]}', b'{"points": [[+1, 2]]}',
    b'{"points": [[01, 2]]}', b'{"points": [[.5, 2]]}', b'{"points": [[1, 2]], }',
    b'{"points": [[1, 2]]', b'{"points": [[null, 2]]}', b'{"extra": {"points": [[1, 2]]}}',
    b'{"points": [[1, 2],]}', b'{"points": [1, 2]}', b'{"points": [[1, 2]], "fields": 3}',
])
def test_bad_bodies_get_pydantics_errors(raw: bytes) -> None:
    with pytest.raises(ValidationError) as expected:
        LocateBatchRequest.model_validate_json(raw)
    with pytest.raises(ValidationError) as got:
        read_batch(raw)
    assert got.value.errors() == expected.value.errors()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(allow_nan=False, allow_infinity=False),
                          st.floats(allow_nan=False, allow_infinity=False)), max_size=20),
       st.sampled_from([None, 1, 2]), st.booleans())
def test_any_pairs_read_exactly(points: list[tuple[float, float]], indent: int | None,
                                fields_first: bool) -> None:
    body: dict[str, Any] = {"fields": "town"} if fields_first else {}
    body["points"] = points
    raw = json.dumps(body, indent=indent).encode()
    read = read_batch(raw)
    assert read.points.shape == (len(points), 2)
    assert read.points.tolist() == [list(p) for p in points]
