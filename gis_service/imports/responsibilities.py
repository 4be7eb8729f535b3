"""Importing the responsibility list (CSV, the contract's columns); departments must exist.
`cooperating` may also name a grid team's role (`team:police_officer`, `team:police` for the
police group; people/team_roles.py): routing brings in that role's members where it lies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_service.grids.models import LayerChange
from gis_service.grids.queries import towns
from gis_service.imports.readers import read_csv, require_columns
from gis_service.imports.report import ImportReport, row_problem
from gis_service.people.models import Department
from gis_service.people.team_roles import TEAM_GROUPS, TEAM_PREFIX, TEAM_ROLES, roles_named
from gis_service.responsibilities.models import HANDLERS, Category, ZoneRule
from grid_layers.validation import Problem

COLUMNS = ("category_code", "category_name", "handler", "department_code", "cooperating",
           "respond_hours", "resolve_hours")


def import_responsibilities(session: Session, path: Path, *, crs: str | None = None,
                            check_only: bool = False) -> ImportReport:
    """Check every row, then store each duty (replacing the one of the same category and
    town). A row with a `town_code` overrides the county-wide row (no town) in that town."""
    rows = read_csv(path)
    require_columns(path, set(rows[0]) if rows else set(COLUMNS), COLUMNS)
    report = ImportReport("responsibilities", str(path), len(rows), checked_only=check_only)
    known = _Known(towns={t.code for t in towns(session, datetime.now(UTC))},
                   departments={code: town for code, town in session.execute(
                       select(Department.code, Department.town_code)
                       .where(Department.tier == "town"))},
                   county_departments=set(session.scalars(
                       select(Department.code).where(Department.tier == "county"))))
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(rows, start=2):
        report.problems += _check(line, row, known, seen)
        seen.add((row["category_code"], row.get("town_code") or ""))
    if report.problems or check_only:
        return report
    for row in rows:
        values = {
            "name": row["category_name"], "handler": row["handler"],
            "department_code": row["department_code"] or None,
            "cooperating": _codes(row["cooperating"]),
            "respond_hours": float(row["respond_hours"]),
            "resolve_hours": float(row["resolve_hours"]),
            "attributes": {k: v for k, v in row.items() if k not in (*COLUMNS, "town_code")},
        }
        stmt = insert(Category).values(code=row["category_code"],
                                       town_code=row.get("town_code") or None, **values)
        session.execute(stmt.on_conflict_do_update(constraint="uq_category_code_town",
                                                   set_=values))
    report.counts = {"stored": len(rows)}
    session.add(LayerChange(kind="responsibilities", source=str(path), summary=report.counts))
    session.flush()
    return report


@dataclass(frozen=True)
class _Known:
    """What rows may name: the towns, each town department's town (None: not tied to a
    town), and the county departments."""

    towns: set[str]
    departments: dict[str, str | None]
    county_departments: set[str]


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(";") if code.strip()]


def _check(line: int, row: dict[str, str], known: _Known,
           seen: set[tuple[str, str]]) -> list[Problem]:
    code = row["category_code"]
    label = code or f"line {line}"
    if not code or not row["category_name"]:
        return [row_problem("invalid_attribute", label, f"line {line}: code and name are required")]
    town = row.get("town_code") or ""
    problems = []
    if (code, town) in seen:
        where = f" in town {town}" if town else " county-wide"
        problems.append(row_problem("duplicate_code", code,
                                    f"category {code} appears more than once{where}"))
    if town and town not in known.towns:
        problems.append(row_problem("orphan", code, f"{code}: town_code {town} is not a town "
                                    "(a level-1 grid; import the grids first)"))
    if row["handler"] not in HANDLERS:
        problems.append(row_problem("invalid_attribute", code,
                                    f"{code}: handler {row['handler']!r} is not one of "
                                    f"{', '.join(HANDLERS)}"))
    if row["handler"] == "department" and not row["department_code"]:
        problems.append(row_problem("orphan", code, f"{code}: handler department needs a "
                                    "department_code"))
    if row["department_code"]:
        problems += _department_problems(code, town, row["department_code"], known)
    for partner in _codes(row["cooperating"]):
        problems += (_team_problems(code, partner) if partner.startswith(TEAM_PREFIX)
                     else _department_problems(code, town, partner, known))
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


def _team_problems(code: str, token: str) -> list[Problem]:
    """A `team:` entry must name a team role or group (people/team_roles.py)."""
    if roles_named(token) is not None:
        return []
    known = ", ".join(f"{TEAM_PREFIX}{name}" for name in (*TEAM_GROUPS, *TEAM_ROLES))
    return [row_problem("invalid_attribute", code,
                        f"{code}: cooperating {token!r} names no team role ({known})")]


def _department_problems(code: str, town: str, department: str, known: _Known) -> list[Problem]:
    """A row may name any county department, and a town department of its own town (or one
    tied to no town); a county-wide row naming one town's department would send every
    town's matters to it."""
    if department in known.county_departments:
        return []
    if department not in known.departments:
        return [row_problem("orphan", code, f"{code}: department {department} does not "
                            "exist (import departments first)")]
    belongs = known.departments[department]
    if belongs is None or belongs == town:
        return []
    where = f"town {town}'s row" if town else "a county-wide row"
    return [row_problem("invalid_attribute", code,
                        f"{code}: department {department} belongs to town {belongs}; "
                        f"{where} may name county departments and its own town's only")]


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
