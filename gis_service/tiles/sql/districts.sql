-- The enforcement districts that reach into tile (:z, :x, :y), with code, name and squad.
-- Parameters and the 4326 reading: as in grids.sql.
SELECT ST_AsMVT(tile, 'districts', :extent, 'geom')
FROM (
    SELECT code, name, squad_code, squad_name,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(geom, 4326), 3857),
                        ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM district
    WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4490)
    ORDER BY code
) AS tile
WHERE geom IS NOT NULL
