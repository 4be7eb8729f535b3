"""What the rules read of a point (`Located`, the codes) says what the locate API answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from gis_service.locate.located import Located
from gis_service.locate.service import LocatorCache
from gis_service.locate.snapshot import Result

EDGES_X = (120.40, 120.405, 120.41, 120.415, 120.42)
EDGES_Y = (30.90, 30.905, 30.91, 30.915, 30.92)


def _as_codes(answer: Result) -> Located:
    """The API's nested answer reduced to its codes."""
    def code(key: str) -> str | None:
        return answer[key]["code"] if answer[key] else None

    return Located(code("town"), code("grid2"), code("grid3"), code("district"),
                   answer["district"]["squad_code"] if answer["district"] else None,
                   tuple(s["code"] for s in answer["special"]),
                   tuple(z["code"] for z in answer["zones"]),
                   frozenset(int(z["level"]) for z in answer["zones"]), code("county"))


def test_a_quarter_with_its_squad_and_zone_levels(
        town: dict[str, Path], session_factory: sessionmaker[Session]) -> None:
    located = LocatorCache(session_factory, refresh_seconds=0).current().where(120.402, 30.902)
    assert (located.town, located.grid2, located.grid3, located.district, located.squad) == \
        ("T", "T-A", "T-A-1", "D1", "Q1")
    assert located.zones == ("Z1", "Z2") and located.zone_levels
    assert located.in_service_area


def test_outside_every_town_is_nowhere(
        town: dict[str, Path], session_factory: sessionmaker[Session]) -> None:
    located = LocatorCache(session_factory, refresh_seconds=0).current().where(121.0, 31.0)
    assert located == Located() and not located.in_service_area


def test_codes_equal_the_api_answer_one_by_one_and_in_batch(
        town: dict[str, Path], session_factory: sessionmaker[Session]) -> None:
    snapshot = LocatorCache(session_factory, refresh_seconds=0).current()
    rng = np.random.default_rng(11)
    lon = np.concatenate([rng.uniform(120.39, 120.43, 400), np.repeat(EDGES_X, 5)])
    lat = np.concatenate([rng.uniform(30.89, 30.93, 400), np.tile(EDGES_Y, 5)])
    expected = [_as_codes(snapshot.locate_point(x, y)) for x, y in zip(lon, lat, strict=True)]
    assert [snapshot.where(x, y) for x, y in zip(lon, lat, strict=True)] == expected
    many = snapshot.where_many(lon, lat)
    assert many == expected
    # points in the same areas share one value (the bulk import caches by it)
    assert len({id(value) for value in many}) == len(set(many))
