"""Camera detections as the rules see them, with no I/O: which detection waits for a person,
which repeats the incident a camera already raised (and folds into it), and what a fold
changes. `incidents/video.py` reads the cameras and scenes and holds the lock that makes a
fold exact under concurrency.

A camera's algorithm sees the same roadside stall every minute. The first detection of a
scene by a camera makes an incident; a detection of the same scene by the same camera while
that incident is still in hand and was last seen at most a window ago
(`GIS_VIDEO_FOLD_MINUTES`; one sent late folds into the incident whose span it falls in)
folds into it: its count and last-seen time grow and its history gains a row, nothing else
changes (not its version: a dispatcher's If-Match stays good while the camera keeps seeing the
stall). Once its handler reports it solved, or a person rejected it, the next detection is a
new matter.

A detection waits in `needs_confirmation`, unassigned, when its scene's row says a person must
look (`needs_confirmation`), when it is less sure than the scene's `min_confidence`, or before
the stall has stayed the scene's `dwell_seconds` since it was first seen. A person's `confirm`
routes it as a new report is routed; `reject` ends it. When the scene needs no person, a later
detection that is sure enough, once the stall has stayed long enough, confirms it itself
(deployments flag a stall only after it stays 3–5 minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from gis_service.incidents.core.assigning import route_by_book, route_new
from gis_service.incidents.core.case import Case, EventRow, next_event, state_of
from gis_service.incidents.core.lifecycle import OPEN_STATES
from gis_service.incidents.core.routing import RoutingBook
from gis_service.locate.located import Located

# a detection folds into an incident in these states; after the handler said it is solved
# (resolved, verified) or it ended (closed, rejected), the next detection is a new incident
FOLDS_INTO = OPEN_STATES - {"resolved", "verified"}

# why a detection waits (the history's `reason` and `reasons`; the pages' labels.js)
BY_A_PERSON = "the scene needs a person's confirmation"
LOW_CONFIDENCE = "below the scene's confidence"
BEFORE_DWELL = "before the dwell time"
# why the service confirmed a waiting detection itself
SEEN_LONG_ENOUGH = "seen again, sure enough and long enough"


@dataclass(frozen=True)
class Scene:
    """A scene's row: the category its detections are, and when one waits for a person."""

    scene: str
    category: str
    min_confidence: float
    dwell_seconds: int
    needs_confirmation: bool


class Detected(Case, Protocol):
    """A camera's incident: when it was first and last seen, how often, how surely."""

    reported_at: datetime
    confidence: float | None
    detections: int | None
    last_seen_at: datetime | None


def waits(scene: Scene, confidence: float, first_seen: datetime,
          seen_at: datetime) -> list[str]:
    """Why a detection seen at `seen_at` (of a stall first seen at `first_seen`) waits for a
    person; none when it may be routed at once."""
    reasons = []
    if scene.needs_confirmation:
        reasons.append(BY_A_PERSON)
    if confidence < scene.min_confidence:
        reasons.append(LOW_CONFIDENCE)
    if (seen_at - first_seen).total_seconds() < scene.dwell_seconds:
        reasons.append(BEFORE_DWELL)
    return reasons


def repeats(case: Detected, seen_at: datetime, window: timedelta) -> bool:
    """Whether a detection seen at `seen_at` folds into the case (of the same camera and
    scene): the case is still in hand and the detection falls in its span of detections
    widened by `window` either side (one sent late is not taken for a new stall)."""
    return (case.status in FOLDS_INTO and case.last_seen_at is not None
            and case.reported_at - window <= seen_at <= case.last_seen_at + window)


def fold(case: Detected, seen_at: datetime, confidence: float) -> dict[str, Any]:
    """Count one more detection into the case; what the history row says of it."""
    case.detections = (case.detections or 1) + 1
    last = case.last_seen_at
    case.last_seen_at = seen_at if last is None or seen_at > last else last
    case.confidence = max(case.confidence or 0.0, confidence)
    return {"detections": case.detections, "confidence": confidence,
            "seen_at": seen_at.isoformat()}


def first_routing(book: RoutingBook, case: Detected, located: Located | None, now: datetime,
                  scene: Scene, confidence: float) -> list[EventRow]:
    """A new camera incident's first routing: outside the towns it waits for a place (as any
    report); a detection that must wait waits for a person, unassigned; otherwise it is
    routed by its scene's category as a new report is."""
    if located is not None and located.in_service_area:
        reasons = waits(scene, confidence, case.reported_at, case.reported_at)
        if reasons:
            before = state_of(case)
            case.status = "needs_confirmation"
            return [next_event(case, actor="system", action="needs_confirmation", at=now,
                               before=before,
                               detail={"reason": reasons[0], "reasons": reasons,
                                       "confidence": confidence,
                                       "min_confidence": scene.min_confidence,
                                       "dwell_seconds": scene.dwell_seconds})]
    return route_new(book, case, located, now, None)


def confirmed_by_detection(book: RoutingBook, case: Detected, located: Located,
                           now: datetime, scene: Scene, confidence: float,
                           seen_at: datetime) -> EventRow | None:
    """A waiting case confirmed by a later detection of a scene that needs no person, sure
    enough, once the stall has stayed long enough: routed, a new version, the history row;
    None when it still waits."""
    if (case.status != "needs_confirmation" or not located.in_service_area
            or waits(scene, confidence, case.reported_at, seen_at)):
        return None
    before = state_of(case)
    why = route_by_book(book, case, located, now)
    if why is None:  # no duty row for its category here: a person decides
        return None
    case.version += 1
    return next_event(case, actor="system", action="confirm", at=now, before=before,
                      detail={**why, "reason": SEEN_LONG_ENOUGH, "confidence": confidence,
                              "seen_at": seen_at.isoformat()})
