"""Video scenes: `gis-service import video_scenes FILE` (each row checked: a scene name or
gb28181:<1-12>, a category of the responsibility list, a confidence from 0 to 1, whole seconds,
yes/no; the file rejected whole on any problem), and the command center's API to list them and
change one row (GET/PUT /api/v1/video-scenes), which the next detection follows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cameras.models import VideoScene
from gis_service.cameras.scenes import scene_problem
from gis_service.cli import app
from gis_service.imports.service import run_import
from tests.gis_service.cameras.conftest import SCENES, write_scenes
from tests.town import write_town

TokenFor = Callable[[str, str | None], dict[str, str]]


def stored(db_session: Session) -> dict[str, tuple[str, float, int, bool]]:
    return {s.scene: (s.category_code, s.min_confidence, s.dwell_seconds, s.needs_confirmation)
            for s in db_session.scalars(select(VideoScene))}


def test_scenes_are_stored_and_a_second_file_replaces_the_rows_it_names(
        db_session: Session, scenes: Path, tmp_path: Path) -> None:
    assert stored(db_session) == {"暴露垃圾": ("GARBAGE", 0.5, 0, False),
                                  "店外经营": ("BUILDING", 0.6, 180, False),
                                  "gb28181:6": ("FLOOD", 0.0, 0, True)}
    again = write_scenes(tmp_path, [["暴露垃圾", "POLLUTION", "0.7", "", "是"]], "again.csv")
    report = run_import(db_session, "video_scenes", again)
    assert report.accepted and report.counts == {"stored": 1}
    assert stored(db_session)["暴露垃圾"] == ("POLLUTION", 0.7, 0, True)
    assert len(stored(db_session)) == 3


def test_a_bad_row_rejects_the_whole_file_naming_it(
        db_session: Session, town: dict[str, Path], tmp_path: Path) -> None:
    rows = [*SCENES,
            ["占道经营", "STALLS", "0.5", "0", "no"],        # no such category
            ["沿街晾晒", "GARBAGE", "1.5", "0", "no"],       # confidence beyond 1
            ["乱堆物料", "GARBAGE", "0.5", "2.5", "no"],     # not whole seconds
            ["乱扔垃圾", "GARBAGE", "0.5", "-1", "no"],      # negative
            ["gb28181:13", "FLOOD", "0", "0", "yes"],        # no such video alarm type
            ["违规广告", "GARBAGE", "0.5", "0", "maybe"],    # not yes/no
            ["暴露垃圾", "GARBAGE", "0.5", "0", "no"]]       # twice
    report = run_import(db_session, "video_scenes", write_scenes(tmp_path, rows))
    assert not report.accepted
    text_ = "\n".join(report.lines())
    for named in ("STALLS", "1.5", "2.5", "-1", "gb28181:13", "maybe", "more than once"):
        assert named in text_, named
    assert len(report.problems) == 7
    assert stored(db_session) == {}


@pytest.mark.parametrize(("scene", "fine"), [
    ("店外经营", True), ("gb28181:1", True), ("gb28181:12", True), ("gb28181:0", False),
    ("gb28181:02", False), ("GB28181:2", False), ("gb28181:x", False), (" 店外经营", False),
    ("", False), ("x" * 65, False)])
def test_scene_names(scene: str, fine: bool) -> None:
    assert (scene_problem(scene) is None) == fine


def test_the_command_line_imports_and_refuses(scratch_url: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    runner = CliRunner()
    files = write_town(tmp_path)
    for kind in ("grids", "departments", "responsibilities"):
        assert runner.invoke(app, ["import", kind, str(files[kind])]).exit_code == 0
    bad = write_scenes(tmp_path, [["占道经营", "STALLS", "0.5", "0", "no"]], "bad.csv")
    refused = runner.invoke(app, ["import", "video_scenes", str(bad)])
    assert refused.exit_code == 1 and "STALLS" in refused.output, refused.output
    checked = runner.invoke(app, ["import", "video_scenes", str(write_scenes(tmp_path, SCENES)),
                                  "--check"])
    assert checked.exit_code == 0, checked.output
    imported = runner.invoke(app, ["import", "video_scenes", str(write_scenes(tmp_path, SCENES))])
    assert imported.exit_code == 0 and "3 video_scenes row(s) imported" in imported.output
    engine = create_engine(scratch_url)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM video_scene")) == 3
    engine.dispose()


def test_the_center_lists_and_changes_a_scene_and_the_next_detection_follows(
        client: TestClient, scenes: Path, token_for: TokenFor) -> None:
    dispatcher = token_for("dispatcher", "T")
    listed = client.get("/api/v1/video-scenes", headers=token_for("grid_worker", "T-A-1"))
    assert listed.status_code == 200
    assert [s["scene"] for s in listed.json()] == ["gb28181:6", "店外经营", "暴露垃圾"]
    assert listed.json()[0]["name"] == "入侵检测报警"
    event = {"source": "video", "camera_code": "32050900001320000001", "scene": "沿街晾晒"}
    assert client.post("/api/v1/incidents", headers=dispatcher, json=event).status_code == 422
    put = client.put("/api/v1/video-scenes/沿街晾晒", headers=dispatcher,
                     json={"category_code": "GARBAGE", "min_confidence": 0.5,
                           "needs_confirmation": True})
    assert put.status_code == 200, put.text
    assert put.json() | {"updated_at": None} == {
        "scene": "沿街晾晒", "name": "沿街晾晒", "category_code": "GARBAGE",
        "min_confidence": 0.5, "dwell_seconds": 0, "needs_confirmation": True,
        "updated_by": "dispatcher-T", "updated_at": None}
    made = client.post("/api/v1/incidents", headers=dispatcher, json=event)
    assert made.status_code == 201 and made.json()["status"] == "needs_confirmation"
    assert made.json()["category"] == "GARBAGE"


@pytest.mark.parametrize(("role", "scope"), [("grid_worker", "T-A-1"), ("planner", None),
                                             ("squad", "D1"), ("department", "HB")])
def test_only_the_center_changes_a_scene(client: TestClient, scenes: Path,
                                         token_for: TokenFor, role: str,
                                         scope: str | None) -> None:
    response = client.put("/api/v1/video-scenes/暴露垃圾", headers=token_for(role, scope),
                          json={"category_code": "FLOOD", "min_confidence": 0.1})
    assert response.status_code == 403


@pytest.mark.parametrize("body", [
    {"category_code": "STALLS", "min_confidence": 0.5},
    {"category_code": "GARBAGE", "min_confidence": 1.5},
    {"category_code": "GARBAGE", "min_confidence": 0.5, "dwell_seconds": -3},
    {"category_code": "GARBAGE"},
    {"category_code": "GARBAGE", "min_confidence": 0.5, "status": "x"},
])
def test_a_bad_scene_row_is_refused(client: TestClient, scenes: Path, auth: dict[str, str],
                                    body: dict[str, object]) -> None:
    assert client.put("/api/v1/video-scenes/暴露垃圾", headers=auth,
                      json=body).status_code == 422
    assert client.put("/api/v1/video-scenes/gb28181:13", headers=auth, json={
        "category_code": "GARBAGE", "min_confidence": 0.5}).status_code == 422
    assert client.get("/api/v1/video-scenes").status_code == 401
