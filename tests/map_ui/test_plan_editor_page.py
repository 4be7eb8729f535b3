"""The plan editor's builder and route, without a browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient

from map_ui.plan_editor import TOOLS, EditorData, editor_page, list_page
from map_ui.wall import Basemap

Token = Callable[..., dict[str, str]]


def config_of(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="plan-editor-config">(.*?)</script>',
                      page, re.S)
    assert found, "the page carries its settings"
    return dict(orjson.loads(found.group(1)))


def data(**changes: Any) -> EditorData:
    fields: dict[str, Any] = {"plan_id": 7, "name": "二〇二七年调整", "status": "draft",
                              "version": 3, "username": "guihua", "role": "planner"}
    return EditorData(**{**fields, **changes})


def test_the_builder_has_the_tools_tabs_and_only_local_assets() -> None:
    page = editor_page(data(name="<b>方案</script>"))
    for key, label, _ in TOOLS:
        assert f'id="{key}"' in page and label in page
    for label in ("校验", "均衡", "影响", "记录"):
        assert label in page
    assert "&lt;b&gt;方案&lt;/script&gt;" in page and "<b>方案" not in page
    assert not re.search(r"https?://", page)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources)
    for asset in ("/static/vendor/leaflet/dist/leaflet.js",
                  "/static/vendor/leaflet-draw/dist/leaflet.draw.js",
                  "/static/vendor/leaflet-draw/dist/leaflet.draw.css",
                  "/static/map_ui/plan_editor.js", "/static/map_ui/plan_editor.css",
                  "/api/v1/plans/7/impact/open_incidents.csv"):
        assert asset in sources, asset
    config = config_of(page)
    assert config["plan_id"] == 7 and config["version"] == 3 and config["editable"] is True
    assert config["basemap"] is None and config["problems"]["overlap"] == "重叠"


def test_a_commander_and_a_published_plan_get_no_tools() -> None:
    for page in (editor_page(data(role="commander")), editor_page(data(status="published"))):
        assert 'id="tool-edit"' not in page and 'id="readonly-note"' in page
        assert config_of(page)["editable"] is False
        assert "pe-readonly" in page


def test_a_configured_basemap_reaches_the_page() -> None:
    page = editor_page(data(basemap=Basemap("/tiles/osm/{z}/{x}/{y}.png", "县底图")))
    assert config_of(page)["basemap"] == {"url": "/tiles/osm/{z}/{x}/{y}.png",
                                          "attribution": "县底图"}


def test_the_list_links_to_the_editors() -> None:
    plan = {"id": 4, "name": "<i>x</i>", "status": "draft", "version": 1, "grid_count": 8,
            "owner": "guihua", "updated_at": "2026-01-01T00:00:00+00:00"}
    page = list_page([plan], username="guihua", role="planner")
    assert 'href="/plans/4/edit"' in page and "&lt;i&gt;x&lt;/i&gt;" in page
    assert 'id="new-plan"' in page
    assert 'id="new-plan"' not in list_page([plan], username="z", role="commander")


def sign_in(client: TestClient, headers: dict[str, str]) -> None:
    token = headers["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"token": token}).status_code == 200


def test_signed_out_the_editor_sends_to_the_sign_in_form(client: TestClient) -> None:
    response = client.get("/plans/12/edit", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/plans/12/edit"


def test_a_grid_worker_is_told_plans_are_not_theirs(
        client: TestClient, town: dict[str, Path], token_for: Token) -> None:
    sign_in(client, token_for("grid_worker", "T-A-1"))
    response = client.get("/plans/1/edit")
    assert response.status_code == 403
    assert "无权访问方案编辑" in response.text and "grid_worker" in response.text
    assert client.get("/plans").status_code == 403


def test_an_unknown_plan_is_a_404_page(client: TestClient, town: dict[str, Path],
                                       token_for: Token) -> None:
    sign_in(client, token_for("planner"))
    response = client.get("/plans/999999/edit")
    assert response.status_code == 404
    assert "方案不存在" in response.text and "999999" in response.text


def test_a_planner_gets_the_editor_and_its_assets(client: TestClient, town: dict[str, Path],
                                                  token_for: Token) -> None:
    planner = token_for("planner")
    made = client.post("/api/v1/plans", headers=planner, json={"name": "西村调整"})
    assert made.status_code == 201, made.text
    plan = made.json()
    sign_in(client, planner)
    response = client.get(f"/plans/{plan['id']}/edit")
    assert response.status_code == 200
    assert "西村调整" in response.text and "规划员：planner-all" in response.text
    config = config_of(response.text)
    assert config["version"] == plan["version"] and config["editable"] is True
    assert config["band"] == [300, 500]
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text):
        assert client.get(url).status_code == 200, url
    assert client.get("/static/vendor/leaflet-draw/dist/images/spritesheet.svg").status_code \
        == 200
    listing = client.get("/plans")
    assert listing.status_code == 200 and f'href="/plans/{plan["id"]}/edit"' in listing.text


def test_a_commander_reads_without_tools(client: TestClient, town: dict[str, Path],
                                         token_for: Token) -> None:
    made = client.post("/api/v1/plans", headers=token_for("planner"), json={"name": "看看"})
    sign_in(client, token_for("commander"))
    response = client.get(f"/plans/{made.json()['id']}/edit")
    assert response.status_code == 200
    assert 'id="tool-split"' not in response.text and config_of(response.text)["editable"] is False
