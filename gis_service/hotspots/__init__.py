"""Hotspots and early warning, and the health of the responsibility list."""
