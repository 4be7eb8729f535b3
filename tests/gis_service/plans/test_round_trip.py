"""A published plan exports files that pass `import grids --check` unchanged, in every format.

The plan is what a planner does in the editor: a vertex of the T-A/T-B border dragged east
(in each grid that has it, the later ones dropped a hand's jitter off and snapped), a split
of T-A-1 whose line overshoots the grid at both ends (west out of the town, east 3 m into
T-B-1 across the slanted border), and a merge of T-B-1 with T-B-2. The split's crossing point
on the slanted border is a new vertex that T-A, T-B and T-B-1 must have too: without it the
plan showed a sliver gap of T-A, and the 7-decimal GeoJSON export sliver overlaps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.imports.service import run_import
from tests.gis_service.exports.test_exports import download
from tests.gis_service.plans.test_operations import line, run
from tests.gis_service.plans.test_plans_api import (
    API,
    METRE_LAT,
    Headers,
    create,
    grid_feature,
    put,
    validation,
)
from tests.gis_service.plans.test_publish import age_town, publish
from tests.town import X0, X1, X2, Y0, Y1, Y2, ring

BORDER = (120.41043, 30.90351)  # the dragged vertex: the T-A/T-B border is no longer straight
JITTER = (0.3 * METRE_LAT, -0.2 * METRE_LAT)  # where a hand drops it again in the next grid
# the split line's latitude at its west and east ends: before noding, the first left a sliver
# gap of T-A in the plan (0.2 m²), the second passed but its GeoJSON export was refused
SPLIT_LINES = [(30.9050, 30.9071), (30.9057, 30.9066)]


def dragged(code: str, jitter: bool) -> dict[str, Any]:
    """The grid as the editor sends it after the border vertex was dragged."""
    r = (BORDER[0] + JITTER[0], BORDER[1] + JITTER[1]) if jitter else BORDER
    shapes = {
        "T-A": ring((X0, Y0), (X1, Y0), r, (X1, Y1), (X1, Y2), (X0, Y2), (X0, Y1)),
        "T-B": ring((X1, Y0), (X2, Y0), (X2, Y1), (X2, Y2), (X1, Y2), (X1, Y1), r),
        "T-A-1": ring((X0, Y0), (X1, Y0), r, (X1, Y1), (X0, Y1)),
        "T-B-1": ring((X1, Y0), (X2, Y0), (X2, Y1), (X1, Y1), r),
    }
    return grid_feature(code, shapes[code], crs="cgcs2000")


def overshooting_line(west: float, east: float) -> dict[str, Any]:
    """West of the town to 3 m inside T-B-1, crossing the dragged border once."""
    y = east
    border_x = float(np.interp(y, [Y0, BORDER[1], Y1], [X1, BORDER[0], X1]))
    metre_lon = METRE_LAT / np.cos(np.radians(y))
    return line((X0 - 3 * metre_lon, west), (border_x + 3 * metre_lon, y))


@pytest.mark.parametrize("split_at", SPLIT_LINES)
def test_a_published_plan_exports_files_that_import_check_accepts(
        client: TestClient, db_session: Session, town: dict[str, Path], auth: Headers,
        tmp_path: Path, split_at: tuple[float, float]) -> None:
    age_town(db_session)
    plan = create(client, auth)
    for code, jitter in (("T-A", False), ("T-B", True), ("T-A-1", True), ("T-B-1", True)):
        plan = put(client, plan, auth, code, dragged(code, jitter))
    split = run(client, plan, auth, {"op": "split", "grid": "T-A-1", "codes": ["T-A-1", "T-A-3"],
                                      "line": overshooting_line(*split_at)})
    assert split.status_code == 200, split.text
    merged = run(client, split.json(), auth, {"op": "merge", "grids": ["T-B-1", "T-B-2"]})
    assert merged.status_code == 200, merged.text
    assert validation(client, plan, auth) == {"valid": True, "problems": [], "repairable": 0}

    effective = datetime.now(UTC) - timedelta(hours=1)
    published = publish(client, auth, plan["id"], effective, version=merged.json()["version"])
    assert published.status_code == 201, published.text

    refused: dict[str, str] = {}
    files = {}
    for fmt in ("geojson", "gpkg", "csv"):
        folder = tmp_path / fmt
        folder.mkdir()
        files[fmt] = download(client, auth, f"grids.{fmt}", folder)
        report = run_import(db_session, "grids", files[fmt], check_only=True)
        if not report.accepted:
            refused[fmt] = "\n".join(report.lines())
    assert refused == {}, "\n".join(refused.values())
    # the coordinates are the stored ones exactly: imported again, nothing is new or changed
    for fmt in ("geojson", "gpkg", "csv"):
        report = run_import(db_session, "grids", files[fmt])
        assert report.counts == {"new": 0, "changed": 0, "unchanged": 8}, (fmt, report.lines())
    assert client.get(f"{API}/{plan['id']}", headers=auth).json()["status"] == "published"
