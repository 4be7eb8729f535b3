"""Placing a history file's address-only rows (hotline tickets) with the geocoder, as intake
places an address-only report: sure enough → the point; not → candidates for a dispatcher."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from tqdm import tqdm

from gis_service.errors import NotFoundError
from gis_service.geocode.service import geocode


@dataclass
class Geocoded:
    """Per row: what the geocoder said (None: the row had coordinates or no address) and the
    candidates of a row it could not place."""

    detail: list[dict[str, Any] | None]
    candidates: list[list[dict[str, Any]] | None]


def geocode_addresses(session: Session, addresses: list[str | None], lon: list[float],
                      lat: list[float], crs: list[str], *, min_confidence: float,
                      progress: bool = False) -> Geocoded:
    """Geocode every row without coordinates that has an address; placed rows get storage
    coordinates written into `lon`, `lat` and `crs`. Each distinct address is asked once."""
    wanted = [i for i, address in enumerate(addresses)
              if address and math.isnan(lon[i])]
    answers: dict[str, tuple[dict[str, Any], list[dict[str, Any]] | None, float, float]] = {}
    result = Geocoded([None] * len(addresses), [None] * len(addresses))
    for i in tqdm(wanted, desc="geocoding", unit="row", disable=not progress, mininterval=0.5):
        address = addresses[i]
        assert address is not None
        if address not in answers:
            answers[address] = _ask(session, address, min_confidence)
        detail, candidates, x, y = answers[address]
        result.detail[i], result.candidates[i] = detail, candidates
        if candidates is None:
            lon[i], lat[i], crs[i] = x, y, "cgcs2000"  # the geocoder answers in storage CRS
    return result


def _ask(session: Session, address: str, min_confidence: float,
         ) -> tuple[dict[str, Any], list[dict[str, Any]] | None, float, float]:
    try:
        found = geocode(session, address, min_confidence=min_confidence)
    except NotFoundError as exc:
        candidates = exc.extra.get("candidates", [])
        return {"placed": False, "candidates": len(candidates)}, candidates, math.nan, math.nan
    return ({"placed": True, "matched": found.matched, "method": found.method,
             "confidence": round(found.confidence, 3)}, None, found.lon, found.lat)
