"""Importing grid files: whole-file validation, nothing stored on rejection, versioning."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_service.grids.models import GridVersion
from gis_service.imports.readers import UnreadableInputError
from gis_service.imports.service import run_import
from tests.town import box, grid_features, write_geojson


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(GridVersion)) or 0


def _with(features: list[dict], target: str, **changes: object) -> list[dict]:
    changed = copy.deepcopy(features)
    for feature in changed:
        if feature["properties"]["code"] == target:
            geometry = changes.pop("geometry", None)
            if geometry is not None:
                feature["geometry"] = geometry
            feature["properties"].update(changes)
    return changed


def test_clean_file_imports_every_grid(db_session: Session, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "g.geojson", grid_features())
    report = run_import(db_session, "grids", path)
    assert report.accepted, report.lines()
    assert report.counts == {"new": 8, "changed": 0, "unchanged": 0}
    levels = dict(db_session.execute(select(GridVersion.code, GridVersion.level)).all())
    assert levels["T"] == 1 and levels["T-A-2"] == 3 and levels["S-SCHOOL"] is None


def test_check_only_stores_nothing(db_session: Session, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "g.geojson", grid_features())
    report = run_import(db_session, "grids", path, check_only=True)
    assert report.accepted and _count(db_session) == 0


@pytest.mark.parametrize(
    ("code", "changes", "problem_type", "codes"),
    [
        # level-3 grid shrunk: its parent is no longer tiled
        ("T-A-1", {"geometry": box(120.40, 30.90, 120.405, 30.91)}, "gap", ("T-A",)),
        # level-3 grid grown into its neighbour and out of its parent
        ("T-A-1", {"geometry": box(120.40, 30.90, 120.415, 30.91)}, "overlap",
         ("T-A-1", "T-B-1")),
        ("T-B-2", {"parent_code": "NOPE"}, "orphan", ("T-B-2",)),
        ("T-B-2", {"code": "T-B-1"}, "duplicate_code", ("T-B-1",)),
        ("T-A-2", {"geometry": {"type": "Polygon", "coordinates": [[
            [120.40, 30.91], [120.41, 30.92], [120.41, 30.91], [120.40, 30.92],
            [120.40, 30.91]]]}}, "invalid_geometry", ("T-A-2",)),
    ],
)
def test_planted_defect_is_named_and_nothing_stored(
    db_session: Session, tmp_path: Path, code: str, changes: dict, problem_type: str,
    codes: tuple[str, ...],
) -> None:
    path = write_geojson(tmp_path / "bad.geojson", _with(grid_features(), code, **changes))
    report = run_import(db_session, "grids", path)
    assert not report.accepted
    found = [p for p in report.problems if p.type == problem_type]
    assert found, report.lines()
    assert set(codes) <= set(found[0].grids)
    assert _count(db_session) == 0


def test_gap_is_reported_with_area_and_place(db_session: Session, tmp_path: Path) -> None:
    features = _with(grid_features(), "T-A-1", geometry=box(120.40, 30.90, 120.405, 30.91))
    report = run_import(db_session, "grids", write_geojson(tmp_path / "g.geojson", features))
    gap = next(p for p in report.problems if p.type == "gap")
    # 0.005° × 0.01° at latitude 30.9: about 478 m × 1109 m
    assert gap.area_m2 == pytest.approx(478 * 1109, rel=0.02)
    assert gap.location is not None
    lon, lat = gap.location
    assert 120.405 <= lon <= 120.41 and 30.90 <= lat <= 30.91
    # `import grids --check` keeps its line: type [codes] area at lon,lat message (in Chinese)
    line = next(text for text in report.lines() if text.strip().startswith("gap"))
    assert re.fullmatch(r"  gap  \[T-A(, T-A-\d)*\]  \d+\.\d m² at 120\.\d{6},30\.\d{6}  "
                        r"缝隙 \d+\.\d m²：T-A 内有区域未被其三级网格覆盖", line), line


def test_rejected_file_leaves_stored_grids_as_they_were(db_session: Session,
                                                        tmp_path: Path) -> None:
    run_import(db_session, "grids", write_geojson(tmp_path / "a.geojson", grid_features()))
    before = db_session.execute(text("SELECT code, version, ST_AsText(geom) FROM grid_version "
                                     "ORDER BY code")).all()
    bad = _with(grid_features(), "T-B-1", geometry=box(120.41, 30.90, 120.418, 30.91))
    report = run_import(db_session, "grids", write_geojson(tmp_path / "b.geojson", bad))
    assert not report.accepted
    after = db_session.execute(text("SELECT code, version, ST_AsText(geom) FROM grid_version "
                                    "ORDER BY code")).all()
    assert after == before


def test_changed_shape_makes_a_new_version(db_session: Session, tmp_path: Path) -> None:
    run_import(db_session, "grids", write_geojson(tmp_path / "a.geojson", grid_features()))
    # move the inner boundary between T-A-1 and T-A-2 north: both change, parent still tiled
    moved = _with(grid_features(), "T-A-1", geometry=box(120.40, 30.90, 120.41, 30.915))
    moved = _with(moved, "T-A-2", geometry=box(120.40, 30.915, 120.41, 30.92))
    report = run_import(db_session, "grids", write_geojson(tmp_path / "b.geojson", moved))
    assert report.accepted, report.lines()
    assert report.counts == {"new": 0, "changed": 2, "unchanged": 6}
    versions = db_session.execute(
        select(GridVersion.version, GridVersion.valid_to.is_(None))
        .where(GridVersion.code == "T-A-1").order_by(GridVersion.version)).all()
    assert versions == [(1, False), (2, True)]


def test_reimporting_the_same_file_changes_nothing(db_session: Session, tmp_path: Path) -> None:
    path = write_geojson(tmp_path / "a.geojson", grid_features())
    run_import(db_session, "grids", path)
    report = run_import(db_session, "grids", path)
    assert report.counts == {"new": 0, "changed": 0, "unchanged": 8}
    assert _count(db_session) == 8


def test_stored_versions_cannot_be_edited(db_session: Session, tmp_path: Path) -> None:
    run_import(db_session, "grids", write_geojson(tmp_path / "a.geojson", grid_features()))
    db_session.flush()
    with pytest.raises(Exception, match="immutable"), db_session.begin_nested():
        db_session.execute(text("UPDATE grid_version SET name = 'x' WHERE code = 'T'"))


def test_missing_column_is_unreadable(db_session: Session, tmp_path: Path) -> None:
    features = grid_features()
    for feature in features:
        del feature["properties"]["parent_code"]
    with pytest.raises(UnreadableInputError, match="parent_code"):
        run_import(db_session, "grids", write_geojson(tmp_path / "g.geojson", features))


def test_gcj02_file_is_converted_to_storage(db_session: Session, tmp_path: Path) -> None:
    from grid_layers.crs import point_from_storage

    features = grid_features()
    for feature in features:
        rings = feature["geometry"]["coordinates"]
        feature["geometry"]["coordinates"] = [
            [list(point_from_storage(x, y, "gcj02")) for x, y in ring] for ring in rings]
    report = run_import(db_session, "grids", write_geojson(tmp_path / "g.geojson", features),
                        crs="gcj02")
    assert report.accepted, report.lines()
    xmin = db_session.scalar(text("SELECT ST_XMin(geom) FROM grid_version WHERE code = 'T'"))
    assert xmin == pytest.approx(120.40, abs=1e-8)
