"""Whether a report is placed by its address without a person: the one rule for the live
intake and the bulk import of history.

A report is placed at the geocoder's answer only when that answer is the place itself (a
house or a POI) and sure enough; a road's or a village's stand-in point, an address not sure
enough and an address naming another place wait in `needs_location` with the candidates, best
first, for the dispatcher to pick from (`GeocodeResult.auto_place`).

History is the one exception: a ticket that was handled and closed keeps a road's or village's
point. Its handling happened and is recorded; leaving thousands of old closed tickets unplaced
would empty the maps and reports of them and send nobody anywhere. Its history row says the
point is approximate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gis_service.errors import NotFoundError
from gis_service.geocode.area import ServiceArea
from gis_service.geocode.service import GeocodeResult, geocode

Answer = GeocodeResult | NotFoundError


@dataclass(frozen=True)
class Placing:
    """Where a report goes: its point (None: not placed), the geocoder's answer as its history
    records it, and the candidates a dispatcher picks from when it is not placed."""

    lon: float | None
    lat: float | None
    detail: dict[str, Any]
    candidates: list[dict[str, Any]] | None = None

    @property
    def placed(self) -> bool:
        """Whether the report is placed at (`lon`, `lat`)."""
        return self.lon is not None and self.lat is not None


def ask(session: Session, address: str, *, min_confidence: float,
        area: ServiceArea | None) -> Answer:
    """The geocoder's answer, or its refusal (with candidates and a reason)."""
    try:
        return geocode(session, address, min_confidence=min_confidence, area=area)
    except NotFoundError as exc:
        return exc


def placing(answer: Answer, *, handled: bool = False) -> Placing:
    """What the answer does to a report; `handled`: a closed ticket of history."""
    if isinstance(answer, NotFoundError):
        candidates = list(answer.extra.get("candidates", []))
        return Placing(None, None, {"placed": False, "candidates": len(candidates),
                                    "reason": answer.extra.get("reason")}, candidates)
    said = {"matched": answer.matched, "method": answer.method,
            "confidence": round(answer.confidence, 3)}
    if answer.auto_place:
        return Placing(answer.lon, answer.lat, {"placed": True, **said})
    if handled:
        return Placing(answer.lon, answer.lat, {"placed": True, **said, "approximate": True})
    return Placing(None, None, {"placed": False, **said, "candidates": len(answer.candidates),
                                "reason": answer.review_reason()}, list(answer.candidates))
