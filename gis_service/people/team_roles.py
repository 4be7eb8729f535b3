"""The people of a grid beyond its grid worker ("1+1+N", Baoying; "三长六员", Guanlin): their
roles, and how a responsibility row names them as cooperating handlers.

Baoying works each grid with one grid worker, one police group (a community officer and an
auxiliary) and N social volunteers, and each village names a grid liaison. Guanlin organises
its grid center as "three heads, six officers"; the article names the structure, not the
posts, so the posts below are this service's reading of the common form (a deployment whose
posts differ keeps theirs in the row's attributes under the nearest role).

A responsibility row's `cooperating` may name a role as `team:<role>` — or `team:police` for
the police group (officer and auxiliary) — beside department codes: a matter of that category
then brings in the members of that role in the grid where it lies (the level-3 grid's, else its
village's), by their codes (incidents/core/routing.py)."""

from __future__ import annotations

TEAM_ROLES: dict[str, str] = {
    # 1+1+N: the police group, the social force, the village's liaison
    "police_officer": "社区民警",
    "police_auxiliary": "辅警",
    "volunteer": "志愿者",
    "liaison": "网格联络员",
    # 三长
    "grid_head": "网格长",
    "group_head": "村民小组长",
    "household_head": "联户长",
    # 六员
    "information_officer": "信息员",
    "mediator": "调解员",
    "safety_officer": "安全员",
    "environment_officer": "环保员",
    "publicity_officer": "宣传员",
    "service_officer": "服务员",
}
TEAM_GROUPS: dict[str, tuple[str, ...]] = {"police": ("police_officer", "police_auxiliary")}
TEAM_PREFIX = "team:"


def roles_named(token: str) -> tuple[str, ...] | None:
    """The roles a `team:` token names (a group names several); None when the token is not
    `team:` followed by a role or group."""
    if not token.startswith(TEAM_PREFIX):
        return None
    name = token.removeprefix(TEAM_PREFIX)
    if name in TEAM_GROUPS:
        return TEAM_GROUPS[name]
    return (name,) if name in TEAM_ROLES else None


def split_cooperating(codes: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...],
                                                                   tuple[str, ...]]:
    """A row's `cooperating` as (department codes, team roles), each in order, once."""
    departments: list[str] = []
    roles: list[str] = []
    for code in codes:
        if code.startswith(TEAM_PREFIX):
            roles += roles_named(code) or ()  # an unknown role is refused on import
        else:
            departments.append(code)
    return tuple(dict.fromkeys(departments)), tuple(dict.fromkeys(roles))
