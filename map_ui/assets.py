"""Browser assets served by the service itself: the command center has no internet.

folium names CDN URLs in class-level `default_js` / `default_css` lists; `use_local_assets`
points them at copies installed from the npm registry (package.json) and served under
`/static/vendor/<package>/...`. Only the folders the pages use are exposed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import folium
from fastapi import FastAPI
from folium.plugins import MarkerCluster
from starlette.staticfiles import StaticFiles

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO_ROOT / "node_modules"
OWN_STATIC = Path(__file__).resolve().parent / "static"
VENDOR_URL = "/static/vendor"
OWN_URL = "/static/map_ui"

# package -> the folders of it the pages load from (css files find fonts/images beside them)
VENDOR_DIRS: dict[str, tuple[str, ...]] = {
    "leaflet": ("dist",),
    "jquery": ("dist",),
    "bootstrap": ("dist",),
    "@fortawesome/fontawesome-free": ("css", "webfonts"),
    "leaflet.awesome-markers": ("dist",),
    "leaflet.markercluster": ("dist",),
    "leaflet.vectorgrid": ("dist",),
    "leaflet-draw": ("dist",),
}

MAP_JS = [
    ("leaflet", f"{VENDOR_URL}/leaflet/dist/leaflet.js"),
    ("jquery", f"{VENDOR_URL}/jquery/dist/jquery.min.js"),
    ("bootstrap", f"{VENDOR_URL}/bootstrap/dist/js/bootstrap.bundle.min.js"),
    ("awesome_markers",
     f"{VENDOR_URL}/leaflet.awesome-markers/dist/leaflet.awesome-markers.js"),
]
# folium also names Bootstrap 3 glyphicons; no page uses them, so they are left out.
MAP_CSS = [
    ("leaflet_css", f"{VENDOR_URL}/leaflet/dist/leaflet.css"),
    ("bootstrap_css", f"{VENDOR_URL}/bootstrap/dist/css/bootstrap.min.css"),
    ("awesome_markers_font_css",
     f"{VENDOR_URL}/@fortawesome/fontawesome-free/css/all.min.css"),
    ("awesome_markers_css",
     f"{VENDOR_URL}/leaflet.awesome-markers/dist/leaflet.awesome-markers.css"),
    ("awesome_rotate_css", f"{OWN_URL}/leaflet.awesome.rotate.css"),
]
CLUSTER_JS = [
    ("markerclusterjs", f"{VENDOR_URL}/leaflet.markercluster/dist/leaflet.markercluster.js"),
]
CLUSTER_CSS = [
    ("markerclustercss", f"{VENDOR_URL}/leaflet.markercluster/dist/MarkerCluster.css"),
    ("markerclusterdefaultcss",
     f"{VENDOR_URL}/leaflet.markercluster/dist/MarkerCluster.Default.css"),
]


def use_local_assets() -> None:
    """Point folium's default scripts and styles at the service's own copies (idempotent)."""
    folium.Map.default_js = list(MAP_JS)
    folium.Map.default_css = list(MAP_CSS)
    MarkerCluster.default_js = list(CLUSTER_JS)
    MarkerCluster.default_css = list(CLUSTER_CSS)


def mount_assets(app: FastAPI, node_modules: Path = NODE_MODULES) -> None:
    """Serve the vendored packages and map_ui's own static files."""
    missing = [name for name in VENDOR_DIRS if not (node_modules / name).is_dir()]
    if missing:
        logger.warning("map assets missing (%s): run `make setup` (npm ci)", ", ".join(missing))
    for package, folders in VENDOR_DIRS.items():
        for folder in folders:
            # check_dir=False: the API still runs without them; the pages then show the gap
            files = StaticFiles(directory=node_modules / package / folder, check_dir=False)
            app.mount(f"{VENDOR_URL}/{package}/{folder}", files,
                      name=f"vendor:{package}/{folder}")
    app.mount(OWN_URL, StaticFiles(directory=OWN_STATIC), name="map_ui")
