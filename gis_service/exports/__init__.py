"""Layer exports as GeoPackage, GeoJSON or CSV files, written with GDAL (pyogrio)."""
