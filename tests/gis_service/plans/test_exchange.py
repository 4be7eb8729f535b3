"""A plan exported as GeoJSON or GeoPackage and imported again is the same plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.plans.drafts import create_plan, plan_grids, shape_of
from gis_service.plans.models import Plan, PlanGrid
from tests.gis_service.plans.test_impact import add_address, move_strip

MEDIA = {"geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}


def _comparable(grid: PlanGrid) -> dict[str, Any]:
    return {"code": grid.code, "name": grid.name, "level": grid.level, "kind": grid.kind,
            "parent_code": grid.parent_code, "households": grid.households,
            "population": grid.population, "multipart": grid.multipart,
            "attributes": grid.attributes, "source_version_id": grid.source_version_id,
            "edited_by": grid.edited_by, "edited_at": grid.edited_at}


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_export_then_import_gives_the_same_grids(
        fmt: str, client: TestClient, db_session: Session, town: dict[str, Path],
        auth: dict[str, str]) -> None:
    plan = create_plan(db_session, owner="planner", name="东移", note="试点")
    move_strip(db_session, plan)
    special = db_session.scalars(select(PlanGrid).where(PlanGrid.plan_id == plan.id,
                                                        PlanGrid.code == "S-SCHOOL")).one()
    special.attributes = {"manager": "教育办", "floors": 3}
    add_address(db_session, 120.402, 30.902)
    db_session.commit()

    exported = client.get(f"/api/v1/plans/{plan.id}/export.{fmt}", headers=auth)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith(MEDIA[fmt])
    if fmt == "geojson":
        body = json.loads(exported.content)
        assert body["plan"]["name"] == "东移" and body["plan"]["owner"] == "planner"
        scores = {f["properties"]["code"]: f["properties"] for f in body["features"]}
        assert scores["T-A-1"]["changed"] == 1 and scores["T-A-2"]["changed"] == 0
        assert scores["T-A-1"]["address_points"] == 1
        assert 0 < scores["T-A-1"]["polsby_popper"] < 1
    imported = client.post("/api/v1/plans/import", headers=auth,
                           files={"file": (f"plan.{fmt}", exported.content)},
                           data={"name": "导入"})
    assert imported.status_code == 201, imported.text

    copy_id = imported.json()["id"]
    db_session.expire_all()
    copy = db_session.get(Plan, copy_id)
    assert copy is not None and copy.status == "draft" and copy.name == "导入"
    assert copy.note == "试点" and copy.based_on_at == plan.based_on_at
    assert copy.source == f"import: plan.{fmt}" and copy.owner == "admin"
    originals, copies = plan_grids(db_session, plan.id), plan_grids(db_session, copy_id)
    assert [_comparable(g) for g in copies] == [_comparable(g) for g in originals]
    for original, again in zip(originals, copies, strict=True):
        assert shapely.equals_exact(shape_of(original), shape_of(again), tolerance=0.0)


def test_an_invalid_file_is_refused_with_its_problems(
        client: TestClient, db_session: Session, town: dict[str, Path],
        auth: dict[str, str]) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[120.40, 30.90], [120.41, 30.91],
                                                  [120.41, 30.90], [120.40, 30.91],
                                                  [120.40, 30.90]]]}
    square = {"type": "Polygon", "coordinates": [[[120.40, 30.90], [120.41, 30.90],
                                                  [120.41, 30.91], [120.40, 30.91],
                                                  [120.40, 30.90]]]}
    features = [
        {"type": "Feature", "geometry": bowtie,
         "properties": {"code": "X-1", "kind": "comprehensive", "level": 3}},
        {"type": "Feature", "geometry": square,
         "properties": {"code": "X-2", "kind": "comprehensive", "level": 7}},
        {"type": "Feature", "geometry": square,
         "properties": {"code": "X-3", "kind": "comprehensive", "level": 3,
                        "parent_code": "NOWHERE"}},
    ]
    content = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    answer = client.post("/api/v1/plans/import", headers=auth,
                         files={"file": ("bad.geojson", content)})
    assert answer.status_code == 422, answer.text
    problems = {(p["type"], tuple(p["grids"])) for p in answer.json()["problems"]}
    assert problems == {("invalid_geometry", ("X-1",)), ("invalid_attribute", ("X-2",))}
    # an orphan is the validation's business: the draft is made
    good = json.dumps({"type": "FeatureCollection", "features": features[2:]}).encode()
    made = client.post("/api/v1/plans/import", headers=auth,
                       files={"file": ("orphan.geojson", good)})
    assert made.status_code == 201, made.text
    grids = plan_grids(db_session, made.json()["id"])
    assert [(g.code, g.parent_code, g.edited_by, g.source_version_id) for g in grids] == [
        ("X-3", "NOWHERE", "admin", None)]
    assert client.post("/api/v1/plans/import", headers=auth,
                       files={"file": ("plan.txt", b"x")}).status_code == 422
