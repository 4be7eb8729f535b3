"""Grid version queries: which versions are valid at a moment, filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from gis_service.geojson import geometry_json
from gis_service.grids.models import GridVersion

MAX_DEPTH = 5  # county, town, village, grid: a longer chain of parents is a loop


def valid_at(at: datetime) -> ColumnElement[bool]:
    """The SQL condition 'this version is valid at `at`' (half-open period)."""
    return and_(GridVersion.valid_from <= at,
                or_(GridVersion.valid_to.is_(None), GridVersion.valid_to > at))


def select_grids(*, at: datetime, level: int | None = None, parent: str | None = None,
                 kind: str | None = None,
                 code: str | None = None) -> Select[GridVersion, str]:
    """Grid versions valid at `at` with their GeoJSON geometry, in code order."""
    query = select(GridVersion, geometry_json(GridVersion.geom)).where(valid_at(at))
    if level is not None:
        query = query.where(GridVersion.level == level)
    if parent is not None:
        query = query.where(GridVersion.parent_code == parent)
    if kind is not None:
        query = query.where(GridVersion.kind == kind)
    if code is not None:
        query = query.where(GridVersion.code == code)
    return query.order_by(GridVersion.code)


def current_versions(session: Session, at: datetime) -> list[GridVersion]:
    """Every grid version valid at `at` (geometry loaded), in code order."""
    stmt = select(GridVersion).where(valid_at(at)).order_by(GridVersion.code)
    return list(session.scalars(stmt))


def version_ids_at(session: Session, at: datetime) -> tuple[int, ...]:
    """Ids of the versions valid at `at`: a cheap fingerprint of the boundaries then."""
    stmt = select(GridVersion.id).where(valid_at(at)).order_by(GridVersion.id)
    return tuple(session.scalars(stmt))


@dataclass(frozen=True)
class Town:
    """A town (level-1 grid) and the county (level-0 grid) it names as parent, if any."""

    code: str
    name: str
    county: str | None


def towns(session: Session, at: datetime) -> list[Town]:
    """The towns valid at `at`, in code order."""
    stmt = (select(GridVersion.code, GridVersion.name, GridVersion.parent_code)
            .where(GridVersion.level == 1, valid_at(at)).order_by(GridVersion.code))
    return [Town(code, name, parent) for code, name, parent in session.execute(stmt)]


def counties(session: Session, at: datetime) -> dict[str, str]:
    """The county grids (level 0) valid at `at`: code → name."""
    stmt = select(GridVersion.code, GridVersion.name).where(GridVersion.level == 0,
                                                             valid_at(at))
    return {code: name for code, name in session.execute(stmt)}


def lineage(session: Session, code: str, at: datetime) -> tuple[str, ...]:
    """The grid `code` and the grids above it valid at `at` (its village, town, county), in
    that order; empty when no such grid is valid then."""
    chain: list[str] = []
    current: str | None = code
    while current is not None and current not in chain and len(chain) < MAX_DEPTH:
        parent = session.execute(select(GridVersion.parent_code)
                                 .where(GridVersion.code == current, valid_at(at))).first()
        if parent is None:
            break
        chain.append(current)
        current = parent[0]
    return tuple(chain)
