"""Which area scope each role takes, checked against what exists now.

A scope decides what an account sees (gis_service/incidents/scope.py reads it): a grid
worker's grid, a squad's district (or its squad code, what incidents are assigned to), a
department's code, a grid team member's own member code (what an incident's `cooperating`
names), a dispatcher's or commander's town (a town center) or county (the county
center, which sees every town under it), a planner's town or county (what their plans may
change: plans/edits.py). A code that names nothing makes an account that sees nothing and says
nothing about why, so it is refused here, naming the code and what the role expects. Admins
see everywhere and take no scope rather than one that would mislead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from gis_service.errors import InvalidInputError
from gis_service.grids.models import GridVersion
from gis_service.grids.queries import valid_at
from gis_service.people.models import Department, GridTeamMember
from gis_service.places.models import District

LEVEL_KINDS = {0: "county", 1: "town", 2: "grid", 3: "grid"}  # what a grid's level makes it
GRID_LEVELS = {0: "区县网格（0 级）", 1: "镇级网格（1 级）", 2: "二级网格", 3: "三级网格"}


@dataclass(frozen=True)
class ScopeRule:
    """What a role's scope may be: whether it needs one, which kinds, and how to say so."""

    required: bool
    kinds: frozenset[str]  # "county", "town", "grid", "district", "squad", "department",
    # "team"
    expected: str


ROLE_SCOPES: dict[str, ScopeRule] = {
    "admin": ScopeRule(False, frozenset(), "不带范围（看全部）"),
    "commander": ScopeRule(False, frozenset({"county", "town"}),
                           "区县网格（0 级）或镇级网格（1 级）编号，或不带范围"),
    "planner": ScopeRule(False, frozenset({"county", "town"}),
                         "区县网格（0 级）或镇级网格（1 级）编号，或不带范围（可改全部）"),
    "dispatcher": ScopeRule(False, frozenset({"county", "town"}),
                            "区县网格（0 级）或镇级网格（1 级）编号，或不带范围"),
    "grid_worker": ScopeRule(True, frozenset({"grid"}), "现有的二级或三级网格编号"),
    "squad": ScopeRule(True, frozenset({"district", "squad"}), "执法片区编号或中队编号"),
    "department": ScopeRule(True, frozenset({"department"}), "部门编号"),
    "team": ScopeRule(True, frozenset({"team"}), "网格力量成员编号（grid_team 的 code）"),
}


def _kinds_of(session: Session, code: str) -> dict[str, str]:
    """What `code` names now: kind -> a description ("grid" for levels 2 and 3 only)."""
    found: dict[str, str] = {}
    levels = session.scalars(select(GridVersion.level).where(
        GridVersion.code == code, valid_at(datetime.now(UTC)))).all()
    for level in levels:
        kind = LEVEL_KINDS.get(level, "other grid") if level is not None else "other grid"
        found[kind] = GRID_LEVELS.get(level, "专属网格") if level is not None else "专属网格"
    district = session.execute(select(District.code, District.squad_code).where(
        or_(District.code == code, District.squad_code == code))).first()
    if district is not None:
        if district.code == code:
            found["district"] = "执法片区"
        if district.squad_code == code:
            found["squad"] = "执法中队"
    if session.scalar(select(Department.id).where(Department.code == code)) is not None:
        found["department"] = "部门"
    if session.scalar(select(GridTeamMember.id).where(GridTeamMember.code == code)) is not None:
        found["team"] = "网格力量成员"
    return found


def check_scope(session: Session, *, role: str, scope_code: str | None) -> str | None:
    """The scope to store for `role` (None for none); InvalidInputError (422) naming the code
    and what the role expects when it names nothing, the wrong kind of thing, or is missing."""
    rule = ROLE_SCOPES.get(role)
    if rule is None:
        raise InvalidInputError(f"未知角色 {role!r}；角色为 {'、'.join(ROLE_SCOPES)}")
    code = (scope_code or "").strip() or None
    if code is None:
        if rule.required:
            raise InvalidInputError(f"{role} 账号需要范围：{rule.expected}")
        return None
    if not rule.kinds:
        raise InvalidInputError(f"{role} 账号{rule.expected}：请去掉范围 {code!r}")
    kinds = _kinds_of(session, code)
    if rule.kinds & kinds.keys():
        return code
    if not kinds:
        raise InvalidInputError(f"范围 {code!r} 不存在：{role} 账号的范围应为{rule.expected}")
    what = "、".join(dict.fromkeys(kinds.values()))
    raise InvalidInputError(f"范围 {code!r} 是{what}，不能作 {role} 账号的范围："
                            f"应为{rule.expected}")
