-- The village service stations in tile (:z, :x, :y), with code, name and grid_code.
-- Parameters and the 4326 reading: as in grids.sql.
SELECT ST_AsMVT(tile, 'stations', :extent, 'geom')
FROM (
    SELECT code, name, grid_code,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(geom, 4326), 3857),
                        ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM station
    WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4490)
    ORDER BY code
) AS tile
WHERE geom IS NOT NULL
