-- The cameras in tile (:z, :x, :y), with code, name, device_type, direction (degrees from
-- north; absent when unknown) and ptz_type (GB/T 28181 PTZType). Parameters and the 4326
-- reading: as in grids.sql.
SELECT ST_AsMVT(tile, 'cameras', :extent, 'geom')
FROM (
    SELECT code, name, device_type, direction, ptz_type,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(geom, 4326), 3857),
                        ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM camera
    WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4490)
    ORDER BY code
) AS tile
WHERE geom IS NOT NULL
