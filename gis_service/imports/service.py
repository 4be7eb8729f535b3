"""One entry point for every KIND of import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from gis_service.imports.addresses import import_addresses
from gis_service.imports.cameras import import_cameras
from gis_service.imports.grid_team import import_grid_team
from gis_service.imports.grids import import_grids
from gis_service.imports.incidents import import_incidents
from gis_service.imports.people import import_departments, import_workers
from gis_service.imports.places import (
    import_districts,
    import_projects,
    import_stations,
    import_zones,
)
from gis_service.imports.readers import UnreadableInputError
from gis_service.imports.report import ImportReport
from gis_service.imports.responsibilities import import_responsibilities, import_zone_rules
from gis_service.imports.video_scenes import import_video_scenes
from grid_layers.repair import DEFAULT_TOLERANCE_M, MAX_TOLERANCE_M

Importer = Callable[..., ImportReport]
REPAIRABLE = ("grids", "districts")  # kinds whose boundaries `--repair` cleans

IMPORTERS: dict[str, Importer] = {
    "grids": import_grids,
    "districts": import_districts,
    "zones": import_zones,
    "projects": import_projects,
    "stations": import_stations,
    "cameras": import_cameras,
    "departments": import_departments,
    "workers": import_workers,
    "grid_team": import_grid_team,
    "addresses": import_addresses,
    "responsibilities": import_responsibilities,
    "zone_rules": import_zone_rules,
    "video_scenes": import_video_scenes,
    "incidents": import_incidents,
}


def run_import(session: Session, kind: str, path: Path, *, crs: str | None = None,
               check_only: bool = False, progress: bool = False,
               min_confidence: float | None = None,
               service_area_names: str | None = None,
               repair: bool = False, tolerance_m: float | None = None) -> ImportReport:
    """Import (or with `check_only` just check) one file; the caller commits when accepted.
    `min_confidence`: how sure the geocoder must be to place an address-only incident;
    `service_area_names`: the province, city, county above the towns (an address-only
    incident naming others is not placed); `repair` (boundary kinds only): repair what lies
    within `tolerance_m` metres before validating."""
    importer = IMPORTERS.get(kind)
    if importer is None:
        raise UnreadableInputError(f"unknown kind {kind!r}; kinds are {', '.join(IMPORTERS)}")
    if repair or tolerance_m is not None:
        if kind not in REPAIRABLE:
            raise UnreadableInputError(f"--repair is for {' and '.join(REPAIRABLE)} files, "
                                       f"not {kind}")
        if tolerance_m is not None and not 0.0 < tolerance_m <= MAX_TOLERANCE_M:
            raise UnreadableInputError(f"--tolerance {tolerance_m:g}: give more than 0 and at "
                                       f"most {MAX_TOLERANCE_M:g} metres")
        return importer(session, path, crs=crs, check_only=check_only, repair=True,
                        tolerance_m=DEFAULT_TOLERANCE_M if tolerance_m is None else tolerance_m)
    if kind == "incidents":
        given = {"min_confidence": min_confidence, "service_area_names": service_area_names}
        return importer(session, path, crs=crs, check_only=check_only, progress=progress,
                        **{name: value for name, value in given.items() if value is not None})
    if kind == "addresses":
        return importer(session, path, crs=crs, check_only=check_only, progress=progress)
    return importer(session, path, crs=crs, check_only=check_only)
