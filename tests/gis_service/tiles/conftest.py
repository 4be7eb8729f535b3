"""Helpers for tile tests: fetching and decoding tiles of the test town."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from gis_service.tiles.tiling import tile_of

# the test town lies across the corner of four tiles at every zoom from 11 up; from 10 down
# it lies inside one
TOWN_CORNERS = ((120.40, 30.92), (120.42, 30.90))
TileGetter = Callable[..., Response]


def town_tiles(z: int) -> list[tuple[int, int]]:
    """x, y of every zoom-z tile the test town touches."""
    (x0, y0), (x1, y1) = (tile_of(lon, lat, z) for lon, lat in TOWN_CORNERS)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def features(response: Response, layer: str) -> list[dict[str, Any]]:
    """The features of one layer of a tile response (none for 204); y grows downwards."""
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(response.content,
                                        default_options={"y_coord_down": True})
    return list(decoded[layer]["features"]) if layer in decoded else []


@pytest.fixture()
def get_tile(client: TestClient) -> TileGetter:
    """GET a tile: get_tile(collection, z, x, y, headers, **query)."""
    def get(collection: str, z: int, x: int, y: int, headers: dict[str, str],
            **query: Any) -> Response:
        return client.get(f"/tiles/{collection}/{z}/{x}/{y}.pbf", headers=headers,
                          params={k: v for k, v in query.items() if v is not None})

    return get


@pytest.fixture()
def town_features(get_tile: TileGetter) -> Callable[..., list[dict[str, Any]]]:
    """Every feature of a collection over the tiles the town touches at zoom z."""
    def collect(collection: str, z: int, headers: dict[str, str],
                **query: Any) -> list[dict[str, Any]]:
        found = []
        for x, y in town_tiles(z):
            found += features(get_tile(collection, z, x, y, headers, **query), collection)
        return found

    return collect
