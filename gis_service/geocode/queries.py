"""Geocoder SQL: trigram candidates on the search key, and the point standing for a road or
village. Every value is a bound parameter."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_service.addresses.models import AddressPoint


@dataclass(frozen=True)
class CandidateRow:
    """A stored address point that resembles the query, with its trigram similarity."""

    id: int
    address: str
    village: str | None
    road: str | None
    number: str | None
    poi: str | None
    lon: float
    lat: float
    similarity: float


@dataclass(frozen=True)
class PlaceTarget:
    """A road (village + road) or a whole village (road None), and the number asked for
    ("18" or "18-2"; None: the point nearest the centre)."""

    village: str | None
    road: str | None
    number: str | None


@dataclass(frozen=True)
class PlacePoint:
    """The point chosen for a target, and how many points the target has."""

    address: str
    number: str | None
    lon: float
    lat: float
    points: int


def candidate_rows(session: Session, *, key: str, limit: int) -> list[CandidateRow]:
    """The `limit` points whose search key is nearest `key` in trigrams, nearest first.

    A KNN search on the GiST trigram index: no similarity threshold to tune, and it stops
    after `limit` rows instead of scoring every row that shares a trigram with the key. (Any
    further ORDER BY term, even a tie-breaker, would turn it into a scan of the table.)
    """
    if not key:
        return []
    point = AddressPoint
    stmt = (select(point.id, point.address, point.village, point.road, point.number, point.poi,
                   func.ST_X(point.geom), func.ST_Y(point.geom),
                   func.similarity(point.search_key, key))
            .order_by(point.search_key.op("<->")(key)).limit(limit))
    return [CandidateRow(*row) for row in session.execute(stmt)]


# Which of the names some stored point has as its village (one index probe per name).
VILLAGES_SQL = text("""
SELECT n FROM unnest(CAST(:names AS text[])) AS n
WHERE EXISTS (SELECT 1 FROM address_point a WHERE coalesce(a.village, '') = n)
""")


def villages_named(session: Session, names: list[str]) -> set[str]:
    """The names among `names` that are villages of stored points."""
    if not names:
        return set()
    return set(session.scalars(VILLAGES_SQL, {"names": names}))


# For each target, its points (a village's, or one road's in a village) and the one chosen:
# the number asked for, else the nearest number to it, else the point nearest the centre of
# them all, so the answer is always a real address point on that road or in that village.
PLACE_SQL = text("""
WITH target AS (
  SELECT t.*, CAST(substring(t.wanted FROM '[0-9]+') AS numeric) AS wanted_main
  FROM unnest(CAST(:villages AS text[]), CAST(:roads AS text[]), CAST(:numbers AS text[]))
       WITH ORDINALITY AS t(village, road, wanted, i)
), member AS (
  SELECT t.i, t.wanted, t.wanted_main, a.address, a.number, a.geom
  FROM target t JOIN address_point a
    ON coalesce(a.village, '') = t.village AND (t.road IS NULL OR a.road = t.road)
), centre AS (
  SELECT i, ST_Centroid(ST_Collect(geom)) AS geom, count(*) AS points FROM member GROUP BY i
)
SELECT DISTINCT ON (m.i) m.i, m.address, m.number, ST_X(m.geom), ST_Y(m.geom), c.points
FROM member m JOIN centre c ON c.i = m.i
ORDER BY m.i,
         m.wanted IS NOT NULL AND address_number_key(m.number) IS DISTINCT FROM m.wanted,
         abs(CAST(substring(normalize(m.number, NFKC) FROM '[0-9]+') AS numeric)
             - m.wanted_main) NULLS LAST,
         m.geom <-> c.geom, m.address
""")


def place_points(session: Session, targets: list[PlaceTarget]) -> list[PlacePoint | None]:
    """The point standing for each target (None for a target without points), in order."""
    if not targets:
        return []
    rows = session.execute(PLACE_SQL, {
        "villages": [t.village or "" for t in targets], "roads": [t.road for t in targets],
        "numbers": [t.number for t in targets]})
    found = {row[0]: PlacePoint(*row[1:]) for row in rows}
    return [found.get(i) for i in range(1, len(targets) + 1)]
