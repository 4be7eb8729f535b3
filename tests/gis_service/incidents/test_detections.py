"""The camera detection rules without a database: why a detection waits, which repeats fold
into an incident, what a fold counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from gis_service.incidents.core.detections import (
    BEFORE_DWELL,
    BY_A_PERSON,
    LOW_CONFIDENCE,
    Scene,
    fold,
    repeats,
    waits,
)

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=30)


@dataclass
class Seen:
    """The fields of a camera's incident the rules read."""

    status: str = "dispatched"
    reported_at: datetime = T0
    last_seen_at: datetime | None = T0
    detections: int | None = 1
    confidence: float | None = 0.7


@pytest.mark.parametrize(("scene", "confidence", "after", "reasons"), [
    (Scene("暴露垃圾", "GARBAGE", 0.5, 0, False), 0.9, 0, []),
    (Scene("暴露垃圾", "GARBAGE", 0.5, 0, False), 0.5, 0, []),  # at the threshold: sure enough
    (Scene("暴露垃圾", "GARBAGE", 0.5, 0, False), 0.49, 0, [LOW_CONFIDENCE]),
    (Scene("店外经营", "BUILDING", 0.6, 180, False), 0.9, 179, [BEFORE_DWELL]),
    (Scene("店外经营", "BUILDING", 0.6, 180, False), 0.9, 180, []),
    (Scene("gb28181:6", "FLOOD", 0.0, 0, True), 1.0, 600, [BY_A_PERSON]),
    (Scene("店外经营", "BUILDING", 0.6, 180, True), 0.1, 0,
     [BY_A_PERSON, LOW_CONFIDENCE, BEFORE_DWELL]),
])
def test_why_a_detection_waits(scene: Scene, confidence: float, after: int,
                               reasons: list[str]) -> None:
    assert waits(scene, confidence, T0, T0 + timedelta(seconds=after)) == reasons


def test_which_detections_fold_into_an_incident() -> None:
    case = Seen(last_seen_at=T0 + timedelta(minutes=10))
    assert repeats(case, T0 + timedelta(minutes=40), WINDOW)  # 30 minutes after the last
    assert not repeats(case, T0 + timedelta(minutes=40, seconds=1), WINDOW)
    assert repeats(case, T0 - timedelta(minutes=30), WINDOW)  # sent late, in its span
    assert not repeats(case, T0 - timedelta(minutes=31), WINDOW)
    for status in ("needs_confirmation", "needs_location", "reported", "accepted", "returned"):
        assert repeats(Seen(status=status), T0, WINDOW), status
    for status in ("resolved", "verified", "closed", "rejected"):
        assert not repeats(Seen(status=status), T0, WINDOW), status


def test_a_fold_counts_the_detection_and_keeps_the_newest_time_and_surest_confidence() -> None:
    case = Seen()
    detail = fold(case, T0 + timedelta(minutes=5), 0.9)
    assert (case.detections, case.last_seen_at, case.confidence) == (
        2, T0 + timedelta(minutes=5), 0.9)
    assert detail == {"detections": 2, "confidence": 0.9,
                      "seen_at": (T0 + timedelta(minutes=5)).isoformat()}
    fold(case, T0 + timedelta(minutes=1), 0.2)  # sent late
    assert (case.detections, case.last_seen_at, case.confidence) == (
        3, T0 + timedelta(minutes=5), 0.9)
