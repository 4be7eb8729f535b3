"""One home for what a re-attribution rewrites: the publication's SQL writes the columns
`incidents/core/placing.BOUNDARY_FIELDS` names, and relocate writes and compares the same."""

from __future__ import annotations

import re
from pathlib import Path

import gis_service.plans.publish as publish
from gis_service.incidents.core.placing import BOUNDARY_FIELDS
from gis_service.relocate.attribution import FIELDS
from gis_service.relocate.sinks import COLUMNS

SQL = Path(publish.__file__).parent / "sql"
RELOCATE_SQL = Path(__file__).parents[3] / "gis_service" / "relocate" / "sql"


def _set_columns(path: Path) -> set[str]:
    statement = path.read_text(encoding="utf-8")
    assignments = statement.split("SET", 1)[1].split("FROM", 1)[0]
    return set(re.findall(r"(\w+)\s*=", assignments))


def test_the_publication_and_relocate_write_the_boundary_columns() -> None:
    columns = {column for _, column in BOUNDARY_FIELDS}
    assert _set_columns(SQL / "reattribute.sql") == columns
    assert _set_columns(RELOCATE_SQL / "write_codes.sql") == columns
    assert set(COLUMNS.values()) == columns
    assert tuple(field for field, _ in BOUNDARY_FIELDS) == FIELDS
