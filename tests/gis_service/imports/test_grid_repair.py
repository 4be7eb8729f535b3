"""`gis-service import grids PATH --repair [--tolerance M]`: the demo town's grids written as
real tools write them (GeoJSON cut to 6 or 5 decimals by GDAL's writer, every grid digitised
again on its own, a special grid poking 0.3 m out of the town) import with every repair listed;
what is stored nests exactly, stays within the tolerance of the file and locates as the exact
town does. A 30 m gap is refused with or without --repair, and a refused file stores nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bench.boundary_noise import poking_special, redigitised, with_gap
from gis_service.cli import app
from gis_service.grids.models import GridVersion
from gis_service.imports.readers import UnreadableInputError, read_vector
from gis_service.imports.service import run_import
from grid_layers.repair import REPAIR_KINDS
from grid_layers.validation import GridRecord
from tests.grid_layers.test_repair import (
    EXACT,
    assert_locates_alike,
    assert_nested_exactly,
    assert_within,
)


def write(path: Path, grids: Sequence[GridRecord], decimals: int = 15) -> Path:
    """The grids as a GeoJSON file, written by GDAL with `decimals` places."""
    geometries = np.array([shapely.to_wkb(g.geometry) for g in grids], dtype=object)
    fields = [np.array([getattr(g, name) or "" for g in grids], dtype=object)
              for name in ("code", "name", "kind", "parent_code")]
    level = np.array([g.level or 0 for g in grids], dtype=np.int32)
    pyogrio.raw.write(path, geometries, [*fields, level],
                      ["code", "name", "kind", "parent_code", "level"], driver="GeoJSON",
                      geometry_type="Unknown", crs="EPSG:4490",
                      layer_options={"COORDINATE_PRECISION": str(decimals)})
    return path


def stored(session: Session) -> list[GridRecord]:
    """The grids as stored."""
    rows = session.scalars(select(GridVersion).where(GridVersion.valid_to.is_(None)))
    return [GridRecord(g.code, g.name, g.kind, g.level, g.parent_code,
                       shapely.from_wkb(bytes(g.geom.data))) for g in rows]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(GridVersion)) or 0


def read_back(path: Path) -> list[GridRecord]:
    """The file as the importer reads it (the tolerance is measured from these shapes)."""
    return [GridRecord(str(f.properties["code"]), "", "", None, None, f.geometry)
            for f in read_vector(path, None) if f.geometry is not None]


def assert_stored_well(session: Session, path: Path, tolerance: float) -> None:
    """What is stored nests exactly, within the tolerance of the file, locating as exact."""
    grids = stored(session)
    assert len(grids) == len(EXACT)
    assert_nested_exactly(grids)
    assert_within(grids, read_back(path), tolerance)
    assert_locates_alike(grids)


@pytest.mark.parametrize(("decimals", "tolerance"), [(6, None), (5, 1.0)])
def test_rounded_files_import_with_repair(db_session: Session, tmp_path: Path, decimals: int,
                                         tolerance: float | None) -> None:
    path = write(tmp_path / "grids.geojson", EXACT, decimals)
    plain = run_import(db_session, "grids", path)
    assert not plain.accepted and count(db_session) == 0
    hint = plain.lines()[-1]
    assert re.fullmatch(rf"repairable with --repair: \d+ of {len(plain.problems)}", hint), hint
    report = run_import(db_session, "grids", path, repair=True, tolerance_m=tolerance)
    assert report.accepted, report.lines()
    assert report.counts["new"] == len(EXACT)
    assert report.repairs and report.lines()[0].endswith("repair(s) within the tolerance")
    for line in report.lines()[1:len(report.repairs) + 1]:
        kind = line.split()[0]
        assert kind in REPAIR_KINDS and "m²" in line and "shift" in line and " at " in line
    assert_stored_well(db_session, path, tolerance or 0.5)


def test_digitised_twice(db_session: Session, tmp_path: Path) -> None:
    path = write(tmp_path / "grids.geojson", redigitised(EXACT, 0.25, seed=3))
    report = run_import(db_session, "grids", path, repair=True)
    assert report.accepted, report.lines()[-20:]
    kinds = {r.kind for r in report.repairs}
    assert {"snapped", "gap_closed", "overlap_resolved", "clipped_to_parent"} <= kinds
    assert max(r.shift_m for r in report.repairs) <= 0.5
    assert_stored_well(db_session, path, 0.5)


def test_a_special_grid_poking_out(db_session: Session, tmp_path: Path) -> None:
    path = write(tmp_path / "grids.geojson", poking_special(EXACT, "QD-01", "S-POKE", 0.3), 6)
    report = run_import(db_session, "grids", path, repair=True)
    assert report.accepted, report.lines()[-20:]
    clip = next(r for r in report.repairs if "S-POKE" in r.grids)
    assert clip.kind == "clipped_to_parent" and 0.25 < clip.shift_m <= 0.5  # mitred corners
    grids = stored(db_session)
    poke = next(g for g in grids if g.code == "S-POKE").geometry
    town = next(g for g in grids if g.code == "QD").geometry
    assert shapely.area(shapely.difference(poke, town)) < 1e-12  # under 0.01 m²
    assert_nested_exactly([g for g in grids if g.code != "S-POKE"])


def test_check_with_repair_lists_repairs_and_stores_nothing(db_session: Session,
                                                            tmp_path: Path) -> None:
    path = write(tmp_path / "grids.geojson", EXACT, 6)
    report = run_import(db_session, "grids", path, check_only=True, repair=True)
    assert report.accepted and report.repairs and count(db_session) == 0
    assert "valid, nothing stored (--check)" in report.lines()[-1]


def test_a_thirty_metre_gap_is_refused_with_or_without_repair(db_session: Session,
                                                              tmp_path: Path) -> None:
    path = write(tmp_path / "grids.geojson", with_gap(EXACT, "QD-05-02", 30.0), 6)
    for repair in (False, True):
        report = run_import(db_session, "grids", path, repair=repair)
        assert not report.accepted and count(db_session) == 0
        gaps = [p for p in report.problems if p.type == "gap"]
        assert gaps and "QD-05" in gaps[0].grids and gaps[0].area_m2 > 10_000
    assert [p.type for p in report.problems] == ["gap"]  # with --repair only the real defect
    assert "repairable" not in report.lines()[-1]


def test_stored_grids_are_neighbours_that_never_move(db_session: Session,
                                                     tmp_path: Path) -> None:
    levels12 = [g for g in EXACT if g.level in (1, 2)]
    first = run_import(db_session, "grids", write(tmp_path / "a.geojson", levels12))
    assert first.accepted, first.lines()
    before = {g.code: g.geometry for g in stored(db_session)}
    rest = [g for g in redigitised(EXACT, 0.25, seed=5) if g.level not in (1, 2)]
    report = run_import(db_session, "grids", write(tmp_path / "b.geojson", rest), repair=True)
    assert report.accepted, report.lines()[-20:]
    after = {g.code: g.geometry for g in stored(db_session)}
    for code, shape in before.items():
        assert shapely.equals_exact(shape, after[code], 0.0), code
    assert_nested_exactly(stored(db_session))


def test_repair_is_for_grid_files_with_a_sane_tolerance(db_session: Session,
                                                        tmp_path: Path) -> None:
    path = write(tmp_path / "grids.geojson", EXACT)
    with pytest.raises(UnreadableInputError, match="--repair is for grids"):
        run_import(db_session, "zones", path, repair=True)
    for bad in (0.0, -1.0, 20.0):
        with pytest.raises(UnreadableInputError, match="--tolerance"):
            run_import(db_session, "grids", path, repair=True, tolerance_m=bad)


def test_the_command(scratch_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    runner = CliRunner()
    path = write(tmp_path / "grids.geojson", EXACT, 6)
    refused = runner.invoke(app, ["import", "grids", str(path)])
    assert refused.exit_code == 1 and "repairable with --repair" in refused.output
    checked = runner.invoke(app, ["import", "grids", str(path), "--check", "--repair"])
    assert checked.exit_code == 0 and "snapped" in checked.output, checked.output
    lonely = runner.invoke(app, ["import", "grids", str(path), "--tolerance", "1"])
    assert lonely.exit_code == 2 and "--tolerance goes with --repair" in lonely.output
    done = runner.invoke(app, ["import", "grids", str(path), "--repair", "--tolerance", "0.5"])
    assert done.exit_code == 0 and "imported: 90 new" in done.output, done.output
