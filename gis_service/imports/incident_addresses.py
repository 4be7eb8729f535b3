"""Placing a history file's address-only rows (hotline tickets) with the geocoder, by the rule
intake follows (`gis_service/geocode/placing.py`): the place itself, sure enough, in this
deployment's area → the point; otherwise → candidates for a dispatcher. A closed ticket keeps
a road's or village's stand-in point: it was handled, and its history says it is approximate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from tqdm import tqdm

from gis_service.geocode.area import ServiceArea
from gis_service.geocode.placing import Answer, Placing, ask, placing


@dataclass
class Geocoded:
    """Per row: what the geocoder said and did (None: the row had coordinates or no
    address), with the candidates of a row left unplaced."""

    placings: list[Placing | None]

    def detail(self, i: int) -> dict[str, Any] | None:
        """What row `i`'s history records of the geocoder (None: it was not asked)."""
        found = self.placings[i]
        return None if found is None else found.detail

    def candidates(self, i: int) -> list[dict[str, Any]] | None:
        """The candidates of row `i` when it was left unplaced."""
        found = self.placings[i]
        return None if found is None or found.placed else found.candidates


def geocode_addresses(session: Session, addresses: list[str | None], lon: list[float],
                      lat: list[float], crs: list[str], *, handled: list[bool],
                      min_confidence: float, area: ServiceArea | None,
                      progress: bool = False) -> Geocoded:
    """Geocode every row without coordinates that has an address; placed rows get storage
    coordinates written into `lon`, `lat` and `crs`. Each distinct address is asked once;
    `handled` says which rows are closed tickets."""
    wanted = [i for i, address in enumerate(addresses)
              if address and math.isnan(lon[i])]
    answers: dict[str, Answer] = {}
    result = Geocoded([None] * len(addresses))
    for i in tqdm(wanted, desc="geocoding", unit="row", disable=not progress, mininterval=0.5):
        address = addresses[i]
        assert address is not None
        if address not in answers:
            answers[address] = ask(session, address, min_confidence=min_confidence, area=area)
        found = result.placings[i] = placing(answers[address], handled=handled[i])
        if found.lon is not None and found.lat is not None:
            lon[i], lat[i], crs[i] = found.lon, found.lat, "cgcs2000"  # the storage CRS
    return result
