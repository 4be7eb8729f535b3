-- The key projects that reach into tile (:z, :x, :y), with code, name, status and department.
-- Parameters and the 4326 reading: as in grids.sql.
SELECT ST_AsMVT(tile, 'projects', :extent, 'geom')
FROM (
    SELECT code, name, status, department_code AS department,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(geom, 4326), 3857),
                        ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM project
    WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4490)
    ORDER BY code
) AS tile
WHERE geom IS NOT NULL
