"""The incident aggregates behind low-zoom tiles (made by migration 0007; see `cells.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Date, Integer, String, Table, false
from sqlalchemy.dialects.postgresql import ARRAY

from gis_service.database import Base

# the codes each aggregate is keyed by ('' for none, so that they can be part of the key)
AREA_CODES = ("town_code", "grid2_code", "grid3_code", "district_code")
HANDLER_CODES = ("district_code", "assignee_code", "cooperating")


def _code(name: str, key: bool) -> Column[Any]:
    if name == "cooperating":
        return Column(name, ARRAY(String(64)), primary_key=key, nullable=False,
                      server_default="{}")
    return Column(name, String(64), primary_key=key, nullable=False, server_default="")


def _columns(codes: tuple[str, ...], key: bool) -> list[Column[Any]]:
    """The key columns (the primary key when `key`) and the count `n`."""
    return [Column("day", Date, primary_key=key, nullable=False),
            Column("cx", Integer, primary_key=key, nullable=False),
            Column("cy", Integer, primary_key=key, nullable=False),
            Column("status", String(20), primary_key=key, nullable=False),
            *[_code(name, key) for name in codes],
            Column("n", Integer, nullable=False)]


def _aggregate(name: str, codes: tuple[str, ...]) -> Table:
    """Incidents with a place reported on a China day (or in the month starting on `day`,
    when `month`) in a zoom-16 cell, per status and codes."""
    return Table(name, Base.metadata,
                 Column("month", Boolean, primary_key=True, server_default=false()),
                 *_columns(codes, key=True))


incident_cell = _aggregate("incident_cell", AREA_CODES)
incident_handler_cell = _aggregate("incident_handler_cell", HANDLER_CODES)
# changes not folded into the aggregates yet, per day with every code, appended by triggers
# on incident (no key)
incident_cell_delta = Table("incident_cell_delta", Base.metadata,
                            *_columns(tuple(dict.fromkeys(AREA_CODES + HANDLER_CODES)),
                                      key=False))
