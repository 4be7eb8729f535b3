"""Grid teams of the test town (tests/town.py): a police group and a volunteer in the west
village's first grid, the village's liaison and police group, a volunteer in the east."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.town import write_csv

HEADER = ["grid_code", "code", "name", "role", "phone", "organisation"]
TEAM = [
    ["T-A-1", "GT-P1", "周警官", "police_officer", "13812345678", "七都派出所"],
    ["T-A-1", "GT-P2", "吴辅警", "police_auxiliary", "13987654321", "七都派出所"],
    ["T-A-1", "GT-V1", "郑志愿", "volunteer", "0512-63801234", "七都志愿者协会"],
    ["T-A", "GT-L1", "冯联络", "liaison", "13700001111", "西村村委会"],
    ["T-A", "GT-P3", "陈警官", "police_officer", "13600002222", "七都派出所"],
    ["T-B-2", "GT-V2", "褚志愿", "volunteer", "", ""],
]


def write_team(folder: Path, rows: list[list[str]], name: str = "team.csv") -> Path:
    """A grid_team CSV with the contract's columns."""
    return write_csv(folder / name, HEADER, rows)


@pytest.fixture()
def team(db_session: Session, town: dict[str, Path], tmp_path: Path) -> Path:
    """The test town with its grid teams imported."""
    path = write_team(tmp_path, TEAM)
    report = run_import(db_session, "grid_team", path)
    assert report.accepted, report.lines()
    db_session.commit()
    return path
