"""When each report is due, as the service will work it out on import: the category's
resolve_hours, shortened by the zone rules (Taihu levels 1 and 2, key projects) and never later
than a county ticket's own deadline.

The builder needs it to decide which reports are still open when the history ends and how
many of those are overdue; the service keeps its own rule (gis_service/incidents/core/deadlines.py),
and tests/data/test_demo_load.py measures the result on the loaded town.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import shapely
from shapely.geometry.base import BaseGeometry

from demo_town.common import to_metric
from demo_town.people import CATEGORIES, ZONE_RULES


class Deadlines:
    """The zone rules over the zones and the key projects' areas, in metres."""

    def __init__(self, zones: list[tuple[str, str, int, BaseGeometry]],
                 projects: list[BaseGeometry]) -> None:
        self.resolve = {c.code: c.resolve_hours for c in CATEGORIES}
        self.levels = [(level, to_metric(geometry)) for _, _, level, geometry in zones
                       if level in (1, 2)]
        areas = [to_metric(p) for p in projects if p.geom_type.endswith("Polygon")]
        self.projects = shapely.union_all(areas)
        for _, geometry in self.levels:
            shapely.prepare(geometry)
        shapely.prepare(self.projects)
        # (zone level or None, in a project, categories, factor) per rule
        self.rules = [(int(level) if level else None, in_project == "yes",
                       frozenset(categories.split(";")), float(factor))
                      for _, level, in_project, categories, _, factor, _, _ in ZONE_RULES]

    def factor(self, category: str, x: float, y: float) -> float:
        """The shortest deadline factor of the rules that match this matter at this point."""
        levels = {level for level, geometry in self.levels
                  if shapely.contains_xy(geometry, x, y)}
        in_project = bool(shapely.contains_xy(self.projects, x, y))
        factors = [factor for level, project, categories, factor in self.rules
                   if category in categories and (level is None or level in levels)
                   and (not project or in_project)]
        return min(factors, default=1.0)

    def due(self, category: str, x: float, y: float, reported_at: datetime,
            county_due: datetime | None) -> datetime:
        """The moment the report must be resolved by."""
        hours = self.resolve[category] * self.factor(category, x, y)
        due = reported_at + timedelta(hours=hours)
        return min(due, county_due) if county_due is not None else due
