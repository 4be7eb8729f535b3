"""Where a point falls, as the rules read it: the code of each layer covering it.

The locate API answers in the contract's nested shape (names, kinds, the grid's worker); the
rules that place and route an incident need only the codes, typed, so they read this."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Located:
    """The codes of the areas covering one point (None or empty: no such area there)."""

    town: str | None = None
    grid2: str | None = None
    grid3: str | None = None
    district: str | None = None
    squad: str | None = None  # the district's enforcement squad
    special: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    zone_levels: frozenset[int] = frozenset()  # the protection levels of those zones
    county: str | None = None  # the county grid, when the deployment has one (level 0)

    @property
    def in_service_area(self) -> bool:
        """True inside one of the deployment's towns."""
        return self.town is not None

