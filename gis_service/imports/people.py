"""Importing departments and workers (CSV); every code a row refers to must exist."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_service.grids.models import LayerChange
from gis_service.grids.queries import current_versions
from gis_service.grids.queries import towns as current_towns
from gis_service.imports.readers import read_csv, require_columns
from gis_service.imports.report import ImportReport, row_problem
from gis_service.people.models import TIERS, WORKER_ROLES, Department, Worker
from gis_service.places.models import District
from grid_layers.validation import Problem

WORKER_COLUMNS = ("code", "name", "role", "grid_code", "district_code", "department_code",
                  "backup_code", "on_duty")
DEPARTMENT_COLUMNS = ("code", "name", "tier", "town_code")
YES = ("", "1", "true", "yes", "y", "是", "在岗")
NO = ("0", "false", "no", "n", "否", "不在岗")


def import_departments(session: Session, path: Path, *, crs: str | None = None,
                       check_only: bool = False) -> ImportReport:
    """Departments: CSV `code,name` (+ optional `tier` = county or town, default town, and
    `town_code`: a town department's town, or where a county department is stationed; other
    columns kept as attributes)."""
    rows = read_csv(path)
    require_columns(path, set(rows[0]) if rows else {"code", "name"}, ("code", "name"))
    report = ImportReport("departments", str(path), len(rows), checked_only=check_only)
    towns = {town.code for town in current_towns(session, datetime.now(UTC))}
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        report.problems += _check_department(number, row, towns, seen)
        seen.add(row["code"])
    if report.problems or check_only:
        return report
    for row in rows:
        values = {"name": row["name"], "tier": row.get("tier") or "town",
                  "town_code": row.get("town_code") or None,
                  "attributes": {k: v for k, v in row.items() if k not in DEPARTMENT_COLUMNS}}
        stmt = insert(Department).values(code=row["code"], **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
    report.counts = {"stored": len(rows)}
    session.add(LayerChange(kind="departments", source=str(path), summary=report.counts))
    session.flush()
    return report


def _check_department(number: int, row: dict[str, str], towns: set[str],
                      seen: set[str]) -> list[Problem]:
    code = row["code"]
    if not code or not row["name"]:
        return [row_problem("invalid_attribute", f"line {number}",
                            f"line {number}: code and name are required")]
    problems = []
    if code in seen:
        problems.append(row_problem("duplicate_code", code,
                                    f"code {code} appears more than once"))
    tier = row.get("tier") or "town"
    if tier not in TIERS:
        problems.append(row_problem("invalid_attribute", code,
                                    f"{code}: tier {tier!r} is not one of {', '.join(TIERS)}"))
    town = row.get("town_code") or ""
    if town and town not in towns:
        problems.append(row_problem("orphan", code, f"{code}: town_code {town} is not a town "
                                    "(a level-1 grid; import the grids first)"))
    return problems


def import_workers(session: Session, path: Path, *, crs: str | None = None,
                   check_only: bool = False) -> ImportReport:
    """Workers: CSV with the contract's columns; grid, district, department and backup codes
    must name things that exist (in the database or, for backups, in the same file)."""
    rows = read_csv(path)
    require_columns(path, set(rows[0]) if rows else set(WORKER_COLUMNS), WORKER_COLUMNS)
    report = ImportReport("workers", str(path), len(rows), checked_only=check_only)
    known = _known_codes(session, {row["code"] for row in rows})
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        report.problems += _check_worker(number, row, known, seen)
        seen.add(row["code"])
    if report.problems or check_only:
        return report
    for row in rows:
        values: dict[str, Any] = {
            "name": row["name"], "role": row["role"],
            **{k: row[k] or None for k in ("grid_code", "district_code", "department_code",
                                           "backup_code")},
            "on_duty": row["on_duty"].lower() in YES, "updated_at": datetime.now(UTC),
            "attributes": {k: v for k, v in row.items() if k not in WORKER_COLUMNS},
        }
        stmt = insert(Worker).values(code=row["code"], **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
    report.counts = {"stored": len(rows)}
    session.add(LayerChange(kind="workers", source=str(path), summary=report.counts))
    session.flush()
    return report


def _known_codes(session: Session, file_workers: set[str]) -> dict[str, set[str]]:
    return {
        "grid_code": {g.code for g in current_versions(session, datetime.now(UTC))},
        "district_code": set(session.scalars(select(District.code))),
        "department_code": set(session.scalars(select(Department.code))),
        "backup_code": set(session.scalars(select(Worker.code))) | file_workers,
    }


def _check_worker(number: int, row: dict[str, str], known: dict[str, set[str]],
                  seen: set[str]) -> list[Problem]:
    code = row["code"]
    label = code or f"line {number}"
    if not code or not row["name"]:
        return [row_problem("invalid_attribute", label,
                            f"line {number}: code and name are required")]
    problems = []
    if code in seen:
        problems.append(row_problem("duplicate_code", code,
                                    f"worker {code} appears more than once"))
    if row["role"] not in WORKER_ROLES:
        problems.append(row_problem("invalid_attribute", code,
                                    f"{code}: role {row['role']!r} is not one of "
                                    f"{', '.join(WORKER_ROLES)}"))
    if row["on_duty"].lower() not in YES + NO:
        problems.append(row_problem("invalid_attribute", code,
                                    f"{code}: on_duty {row['on_duty']!r} is not yes/no"))
    if row["role"] == "grid_worker" and not row["grid_code"]:
        problems.append(row_problem("orphan", code, f"{code}: a grid worker needs a grid_code"))
    for column, codes in known.items():
        if row[column] and row[column] not in codes:
            problems.append(row_problem("orphan", code,
                                        f"{code}: {column} {row[column]} does not exist"))
    if row["backup_code"] == code:
        problems.append(row_problem("invalid_attribute", code, f"{code}: is its own backup"))
    return problems

