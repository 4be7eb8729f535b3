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


SCENE_HEADER = ["scene", "category_code", "min_confidence", "dwell_seconds",
                "needs_confirmation"]
# garbage seen by an algorithm (routed at once when sure enough), a stall that must stay three
# minutes, and a GB/T 28181 intrusion alarm a person must always confirm
SCENES = [
    ["暴露垃圾", "GARBAGE", "0.5", "0", "no"],
    ["店外经营", "BUILDING", "0.6", "180", "no"],
    ["gb28181:6", "FLOOD", "0", "0", "yes"],
]


def write_scenes(folder: Path, rows: list[list[str]], name: str = "scenes.csv") -> Path:
    """A video scenes CSV with the contract's columns."""
    return write_csv(folder / name, SCENE_HEADER, rows)


@pytest.fixture()
def scenes(db_session: Session, cameras: Path, tmp_path: Path) -> Path:
    """The test town's cameras and video scenes imported."""
    path = write_scenes(tmp_path, SCENES)
    report = run_import(db_session, "video_scenes", path)
    assert report.accepted, report.lines()
    db_session.commit()
    return path
