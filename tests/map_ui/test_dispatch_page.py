"""The dispatcher console's builder and route, without a browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from gis_service.incidents import queries as incident_queries
from map_ui.dispatch_page import QUEUES, ConsoleData, console_page
from map_ui.wall import Basemap
from tests.map_ui.fixtures import ADMIN_PASSWORD

Token = Callable[..., dict[str, str]]


def config_of(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="dispatch-config">(.*?)</script>',
                      page, re.S)
    assert found, "the page carries its settings"
    return dict(orjson.loads(found.group(1)))


def test_the_builder_lists_the_apis_queues_and_loads_only_local_assets() -> None:
    page = console_page(ConsoleData(username="<b>调度员</b>", role="dispatcher",
                                    categories={"GARBAGE": "垃圾堆放</script>"}))
    for key, label in QUEUES:
        assert f'data-queue="{key}"' in page and label in page
    # the console's tabs are the list API's queues, in the same order
    assert [key for key, _ in QUEUES] == list(incident_queries.QUEUES)
    assert {"center", "to_verify", "to_close", "overdue"} <= set(incident_queries.QUEUES)
    assert "&lt;b&gt;调度员&lt;/b&gt;" in page and "<b>调度员" not in page
    assert not re.search(r"https?://", page)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources)
    assert "/static/vendor/leaflet/dist/leaflet.js" in sources
    config = config_of(page)  # the closing tag inside a name does not end the script early
    assert config["categories"] == {"GARBAGE": "垃圾堆放</script>"}
    assert config["basemap"] is None and config["refresh_ms"] == 5000


def test_a_configured_basemap_reaches_the_page() -> None:
    page = console_page(ConsoleData(username="d", role="admin",
                                    basemap=Basemap("/tiles/osm/{z}/{x}/{y}.png", "县底图")))
    assert config_of(page)["basemap"] == {"url": "/tiles/osm/{z}/{x}/{y}.png",
                                          "attribution": "县底图"}


def test_signed_out_the_console_sends_to_the_sign_in_form(client: TestClient) -> None:
    response = client.get("/dispatch", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dispatch"


def test_a_grid_worker_is_told_the_console_is_not_theirs(
        client: TestClient, town: dict[str, Path], token_for: Token) -> None:
    token = token_for("grid_worker", "T-A-1")["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"token": token}).status_code == 200
    response = client.get("/dispatch")
    assert response.status_code == 403
    assert "无权访问调度台" in response.text and "grid_worker" in response.text


def test_the_center_gets_the_console_with_category_names_and_its_assets(
        client: TestClient, town: dict[str, Path], admin_token: str) -> None:
    signed = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert signed.status_code == 200
    response = client.get("/dispatch")
    assert response.status_code == 200
    assert "指挥中心调度台" in response.text and "管理员：admin" in response.text
    config = config_of(response.text)
    assert dict(config["categories"]) == {"BUILDING": "违章搭建", "FLOOD": "防汛险情",  # type: ignore[call-overload]
                                          "GARBAGE": "垃圾堆放", "POLLUTION": "水体污染"}
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text):
        assert client.get(url).status_code == 200, url
