"""Importing the responsibility list (CSV, the contract's columns); departments must exist."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_service.grids.models import LayerChange
from gis_service.imports.readers import read_csv, require_columns
from gis_service.imports.report import ImportReport, row_problem
from gis_service.people.models import Department
from gis_service.responsibilities.models import HANDLERS, Category, ZoneRule
from grid_layers.validation import Problem

COLUMNS = ("category_code", "category_name", "handler", "department_code", "cooperating",
           "respond_hours", "resolve_hours")


def import_responsibilities(session: Session, path: Path, *, crs: str | None = None,
                            check_only: bool = False) -> ImportReport:
    """Check every row, then store each category (replacing one with the same code)."""
    rows = read_csv(path)
    require_columns(path, set(rows[0]) if rows else set(COLUMNS), COLUMNS)
    report = ImportReport("responsibilities", str(path), len(rows), checked_only=check_only)
    departments = set(session.scalars(select(Department.code)))
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        report.problems += _check(line, row, departments, seen)
        seen.add(row["category_code"])
    if report.problems or check_only:
        return report
    for row in rows:
        values = {
            "name": row["category_name"], "handler": row["handler"],
            "department_code": row["department_code"] or None,
            "cooperating": _codes(row["cooperating"]),
            "respond_hours": float(row["respond_hours"]),
            "resolve_hours": float(row["resolve_hours"]),
            "attributes": {k: v for k, v in row.items() if k not in COLUMNS},
        }
        stmt = insert(Category).values(code=row["category_code"], **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
    report.counts = {"stored": len(rows)}
    session.add(LayerChange(kind="responsibilities", source=str(path), summary=report.counts))
    session.flush()
    return report


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(";") if code.strip()]


def _check(line: int, row: dict[str, str], departments: set[str],
           seen: set[str]) -> list[Problem]:
    code = row["category_code"]
    label = code or f"line {line}"
    if not code or not row["category_name"]:
        return [row_problem("invalid_attribute", label, f"line {line}: code and name are required")]
    problems = []
    if code in seen:
        problems.append(row_problem("duplicate_code", code,
                                    f"category {code} appears more than once"))
    if row["handler"] not in HANDLERS:
        problems.append(row_problem("invalid_attribute", code,
                                    f"{code}: handler {row['handler']!r} is not one of "
                                    f"{', '.join(HANDLERS)}"))
    if row["handler"] == "department" and not row["department_code"]:
        problems.append(row_problem("orphan", code, f"{code}: handler department needs a "
                                    "department_code"))
    for department in [row["department_code"], *_codes(row["cooperating"])]:
        if department and department not in departments:
            problems.append(row_problem("orphan", code, f"{code}: department {department} does not "
                                        "exist (import departments first)"))
    for column in ("respond_hours", "resolve_hours"):
        try:
            hours = float(row[column])
        except ValueError:
            hours = -1.0
        if not hours > 0:
            problems.append(row_problem("invalid_attribute", code,
                                        f"{code}: {column} {row[column]!r} is not a positive "
                                        "number"))
    return problems



RULE_COLUMNS = ("code", "zone_level", "in_project", "categories", "priority",
                "deadline_factor", "cooperating")


def import_zone_rules(session: Session, path: Path, *, crs: str | None = None,
                      check_only: bool = False) -> ImportReport:
    """Zone rules (CSV `code,zone_level,in_project,categories,priority,deadline_factor,
    cooperating[,note]`): categories and cooperating are `;`-separated, `*` = every category."""
    rows = read_csv(path)
    require_columns(path, set(rows[0]) if rows else set(RULE_COLUMNS), RULE_COLUMNS)
    report = ImportReport("zone_rules", str(path), len(rows), checked_only=check_only)
    departments = set(session.scalars(select(Department.code)))
    values_by_code: dict[str, dict[str, object]] = {}
    for line, row in enumerate(rows, start=2):
        try:
            values = _rule_values(row)
        except ValueError as exc:
            report.problems.append(row_problem("invalid_attribute", row["code"] or f"line {line}",
                                               f"line {line}: {exc}"))
            continue
        if row["code"] in values_by_code:
            report.problems.append(row_problem("duplicate_code", row["code"],
                                               f"rule {row['code']} appears more than once"))
        for department in values["cooperating"]:  # type: ignore[attr-defined]
            if department not in departments:
                report.problems.append(row_problem("orphan", row["code"],
                                                   f"{row['code']}: department {department} "
                                                   "does not exist"))
        values_by_code[row["code"]] = values
    if report.problems or check_only:
        return report
    for code, values in values_by_code.items():
        stmt = insert(ZoneRule).values(code=code, **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
    report.counts = {"stored": len(values_by_code)}
    session.add(LayerChange(kind="zone_rules", source=str(path), summary=report.counts))
    session.flush()
    return report


def _rule_values(row: dict[str, str]) -> dict[str, object]:
    if not row["code"]:
        raise ValueError("code is required")
    level = int(row["zone_level"]) if row["zone_level"] else None
    factor = float(row["deadline_factor"] or 1)
    if not 0 < factor <= 10:
        raise ValueError(f"deadline_factor {factor} is not in (0, 10]")
    return {"zone_level": level, "in_project": row["in_project"].lower() in ("1", "true", "yes"),
            "categories": _codes(row["categories"]) or ["*"],
            "priority": int(row["priority"] or 0), "deadline_factor": factor,
            "cooperating": _codes(row["cooperating"]), "note": row.get("note", "")}
