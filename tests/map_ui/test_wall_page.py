"""The wall's route on a real database: sign-in, the data it gathers, its assets."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.map_ui.fixtures import ADMIN_PASSWORD


def sign_in(client: TestClient) -> None:
    response = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.text


def test_without_a_session_the_wall_sends_to_the_sign_in_form(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"
    form = client.get("/login?next=/")
    assert form.status_code == 200 and 'action="/login"' in form.text
    assert not re.search(r"https?://", form.text)


def test_the_form_goes_back_only_to_this_service(client: TestClient) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert 'data-next="/"' in client.get("/login", params={"next": target}).text
    assert 'data-next="/dispatch"' in client.get("/login?next=/dispatch").text


def test_a_signed_in_user_sees_the_town_and_no_inline_incidents(
        client: TestClient, admin_token: str, incidents: list[dict[str, Any]]) -> None:
    sign_in(client)
    page = client.get("/").text
    assert "七都镇(测试) · 网格化管理一张图" in page
    assert '\\u5f20\\u4e09' in page  # 张三, the worker of T-A-1
    # incidents come from the live feed as the user may see them, never inside the page
    assert "桥头" not in page and "\\u6865\\u5934" not in page
    assert "startWall(" in page
    feed = client.get("/api/v1/wall/feed").json()  # the same session cookie
    assert {i["id"] for i in feed["incidents"]} == {i["id"] for i in incidents}


def test_no_town_loaded_gives_a_friendly_empty_map(client: TestClient, admin_token: str) -> None:
    sign_in(client)
    response = client.get("/")
    assert response.status_code == 200
    assert "尚未载入镇域数据" in response.text


def test_every_asset_the_page_names_is_served(client: TestClient, admin_token: str) -> None:
    sign_in(client)
    page = client.get("/").text
    urls = re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page)
    assert len(urls) >= 10
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, f"{url}: run `make setup` (npm ci)"
    fonts = client.get("/static/vendor/@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2")
    assert fonts.status_code == 200
    assert client.get("/static/vendor/leaflet/package.json").status_code == 404


def test_the_page_is_gzipped_for_a_browser_that_takes_it(
        client: TestClient, admin_token: str, incidents: list[dict[str, Any]]) -> None:
    sign_in(client)
    zipped = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(zipped.content) / 3
    plain = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and "七都镇(测试)" in plain.text
