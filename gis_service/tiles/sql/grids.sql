-- The grid versions valid at :now that reach into tile (:z, :x, :y), with code, name, level,
-- kind and parent_code. Parameters: z, x, y, margin (the buffer as a share of the tile),
-- extent, buffer, now.
-- Storage is CGCS2000 (4490); it is read as WGS84 (4326), which it matches to centimetres,
-- because PROJ's 4326 → 3857 path is several times faster than 4490 → 3857.
SELECT ST_AsMVT(tile, 'grids', :extent, 'geom')
FROM (
    SELECT code, name, level, kind, parent_code,
           ST_AsMVTGeom(ST_Transform(ST_SetSRID(geom, 4326), 3857),
                        ST_TileEnvelope(:z, :x, :y), :extent, :buffer, true) AS geom
    FROM grid_version
    WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4490)
      AND valid_from <= :now AND (valid_to IS NULL OR valid_to > :now)
    ORDER BY level NULLS LAST, code
) AS tile
WHERE geom IS NOT NULL
