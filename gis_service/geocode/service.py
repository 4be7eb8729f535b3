"""Placing a messy hotline address: trigram candidates, part-by-part evidence, the best level.

Levels, most precise first:
  house    the stored point of that village / road / number;
  poi      a named place;
  road     the road's point nearest in number to the number asked for (unknown number), or
           nearest the centre of its points (no number asked for);
  village  the village's point nearest the centre of its points.
The nearest search keys in trigrams (pg_trgm) give candidate points; this tolerates a wrong
character, a missing village or extra words. Each candidate then offers options (its house,
road, village, POI), scored as the level's weight times the evidence of each part the query
gives, each compared character by character (rapidfuzz) with the stored part; a village the
query names but the point is not in leaves at most 40%. A village read only from the first
characters of the query ("开弦弓南环路", "开弦弓小学") counts the same for houses and roads, but
not against a POI (七都农贸市场 stands in 庙港社区, not in 七都社区), and is not read at all when
two villages bear that name (庙港村, 庙港社区). A POI's name is also compared as callers say
it: without a town prefix (七都镇敬老院) or its village's 村/社区 (庙港村卫生室). A road
option whose road holds the number asked for becomes a house, so a road found through one
candidate still yields the exact house. An option with a rival almost as good at another
place (another village or road, over 100 m away) loses up to 55% of its score: an ambiguous
address ("幸福路18号" in two villages) is not placed but answered with its candidates.

Given the deployment's `ServiceArea`, an address that names another province, city, county
or town is refused (with its candidates at reduced confidence, and the reason), and a match
outside the town the address names keeps 40% of its score (`area.py`). Whether an answer may
place a report without a person seeing it is `GeocodeResult.auto_place`: a house or a POI, not
a road's or a village's stand-in point.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import Levenshtein
from sqlalchemy.orm import Session

from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.geocode import queries
from gis_service.geocode.area import ServiceArea, other_town_reason, outside_reason
from gis_service.geocode.normalize import (
    DEFAULT_PREFIXES,
    POI_KINDS,
    ROAD,
    AddressParts,
    AdminName,
    key_part,
    number_key,
    parse_cached,
    read_address,
    search_key,
    strip_prefixes,
)

DEFAULT_MIN_CONFIDENCE = 0.5
LEVEL_WEIGHT = {"house": 1.0, "poi": 0.95, "road": 0.9, "village": 0.7}
LEVEL_ORDER = {method: rank for rank, method in enumerate(LEVEL_WEIGHT)}
VILLAGE_FLOOR = 0.4  # the share of a score left when the query names another village
CANDIDATE_ROWS = 50
# Below the level gap between house and road (0.1), so a level alone makes no rival.
RIVAL_WINDOW = 0.08
RIVAL_DISTANCE_M = 100.0
TIE_FACTOR = 0.45  # an exact tie must fall below any sensible minimum confidence (≥ 0.5)
EVIDENCE_KNEE = (0.6, 0.8)  # (similarity, evidence) where the evidence curve bends
OTHER_KIND = 0.5  # 东庙桥超市 is not 东庙桥菜市场, however alike the names
VILLAGE_SUFFIXES = ("村", "社区", "小区")  # what a caller may leave off a village's name
# A match outside the town the address names keeps this share of its score; the candidates of
# an address naming another place keep this share of their confidence.
OTHER_TOWN = 0.4
# Levels whose point is the place asked for; a road's or a village's point only stands in for
# it (the road's nearest number, the village's middle), so a person must confirm it.
AUTO_PLACE_METHODS = frozenset({"house", "poi"})
LOW_CONFIDENCE_REASON = "没有足够把握的匹配地点"
STAND_IN_REASON = {"road": "只匹配到道路，未找到门牌，请人工确认位置",
                   "village": "只匹配到村（社区），请人工确认位置"}


@dataclass(frozen=True)
class GeocodeResult:
    """Where an address is, how sure, what it matched and how (with the runners-up)."""

    lon: float
    lat: float
    confidence: float
    matched: str
    method: str
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def auto_place(self) -> bool:
        """Whether a report may be placed here without a person: the one rule for intake and
        imports. A road or village fall-back goes to the console as a candidate."""
        return self.method in AUTO_PLACE_METHODS

    def review_reason(self) -> str | None:
        """Why a person must confirm this answer before a report is placed (None: no need)."""
        return None if self.auto_place else STAND_IN_REASON.get(self.method, LOW_CONFIDENCE_REASON)


@dataclass(frozen=True)
class _Row:
    """A candidate point's parts: `raw_*` as stored (for SQL), the others cleaned."""

    address: str
    raw_village: str | None
    raw_road: str | None
    village: str | None
    road: str | None
    number: str | None
    poi: str | None
    lon: float
    lat: float


@dataclass(frozen=True)
class _Option:
    """One way to place the query; `lon`/`lat` None until a road or village is placed."""

    method: str
    score: float
    matched: str
    village: str | None
    road: str | None
    lon: float | None = None
    lat: float | None = None
    wanted: str | None = None  # road: the number asked for
    house_score: float = 0.0  # road: its score as a house, should it hold that number
    confidence: float = 0.0

    @property
    def potential(self) -> float:
        """The best score this option can reach once placed."""
        return max(self.score, self.house_score)

    def as_candidate(self, share: float = 1.0) -> dict[str, Any]:
        """The option as a candidate a dispatcher may pick (`share` of its confidence)."""
        return {"address": self.matched, "matched": self.matched, "lon": self.lon,
                "lat": self.lat, "confidence": round(self.confidence * share, 3),
                "method": self.method}


def geocode(session: Session, query: str, *, limit: int = 5,
            min_confidence: float = DEFAULT_MIN_CONFIDENCE,
            area: ServiceArea | None = None) -> GeocodeResult:
    """Place a hotline address; NotFoundError with `candidates` and a `reason` when it cannot
    be placed. With the deployment's `area`, an address naming another place is refused."""
    if not query.strip():
        raise InvalidInputError("the address is empty")
    prefixes = area.prefixes if area else DEFAULT_PREFIXES
    read = read_address(query, prefixes=prefixes)
    asked = read.parts
    rows = _candidates(session, asked, prefixes)
    parts = _with_named_village(session, asked, rows)
    options = sorted(_best_options(parts, rows, village_written=asked.village is not None,
                                   prefixes=prefixes),
                     key=lambda o: (-o.potential, LEVEL_ORDER[o.method]))[: limit + 3]
    foreign = area.foreign(read.named) if area else None
    town = area.named_town(read.named) if area else None
    if foreign is not None:
        ranked = _rank(_place(session, parts, options))
        reason = outside_reason(foreign)
        raise NotFoundError(f"cannot place {query!r}: {reason}", reason=reason,
                            candidates=[o.as_candidate(OTHER_TOWN) for o in ranked[:limit]])
    # Only options that may still win need their point now (a village's costs most) …
    top = options[0].potential - RIVAL_WINDOW if options else 0.0
    placed = _place(session, parts, [o for o in options if o.potential >= top])
    ranked = _rank(_in_town(placed, area, town))
    if not ranked or ranked[0].confidence < min_confidence:
        # … but an address that cannot be placed is answered with every candidate.
        ranked = _rank(_in_town(_place(session, parts, options), area, town))
        reason = _low_reason(placed, area, town)
        raise NotFoundError(f"cannot place {query!r}", reason=reason,
                            candidates=[o.as_candidate() for o in ranked[:limit]])
    best = ranked[0]
    assert best.lon is not None and best.lat is not None
    return GeocodeResult(best.lon, best.lat, best.confidence, best.matched, best.method,
                         [o.as_candidate() for o in ranked[:limit]])


def _in_town(options: list[_Option], area: ServiceArea | None,
             town: AdminName | None) -> list[_Option]:
    """The placed options, those outside the town the address names with less score."""
    if area is None or town is None:
        return options
    return [o if o.lon is None or o.lat is None or area.other_town(town, o.lon, o.lat) is None
            else replace(o, score=o.score * OTHER_TOWN) for o in options]


def _low_reason(placed: list[_Option], area: ServiceArea | None,
                town: AdminName | None) -> str:
    """Why the best option was not sure enough: it lies in another town than the one named,
    or nothing matched well enough."""
    best = max(placed, key=lambda o: o.score, default=None)
    if area and town and best and best.lon is not None and best.lat is not None:
        found = area.other_town(town, best.lon, best.lat)
        if found:
            return other_town_reason(town.name, found)
    return LOW_CONFIDENCE_REASON


def _candidates(session: Session, asked: AddressParts, prefixes: tuple[str, ...]) -> list[_Row]:
    """The points whose keys are nearest the query's; and when a village's name opens a road
    no candidate has (庙港渔港路: 庙港 + 渔港路), also those nearest that road's key, which
    the first search misses among the many points of that village."""
    found = queries.candidate_rows(session, key=asked.key(), limit=CANDIDATE_ROWS)
    road = _road_after_village(asked, found)
    if road:
        seen = {row.id for row in found}
        key = search_key(None, road, asked.number, None)
        found += [row for row in queries.candidate_rows(session, key=key, limit=CANDIDATE_ROWS)
                  if row.id not in seen]
    return [_row(row, prefixes) for row in found]


def _road_after_village(asked: AddressParts,
                        found: list[queries.CandidateRow]) -> str | None:
    """The road left when a candidate village's name is taken off the front of the query's
    road, if it is a road name of its own (3+ characters) that no candidate has."""
    if not asked.road or asked.village:
        return None
    stems = {_village_stem(v) for v in (key_part(row.village) for row in found) if v}
    roads = {key_part(row.road) for row in found}
    for stem in sorted(stems, key=len, reverse=True):
        rest = asked.road[len(stem):]
        if (len(stem) >= 2 and asked.road.startswith(stem) and len(rest) >= 3
                and ROAD.fullmatch(rest) and rest not in roads):
            return rest
    return None


def _row(row: queries.CandidateRow, prefixes: tuple[str, ...]) -> _Row:
    """A candidate's parts; missing stored parts are parsed from its address."""
    parsed = None
    if row.village is None or (row.road is None and row.number is None):
        parsed = parse_cached(row.address, prefixes)
    return _Row(
        row.address, row.village, row.road,
        key_part(row.village) or (parsed.village if parsed else None),
        key_part(row.road) or (parsed.road if parsed else None),
        number_key(row.number) or (parsed.number if parsed else None),
        key_part(row.poi), row.lon, row.lat)


def part_similarity(asked: str, stored: str, tails: bool = True) -> float:
    """0–1: one less the share of characters to change (Levenshtein), also (`tails`) for the
    asked text's tail, so that words before a name ("开弦弓南环路", "有人在开弦弓村") do not
    hide it."""
    score = Levenshtein.normalized_similarity(asked, stored)
    if tails and len(stored) >= 3 and len(asked) > len(stored):
        tail = Levenshtein.normalized_similarity(asked[-len(stored):], stored)
        score = max(score, 0.95 * tail)
    return score


def village_similarity(asked: str, stored: str) -> float:
    """`part_similarity` of the names without 村/社区/小区 (开弦弓 is 开弦弓村), but of the
    whole names when both say which kind they are (庙港村 is not 庙港社区)."""
    asked_stem, stored_stem = _village_stem(asked), _village_stem(stored)
    if asked_stem != asked and stored_stem != stored and \
            asked[len(asked_stem):] != stored[len(stored_stem):]:
        return part_similarity(asked, stored)
    return part_similarity(asked_stem or asked, stored_stem or stored)


def _village_stem(village: str) -> str:
    return re.sub(f"({'|'.join(VILLAGE_SUFFIXES)})$", "", village)


def poi_similarity(asked: str, stored: str, tails: bool = True) -> float:
    """Like `part_similarity`, halved when the two name different kinds of place."""
    kinds = [next((k for k in POI_KINDS if name.endswith(k)), None)
             for name in (asked, stored)]
    same_kind = None in kinds or kinds[0] == kinds[1]
    return part_similarity(asked, stored, tails) * (1.0 if same_kind else OTHER_KIND)


@lru_cache(maxsize=16_384)
def poi_names(name: str, village: str | None,
              prefixes: tuple[str, ...] = DEFAULT_PREFIXES) -> tuple[str, ...]:
    """A POI's name as callers may say it: as it is, without a leading town prefix
    (七都镇敬老院 → 敬老院), and without its village's 村/社区 when the name opens with the
    village (庙港村卫生室 → 庙港卫生室)."""
    names = [name, strip_prefixes(name, prefixes)]
    if village and name.startswith(village) and len(name) > len(village):
        names.append(_village_stem(village) + name[len(village):])
    return tuple(dict.fromkeys(n for n in names if n))


def best_poi_similarity(asked: tuple[str, ...], stored: tuple[str, ...]) -> float:
    """`poi_similarity` of the names as they are, or of the other ways they may be said as
    whole names: a short form's tail (敬老院) would match every name that ends alike."""
    best = poi_similarity(asked[0], stored[0])
    return max(best, *(poi_similarity(a, s, tails=False) for a in asked for s in stored))


def evidence(similarity: float) -> float:
    """A part's similarity as evidence: none up to 0.3, 0.8 at 0.6, full only when equal.
    One wrong character in 3 (similarity 0.67) leaves 0.83, in 4 (0.75) 0.88: enough to place
    it, and far enough below an exact match that the exact one has no rival in it."""
    if similarity <= EVIDENCE_KNEE[0]:
        return max(similarity - 0.3, 0.0) / (EVIDENCE_KNEE[0] - 0.3) * EVIDENCE_KNEE[1]
    return EVIDENCE_KNEE[1] + (similarity - EVIDENCE_KNEE[0]) / (1.0 - EVIDENCE_KNEE[0]) * (
        1.0 - EVIDENCE_KNEE[1])


def _with_named_village(session: Session, parts: AddressParts,
                        rows: list[_Row]) -> AddressParts:
    """The parts with the village whose name, without 村/社区, opens the query
    ("开弦弓南环路18号", "开弦弓小学"), when the query named no village of its own; not when
    the name only opens a road's ("望湖路" is no mention of 望湖村), nor when two villages
    share it (庙港村, 庙港社区), nor from further in (七都大道53号七都农贸市场)."""
    if parts.village:
        return parts
    stem = _opening_stem(parts, rows)
    if stem is None:
        return parts
    villages = {r.village for r in rows if r.village and _village_stem(r.village) == stem}
    villages |= queries.villages_named(session, [stem + s for s in ("", *VILLAGE_SUFFIXES)])
    return replace(parts, village=villages.pop()) if len(villages) == 1 else parts


def _opening_stem(parts: AddressParts, rows: list[_Row]) -> str | None:
    """The longest candidate village name, without 村/社区, that opens the query's text
    other than as the start of a road name."""
    stems = {_village_stem(r.village) for r in rows if r.village}
    named = [stem for stem in stems if len(stem) >= 2
             and re.match(f"{re.escape(stem)}(?!大道|路|街|道|巷|弄)", parts.text)]
    return max(named, key=len) if named else None


def _village_evidence(parts: AddressParts, village: str | None) -> float | None:
    """Evidence for the stored village; None when either side says nothing of villages."""
    if not (village and parts.village):
        return None
    return evidence(village_similarity(parts.village, village))


def _road_similarity(parts: AddressParts, road: str) -> float:
    """`part_similarity` of the roads; "联强村前路" may also be 联强 + 村前路."""
    assert parts.road is not None
    score = part_similarity(parts.road, road)
    if parts.village and road.startswith(parts.village[-1]):
        score = max(score, part_similarity(parts.village[-1] + parts.road, road))
    return score


def _row_options(parts: AddressParts, row: _Row, village_written: bool,
                 prefixes: tuple[str, ...]) -> list[_Option]:
    """The options one candidate point offers: its house, its road, its village, its POI.
    A village only read from a name's first characters does not count against a POI: in
    七都农贸市场 or 太湖湖滨公园 they belong to the POI's name."""
    village = _village_evidence(parts, row.village)
    agrees = 1.0 if village is None else VILLAGE_FLOOR + (1.0 - VILLAGE_FLOOR) * village
    road = evidence(_road_similarity(parts, row.road)) if parts.road and row.road else None
    identity = (row.raw_village or row.village, row.raw_road or row.road)
    house = (road or 0.0) * agrees if parts.road else (village or 0.0)
    options = []
    if parts.number and row.number == parts.number and house and (
            parts.road or row.road is None):
        options.append(_Option("house", house, row.address, *identity, row.lon, row.lat))
    if road and row.raw_road:
        options.append(_Option("road", LEVEL_WEIGHT["road"] * road * agrees,
                               f"{row.raw_village or ''}{row.raw_road}", row.raw_village,
                               row.raw_road, wanted=parts.number,
                               house_score=house if parts.number else 0.0))
    if village and row.raw_village:
        options.append(_Option("village", LEVEL_WEIGHT["village"] * village, row.raw_village,
                               row.raw_village, None))
    poi = _poi_evidence(parts, row, prefixes)
    if poi:
        poi_agrees = agrees if village_written else 1.0
        options.append(_Option("poi", LEVEL_WEIGHT["poi"] * poi * poi_agrees, row.poi or "",
                               *identity, row.lon, row.lat))
    return options


def _poi_evidence(parts: AddressParts, row: _Row, prefixes: tuple[str, ...]) -> float | None:
    """Evidence for the stored POI, each name compared in the ways it may be said."""
    if not (parts.poi and row.poi):
        return None
    asked = poi_names(parts.poi, parts.village, prefixes)
    return evidence(best_poi_similarity(asked, poi_names(row.poi, row.village, prefixes)))


def _best_options(parts: AddressParts, rows: list[_Row], village_written: bool,
                  prefixes: tuple[str, ...]) -> list[_Option]:
    """Each distinct option once, with its best score; a road whose house was among the
    candidates has nothing more to find."""
    best: dict[tuple[str, str | None, str | None, str], _Option] = {}
    for row in rows:
        for option in _row_options(parts, row, village_written, prefixes):
            key = (option.method, option.village, option.road, option.matched)
            if key not in best or option.score > best[key].score:
                best[key] = option
    houses = {(o.village, o.road) for o in best.values() if o.method == "house"}
    return [replace(o, house_score=0.0) if (o.village, o.road) in houses else o
            for o in best.values()]


def _place(session: Session, parts: AddressParts, options: list[_Option]) -> list[_Option]:
    """Options with their point (roads and villages in one query), those without dropped; a
    road that holds the number asked for becomes that house."""
    pending = [o for o in options if o.lon is None]
    targets = [queries.PlaceTarget(o.village, o.road if o.method == "road" else None, o.wanted)
               for o in pending]
    points = dict(zip(map(id, pending), queries.place_points(session, targets), strict=True))
    placed = []
    for option in options:
        point = points.get(id(option))
        if point is not None:
            option = replace(option, lon=point.lon, lat=point.lat)
            if option.house_score and number_key(point.number) == parts.number:
                option = replace(option, method="house", score=option.house_score,
                                 matched=point.address)
        if option.lon is not None:
            placed.append(option)
    return placed


def _rank(options: list[_Option]) -> list[_Option]:
    """Options with their confidence (score, less when a rival is close), best first."""
    ranked: dict[tuple[str, str | None, str | None, str], _Option] = {}
    for option in options:
        rival = max((o.score for o in options if _rivals(o, option)), default=0.0)
        closeness = min(max((option.score - rival) / RIVAL_WINDOW, 0.0), 1.0)
        factor = TIE_FACTOR + (1.0 - TIE_FACTOR) * closeness
        ranked[(option.method, option.village, option.road, option.matched)] = replace(
            option, confidence=round(option.score * factor, 3))
    return sorted(ranked.values(), key=lambda o: (-o.confidence, LEVEL_ORDER[o.method]))


def _rivals(a: _Option, b: _Option) -> bool:
    """Whether two options point at different places: neither within the other, and apart."""
    nested = a.village == b.village and (a.road is None or b.road is None or a.road == b.road)
    return not nested and _distance_m(a, b) > RIVAL_DISTANCE_M


def _distance_m(a: _Option, b: _Option) -> float:
    """Metres between two placed options (equirectangular: fine at town scale)."""
    assert a.lon is not None and a.lat is not None and b.lon is not None and b.lat is not None
    dx = (a.lon - b.lon) * 111_320.0 * math.cos(math.radians((a.lat + b.lat) / 2))
    return math.hypot(dx, (a.lat - b.lat) * 110_574.0)
