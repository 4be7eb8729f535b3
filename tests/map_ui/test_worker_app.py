"""The phone page as an installable app: its manifest, its service worker (scope, the assets it
keeps, their version) and the page's markup that ties them in."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from map_ui import worker_router
from map_ui.worker_page import (
    OFFLINE_ASSETS,
    SCRIPTS,
    SERVICE_WORKER_SCOPE,
    SERVICE_WORKER_URL,
    WorkerView,
    worker_page,
)

VIEW = WorkerView(username="zhangsan", role="grid_worker", scope_code="T-A-1",
                  worker_code="W1", worker_name="张三", grid_code="T-A-1")


def settings_of(script: str) -> dict[str, object]:
    first, _ = script.split("\n", 1)
    assert first.startswith("const SETTINGS = ") and first.endswith(";")
    return dict(orjson.loads(first.removeprefix("const SETTINGS = ").removesuffix(";")))


def test_the_manifest(client: TestClient) -> None:
    answer = client.get("/worker.webmanifest")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/manifest+json"
    manifest = answer.json()
    assert manifest["name"] == "网格员工作台" and manifest["lang"] == "zh-CN"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/worker", "/worker", "standalone")
    sizes = {icon["sizes"]: icon for icon in manifest["icons"]}
    assert {"any", "192x192", "512x512"} <= set(sizes)
    for icon in manifest["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200 and got.headers["content-type"].startswith(icon["type"])
    assert client.get(sizes["512x512"]["src"]).content[16:24] == (
        (512).to_bytes(4, "big") * 2)  # the PNG's width and height


def test_the_service_worker(client: TestClient) -> None:
    answer = client.get(SERVICE_WORKER_URL)  # public: a browser may check it signed out
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-cache"
    # its scope lies within its script's folder: no Service-Worker-Allowed needed
    assert "service-worker-allowed" not in answer.headers
    assert SERVICE_WORKER_SCOPE.startswith(SERVICE_WORKER_URL.rsplit("/", 1)[0] + "/")
    settings = settings_of(answer.text)
    assert settings["page"] == "/worker" and settings["assets"] == list(OFFLINE_ASSETS)
    assert settings["version"] == worker_router.assets_version()
    assert "self.addEventListener(\"fetch\"" in answer.text
    # every asset it keeps is served (one missing would fail its installation)
    for url in OFFLINE_ASSETS:
        assert client.get(url).status_code == 200, url
    assert set(SCRIPTS) <= set(OFFLINE_ASSETS)


def test_a_changed_asset_is_a_new_version(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    asset = tmp_path / "asset.js"
    asset.write_text("one")
    monkeypatch.setattr(worker_router, "asset_file", lambda url: asset)
    before = worker_router.assets_version()
    assert worker_router.assets_version() == before
    asset.write_text("two")
    assert worker_router.assets_version() != before


def test_the_page_ties_them_in() -> None:
    page = worker_page(VIEW)
    assert '<link rel="manifest" href="/worker.webmanifest">' in page
    positions = [page.index(f'<script src="{url}"></script>') for url in SCRIPTS]
    assert positions == sorted(positions)  # the toolkit first, the page's own last
    config = orjson.loads(page.split('type="application/json">', 1)[1].split("</script>")[0])
    assert config["service_worker"] == {"url": SERVICE_WORKER_URL, "scope": "/worker"}
    assert config["retry_seconds"] == 30
    assert 'id="outbox"' in page and 'id="outbox-count"' in page
