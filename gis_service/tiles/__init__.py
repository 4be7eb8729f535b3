"""Mapbox vector tiles of the map layers and incidents, made by PostGIS (`/tiles/...pbf`)."""
