"""Plan operations on the test town: split, merge, move and reassign each keep validation clean,
log one edit and are undone exactly; what cannot be done cleanly is refused (422)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy.orm import Session

from tests.gis_service.plans.test_plans_api import (
    API,
    METRE_LAT,
    Headers,
    create,
    if_match,
    stored_rows,
    validation,
)
from tests.town import X0, X1, X2, Y0, Y1, Y2, box

NEAR = 0.4 * METRE_LAT  # a hand's jitter off an edge


def line(*points: tuple[float, float]) -> dict[str, Any]:
    """A GeoJSON LineString."""
    return {"type": "LineString", "coordinates": [list(p) for p in points]}


def run(client: TestClient, plan: dict[str, Any], headers: Headers,
        body: dict[str, Any]) -> Any:
    """POST an operation; the response."""
    return client.post(f"{API}/{plan['id']}/operations", json=body,
                       headers=if_match(plan, headers))


def grids(client: TestClient, plan: dict[str, Any], headers: Headers) -> dict[str, Any]:
    """The plan's grids by code: properties plus a shapely `shape`."""
    features = client.get(f"{API}/{plan['id']}/grids", headers=headers).json()["features"]
    return {f["id"]: {**f["properties"], "shape": shape(f["geometry"])} for f in features}


CASES: dict[str, tuple[dict[str, Any], dict[str, tuple[str | None, Any]]]] = {
    # body, then the expected (parent_code, shape or None) of grids afterwards
    "split a grid": (
        {"op": "split", "grid": "T-A-1", "codes": ["T-A-1", "T-A-3"],
         "line": line((120.405, Y0 - NEAR), (120.405, Y1 + NEAR))},
        {"T-A-1": ("T-A", box(X0, Y0, 120.405, Y1)), "T-A-3": ("T-A", box(120.405, Y0, X1, Y1))}),
    "split a village along its grids": (
        {"op": "split", "grid": "T-A", "codes": ["T-A", "T-C"], "names": ["西村", "南村"],
         "line": line((X0, Y1 + NEAR), (X1, Y1 + NEAR))},
        {"T-A": ("T", box(X0, Y1, X1, Y2)), "T-C": ("T", box(X0, Y0, X1, Y1)),
         "T-A-1": ("T-C", None), "T-A-2": ("T-A", None)}),
    "merge two grids": (
        {"op": "merge", "grids": ["T-A-1", "T-A-2"]},
        {"T-A-1": ("T-A", box(X0, Y0, X1, Y2)), "T-A-2": (None, None)}),
    "merge two villages into a new code": (
        {"op": "merge", "grids": ["T-A", "T-B"], "into": "T-X", "name": "合并村"},
        {"T-X": ("T", box(X0, Y0, X2, Y2)), "T-A": (None, None), "T-B-2": ("T-X", None)}),
    "move a strip to a neighbour": (
        {"op": "move", "from": "T-A-1", "to": "T-A-2",
         "piece": box(X0 - 0.001, 30.908, X1 + 0.001, Y1 + 0.001)},
        {"T-A-1": ("T-A", box(X0, Y0, X1, 30.908)), "T-A-2": ("T-A", box(X0, 30.908, X1, Y2))}),
    "move a grid between villages": (
        {"op": "move", "from": "T-A", "to": "T-B",
         "piece": box(X0 - 0.001, Y1 - NEAR, X1 + NEAR, Y2 + 0.001)},
        {"T-A": ("T", box(X0, Y0, X1, Y1)), "T-A-2": ("T-B", box(X0, Y1, X1, Y2))}),
    "reassign a grid": (
        {"op": "reassign", "grids": ["T-A-1"], "parent": "T-B"},
        {"T-A-1": ("T-B", box(X0, Y0, X1, Y1)), "T-A": ("T", box(X0, Y1, X1, Y2))}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_operation_keeps_the_plan_valid_and_undoes_exactly(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers,
        case: str) -> None:
    body, expected = CASES[case]
    plan = create(client, auth)
    original = stored_rows(db_session, plan["id"])
    response = run(client, plan, auth, body)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert validation(client, plan, auth) == {"valid": True, "problems": [], "repairable": 0}
    after = grids(client, plan, auth)
    for code, (parent, geometry) in expected.items():
        if parent is None:
            assert code not in after
            continue
        assert after[code]["parent_code"] == parent
        if geometry is not None:
            assert after[code]["changed"] and shapely.equals(after[code]["shape"],
                                                             shape(geometry)), code
    (edit,) = client.get(f"{API}/{plan['id']}/edits", headers=auth).json()
    assert (edit["operation"], edit["undone"]) == (body["op"], False)
    undone = client.post(f"{API}/{plan['id']}/undo", headers=if_match(response.json(), auth))
    assert undone.status_code == 200 and undone.json()["version"] == 3
    assert stored_rows(db_session, plan["id"]) == original


def test_a_split_shares_households_by_area(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    plan = create(client, auth)
    body = {"op": "split", "grid": "T-B-2", "codes": ["T-B-3", "T-B-4"],
            "line": line((X1, 30.9125), (X2, 30.9125))}  # drawn eastwards: left is north
    assert run(client, plan, auth, body).status_code == 200
    after = grids(client, plan, auth)
    assert "T-B-2" not in after
    assert (after["T-B-3"]["households"], after["T-B-4"]["households"]) == (90, 30)
    assert after["T-B-3"]["shape"].bounds[1] == pytest.approx(30.9125)
    assert after["T-B-3"]["source_version_id"] is None


REFUSED = [
    ({"op": "split", "grid": "T", "codes": ["T", "T2"], "line": line((X1, Y0), (X1, Y2))},
     "镇（一级网格）不能拆分"),
    ({"op": "split", "grid": "T-A-1", "codes": ["T-A-1", "T-A-3"],
      "line": line((120.405, 30.902), (120.405, 30.908))}, "切成了 1 块"),
    ({"op": "split", "grid": "T-A", "codes": ["T-A", "T-C"],
      "line": line((X0, 30.905), (X1, 30.905))}, "穿过了三级网格 T-A-1"),
    ({"op": "split", "grid": "T-A-1", "codes": ["T-A-1", "T-B-1"],
      "line": line((120.405, Y0), (120.405, Y1))}, "方案中已有网格 T-B-1"),
    ({"op": "split", "grid": "T-A-1", "codes": ["T-A-1", "T-A-3"],
      "line": box(X0, Y0, X1, Y1)}, "LineString"),
    ({"op": "merge", "grids": ["T-A-1", "T-B-1"]}, "同一层级、同一类型、同一上级"),
    ({"op": "merge", "grids": ["T-A-1", "T-A-1"]}, "两个不同的网格"),
    ({"op": "merge", "grids": ["T-A", "T-B"], "into": "T-A-1"}, "方案中已有网格 T-A-1"),
    ({"op": "move", "from": "T-A-1", "to": "T-B-1", "piece": box(X0, Y0, X1, Y1)},
     "须同一层级、同一上级"),
    ({"op": "move", "from": "T-A", "to": "T-B", "piece": box(X0, Y0, X1, 30.905)},
     "切开了三级网格 T-A-1"),
    ({"op": "move", "from": "T-A-1", "to": "T-A-2", "piece": box(X0, Y0, 120.405, 30.905)},
     "不相邻"),
    ({"op": "move", "from": "T-A-1", "to": "T-A-2", "piece": box(X0 - 1, Y0 - 1, X2, Y2)},
     "一点不剩"),
    ({"op": "reassign", "grids": ["T-A"], "parent": "T-B"}, "T-A 不是三级网格"),
    ({"op": "reassign", "grids": ["T-A-1"], "parent": "T-A-2"}, "T-A-2 不是二级网格"),
    ({"op": "reassign", "grids": ["T-A-1", "T-A-2"], "parent": "T-B"}, "将没有任何面积"),
    ({"op": "reassign", "grids": ["T-B-1"], "parent": "T-B"}, "T-B-1 已属于 T-B"),
    ({"op": "rotate", "grids": ["T-B-1"]}, "op"),
]


@pytest.mark.parametrize(("body", "why"), REFUSED)
def test_operations_that_cannot_be_clean_are_refused(
        client: TestClient, town: dict[str, Path], auth: Headers, body: dict[str, Any],
        why: str) -> None:
    plan = create(client, auth)
    response = run(client, plan, auth, body)
    assert response.status_code == 422 and why in response.json()["detail"], response.text
    assert client.get(f"{API}/{plan['id']}", headers=auth).json()["version"] == 1
    assert client.get(f"{API}/{plan['id']}/edits", headers=auth).json() == []


def test_reassigning_a_grid_that_does_not_border_the_new_parent_is_refused(
        client: TestClient, town: dict[str, Path], auth: Headers) -> None:
    plan = create(client, auth)
    # make room: split T-A into a west and east strip of grids, then try to give the west
    # strip's south grid to T-B across the east strip
    body = {"op": "split", "grid": "T-A-1", "codes": ["T-A-1", "T-A-3"],
            "line": line((120.405, Y0), (120.405, Y1))}
    response = run(client, plan, auth, body)
    assert response.status_code == 200, response.text
    response = run(client, response.json(), auth,
                   {"op": "reassign", "grids": ["T-A-1"], "parent": "T-B"})
    assert response.status_code == 422 and response.json()["detail"] == (
        "网格 T-B 将分成互不相连的几块（如确需如此，请将其标为多块网格 multipart）")


def test_a_missing_grid_is_404(client: TestClient, town: dict[str, Path],
                               auth: Headers) -> None:
    plan = create(client, auth)
    response = run(client, plan, auth, {"op": "merge", "grids": ["T-A-1", "NOPE"]})
    assert response.status_code == 404
