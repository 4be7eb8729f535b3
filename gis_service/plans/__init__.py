"""Boundary plans: planners redraw grids in a draft, see what is wrong and what it would move,
and publish it as new immutable grid versions from a date."""
