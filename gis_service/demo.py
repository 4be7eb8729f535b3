"""Loading the demo town from `data/demo/` through the ordinary importers (idempotent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from gis_service.imports.service import run_import

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "demo"
# Order matters: workers refer to grids, districts and departments.
DEMO_FILES = (("grids", "grids.geojson"), ("districts", "districts.geojson"),
              ("zones", "zones.geojson"), ("projects", "projects.geojson"),
              ("departments", "departments.csv"), ("workers", "workers.csv"),
              ("addresses", "addresses.csv"))


def load_demo_town(session: Session, folder: Path = DEMO_DIR) -> Iterator[str]:
    """Import every demo file that exists; re-running stores nothing new."""
    if not folder.exists():
        yield f"no demo town at {folder}: nothing to load"
        return
    for kind, name in DEMO_FILES:
        path = folder / name
        if not path.exists():
            continue
        report = run_import(session, kind, path)
        yield from report.lines()
        if not report.accepted:
            raise RuntimeError(f"the demo file {path} was rejected")
