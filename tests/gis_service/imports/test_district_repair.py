"""Enforcement districts tile their town: a point in no district is a `gap` (it would go to the
town center without anyone having decided so); `--repair` cleans what lies within the tolerance
against the town, which never moves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from gis_service.places.models import District
from tests.town import X0, X2, Y0, Y1, Y2, box, grid_features, write_geojson

# a hundredth of a metre... at 30.9° N: 1e-7° of latitude is 1.1 cm
CM = 1e-7


def district(code: str, geometry: dict[str, Any]) -> dict[str, Any]:
    """A district feature with its squad."""
    return {"type": "Feature", "geometry": geometry,
            "properties": {"code": code, "name": f"{code}片区", "squad_code": f"Q{code}",
                           "squad_name": f"{code}中队"}}


def town(session: Session, tmp_path: Path) -> None:
    """The test town's grids, stored."""
    report = run_import(session, "grids", write_geojson(tmp_path / "g.geojson", grid_features()))
    assert report.accepted, report.lines()


def test_districts_that_leave_part_of_the_town_uncovered_are_refused(
        db_session: Session, tmp_path: Path) -> None:
    town(db_session, tmp_path)
    north_short = [district("D1", box(X0, Y0, X2, Y1)),
                   district("D2", box(X0, Y1, X2, Y2 - 0.002))]  # 220 m of the north left out
    path = write_geojson(tmp_path / "d.geojson", north_short)
    for repair in (False, True):
        report = run_import(db_session, "districts", path, repair=repair)
        assert [p.type for p in report.problems] == ["gap"], report.lines()
        assert "T" in report.problems[0].grids and report.problems[0].area_m2 > 300_000
        assert "执法片区" in report.problems[0].message
    assert db_session.scalars(select(District)).all() == []


def test_districts_a_centimetre_apart_are_repaired(db_session: Session, tmp_path: Path) -> None:
    town(db_session, tmp_path)
    apart = [district("D1", box(X0, Y0, X2, Y1 - 2 * CM)),  # a 2 cm gap along y = Y1
             district("D2", box(X0, Y1 + CM, X2, Y2 + 3 * CM))]  # and 3 cm out of the town
    path = write_geojson(tmp_path / "d.geojson", apart)
    refused = run_import(db_session, "districts", path)
    assert {p.type for p in refused.problems} == {"sliver"}
    assert refused.repairable == [True] * len(refused.problems)
    assert all(line.endswith("(repairable)") for line in refused.lines()[1:-1])
    report = run_import(db_session, "districts", path, repair=True)
    assert report.accepted, report.lines()
    assert {"gap_closed", "clipped_to_parent"} <= {r.kind for r in report.repairs}
    stored = {d.code: shapely.from_wkb(bytes(d.geom.data))
              for d in db_session.scalars(select(District))}
    outline = shapely.box(X0, Y0, X2, Y2)
    union = shapely.union_all(list(stored.values()))
    assert shapely.symmetric_difference(union, outline).area < 1e-12  # well under 0.01 m²
    assert shapely.intersection(stored["D1"], stored["D2"]).area < 1e-14


def test_without_a_town_districts_need_only_not_overlap(db_session: Session,
                                                        tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "d.geojson", [district("D1", box(X0, Y0, X2, Y1)),
                                                  district("D2", box(X0, Y1, X2, Y2))])
    assert run_import(db_session, "districts", path).accepted
