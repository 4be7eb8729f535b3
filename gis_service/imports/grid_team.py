"""Importing grid teams (CSV `grid_code,code,name,role,phone,organisation`): the people of
each grid beyond its grid worker. A file states the whole team of every grid it names: those
grids' members it does not list are removed (a member moving to another grid is moved)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_service.grids.models import LayerChange
from gis_service.grids.queries import current_versions
from gis_service.imports.readers import read_csv, require_columns
from gis_service.imports.report import ImportReport, row_problem
from gis_service.people.models import Department, GridTeamMember
from gis_service.people.team_roles import TEAM_ROLES
from grid_layers.validation import Problem

REQUIRED = ("grid_code", "code", "name", "role")
COLUMNS = (*REQUIRED, "phone", "organisation")
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{2,30}$")  # 13800001111, 0510-87654321, +86 …


def import_grid_team(session: Session, path: Path, *, crs: str | None = None,
                     check_only: bool = False) -> ImportReport:
    """Check every row (a stored grid, a known role, a code no department has), then store
    the teams of the grids the file names."""
    rows = read_csv(path)
    require_columns(path, set(rows[0]) if rows else set(REQUIRED), REQUIRED)
    report = ImportReport("grid_team", str(path), len(rows), checked_only=check_only)
    grids = {g.code for g in current_versions(session, datetime.now(UTC))}
    departments = set(session.scalars(select(Department.code)))
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        report.problems += _check(line, row, grids, departments, seen)
        seen.add(row["code"])
    if report.problems or check_only:
        return report
    named = sorted({row["grid_code"] for row in rows})
    session.execute(delete(GridTeamMember).where(GridTeamMember.grid_code.in_(named),
                                                 GridTeamMember.code.not_in(seen)))
    for row in rows:
        values = {"grid_code": row["grid_code"], "name": row["name"], "role": row["role"],
                  "phone": row.get("phone") or None,
                  "organisation": row.get("organisation") or None,
                  "attributes": {k: v for k, v in row.items() if k not in COLUMNS},
                  "updated_at": datetime.now(UTC)}
        stmt = insert(GridTeamMember).values(code=row["code"], **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
    report.counts = {"stored": len(rows), "grids": len(named)}
    session.add(LayerChange(kind="grid_team", source=str(path), summary=report.counts))
    session.flush()
    return report


def _check(line: int, row: dict[str, str], grids: set[str], departments: set[str],
           seen: set[str]) -> list[Problem]:
    code = row["code"]
    label = code or f"line {line}"
    missing = [name for name in REQUIRED if not row[name]]
    if missing:
        return [row_problem("invalid_attribute", label,
                            f"line {line}: empty {', '.join(missing)}")]
    problems = []
    if code in seen:
        problems.append(row_problem("duplicate_code", code,
                                    f"team member {code} appears more than once"))
    if code in departments:  # an incident's `cooperating` names both: they must not clash
        problems.append(row_problem("duplicate_code", code,
                                    f"{code}: already a department's code"))
    if row["grid_code"] not in grids:
        problems.append(row_problem("orphan", code,
                                    f"{code}: grid_code {row['grid_code']} is no stored grid"))
    if row["role"] not in TEAM_ROLES:
        problems.append(row_problem("invalid_attribute", code,
                                    f"{code}: role {row['role']!r} is not one of "
                                    f"{', '.join(TEAM_ROLES)}"))
    phone = row.get("phone") or ""
    if phone and not PHONE.match(phone):
        problems.append(row_problem("invalid_attribute", code,
                                    f"{code}: phone {phone!r} is not a telephone number"))
    return problems
