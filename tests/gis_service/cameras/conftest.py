"""Cameras of the test town (tests/town.py: 120.40–120.42 E, 30.90–30.92 N)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.town import write_csv

HEADER = ["code", "name", "lon", "lat", "direction", "ptz", "owner"]
# an IP camera by the west village's road, looking east; a city-management camera in the
# east village with no direction given
CAMERAS = [
    ["32050900001320000001", "西村路口", "120.402", "30.902", "90", "dome", "七都派出所"],
    ["32050900081310000002", "东村广场", "120.418", "30.918", "", "3", "城管中队"],
]
WEST, EAST = CAMERAS[0][0], CAMERAS[1][0]


def write_cameras(folder: Path, rows: list[list[str]], name: str = "cameras.csv") -> Path:
    """A cameras CSV with the contract's columns."""
    return write_csv(folder / name, HEADER, rows)


@pytest.fixture()
def cameras(db_session: Session, town: dict[str, Path], tmp_path: Path) -> Path:
    """The test town's two cameras imported (after the town)."""
    path = write_cameras(tmp_path, CAMERAS)
    report = run_import(db_session, "cameras", path)
    assert report.accepted, report.lines()
    db_session.commit()
    return path
