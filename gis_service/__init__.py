"""Grid management and dispatch GIS service."""
