"""Camera events in the intake: the cameras and scenes of a batch's events read once, the
(camera, scene) pairs locked, and for each event the incident it folds into, if any
(`incidents/core/detections.py` holds the rules).

Exact under concurrency: two detections of the same stall may arrive at once, in one batch,
in the two writer threads of a process, or in two processes. Before anything else a batch
takes a transaction-level advisory lock per (camera, scene) pair it carries
(`locks.VIDEO_FOLD`, keyed by a 32-bit hash of the pair; taken in key order, so two batches
never wait for each other in a cycle), then reads and row-locks the open incidents of those
pairs. A second transaction with the same pair waits for the first to commit and then sees
the incident it made. Folds within one batch are decided in arrival order in memory. A unique
index could not say this: the window lets a second open incident of the same pair exist once
the first went quiet.

A detection sent with an `external_id` is counted once: sent again, it is answered with its
incident (the first detection's id is the incident's own; a folded one's is kept in
`video_detection`)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from gis_service import locks
from gis_service.cameras.scenes import scene_name
from gis_service.cameras.service import CameraPlace
from gis_service.errors import DomainError, InvalidInputError
from gis_service.incidents import store
from gis_service.incidents.core.detections import Scene, fold, repeats
from gis_service.incidents.models import Incident, VideoDetection
from gis_service.timeutil import aware

if TYPE_CHECKING:
    from gis_service.incidents.service import Report

CERTAIN = 1.0  # an event without a confidence (a GB/T 28181 alarm carries none)


@dataclass(frozen=True)
class Detection:
    """A camera event as the intake takes it: which camera, which scene's row, how sure, and
    when it was seen (its `reported_at`, else when it arrived)."""

    camera: CameraPlace
    scene: Scene
    confidence: float
    seen_at: datetime

    @property
    def pair(self) -> tuple[str, str]:
        return self.camera.code, self.scene.scene

    def description(self) -> str:
        """What a camera's incident says when the event brought no words of its own."""
        return f"{self.camera.name}（{self.camera.code}）：{scene_name(self.scene.scene)}"

    def report_detail(self, placed_at_camera: bool) -> dict[str, object]:
        """What the history's report row says of the event."""
        return {"camera": self.camera.code, "scene": self.scene.scene,
                "confidence": self.confidence,
                "placed": "camera" if placed_at_camera else "event"}


def lock_key(camera: str, scene: str) -> int:
    """The pair's advisory-lock key (a collision only makes two pairs wait for each other)."""
    digest = hashlib.blake2b(f"{camera}\x1f{scene}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class CameraEvents:
    """The camera events of one batch (by their index in it), read and locked at once."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self.found: dict[int, Detection | DomainError] = {}
        self.earlier: dict[int, int] = {}  # index -> the incident its external id was taken by
        self.stored: dict[int, Incident] = {}  # the stored incidents read to fold into, by id
        # each pair's open incidents a detection may fold into, oldest first
        self._open: dict[tuple[str, str], list[Incident]] = {}

    @classmethod
    def read(cls, session: Session, reports: Sequence[Report],
             window: timedelta) -> CameraEvents:
        """Lock the (camera, scene) pairs the batch's camera events name, then read their
        cameras, scenes, earlier external ids and the open incidents they may fold into
        (row-locked): one round trip."""
        events = cls(window)
        indexed = [(i, r) for i, r in enumerate(reports) if r.body.camera_code is not None]
        if not indexed:
            return events
        named = sorted({(r.body.camera_code or "", r.body.scene or "") for _, r in indexed})
        since = min(_seen_at(r) for _, r in indexed) - window  # last seen late enough
        found = store.lock_and_read(
            session, space=locks.VIDEO_FOLD, keys=sorted({lock_key(*p) for p in named}),
            pairs=named, external_ids=sorted({r.body.external_id for _, r in indexed
                                              if r.body.external_id}),
            since=since)
        cameras = {code: CameraPlace(*row) for code, row in found.cameras.items()}
        scenes = {name: Scene(*row) for name, row in found.scenes.items()}
        for index, report in indexed:
            detection = events.found[index] = _detection(report, cameras, scenes)
            if isinstance(detection, Detection) and report.body.external_id in found.taken:
                events.earlier[index] = found.taken[report.body.external_id]
        for incident in found.open:
            assert incident.camera_code is not None and incident.scene is not None
            events.stored[incident.id] = incident
            events._open.setdefault((incident.camera_code, incident.scene), []).append(incident)
        return events

    def folds_into(self, index: int) -> tuple[Incident, dict[str, object]] | None:
        """The incident the event at `index` folds into, counted in at once (later events of
        the batch see it), and what its history row will say; None: it opens an incident."""
        detection = self.found[index]
        assert isinstance(detection, Detection)
        for into in reversed(self._open.get(detection.pair, [])):  # the newest first
            if repeats(into, detection.seen_at, self.window):
                return into, fold(into, detection.seen_at, detection.confidence)
        return None

    def opened(self, index: int, incident: Incident) -> None:
        """The event at `index` made a new incident: the pair's next events fold into it."""
        detection = self.found[index]
        assert isinstance(detection, Detection)
        self._open.setdefault(detection.pair, []).append(incident)


def _detection(report: Report, cameras: dict[str, CameraPlace],
               scenes: dict[str, Scene]) -> Detection | DomainError:
    body = report.body
    code, name = body.camera_code or "", body.scene or ""
    camera = cameras.get(code)
    if camera is None:
        return InvalidInputError(f"没有编号为 {code} 的摄像机：请先导入（gis-service import "
                                 "cameras）", camera_code=code)
    scene = scenes.get(name)
    if scene is None:
        return InvalidInputError(f"没有视频场景 {name!r}：请先导入（gis-service import "
                                 "video_scenes）或由指挥中心添加", scene=name)
    if body.category is not None and body.category != scene.category:
        return InvalidInputError(f"类别 {body.category} 与场景 {name} 的类别 {scene.category} "
                                 "不符：不写类别，或写场景的类别", scene=name,
                                 category=scene.category)
    confidence = CERTAIN if body.confidence is None else body.confidence
    return Detection(camera, scene, confidence, _seen_at(report))


def _seen_at(report: Report) -> datetime:
    """When a camera saw it: the event's `reported_at`, else when it arrived."""
    return aware(report.body.reported_at) or report.now


def folded_into(session: Session, external_id: str) -> int | None:
    """The incident a folded detection of this external id counted into, or None."""
    return session.scalar(select(VideoDetection.incident_id)
                          .where(VideoDetection.external_id == external_id))
