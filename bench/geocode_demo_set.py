"""A labelled set of messy hotline queries on the demo town's gazetteer.

    load_points(path)             the 8,197 points of `data/demo/addresses.csv` (18 villages,
                                  two town roads numbered across villages, 128 POIs)
    build_queries(points, seed)   ~870 queries roughed up from known points by
                                  `bench.geocode_set.QueryMaker`, each labelled with the level
                                  it should be placed at and the true coordinates

Besides the kinds of the synthetic set, the demo town has POIs named after the town, the lake
or another village (七都农贸市场 in 庙港社区, 东庙桥丝绸厂 in 浦江源社区), POIs named without
any (湖滨公园, asked as 太湖湖滨公园), and POIs two villages hold under one name once their
村/社区 is dropped (庙港村卫生室, 庙港社区卫生室: "庙港卫生室" cannot be placed).
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from pathlib import Path

from bench.geocode_set import (
    AREA_WORDS,
    AddressPoint,
    Query,
    QueryMaker,
    common_makers,
)

DEMO_CSV = Path(__file__).resolve().parent.parent / "data" / "demo" / "addresses.csv"
TOWN_PREFIX = "七都镇"  # every stored address opens with it; the query maker adds its own


def load_points(path: Path = DEMO_CSV) -> list[AddressPoint]:
    """The demo gazetteer's rows, addresses without their town prefix."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [AddressPoint(row["address"].removeprefix(TOWN_PREFIX), float(row["lon"]),
                             float(row["lat"]), row["village"], row["road"] or None,
                             row["number"] or None, row["poi"] or None)
                for row in csv.DictReader(handle)]


def build_queries(points: list[AddressPoint], seed: int = 11) -> list[Query]:
    """About 870 labelled messy queries derived from the demo gazetteer."""
    rng = random.Random(seed)
    q = QueryMaker(rng, points)
    named = named_pois(points)
    shared = shared_poi_names(points)
    makers = [*common_makers(q), (40, lambda: q.poi_named(named, "poi_town")),
              (20, q.poi_area_prefix), (10, lambda: ambiguous_poi(rng, q, shared))]
    return [make() for count, make in makers for _ in range(count)]


def named_pois(points: list[AddressPoint]) -> set[str | None]:
    """POIs whose names open with the town's or lake's name or another village's."""
    stems = {_stem(p.village) for p in points}
    return {p.poi for p in points if p.poi and (
        p.poi.startswith(AREA_WORDS)
        or any(p.poi.startswith(s) and s != _stem(p.village) for s in stems))}


def shared_poi_names(points: list[AddressPoint]) -> dict[str, list[AddressPoint]]:
    """POI names two villages hold once the village's 村/社区 is dropped (庙港卫生室)."""
    said: dict[str, list[AddressPoint]] = defaultdict(list)
    for p in points:
        if p.poi and p.poi.startswith(p.village):
            said[_stem(p.village) + p.poi[len(p.village):]].append(p)
    return {name: pois for name, pois in said.items()
            if len({p.village for p in pois}) > 1}


def ambiguous_poi(rng: random.Random, q: QueryMaker,
                  shared: dict[str, list[AddressPoint]]) -> Query:
    """A POI name two villages hold, said without 村/社区: not to be placed."""
    name = rng.choice(sorted(shared))
    after = rng.choice(("", "", "门口", "附近"))
    return q._query(f"{rng.choice(('', '七都镇', '在'))}{name}{after}", "poi_ambiguous", "none",
                    shared[name][0])


def _stem(village: str) -> str:
    return village.removesuffix("社区").removesuffix("村")
