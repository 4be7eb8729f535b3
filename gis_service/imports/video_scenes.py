"""Importing video scenes (CSV `scene,category_code,min_confidence,dwell_seconds,
needs_confirmation`): what each camera scene or GB/T 28181 video alarm type is as a matter of
the responsibility list, and when its detections wait for a person. The file states the rows
it names (a scene named again is replaced, others are kept); it is rejected whole on any
problem. Rows are checked as `PUT /api/v1/video-scenes/{scene}` checks one
(gis_service/cameras/scenes.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from gis_service.cameras import scenes
from gis_service.imports.readers import read_csv, require_columns
from gis_service.imports.report import ImportReport, row_problem
from gis_service.incidents.core.detections import Scene

COLUMNS = ("scene", "category_code", "min_confidence", "dwell_seconds", "needs_confirmation")


def import_video_scenes(session: Session, path: Path, *, crs: str | None = None,
                        check_only: bool = False) -> ImportReport:
    """Check every row (a scene name or gb28181:<1-12>, a category of the responsibility
    list, a confidence from 0 to 1, whole seconds, yes/no), then store them."""
    rows = read_csv(path)
    require_columns(path, set(rows[0]) if rows else set(COLUMNS), COLUMNS)
    report = ImportReport("video_scenes", str(path), len(rows), checked_only=check_only)
    known = scenes.categories(session)
    parsed: list[Scene] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        label = row["scene"] or f"line {line}"
        if row["scene"] in seen:
            report.problems.append(row_problem("duplicate_code", label,
                                               f"line {line}: scene {label} appears more "
                                               "than once"))
        seen.add(row["scene"])
        found = scenes.parse(scenes.SceneValues(*(row[c] for c in COLUMNS)), known)
        if isinstance(found, Scene):
            parsed.append(found)
        else:
            report.problems += [row_problem("invalid_attribute", label, f"line {line}: {p}")
                                for p in found]
    if report.problems or check_only:
        return report
    extra = {row["scene"]: {k: v for k, v in row.items() if k not in COLUMNS} for row in rows}
    scenes.store(session, parsed, by="import", source=str(path), now=datetime.now(UTC),
                 attributes=extra)
    report.counts = {"stored": len(parsed)}
    return report
