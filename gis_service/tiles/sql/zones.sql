-- The protection zones that reach into tile (:z, :x, :y), with code, name and level.
-- Parameters and the 4326 reading: as in grids.sql.
SELECT ST_AsMVT(tile, 'zones', :extent, 'geom')
FROM (
    SELECT code, name, level,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(geom, 4326), 3857),
                        ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM zone
    WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4490)
    ORDER BY level DESC, code
) AS tile
WHERE geom IS NOT NULL
