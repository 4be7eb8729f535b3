"""On irregular boundaries (a Voronoi town, shared edges exact), the locator's answers equal
PostGIS `ST_Covers` for random points and for every kind of boundary point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench.synthetic_town import build_town
from gis_service.imports.service import run_import
from gis_service.locate.service import LocatorCache

COVERING = text("""
    SELECT (SELECT min(code) FROM grid_version g WHERE g.level = :level AND g.valid_to IS NULL
              AND ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(x, y), 4490)))
    FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS t(x, y, i)
    ORDER BY i
""")


def _import_town(session: Session, folder: Path) -> dict[int, list]:
    town = build_town(seed=5, detailed=False)
    features = [{"type": "Feature", "geometry": geometry.__geo_interface__,
                 "properties": {"code": code, "name": code, "kind": "comprehensive",
                                "level": level,
                                "parent_code": None if level == 1 else code.rsplit("-", 1)[0]}}
                for level, grids in town.items() for code, geometry in grids]
    path = folder / "town.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    report = run_import(session, "grids", path)
    assert report.accepted, report.lines()[:5]
    session.commit()
    return town


def test_voronoi_town_equals_postgis(db_session: Session, session_factory: sessionmaker[Session],
                                     tmp_path: Path) -> None:
    town = _import_town(db_session, tmp_path)
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = town[1][0][1].bounds
    vertices = np.unique(np.vstack([shapely.get_coordinates(g) for _, g in town[3]]), axis=0)
    picked = vertices[rng.choice(len(vertices), size=min(600, len(vertices)), replace=False)]
    xs = np.concatenate([rng.uniform(minx, maxx, 3000), picked[:, 0]])
    ys = np.concatenate([rng.uniform(miny, maxy, 3000), picked[:, 1]])
    snapshot = LocatorCache(session_factory, refresh_seconds=0).current()
    layers = {1: snapshot.town_layer, 2: snapshot.grid2_layer, 3: snapshot.grid3_layer}
    for level, layer in layers.items():
        ours = [layer.codes[i] if i >= 0 else None for i in layer.locate(xs, ys).tolist()]
        theirs = db_session.execute(COVERING, {"level": level, "xs": xs.tolist(),
                                               "ys": ys.tolist()}).scalars().all()
        assert ours == theirs, f"level {level}"
        inside = [code for code in ours[:3000] if code is not None]
        assert len(inside) > 1000  # the sample really exercises the town
