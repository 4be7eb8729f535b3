"""Exporting a layer to a file in a private temporary folder, removed once it is sent."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.errors import NotFoundError
from gis_service.exports import queries
from gis_service.exports.layers import LAYERS, Layer
from gis_service.exports.table import build_table
from gis_service.exports.writer import FORMATS, write
from gis_service.incidents.scope import visible
from gis_service.timeutil import aware


@dataclass(frozen=True)
class ExportFile:
    """A written export: the file, its folder (to remove afterwards) and how to send it."""

    path: Path
    folder: Path
    filename: str
    media_type: str


def find_layer(name: str, fmt: str) -> Layer:
    """The layer; NotFoundError for an unknown layer or format."""
    layer = LAYERS.get(name)
    if layer is None or fmt not in FORMATS:
        raise NotFoundError(f"exports are /exports/LAYER.FORMAT with LAYER one of "
                            f"{', '.join(LAYERS)} and FORMAT one of {', '.join(FORMATS)}")
    return layer


def export_layer(session: Session, principal: Principal, *, name: str, fmt: str,
                 at: datetime | None = None) -> ExportFile:
    """Write the layer (grids as valid at `at`, incidents as the caller may see them)."""
    layer = find_layer(name, fmt)
    scope = visible(principal) if layer.scoped else None
    moment = aware(at) or datetime.now(UTC)
    records = [(row, None if wkb is None else bytes(wkb)) for row, wkb in
               session.execute(queries.select_rows(layer, at=moment, scope=scope))]
    table = build_table(layer, records)
    folder = Path(tempfile.mkdtemp(prefix="gis-export-"))
    filename = f"{name}.{fmt}"
    try:
        write(folder / filename, fmt, table, layer=name, geometry_type=layer.geometry_type,
              points=layer.points)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return ExportFile(folder / filename, folder, filename, FORMATS[fmt])
