"""The in-process locator on stored boundaries: fixed cases and equality with PostGIS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gis_service.locate.service import LocatorCache
from gis_service.locate.snapshot import LocatorSnapshot

EDGES_X = (120.40, 120.405, 120.41, 120.415, 120.42)
EDGES_Y = (30.90, 30.905, 30.91, 30.915, 30.92)


def _snapshot(session_factory: sessionmaker[Session]) -> LocatorSnapshot:
    return LocatorCache(session_factory, refresh_seconds=0).current()


def _codes(answer: dict, key: str) -> object:
    value = answer[key]
    if isinstance(value, list):
        return [item["code"] for item in value]
    return value["code"] if value else None


def test_point_inside_a_quarter(town: dict[str, Path],
                                session_factory: sessionmaker[Session]) -> None:
    answer = _snapshot(session_factory).locate_point(120.402, 30.902)
    assert answer["in_service_area"] is True
    assert [_codes(answer, k) for k in ("town", "grid2", "grid3", "district")] == \
        ["T", "T-A", "T-A-1", "D1"]
    assert _codes(answer, "zones") == ["Z1", "Z2"]
    assert answer["district"]["squad_code"] == "Q1"
    assert answer["worker"] == {"code": "W1", "name": "张三"}


def test_shared_boundary_goes_to_the_smallest_code(
        town: dict[str, Path], session_factory: sessionmaker[Session]) -> None:
    snapshot = _snapshot(session_factory)
    on_edge = snapshot.locate_point(120.41, 30.905)
    assert (_codes(on_edge, "grid2"), _codes(on_edge, "grid3")) == ("T-A", "T-A-1")
    corner = snapshot.locate_point(120.41, 30.91)
    assert _codes(corner, "grid3") == "T-A-1"
    assert _codes(corner, "special") == ["S-SCHOOL"]
    assert _codes(snapshot.locate_point(120.42, 30.92), "grid3") == "T-B-2"


def test_outside_the_town(town: dict[str, Path], session_factory: sessionmaker[Session]) -> None:
    answer = _snapshot(session_factory).locate_point(120.5, 30.95)
    assert answer["in_service_area"] is False
    assert answer["grid3"] is None and answer["worker"] is None and answer["zones"] == []


def test_absent_worker_is_covered_by_the_backup(
        town: dict[str, Path], session_factory: sessionmaker[Session]) -> None:
    answer = _snapshot(session_factory).locate_point(120.415, 30.902)
    assert _codes(answer, "grid3") == "T-B-1"
    assert answer["worker"]["code"] == "W4"  # W3 is off duty; W4 is W3's B post


def test_batch_equals_single_point_answers(
        town: dict[str, Path], session_factory: sessionmaker[Session]) -> None:
    snapshot = _snapshot(session_factory)
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(120.39, 120.43, 500), np.repeat(EDGES_X, 5)])
    lat = np.concatenate([rng.uniform(30.89, 30.93, 500), np.tile(EDGES_Y, 5)])
    batch = snapshot.locate_many(lon, lat)
    assert batch == [snapshot.locate_point(x, y) for x, y in zip(lon, lat, strict=True)]


POSTGIS_ANSWER = text("""
    SELECT p.i,
           (SELECT min(code) FROM grid_version g WHERE g.level = 2 AND g.valid_to IS NULL
              AND ST_Covers(g.geom, p.pt)) AS grid2,
           (SELECT min(code) FROM grid_version g WHERE g.level = 3 AND g.valid_to IS NULL
              AND ST_Covers(g.geom, p.pt)) AS grid3,
           (SELECT min(code) FROM district d WHERE ST_Covers(d.geom, p.pt)) AS district,
           (SELECT coalesce(array_agg(code ORDER BY code), '{}') FROM grid_version g
              WHERE g.level IS NULL AND g.valid_to IS NULL AND ST_Covers(g.geom, p.pt)) AS special
    FROM (SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4490) AS pt
          FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS t(x, y, i))
         AS p ORDER BY p.i
""")

coordinate_x = st.one_of(st.sampled_from(EDGES_X), st.floats(120.395, 120.425))
coordinate_y = st.one_of(st.sampled_from(EDGES_Y), st.floats(30.895, 30.925))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(points=st.lists(st.tuples(coordinate_x, coordinate_y), min_size=1, max_size=60))
def test_answers_equal_postgis_covers(
        town: dict[str, Path], session_factory: sessionmaker[Session], db_session: Session,
        points: list[tuple[float, float]]) -> None:
    snapshot = _snapshot(session_factory)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    expected = db_session.execute(POSTGIS_ANSWER, {"xs": xs, "ys": ys}).all()
    answers = snapshot.locate_many(np.array(xs), np.array(ys))
    for row, answer in zip(expected, answers, strict=True):
        got = (_codes(answer, "grid2"), _codes(answer, "grid3"), _codes(answer, "district"),
               _codes(answer, "special"))
        assert got == (row.grid2, row.grid3, row.district, list(row.special))
        if answer["in_service_area"]:
            assert answer["grid2"] is not None and answer["grid3"] is not None
