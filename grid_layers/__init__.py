"""The geometry core: shapely, pyproj and h3 only; knows nothing of the web or the database."""
