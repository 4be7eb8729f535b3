"""OGC API – Features (Part 1 Core, GeoJSON, OpenAPI 3.0; Part 2 CRS by reference) at /ogc/."""
