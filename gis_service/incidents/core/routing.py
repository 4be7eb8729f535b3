"""Who handles an incident: the responsibility list's handler for its category in its town
(a town's own row, else the county-wide one), resolved at its place (grid worker with AB
backup, district squad, department, the town center or the county center), who cooperates
(the row's departments, and the members of the grid team's roles it names, found where the
incident lies), and what the zone rules add there. Every decision says why, for the history.
Everything routing reads is one `RoutingBook`, held in memory
(`gis_service/incidents/routing_book.py` loads it)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from gis_service.incidents.core.case import Case
from gis_service.locate.located import Located
from grid_layers.locator import OverlayLayer

# the county center's assignee code in a deployment with no county grid (level 0) above its
# towns; with one, the county center is named by the county grid's code
COUNTY_CENTER = "county"


@dataclass(frozen=True)
class Post:
    """A worker's post as routing sees it."""

    code: str
    name: str
    on_duty: bool
    backup_code: str | None


@dataclass(frozen=True)
class Rule:
    """A category's duty in the responsibility list: county-wide (`town` None) or a town's."""

    code: str
    handler: str  # grid, squad, department, town, county
    department_code: str | None
    cooperating: tuple[str, ...]  # department codes
    respond_hours: float
    resolve_hours: float
    town: str | None = None
    # grid team roles that cooperate (`team:<role>` in the list; people/team_roles.py)
    team_roles: tuple[str, ...] = ()

    def why(self) -> dict[str, Any]:
        """Which row decided, as the history names it: the category, and whose duty row
        (a town's own, or the county-wide one)."""
        return {"rule": self.code, "duty": self.town or "county-wide", "handler": self.handler}


@dataclass(frozen=True)
class Assignment:
    """The handler chosen and the reasons."""

    type: str  # grid_worker, squad, department, town, county
    code: str
    cooperating: tuple[str, ...]
    why: dict[str, Any] = field(default_factory=dict)


@dataclass
class Directory:
    """The people routing may choose from: grid workers by grid code, every post by code, and
    each grid's team (grid code -> role -> member codes)."""

    grid_workers: dict[str, list[Post]]
    posts: dict[str, Post]
    teams: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def team(self, roles: tuple[str, ...], located: Located) -> tuple[str, ...]:
        """The codes of the members of `roles` where the incident lies: for each role, the
        level-3 grid's members, else its village's (level 2); none when neither has one."""
        found: list[str] = []
        for role in roles:
            for grid in (located.grid3, located.grid2):
                members = self.teams.get(grid or "", {}).get(role, ())
                if members:
                    found += members
                    break
        return tuple(dict.fromkeys(found))


def route(rule: Rule, located: Located, directory: Directory) -> Assignment:
    """The handler for a located incident of a known category."""
    town = located.town
    assert town is not None, "route only incidents inside a town"
    why = rule.why()
    cooperating = rule.cooperating
    if rule.team_roles:  # the one place a grid team joins as cooperating
        team = directory.team(rule.team_roles, located)
        why["team"] = {"roles": list(rule.team_roles), "members": list(team)}
        cooperating = tuple(dict.fromkeys(cooperating + team))
    if rule.handler == "department" and rule.department_code:
        return Assignment("department", rule.department_code, cooperating, why)
    if rule.handler == "county":
        return Assignment("county", located.county or COUNTY_CENTER, cooperating, why)
    if rule.handler == "squad":
        if located.district is not None and located.squad is not None:
            why["district"] = located.district
            return Assignment("squad", located.squad, cooperating, why)
        why["fallback"] = "no enforcement district here: the town center"
        return Assignment("town", town, cooperating, why)
    if rule.handler == "grid":
        return _grid_post(located, directory, town, cooperating, why)
    return Assignment("town", town, cooperating, why)


def _grid_post(located: Located, directory: Directory, town: str,
               cooperating: tuple[str, ...], why: dict[str, Any]) -> Assignment:
    """The level-3 grid's A post, else its B post (AB岗), else the level-2 grid's worker, else
    the town center."""
    for level, grid in (("grid3", located.grid3), ("grid2", located.grid2)):
        if grid is None:
            continue
        for post in directory.grid_workers.get(grid, []):
            if post.on_duty:
                return Assignment("grid_worker", post.code, cooperating,
                                  {**why, level: grid, "post": "A"})
            backup = directory.posts.get(post.backup_code or "")
            if backup is not None and backup.on_duty:
                return Assignment("grid_worker", backup.code, cooperating,
                                  {**why, level: grid, "post": "B", "absent": post.code})
    return Assignment("town", town, cooperating,
                      {**why, "fallback": "no grid worker on duty: the town center"})


@dataclass(frozen=True)
class ZoneRuleData:
    """A zone rule as routing sees it (see responsibilities.models.ZoneRule)."""

    code: str
    zone_level: int | None
    in_project: bool
    categories: tuple[str, ...]
    priority: int
    deadline_factor: float
    cooperating: tuple[str, ...]


@dataclass(frozen=True)
class Adjustment:
    """What the matching zone rules change: priority, deadline factor, extra co-handlers."""

    priority: int = 0
    deadline_factor: float = 1.0
    cooperating: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()


def adjust(rules: list[ZoneRuleData], category: str, zone_levels: set[int],
           in_project: bool) -> Adjustment:
    """Combine every rule that matches: the highest priority, the shortest deadline."""
    matching = [r for r in rules
                if ("*" in r.categories or category in r.categories)
                and (r.zone_level is None or r.zone_level in zone_levels)
                and (not r.in_project or in_project)
                and (r.zone_level is not None or r.in_project)]
    if not matching:
        return Adjustment()
    return Adjustment(
        priority=max(r.priority for r in matching),
        deadline_factor=min(r.deadline_factor for r in matching),
        cooperating=tuple(sorted({d for r in matching for d in r.cooperating})),
        rules=tuple(r.code for r in matching))


NO_ADJUSTMENT = Adjustment()


@dataclass(frozen=True)
class RoutingBook:
    """The routing data of one moment."""

    rules: dict[str, Rule]  # the county-wide duty of each category
    town_rules: dict[tuple[str, str], Rule]  # (category, town) -> that town's own duty
    county_of: dict[str, str]  # town -> the county grid above it (when there is one)
    department_towns: dict[str, str]  # a town department -> its town (county ones absent)
    zone_rules: list[ZoneRuleData]
    directory: Directory
    projects: OverlayLayer
    # (assignee type, code) -> the name a person reads: workers, squads, departments, centers
    handler_names: dict[tuple[str, str], str]

    def rule(self, category: str | None, town: str | None) -> Rule | None:
        """The duty of a category in a town: the town's own row, else the county-wide one."""
        if not category:
            return None
        return self.town_rules.get((category, town or "")) or self.rules.get(category)

    def county_center(self, town: str | None) -> str:
        """The county center above a town: the county grid's code (or the fixed code when
        no county grid is loaded)."""
        return self.county_of.get(town or "", COUNTY_CENTER)

    def handler_name(self, kind: str, code: str) -> str | None:
        """The name of a handler, or None when unknown."""
        return self.handler_names.get((kind, code))

    def in_project(self, lon: float, lat: float) -> bool:
        """True when the point lies in a key project's area."""
        return bool(self.projects.locate_point(lon, lat))

    def handler(self, located: Located, rule: Rule) -> Assignment:
        """The assignment the rule names for this place."""
        return route(rule, located, self.directory)

    def adjustment(self, case: Case, located: Located) -> Adjustment:
        """What the zone rules say for this matter at this place."""
        if not self.zone_rules or case.category_code is None or case.lon is None:
            return NO_ADJUSTMENT
        in_project = self.in_project(case.lon, case.lat or 0.0)
        found = adjust(self.zone_rules, case.category_code, set(located.zone_levels),
                       in_project)
        # zone rules hold county-wide: a town department they name joins its own town's
        # matters only
        own = tuple(d for d in found.cooperating
                    if self.department_towns.get(d, located.town) == located.town)
        return found if own == found.cooperating else replace(found, cooperating=own)
