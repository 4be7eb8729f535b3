"""Video scenes: what a camera reports, as a matter of the responsibility list.

A scene is an algorithm's label (店外经营, 暴露垃圾, 占道经营 … vendor words, not standard
codes) or a GB/T 28181 video alarm type written `gb28181:<type>` (AlarmMethod 5, types 1–12
below). Each row names its category and when a detection of it waits for a person
(`incidents/core/detections.py`). The rows are data: `gis-service import video_scenes FILE`
states the rows it names (others are kept), and the command center changes one row with
`PUT /api/v1/video-scenes/{scene}`; both check a row here, the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis_service.cameras.models import VideoScene
from gis_service.errors import InvalidInputError
from gis_service.grids.models import LayerChange
from gis_service.incidents.core.detections import Scene
from gis_service.responsibilities.models import Category

ALARM_PREFIX = "gb28181:"
# GB/T 28181-2016 Appendix A: the alarm types of a video alarm (AlarmMethod 5)
VIDEO_ALARM_TYPES = {
    1: "人工视频报警", 2: "运动目标检测报警", 3: "遗留物检测报警", 4: "物体移除检测报警",
    5: "绊线检测报警", 6: "入侵检测报警", 7: "逆行检测报警", 8: "徘徊检测报警",
    9: "流量统计报警", 10: "密度检测报警", 11: "视频异常检测报警", 12: "快速移动报警",
}
SCENE_MAX = 64
YES = ("1", "true", "yes", "y", "是")
NO = ("", "0", "false", "no", "n", "否")


def scene_problem(scene: str) -> str | None:
    """What is wrong with a scene's name, or None."""
    if not scene or scene != scene.strip():
        return "a scene is a non-empty name without spaces around it"
    if len(scene) > SCENE_MAX:
        return f"a scene name has at most {SCENE_MAX} characters"
    if scene.lower().startswith(ALARM_PREFIX):
        number = scene[len(ALARM_PREFIX):]
        if scene[:len(ALARM_PREFIX)] != ALARM_PREFIX or not number.isdigit() \
                or int(number) not in VIDEO_ALARM_TYPES or number != str(int(number)):
            return (f"{scene!r}: a GB/T 28181 video alarm is {ALARM_PREFIX}<type>, the type "
                    f"1–{max(VIDEO_ALARM_TYPES)}")
    return None


def scene_name(scene: str) -> str:
    """The scene as a person reads it: an alarm type's name, else the scene itself."""
    if scene.startswith(ALARM_PREFIX) and scene_problem(scene) is None:
        return VIDEO_ALARM_TYPES[int(scene[len(ALARM_PREFIX):])]
    return scene


@dataclass(frozen=True)
class SceneValues:
    """A scene row's values as given (text, from a file or a request)."""

    scene: str
    category_code: str
    min_confidence: str
    dwell_seconds: str
    needs_confirmation: str


def parse(values: SceneValues, categories: set[str]) -> Scene | list[str]:
    """The scene row, or what is wrong with it (each problem names the scene)."""
    problems = []
    label = values.scene or "(no scene)"
    named = scene_problem(values.scene)
    if named:
        problems.append(named)
    if values.category_code not in categories:
        problems.append(f"{label}: category_code {values.category_code!r} is not in the "
                        "responsibility list")
    confidence = _number(values.min_confidence)
    if confidence is None or not 0.0 <= confidence <= 1.0:
        problems.append(f"{label}: min_confidence {values.min_confidence!r} is not a number "
                        "from 0 to 1")
    dwell = _number(values.dwell_seconds) if values.dwell_seconds else 0.0
    if dwell is None or dwell < 0 or dwell != int(dwell):
        problems.append(f"{label}: dwell_seconds {values.dwell_seconds!r} is not a whole "
                        "number of seconds, 0 or more")
    flag = values.needs_confirmation.strip().lower()
    if flag not in YES + NO:
        problems.append(f"{label}: needs_confirmation {values.needs_confirmation!r} is not "
                        "yes/no")
    if problems:
        return problems
    assert confidence is not None and dwell is not None
    return Scene(values.scene, values.category_code, confidence, int(dwell), flag in YES)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def categories(session: Session) -> set[str]:
    """The codes of the responsibility list (county-wide or any town's)."""
    return set(session.scalars(select(Category.code).distinct()))


def store(session: Session, scenes: list[Scene], *, by: str, source: str, now: datetime,
          attributes: dict[str, dict[str, Any]] | None = None) -> None:
    """Create or replace scene rows (`by`: who, "import" for a file; `source`: the file or
    the request, for the layer-change log); the caller commits."""
    for scene in scenes:
        values = {"category_code": scene.category, "min_confidence": scene.min_confidence,
                  "dwell_seconds": scene.dwell_seconds,
                  "needs_confirmation": scene.needs_confirmation,
                  "attributes": (attributes or {}).get(scene.scene, {}),
                  "updated_by": by, "updated_at": now}
        stmt = insert(VideoScene).values(scene=scene.scene, **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["scene"], set_=values))
    session.add(LayerChange(kind="video_scenes", source=source[:400],
                            summary={"stored": len(scenes),
                                     "scenes": [s.scene for s in scenes][:50]}))
    session.flush()


def all_scenes(session: Session) -> list[VideoScene]:
    """Every scene row, by name."""
    return list(session.scalars(select(VideoScene).order_by(VideoScene.scene)))


def put_scene(session: Session, values: SceneValues, *, by: str, now: datetime) -> VideoScene:
    """Create or replace one scene row, checked as an imported row is, and commit it; 422
    listing what is wrong otherwise."""
    found = parse(values, categories(session))
    if not isinstance(found, Scene):
        raise InvalidInputError("；".join(found), problems=found)
    store(session, [found], by=by, source=f"PUT /api/v1/video-scenes by {by}", now=now)
    session.commit()
    row = session.get(VideoScene, found.scene)
    assert row is not None
    return row
