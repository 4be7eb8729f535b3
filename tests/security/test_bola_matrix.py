"""Broken object-level authorization, as a table: every account (role × in-scope / out-of-scope,
and no token) × every route that takes an object id or returns scoped data × every object.
A row is allowed or denied by the written rule (`may_see` below, the rule of
gis_service/incidents/scope.py and the contract); a denied row must answer 401/403/404, never
2xx, and a scoped listing must hold exactly what the rule lets the caller see. The routes are
read from the app, so a new route that is in neither table makes the test fail.

The summary goes to tests/artifacts/bola_matrix.md (and SECURITY.md quotes it)."""

from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from tests.gis_service.people.conftest import TEAM
from tests.security.conftest import (
    ARTIFACTS,
    CAMERA_OF,
    PNG,
    WALKS,
    WORKER_OF,
    Prober,
    World,
)

CENTER = frozenset({"admin", "commander", "dispatcher"})
EVERYWHERE = frozenset({"admin", "commander", "planner"})
HANDLERS = frozenset({"grid_worker", "squad", "department"})
PATROL_CENTER = frozenset({"admin", "commander", "planner", "dispatcher"})  # see all tracks
WALKERS = frozenset({"grid_worker", "squad", "admin"})  # may record tracks and pings
TOWN_BBOX = (120.40, 30.90, 120.42, 30.92)
TILE_ZOOM = 14  # incidents are points with their id from z14 whatever the window
MAP_VIEWS = frozenset({"tiles", "wall feed", "wall replay"})
PLAN_READERS = frozenset({"admin", "planner", "commander"})  # plans: by role, not by area
PLAN_EDITORS = frozenset({"admin", "planner"})

# Routes that take no object and return nothing scoped, with the reason they are unscoped.
# A route here still needs a token unless the reason says "open".
PUBLIC_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "open: the API description",
    ("GET", "/docs"): "open: Swagger UI page (served offline)",
    ("GET", "/docs/oauth2-redirect"): "open: Swagger UI helper",
    ("GET", "/redoc"): "open: ReDoc page",
    ("GET", "/health"): "open: liveness, no data",
    ("POST", "/api/v1/peers/{code}/events"): "a peer platform's events: no bearer token, each "
                                              "verified by the peer's Standard Webhooks "
                                              "signature (401 otherwise; test_peer_events)",
    ("POST", "/login"): "open: signs in; limited and logged (auth/attempts.py)",
    ("GET", "/login"): "open: the sign-in form",
    ("GET", "/worker-sw.js"): "open: the phone page's service worker (code and asset names)",
    ("GET", "/worker.webmanifest"): "open: the phone page's web app manifest",
    ("GET", "/api/v1/grids"): "reference layer: the town's boundaries, same for all",
    ("GET", "/api/v1/cameras"): "reference layer: the cameras, same for all (`town=` narrows)",
    ("GET", "/api/v1/video-scenes"): "reference data: scene → category, same for all",
    ("PUT", "/api/v1/video-scenes/{scene}"): "reference data, county-wide: the command center "
                                             "changes a row, every other role 403 "
                                             "(test_video_scenes)",
    ("GET", "/api/v1/districts"): "reference layer, same for all",
    ("GET", "/api/v1/zones"): "reference layer, same for all",
    ("GET", "/api/v1/projects"): "reference layer, same for all",
    ("GET", "/api/v1/stations"): "reference layer, same for all",
    ("GET", "/api/v1/workers"): "the town's roster (who covers which grid), same for all",
    ("GET", "/api/v1/locate"): "a point → grids: reference data",
    ("POST", "/api/v1/locate"): "points → grids: reference data",
    ("GET", "/api/v1/geocode"): "an address → a point: reference data",
    ("GET", "/api/v1/patrols/coverage"): "per-grid coverage shares of the month, no tracks",
    ("GET", "/open311/v2/services.{response_format}"): "open: Open311 service list",
    ("GET", "/open311/v2/services/{service_code}.{response_format}"):
        "open: a service definition (a category), no incident",
    ("POST", "/open311/v2/requests.{response_format}"): "open: Open311 public intake",
    ("GET", "/ogc/"): "open: OGC landing page",
    ("GET", "/ogc"): "open: OGC landing page",
    ("GET", "/ogc/conformance"): "open: OGC conformance classes",
    ("GET", "/ogc/api"): "open: the OGC API definition",
    ("GET", "/open311/v2/discovery.{response_format}"): "open: Open311 discovery document",
    ("GET", "/open311/v2/tokens/{token}.{response_format}"):
        "open: a receipt token (keyed HMAC, unguessable) → its public request id",
}
OPEN_MOUNT_PREFIX = "/static/"  # vendored scripts, styles, fonts and the docs' assets


@dataclass(frozen=True)
class Row:
    """One probe's outcome: did the rule allow it, did the service, and how many objects of
    another scope the answer carried (a listing) or whether it was another's object."""

    account: str
    group: str
    obj: str
    expected: bool
    allowed: bool
    status: int
    leaked: int  # cross-scope successes
    missing: int  # in-scope objects the answer lacked


# ----------------------------------------------------------------------------------------
# the rule, written out: who may see an incident, a photo, a patrol track
def may_see(account: Prober, incident: dict[str, Any]) -> bool:
    """The contract's scope rule, from the incident's public fields."""
    role, scope = account.role, account.scope
    if role is None:
        return False
    if role in EVERYWHERE or (role == "dispatcher" and not scope):
        return True
    if not scope:
        return False
    if role == "dispatcher":  # an unplaced report is every dispatcher's to place
        return incident["town"] in (scope, None)
    if role == "grid_worker":
        return scope in (incident["grid3"], incident["grid2"]) or holds(account, incident)
    if role == "squad":
        return scope == incident["district"] or holds(account, incident)
    if role == "department":
        return holds(account, incident) or scope in incident["cooperating"]
    if role == "team":  # what it was brought in on, and what lies in its grid
        grid = TEAM_GRID.get(scope)
        return scope in incident["cooperating"] or (
            grid is not None and grid in (incident["grid3"], incident["grid2"]))
    return False


TEAM_GRID = {row[1]: row[0] for row in TEAM}  # a team member's code -> its grid

# the assignee dimension: a handler moves only what is assigned to it, or to the A post it
# covers as B while A is off duty (tests/town.py: W3 is off duty, W4 its B post)
COVERS = {"W4": {"W3"}}
SQUAD_OF = {"D1": "Q1", "D2": "Q2"}


def holds(account: Prober, incident: dict[str, Any]) -> bool:
    """Whether the incident is assigned to the handler account (or a post it covers)."""
    kind, code = ((incident.get("assignee") or {}).get(k) for k in ("type", "code"))
    if account.role == "grid_worker":
        own = WORKER_OF.get(account.label)
        return kind == "grid_worker" and own is not None and code in {own} | COVERS.get(own,
                                                                                      set())
    if account.role == "squad":
        return kind == "squad" and code in {account.scope, SQUAD_OF.get(account.scope or "")}
    if account.role == "department":
        return kind == "department" and code == account.scope
    return False


def may_act(account: Prober, incident: dict[str, Any]) -> bool:
    """Who may move an incident along: the center on what it sees, a handler on what it
    holds (the grid's whistle aside)."""
    if account.role in CENTER:
        return may_see(account, incident)
    return account.role in HANDLERS and holds(account, incident)


def visible_ids(world: World, account: Prober) -> set[int]:
    return {i["id"] for i in world.incidents.values() if may_see(account, i)}


def may_see_track(account: Prober, owner: str) -> bool:
    return account.role in PATROL_CENTER or account.label == owner


# ----------------------------------------------------------------------------------------
# route enumeration
def _routes_with_context(app: FastAPI) -> Iterator[tuple[Any, Any]]:
    """(route, its context in an included router or None). FastAPI ≥ 0.16x keeps included
    routers lazily (`_IncludedRouter`), unfolded by a private helper; older ones flatten."""
    try:
        from fastapi.routing import _iter_routes_with_context
    except ImportError:
        yield from ((route, None) for route in app.routes)
        return
    yield from _iter_routes_with_context(app.routes)


def route_keys(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app serves, included routers unfolded."""
    for original, context in _routes_with_context(app):
        if isinstance(original, Mount):
            yield "MOUNT", original.path
            continue
        path = context.path if context is not None else getattr(original, "path", "?")
        methods = (context.methods if context is not None and hasattr(context, "methods")
                   else getattr(original, "methods", None)) or {"?"}
        assert isinstance(original, APIRoute | Route), original
        for method in sorted(set(methods) - {"HEAD"}):
            yield method, path


# ----------------------------------------------------------------------------------------
# probes: each yields Rows for one route over every account and object
def _object_row(account: Prober, group: str, obj: str, expected: bool, status: int,
                denials: tuple[int, ...] = (403, 404), anonymous: int = 401) -> Row:
    allowed = 200 <= status < 300
    if not allowed:
        assert status in ((anonymous,) if account.role is None else denials), (
            f"{account.label} {group} {obj}: a denial answered {status}")
    return Row(account.label, group, obj, expected, allowed, status,
               int(allowed and not expected), int(expected and not allowed))


def _listing_row(account: Prober, group: str, obj: str, status: int, got: set[Any],
                 want: set[Any]) -> Row:
    allowed = status == 200
    if account.role is None:
        assert status == 401, f"{group}: no token answered {status}"
    return Row(account.label, group, obj, bool(want) or account.role is not None, allowed,
               status, len(got - want), len(want - got) if allowed else len(want))


def probe_incident_reads(world: World, account: Prober) -> Iterator[Row]:
    suffixes = {"": "GET incident", "/history": "GET history", "/links": "GET links",
                "/photos": "GET photos (list)", "/suggestions": "GET suggestions"}
    for label, incident in world.incidents.items():
        sees = may_see(account, incident)
        for suffix, group in suffixes.items():
            expected = sees and (suffix != "/suggestions" or account.role in CENTER)
            response = world.client.get(f"/api/v1/incidents/{incident['id']}{suffix}",
                                        headers=account.headers)
            row = _object_row(account, group, label, expected, response.status_code)
            if row.allowed and suffix == "/photos":
                assert {p["id"] for p in response.json()} == {world.photos[label]}
            yield row
        response = world.client.get(f"/ogc/collections/incidents/items/{incident['id']}",
                                    headers=account.headers)
        yield _object_row(account, "OGC item", label, sees, response.status_code)


def probe_photo_reads(world: World, account: Prober) -> Iterator[Row]:
    for label, photo_id in world.photos.items():
        response = world.client.get(f"/api/v1/photos/{photo_id}", headers=account.headers)
        row = _object_row(account, "GET photo", label,
                          may_see(account, world.incidents[label]), response.status_code)
        if row.allowed:
            assert response.content == PNG
        yield row


def probe_incident_writes(world: World, account: Prober) -> Iterator[Row]:
    for label, incident in world.incidents.items():
        sees = may_see(account, incident)
        with world.rolled_back():
            response = world.client.post(
                f"/api/v1/incidents/{incident['id']}/photos", headers=account.headers,
                files={"file": ("p.png", PNG, "image/png")})
            yield _object_row(account, "POST photo", label, sees, response.status_code)
        with world.rolled_back():  # escalate: the center, or the handler holding it
            response = world.client.post(
                f"/api/v1/incidents/{incident['id']}/actions",
                headers={**account.headers, "If-Match": f'"{incident["version"]}"'},
                json={"action": "escalate", "note": "probe"})
            expected = may_act(account, incident)
            yield _object_row(account, "POST action", label, expected, response.status_code)
        with world.rolled_back():  # the same report again answers with the stored incident
            body = {"source": incident["source"], "external_id": incident["external_id"],
                    "category": incident["category"]}
            response = world.client.post("/api/v1/incidents", headers=account.headers,
                                         json=body)
            if response.status_code == 200:
                assert response.json()["id"] == incident["id"]
            yield _object_row(account, "POST incident (replay)", label, sees,
                              response.status_code, (403, 404, 409))


def _ids_of_listing(world: World, account: Prober) -> dict[str, tuple[int, set[int]]]:
    """Each scoped listing's answer: status and the incident ids it holds."""
    client, headers = world.client, account.headers
    got: dict[str, tuple[int, set[int]]] = {}

    def ask(group: str, path: str, pick: Callable[[Any], set[int]],
            params: dict[str, Any] | None = None) -> None:
        response = client.get(path, headers=headers, params=params)
        ids = pick(response) if response.status_code == 200 else set()
        got[group] = (response.status_code, ids)

    ask("GET incidents (list)", "/api/v1/incidents",
        lambda r: {i["id"] for i in r.json()["items"]}, {"limit": 500})
    ask("export geojson", "/api/v1/exports/incidents.geojson",
        lambda r: {f["properties"]["id"] for f in r.json()["features"]})
    ask("export csv", "/api/v1/exports/incidents.csv",
        lambda r: {int(row["id"]) for row in csv.DictReader(io.StringIO(
            r.content.decode("utf-8-sig")))})
    ask("OGC items", "/ogc/collections/incidents/items",
        lambda r: {int(f["id"]) for f in r.json()["features"]}, {"limit": 1000})
    ask("wall feed", "/api/v1/wall/feed", lambda r: {i["id"] for i in r.json()["incidents"]})
    ask("wall replay", "/api/v1/wall/replay",
        lambda r: {i["id"] for i in r.json()["incidents"]})
    status, ids = 200, set()
    for x, y in town_tiles(TILE_ZOOM):
        response = client.get(f"/tiles/incidents/{TILE_ZOOM}/{x}/{y}.pbf", headers=headers)
        if response.status_code == 200:
            layers = mapbox_vector_tile.decode(response.content)
            ids |= {int(f["id"]) for f in layers.get("incidents", {}).get("features", [])}
        elif response.status_code != 204:
            status = response.status_code
    got["tiles"] = (status, ids)
    return got


def probe_listings(world: World, account: Prober) -> Iterator[Row]:
    want = visible_ids(world, account)
    located = {i["id"] for i in world.incidents.values() if i["lon"] is not None}
    for group, (status, got) in _ids_of_listing(world, account).items():
        # the map's views (tiles, wall) hold placed incidents only; lists hold every one
        expect = want & located if group in MAP_VIEWS else want
        yield _listing_row(account, group, "all", status, got, expect)
    yield from _count_rows(world, account, want, located)
    yield from _grid_cards(world, account, want)


def _count_rows(world: World, account: Prober, want: set[int], located: set[int]) -> Iterator[Row]:
    """Endpoints that answer counts: each count is compared with the rule's."""
    client, headers = world.client, account.headers
    by_id = {i["id"]: i for i in world.incidents.values()}
    response = client.get("/api/v1/wall/kpi", headers=headers)
    total = response.json()["today"]["total"] if response.status_code == 200 else 0
    yield _count_row(account, "wall kpi", response.status_code, total, len(want))
    response = client.get("/api/v1/wall/heat", headers=headers)
    total = response.json()["total"] if response.status_code == 200 else 0
    yield _count_row(account, "wall heat", response.status_code, total, len(want & located))
    response = client.get("/api/v1/incidents/queues", headers=headers)
    unplaced = {i for i in want if by_id[i]["status"] == "needs_location"}
    total = response.json()["needs_location"] if response.status_code == 200 else 0
    yield _count_row(account, "queues", response.status_code, total, len(unplaced))
    response = client.get("/ogc/collections/incidents", headers=headers)
    box = _extent(response.json()) if response.status_code == 200 else None
    expected_box = _bbox([by_id[i] for i in want & located])
    leaked = int(response.status_code == 200 and box != expected_box and box is not None
                 and (expected_box is None or not _within(box, expected_box)))
    yield Row(account.label, "OGC collection extent", "all", account.role is not None,
              response.status_code == 200, response.status_code, leaked, 0)


def _count_row(account: Prober, group: str, status: int, got: int, want: int) -> Row:
    if account.role is None:
        assert status == 401
    return Row(account.label, group, "all", account.role is not None, status == 200, status,
               max(got - want, 0), max(want - got, 0) if status == 200 else want)


def _extent(body: dict[str, Any]) -> tuple[float, ...] | None:
    boxes = body.get("extent", {}).get("spatial", {}).get("bbox") or [None]
    return tuple(boxes[0]) if boxes[0] else None


def _bbox(incidents: list[dict[str, Any]]) -> tuple[float, ...] | None:
    if not incidents:
        return None
    lons, lats = [i["lon"] for i in incidents], [i["lat"] for i in incidents]
    return (min(lons), min(lats), max(lons), max(lats))


def _within(box: tuple[float, ...], outer: tuple[float, ...]) -> bool:
    eps = 1e-9
    return (box[0] >= outer[0] - eps and box[1] >= outer[1] - eps
            and box[2] <= outer[2] + eps and box[3] <= outer[3] + eps)


def _grid_cards(world: World, account: Prober, want: set[int]) -> Iterator[Row]:
    for code in ("T", "T-A-1", "T-B-2", "T-B-1"):
        response = world.client.get(f"/api/v1/wall/grids/{code}", headers=account.headers)
        in_grid = {i["id"] for i in world.incidents.values()
                   if code in (i["town"], i["grid2"], i["grid3"])}
        got = ({i["id"] for i in response.json()["open_items"]}
               if response.status_code == 200 else set())
        if response.status_code == 200:
            assert response.json()["open"] == len(got)
        yield _listing_row(account, "wall grid card", code, response.status_code, got,
                           want & in_grid)


def probe_camera_cards(world: World, account: Prober) -> Iterator[Row]:
    """A camera's card lists its open incidents: those the caller may see, no other."""
    for camera in sorted(set(CAMERA_OF.values())):
        response = world.client.get(f"/api/v1/cameras/{camera}", headers=account.headers)
        got = ({i["id"] for i in response.json()["properties"]["open_items"]}
               if response.status_code == 200 else set())
        want = {world.incidents[label]["id"] for label, code in CAMERA_OF.items()
                if code == camera and may_see(account, world.incidents[label])}
        yield _listing_row(account, "camera card", camera, response.status_code, got, want)


# a grid and the grids above it (tests/town.py)
LINEAGE = {"T": ("T",), "T-A": ("T-A", "T"), "T-B": ("T-B", "T"),
           "T-A-1": ("T-A-1", "T-A", "T"), "T-A-2": ("T-A-2", "T-A", "T"),
           "T-B-1": ("T-B-1", "T-B", "T"), "T-B-2": ("T-B-2", "T-B", "T"),
           "S-SCHOOL": ("S-SCHOOL", "T")}


def team_rule(account: Prober, grid: str) -> str | None:
    """Who sees a grid's team (people/team.py, written out): the center every team, phones
    whole in its own area; a planner every team masked; a grid worker the teams along its
    own grid's line, whole for its grid and those under it, masked above; nobody else."""
    role, scope = account.role, account.scope
    if role in CENTER:
        return "whole" if not scope or scope in LINEAGE[grid] else "masked"
    if role == "planner":
        return "masked"
    own = scope if role == "grid_worker" else TEAM_GRID.get(scope or "") if role == "team" \
        else None
    if own:
        if own in LINEAGE[grid]:  # its own grid, or one under it
            return "whole"
        if grid in LINEAGE.get(own, ()):  # a grid above its own
            return "masked"
    return None


def probe_grid_teams(world: World, account: Prober) -> Iterator[Row]:
    """GET /grids/{code}: the grid for every signed-in caller; its team (null when not
    theirs) with phones whole only where the rule says so — a whole phone elsewhere is a
    leak."""
    for grid in ("T-A-1", "T-A", "T-A-2", "T-B-2", "S-SCHOOL"):
        response = world.client.get(f"/api/v1/grids/{grid}", headers=account.headers)
        if account.role is None:
            assert response.status_code == 401
        else:
            assert response.status_code == 200, response.text
        team = response.json()["properties"]["team"] if response.status_code == 200 else None
        rule = team_rule(account, grid)
        phones = [m["phone"] for m in team or [] if m["phone"]]
        whole = sum(1 for phone in phones if "*" not in phone)
        leaked = int(team is not None and rule is None) + int(rule != "whole" and whole > 0)
        missing = int(rule is not None and team is None) + int(
            rule == "whole" and whole < len(phones))
        yield Row(account.label, "grid team", grid, rule is not None, team is not None,
                  response.status_code, leaked, missing)


def probe_patrols(world: World, account: Prober) -> Iterator[Row]:
    client, headers = world.client, account.headers
    response = client.get("/api/v1/patrols", headers=headers)
    got = ({int(f["id"]) for f in response.json()["features"]}
           if response.status_code == 200 else set())
    want = {track for owner, track in world.tracks.items() if may_see_track(account, owner)}
    yield _listing_row(account, "GET patrols", "all", response.status_code, got, want)
    response = client.get("/api/v1/patrols/positions", headers=headers)
    names = {f["properties"]["username"] for f in response.json()["features"]} \
        if response.status_code == 200 else set()
    # where people are now: a town's center sees those in its own town (another town's, none)
    owners = {world.username(owner) for owner in WALKS if may_see_track(account, owner)
              and (account.in_scope or account.role != "dispatcher")}
    yield _listing_row(account, "GET positions", "all", response.status_code, names, owners)
    for group, path, body in (
            ("POST patrol", "/api/v1/patrols",
             {"crs": "wgs84", "points": [[120.401, 30.905], [120.402, 30.905]]}),
            ("POST ping", "/api/v1/patrols/ping", {"lon": 120.401, "lat": 30.905})):
        with world.rolled_back():
            response = client.post(path, headers=headers, json=body)
            row = _object_row(account, group, "own", account.role in WALKERS,
                              response.status_code)
            if row.allowed and group == "POST patrol":
                owner = response.json()
                assert owner["username"] == world.username(account.label)
                assert owner["grid_code"] == account.scope  # never another's area
            yield row


def probe_open311(world: World, account: Prober) -> Iterator[Row]:
    """Open311 is open by design (GeoReport v2): what it must never show is a report's text
    or media unless the report came in through Open311 itself."""
    if account.role is not None:
        return  # the same answer for everyone: probed once, anonymously
    response = world.client.get("/open311/v2/requests.json")
    assert response.status_code == 200
    entries = response.json()
    for incident in world.incidents.values():
        one = world.client.get(f"/open311/v2/requests/{incident['id']}.json")
        assert one.status_code == 200
        entries += one.json()
    private = sum(1 for e in entries if e["description"] or e["media_url"])
    yield Row(account.label, "Open311 requests (public view)", "all", True, True,
              response.status_code, private, 0)


def probe_plans(world: World, account: Prober) -> Iterator[Row]:
    """Boundary plans are the town's, not an area's: planners and admins do everything, a
    commander reads, every other role gets 403."""
    if world.plan_id is None:
        return
    client, headers, base = world.client, account.headers, f"/api/v1/plans/{world.plan_id}"
    reads = {"GET plans (list)": "/api/v1/plans", "GET plan": base,
             "GET plan grids": f"{base}/grids", "GET plan edits": f"{base}/edits",
             "GET plan validation": f"{base}/validation", "GET plan metrics": f"{base}/metrics",
             "GET plan impact": f"{base}/impact",
             "GET plan impact csv": f"{base}/impact/open_incidents.csv",
             "GET plan export": f"{base}/export.geojson"}
    for group, path in reads.items():
        response = client.get(path, headers=headers)
        yield _object_row(account, group, "plan", account.role in PLAN_READERS,
                          response.status_code, (403,))
    pages = {"page /plans": "/plans", "page /plans/{id}/edit": f"/plans/{world.plan_id}/edit"}
    for group, path in pages.items():  # a browser without a session is sent to /login
        response = client.get(path, headers=headers, follow_redirects=False)
        yield _object_row(account, group, "plan", account.role in PLAN_READERS,
                          response.status_code, (403,), anonymous=303)
    feature = world.plan_grid()
    for group, method, path, body in plan_writes(world, feature):
        with world.rolled_back():
            version = world.plan_version()
            if group in ("POST plan undo", "POST plan publish"):
                # something to undo or publish: the admin renames a grid first
                renamed = {**feature, "properties": {**feature["properties"], "name": "改名"}}
                done = client.put(f"{base}/grids/T-A-1", json=renamed,
                                  headers={**world.admin(), "If-Match": f'"{version}"'})
                assert done.status_code == 200, done.text
                version = world.plan_version()
            kwargs: dict[str, Any] = {"files": body} if group == "POST plan import" else \
                {"json": body}
            response = client.request(method, path, **kwargs, headers={
                **headers, "If-Match": f'"{version}"'})
            yield _object_row(account, group, "plan", account.role in PLAN_EDITORS,
                              response.status_code, (403,))


def plan_writes(world: World, feature: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Every plan write, with a body that succeeds for an editor."""
    base = f"/api/v1/plans/{world.plan_id}"
    grids = world.town_files["grids"].read_bytes()
    return [
        ("POST plan", "POST", "/api/v1/plans", {"name": "probe"}),
        ("PATCH plan", "PATCH", base, {"note": "probe"}),
        ("DELETE plan", "DELETE", base, None),
        ("PUT plan grid", "PUT", f"{base}/grids/T-A-1", feature),
        ("DELETE plan grid", "DELETE", f"{base}/grids/T-B-2", None),
        ("POST plan operation", "POST", f"{base}/operations",
         {"op": "merge", "grids": ["T-A-1", "T-A-2"]}),
        ("POST plan undo", "POST", f"{base}/undo", None),
        ("POST plan repair", "POST", f"{base}/repair", {}),
        ("POST plan publish", "POST", f"{base}/publish",
         {"effective_from": "2099-01-01T00:00:00+08:00"}),
        ("POST plan rebalance", "POST", f"{base}/rebalance", {}),
        ("POST plan import", "POST", "/api/v1/plans/import",
         {"file": ("plan.geojson", grids, "application/geo+json")}),
    ]


def probe_pages(world: World, account: Prober) -> Iterator[Row]:
    """The map pages: whoever may open one, no incident the rule hides appears in it."""
    hidden = {i["description"] for i in world.incidents.values() if not may_see(account, i)}
    pages = {"page /": ("/", account.role is not None),
             "page /dispatch": ("/dispatch", account.role in CENTER),
             "page /worker": ("/worker", account.role is not None)}
    for group, (path, expected) in pages.items():
        response = world.client.get(path, headers=account.headers, follow_redirects=False)
        row = _object_row(account, group, "page", expected, response.status_code, (403,),
                          anonymous=303)
        leaked = sum(1 for mark in hidden if mark in response.text)
        yield Row(row.account, row.group, row.obj, row.expected, row.allowed, row.status,
                  leaked, row.missing)


ASSESSMENT_VIEWERS = frozenset({"admin", "commander", "dispatcher", "planner"})
HEALTH_READERS = ASSESSMENT_VIEWERS


def _report_window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"start": (now - timedelta(days=30)).isoformat(),
            "end": (now + timedelta(days=1)).isoformat()}


def probe_reports(world: World, account: Prober) -> Iterator[Row]:
    """A report counts only what the caller may see; the hotspot scan likewise; the health of
    the responsibility list is the center's and the planners'."""
    client, headers = world.client, account.headers
    want = len(visible_ids(world, account))
    for group, path, params in (
            ("GET report", "/api/v1/reports", _report_window()),
            ("GET weekly report", "/api/v1/reports/weekly", {}),
            ("GET monthly report", "/api/v1/reports/monthly", {})):
        response = client.get(path, headers=headers, params=params)
        got = response.json()["intake"]["total"] if response.status_code == 200 else 0
        # weekly/monthly cover only part of the objects' time: never more than allowed
        yield Row(account.label, group, "all", account.role is not None,
                  response.status_code == 200, response.status_code, max(got - want, 0),
                  max(want - got, 0) if group == "GET report" else 0)
    response = client.get("/api/v1/hotspots", headers=headers)
    yield _object_row(account, "GET hotspots", "all", account.role is not None,
                      response.status_code)
    response = client.get("/api/v1/responsibility-health", headers=headers)
    yield _object_row(account, "GET responsibility health", "all",
                      account.role in HEALTH_READERS, response.status_code)
    # the towns' league: the centers' and the planners'; its counts never beyond the caller's
    response = client.get("/api/v1/reports/league", headers=headers)
    got = (sum(t["intake"] for t in response.json()["towns"])
           if response.status_code == 200 else 0)
    yield Row(account.label, "GET league", "all", account.role in HEALTH_READERS,
              response.status_code == 200, response.status_code, max(got - want, 0), 0)
    pages = {"page /reports/weekly": "/reports/weekly", "page /reports/monthly":
             "/reports/monthly"}
    for group, path in pages.items():
        response = client.get(path, headers=headers, follow_redirects=False)
        yield _object_row(account, group, "page", account.role is not None,
                          response.status_code, (403,), anonymous=303)
    response = client.get("/reports/league", headers=headers, follow_redirects=False)
    yield _object_row(account, "page /reports/league", "page", account.role in HEALTH_READERS,
                      response.status_code, (403,), anonymous=303)


def probe_assessment(world: World, account: Prober) -> Iterator[Row]:
    """The league table: the center sees every grid worker (a town center its town's: none
    for another town's), a grid worker only themself, other roles nothing; spot checks are
    recorded by the center."""
    client, headers = world.client, account.headers
    month = datetime.now(UTC).strftime("%Y-%m")
    response = client.get("/api/v1/assessment", headers=headers, params={"month": month})
    rows_seen = ({r["worker_code"] for r in response.json()["workers"]}
                 if response.status_code == 200 else set())
    own = WORKER_OF.get(account.label)
    allowed_rows = ({"W1", "W2", "W3", "W4"} if account.role in ASSESSMENT_VIEWERS
                    and (account.in_scope or account.role != "dispatcher")
                    else {own} - {None} if account.role == "grid_worker" else set())
    expected = account.role in ASSESSMENT_VIEWERS or account.role == "grid_worker"
    yield Row(account.label, "GET assessment", "all", expected, response.status_code == 200,
              response.status_code, len(rows_seen - allowed_rows),
              len(allowed_rows - rows_seen) if expected else 0)
    for code in ("W1", "W4"):
        response = client.get(f"/api/v1/assessment/{code}", headers=headers,
                              params={"month": month})
        yield _object_row(account, "GET worker assessment", code, code in allowed_rows,
                          response.status_code)
    response = client.get("/api/v1/assessment.csv", headers=headers, params={"month": month})
    yield _object_row(account, "GET assessment csv", "all", expected, response.status_code)
    with world.rolled_back():
        response = client.post("/api/v1/spot-checks", headers=headers,
                               json={"worker_code": "W1", "passed": True, "score": 90})
        yield _object_row(account, "POST spot check", "W1", account.role in CENTER,
                          response.status_code)
    response = client.get("/api/v1/spot-checks", headers=headers, params={"month": month})
    yield _object_row(account, "GET spot checks", "all", expected, response.status_code)
    for group, path, code in (("page /assessment", "/assessment", None),
                              ("page /assessment/{code}", "/assessment/W4", "W4")):
        response = client.get(path, headers=headers, follow_redirects=False)
        yield _object_row(account, group, code or "page",
                          expected if code is None else code in allowed_rows,
                          response.status_code, (403, 404), anonymous=303)


def probe_stationed(world: World, account: Prober) -> Iterator[Row]:
    """County staff stationed in the town: the centers and planners see them (a town center
    its own town's: none for another town's); only the town's center (or an admin) rates as
    the town."""
    client, headers = world.client, account.headers
    month = datetime.now(UTC).strftime("%Y-%m")
    expected = account.role in ASSESSMENT_VIEWERS
    allowed = {"S1"} if expected and (account.in_scope or account.role != "dispatcher") else set()
    response = client.get("/api/v1/assessment/stationed", headers=headers,
                          params={"month": month})
    seen = ({r["worker_code"] for r in response.json()["staff"]}
            if response.status_code == 200 else set())
    yield Row(account.label, "GET stationed", "all", expected, response.status_code == 200,
              response.status_code, len(seen - allowed), len(allowed - seen) if expected else 0)
    with world.rolled_back():
        response = client.put("/api/v1/assessment/stationed/S1", headers=headers,
                              params={"month": month}, json={"party": "town", "score": 90})
        yield _object_row(account, "PUT stationed rating", "S1",
                          account.role == "admin" or account.label == "dispatcher T",
                          response.status_code)
    response = client.get("/assessment/stationed", headers=headers, follow_redirects=False)
    yield _object_row(account, "page /assessment/stationed", "page", expected,
                      response.status_code, (403,), anonymous=303)


def probe_subscriptions(world: World, account: Prober) -> Iterator[Row]:
    """Event subscriptions carry where the town's events go: the admin's alone (their
    deliveries and redelivery too)."""
    client, headers, admin = world.client, account.headers, account.role == "admin"
    with world.rolled_back():
        made = client.post("/api/v1/subscriptions", headers=world.admin(), json={
            "url": "http://hooks.example.gov.cn/in", "events": ["incident.created"]})
        assert made.status_code == 201, made.text
        base = f"/api/v1/subscriptions/{made.json()['id']}"
        for group, method, path, body in (
                ("GET peers", "GET", "/api/v1/peers", None),
                ("POST peer", "POST", "/api/v1/peers",
                 {"code": "T", "kind": "town", "secret": "whsec_" + "A" * 40}),
                ("DELETE peer", "DELETE", "/api/v1/peers/T", None),
                ("GET subscriptions", "GET", "/api/v1/subscriptions", None),
                ("GET subscription", "GET", base, None),
                ("GET deliveries", "GET", f"{base}/deliveries", None),
                ("PATCH subscription", "PATCH", base, {"enabled": False}),
                ("POST redeliver", "POST", f"{base}/deliveries/1/redeliver", None),
                ("POST subscription", "POST", "/api/v1/subscriptions",
                 {"url": "http://hooks.example.gov.cn/in", "events": ["incident.closed"]}),
                ("DELETE subscription", "DELETE", base, None)):
            response = client.request(method, path, headers=headers, json=body)
            # an admin's redelivery of a delivery that does not exist: 404, not a leak
            # an admin's redelivery of a delivery that does not exist: 404, not a leak
            missing = group == "POST redeliver"
            expected = admin and not missing
            yield _object_row(account, group, "subscription", expected, response.status_code,
                              (403, 404) if missing else (403,))


ACCOUNT_TARGETS = ("grid_worker T-A-1", "department JS")  # with patrol tracks (kept), without


def probe_accounts(world: World, account: Prober) -> Iterator[Row]:
    """Accounts are the admin's to run, whatever the area; anyone signed in changes their own
    password (and only their own: the route takes no name)."""
    client, headers, admin = world.client, account.headers, account.role == "admin"
    response = client.get("/api/v1/accounts", headers=headers)
    yield _object_row(account, "GET accounts", "all", admin, response.status_code, (403,))
    with world.rolled_back():
        response = client.post("/api/v1/accounts", headers=headers,
                               json={"username": "sec-probe-new", "role": "planner"})
        yield _object_row(account, "POST account", "new", admin, response.status_code, (403,))
    for target in ACCOUNT_TARGETS:
        path = f"/api/v1/accounts/{world.username(target)}"
        with world.rolled_back():
            response = client.patch(path, headers=headers, json={"disabled": True})
            yield _object_row(account, "PATCH account", target, admin, response.status_code,
                              (403,))
        with world.rolled_back():  # an account with patrol tracks is kept (409)
            response = client.delete(path, headers=headers)
            yield _object_row(account, "DELETE account", target,
                              admin and target not in WALKS, response.status_code,
                              (409,) if admin else (403,))
    with world.rolled_back():
        response = client.post("/api/v1/me/password", headers=headers, json={
            "current_password": "s3cret-pw-" + account.username,
            "new_password": "Probe-lakeshore-2026"})
        yield _object_row(account, "POST own password", "own", account.role is not None,
                          response.status_code, (403,))


PROBES = (probe_incident_reads, probe_pages, probe_photo_reads, probe_incident_writes,
          probe_listings, probe_patrols, probe_open311, probe_plans, probe_reports,
          probe_assessment, probe_stationed, probe_subscriptions, probe_accounts,
          probe_camera_cards, probe_grid_teams)

# Every route with an object or scoped data, and the probe group(s) that cover it.
MATRIX_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/incidents"): "GET incidents (list)",
    ("POST", "/api/v1/incidents"): "POST incident (replay)",
    ("GET", "/api/v1/incidents/queues"): "queues",
    ("GET", "/api/v1/incidents/{incident_id}"): "GET incident",
    ("GET", "/api/v1/incidents/{incident_id}/history"): "GET history",
    ("GET", "/api/v1/incidents/{incident_id}/suggestions"): "GET suggestions",
    ("GET", "/api/v1/incidents/{incident_id}/links"): "GET links",
    ("POST", "/api/v1/incidents/{incident_id}/actions"): "POST action",
    ("POST", "/api/v1/incidents/{incident_id}/photos"): "POST photo",
    ("GET", "/api/v1/incidents/{incident_id}/photos"): "GET photos (list)",
    ("GET", "/api/v1/photos/{photo_id}"): "GET photo",
    ("GET", "/open311/v2/requests.{response_format}"): "Open311 requests (public view)",
    ("GET", "/open311/v2/requests/{service_request_id}.{response_format}"):
        "Open311 requests (public view)",
    ("GET", "/ogc/collections"): "OGC collection extent",
    ("GET", "/ogc/collections/{collection_id}"): "OGC collection extent",
    ("GET", "/ogc/collections/{collection_id}/items"): "OGC items",
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): "OGC item",
    ("GET", "/api/v1/exports/{layer}.{fmt}"): "export geojson",
    ("GET", "/tiles/{collection}/{z}/{x}/{y}.pbf"): "tiles",
    ("GET", "/api/v1/wall/feed"): "wall feed",
    ("GET", "/api/v1/wall/kpi"): "wall kpi",
    ("GET", "/api/v1/wall/heat"): "wall heat",
    ("GET", "/api/v1/wall/replay"): "wall replay",
    ("GET", "/api/v1/wall/grids/{code}"): "wall grid card",
    ("GET", "/api/v1/cameras/{code}"): "camera card",
    ("GET", "/api/v1/grids/{code}"): "grid team",
    ("POST", "/api/v1/patrols"): "POST patrol",
    ("GET", "/api/v1/patrols"): "GET patrols",
    ("GET", "/api/v1/patrols/positions"): "GET positions",
    ("POST", "/api/v1/patrols/ping"): "POST ping",
    ("GET", "/"): "page /",
    ("GET", "/dispatch"): "page /dispatch",
    ("GET", "/worker"): "page /worker",
    ("GET", "/api/v1/reports"): "GET report",
    ("GET", "/api/v1/reports/weekly"): "GET weekly report",
    ("GET", "/api/v1/reports/monthly"): "GET monthly report",
    ("GET", "/api/v1/reports/league"): "GET league",
    ("GET", "/api/v1/hotspots"): "GET hotspots",
    ("GET", "/api/v1/responsibility-health"): "GET responsibility health",
    ("GET", "/reports/weekly"): "page /reports/weekly",
    ("GET", "/reports/monthly"): "page /reports/monthly",
    ("GET", "/reports/league"): "page /reports/league",
    ("GET", "/api/v1/assessment"): "GET assessment",
    ("GET", "/api/v1/assessment/{worker_code}"): "GET worker assessment",
    ("GET", "/api/v1/assessment.csv"): "GET assessment csv",
    ("POST", "/api/v1/spot-checks"): "POST spot check",
    ("GET", "/api/v1/spot-checks"): "GET spot checks",
    ("GET", "/assessment"): "page /assessment",
    ("GET", "/assessment/{worker_code}"): "page /assessment/{code}",
    ("GET", "/api/v1/assessment/stationed"): "GET stationed",
    ("PUT", "/api/v1/assessment/stationed/{worker_code}"): "PUT stationed rating",
    ("GET", "/assessment/stationed"): "page /assessment/stationed",
    ("POST", "/api/v1/peers"): "POST peer",
    ("GET", "/api/v1/peers"): "GET peers",
    ("DELETE", "/api/v1/peers/{code}"): "DELETE peer",
    ("POST", "/api/v1/subscriptions"): "POST subscription",
    ("GET", "/api/v1/subscriptions"): "GET subscriptions",
    ("GET", "/api/v1/subscriptions/{subscription_id}"): "GET subscription",
    ("PATCH", "/api/v1/subscriptions/{subscription_id}"): "PATCH subscription",
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"): "DELETE subscription",
    ("GET", "/api/v1/subscriptions/{subscription_id}/deliveries"): "GET deliveries",
    ("POST", "/api/v1/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver"):
        "POST redeliver",
    ("GET", "/api/v1/accounts"): "GET accounts",
    ("POST", "/api/v1/accounts"): "POST account",
    ("PATCH", "/api/v1/accounts/{username}"): "PATCH account",
    ("DELETE", "/api/v1/accounts/{username}"): "DELETE account",
    ("POST", "/api/v1/me/password"): "POST own password",
}
PLAN_ROUTES: dict[tuple[str, str], str] = {  # probed when the app has them
    ("GET", "/api/v1/plans"): "GET plans (list)",
    ("POST", "/api/v1/plans"): "POST plan",
    ("GET", "/api/v1/plans/{plan_id}"): "GET plan",
    ("PATCH", "/api/v1/plans/{plan_id}"): "PATCH plan",
    ("DELETE", "/api/v1/plans/{plan_id}"): "DELETE plan",
    ("GET", "/api/v1/plans/{plan_id}/grids"): "GET plan grids",
    ("PUT", "/api/v1/plans/{plan_id}/grids/{code}"): "PUT plan grid",
    ("DELETE", "/api/v1/plans/{plan_id}/grids/{code}"): "DELETE plan grid",
    ("POST", "/api/v1/plans/{plan_id}/operations"): "POST plan operation",
    ("POST", "/api/v1/plans/{plan_id}/undo"): "POST plan undo",
    ("POST", "/api/v1/plans/{plan_id}/repair"): "POST plan repair",
    ("GET", "/api/v1/plans/{plan_id}/edits"): "GET plan edits",
    ("GET", "/api/v1/plans/{plan_id}/validation"): "GET plan validation",
    ("GET", "/api/v1/plans/{plan_id}/metrics"): "GET plan metrics",
    ("GET", "/api/v1/plans/{plan_id}/impact"): "GET plan impact",
    ("GET", "/api/v1/plans/{plan_id}/impact/{kind}.csv"): "GET plan impact csv",
    ("POST", "/api/v1/plans/{plan_id}/publish"): "POST plan publish",
    ("GET", "/api/v1/plans/{plan_id}/export.{fmt}"): "GET plan export",
    ("POST", "/api/v1/plans/import"): "POST plan import",
    ("POST", "/api/v1/plans/{plan_id}/rebalance"): "POST plan rebalance",
    ("GET", "/plans"): "page /plans",
    ("GET", "/plans/{plan_id}/edit"): "page /plans/{id}/edit",
}

# Cross-scope successes the matrix found that wait for a fix in gis_service (see SECURITY.md),
# by probe group. The test fails when a group listed here no longer leaks, so that the lead
# empties this table together with the fix; a leak in any other group fails at once.
KNOWN_CROSS_SCOPE: dict[str, str] = {}


def town_tiles(z: int) -> list[tuple[int, int]]:
    """The tiles at zoom z that cover the test town."""
    def tile(lon: float, lat: float) -> tuple[int, int]:
        n = 2 ** z
        x = int((lon + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
        return x, y

    x0, y1 = tile(TOWN_BBOX[0], TOWN_BBOX[1])
    x1, y0 = tile(TOWN_BBOX[2], TOWN_BBOX[3])
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rows(world: World) -> list[Row]:
    """Every probe for every account."""
    made = [row for account in world.accounts.values() for probe in PROBES
            for row in probe(world, account)]
    write_summary(world, made)
    return made


def test_every_route_is_classified(world: World) -> None:
    """A route must be in the matrix or in the public list with a reason; none is stale."""
    keys = set(route_keys(world.app))
    matrix = matrix_routes(world)
    unclassified = sorted(
        key for key in keys
        if key not in matrix and key not in PUBLIC_ROUTES
        and not (key[0] == "MOUNT" and key[1].startswith(OPEN_MOUNT_PREFIX)))
    assert not unclassified, (
        "routes in neither MATRIX_ROUTES nor PUBLIC_ROUTES (classify them, with a probe or a "
        f"reason): {unclassified}")
    stale = sorted(set(MATRIX_ROUTES) - keys) + sorted(set(PUBLIC_ROUTES) - keys)
    if world.plan_id is None:
        stale += sorted(set(PLAN_ROUTES) & keys)
    assert not stale, f"classified routes the app no longer has: {stale}"


def matrix_routes(world: World) -> dict[tuple[str, str], str]:
    """The matrix's routes: the plan API's too when the app has it."""
    return {**MATRIX_ROUTES, **(PLAN_ROUTES if world.plan_id is not None else {})}


def test_every_matrix_route_has_probes(world: World, rows: list[Row]) -> None:
    """Each route of the matrix names a probe group that really ran."""
    ran = {row.group for row in rows}
    wanted = set(matrix_routes(world).values())
    assert wanted <= ran, wanted - ran


def test_signed_in_routes_refuse_anonymous_callers(world: World) -> None:
    """Every public route whose reason does not say "open" still needs a token."""
    for (method, path), reason in PUBLIC_ROUTES.items():
        if reason.startswith("open") or reason.startswith("page") or method != "GET":
            continue
        response = world.client.request(method, re.sub(r"\{[^}]+\}", "T", path))
        assert response.status_code == 401, (path, response.status_code)


def test_no_cross_scope_successes(rows: list[Row]) -> None:
    """0 cross-scope successes, bar the known bugs listed above (which must still fail)."""
    leaks = {(r.group, r.account, r.obj) for r in rows if r.leaked}
    unknown = sorted(leak for leak in leaks if leak[0] not in KNOWN_CROSS_SCOPE)
    assert not unknown, unknown
    fixed = set(KNOWN_CROSS_SCOPE) - {leak[0] for leak in leaks}
    assert not fixed, f"no longer leaking: remove from KNOWN_CROSS_SCOPE: {sorted(fixed)}"


def test_accounts_scoped_elsewhere_open_nothing_of_the_town(world: World,
                                                          rows: list[Row]) -> None:
    """Another town's dispatcher, an unknown or missing area: no incident of town T opens
    (the known bugs aside), while every account scoped inside the town opens some."""
    in_town = {label for label, i in world.incidents.items() if i["town"] == "T"}
    opened = Counter(r.account for r in rows if r.allowed and r.obj in in_town
                     and r.group not in KNOWN_CROSS_SCOPE)
    for account in world.accounts.values():
        if account.role is None or account.role in EVERYWHERE:
            continue
        if account.in_scope:
            assert opened[account.label] > 0, account.label
        else:
            assert opened[account.label] == 0, account.label


def test_in_scope_access_works(rows: list[Row]) -> None:
    """The rule's allowed rows succeed (a matrix that denies everything proves nothing)."""
    refused = sorted((r.group, r.account, r.obj, r.status) for r in rows
                     if r.missing)
    assert not refused, refused
    by_account = Counter(r.account for r in rows if r.expected and r.allowed)
    for account in ("grid_worker T-A-1", "squad D1", "department HB", "dispatcher T"):
        assert by_account[account] > 10, by_account


# ----------------------------------------------------------------------------------------
FAMILIES = (  # the summary's columns: endpoint groups by kind
    ("incident reads", ("GET incident", "GET history", "GET links", "GET photos (list)",
                        "GET suggestions", "OGC item", "GET photo")),
    ("incident writes", ("POST photo", "POST action", "POST incident (replay)")),
    ("listings & exports", ("GET incidents (list)", "export geojson", "export csv",
                            "OGC items", "OGC collection extent", "queues", "tiles")),
    ("wall", ("wall feed", "wall replay", "wall kpi", "wall heat", "wall grid card",
              "camera card", "grid team")),
    ("patrols", ("GET patrols", "GET positions", "POST patrol", "POST ping")),
    ("plans", tuple(PLAN_ROUTES.values())),
    ("reports & warnings", ("GET report", "GET weekly report", "GET monthly report",
                            "GET hotspots", "GET responsibility health", "GET league")),
    ("assessment", ("GET assessment", "GET worker assessment", "GET assessment csv",
                    "POST spot check", "GET spot checks", "GET stationed",
                    "PUT stationed rating")),
    ("pages", ("page /", "page /dispatch", "page /worker", "page /reports/weekly",
               "page /reports/monthly", "page /reports/league", "page /assessment",
               "page /assessment/{code}", "page /assessment/stationed")),
    ("Open311 (public)", ("Open311 requests (public view)",)),
    ("accounts", ("GET accounts", "POST account", "PATCH account", "DELETE account",
                  "POST own password")),
    ("subscriptions", ("GET peers", "POST peer", "DELETE peer",
                       "GET subscriptions", "GET subscription", "GET deliveries",
                       "PATCH subscription", "POST redeliver", "POST subscription",
                       "DELETE subscription")),
)


def family(group: str) -> str:
    for name, groups in FAMILIES:
        if group in groups:
            return name
    raise AssertionError(f"no family for {group}: add it to FAMILIES")


def _cell(here: list[Row]) -> str:
    if not here:
        return ""
    allowed = [r for r in here if r.expected]
    mark = "–" if not allowed else ("✓" if all(r.allowed and not r.missing
                                              for r in allowed) else "✗")
    succeeded = sum(1 for r in here if r.allowed)
    return f"{mark} {succeeded}/{len(here)} · {sum(r.leaked for r in here)}"


def write_summary(world: World, rows: list[Row]) -> None:
    """tests/artifacts/bola_matrix.md: accounts × endpoint families, then per group."""
    groups = list(dict.fromkeys(r.group for r in rows))
    families = [name for name, _ in FAMILIES if any(family(g) == name for g in groups)]
    cells: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        cells[(row.account, family(row.group))].append(row)
    accounts = list(world.accounts)
    objects = sorted({r.obj for r in rows})
    leaks = sum(r.leaked for r in rows)
    known = sum(r.leaked for r in rows if r.group in KNOWN_CROSS_SCOPE)
    lines = [
        "# BOLA matrix", "",
        "Written by `tests/security/test_bola_matrix.py` (re-run: "
        "`.venv/bin/pytest tests/security/test_bola_matrix.py`).", "",
        f"{len(accounts)} accounts × {len(groups)} endpoint groups "
        f"({len(matrix_routes(world))} routes) × {len(objects)} objects "
        f"({', '.join(objects)}) = **{len(rows)} probes**. Cross-scope successes: "
        f"**{leaks}** ({known} in the known bug(s) below, {leaks - known} other); "
        f"in-scope refusals: **{sum(r.missing for r in rows)}**.", "",
        "Cell: `✓` every probe the rule allows succeeded (`✗` one failed, `–` the rule allows "
        "none), then succeeded/probes, then `·` cross-scope successes.", "",
        "| account | " + " | ".join(families) + " |",
        "| --- | " + " | ".join("---" for _ in families) + " |",
    ]
    for account in accounts:
        lines.append(f"| {account} | "
                     + " | ".join(_cell(cells.get((account, f), [])) for f in families) + " |")
    lines += ["", "## By endpoint group", "",
              "| endpoint group | probes | succeeded | denied | cross-scope successes |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for group in groups:
        here = [r for r in rows if r.group == group]
        ok = sum(1 for r in here if r.allowed)
        lines.append(f"| {group} | {len(here)} | {ok} | {len(here) - ok} | "
                     f"{sum(r.leaked for r in here)} |")
    lines += ["", "## Known cross-scope bugs (KNOWN_CROSS_SCOPE)", ""]
    lines += [f"- **{group}**: {why}" for group, why in KNOWN_CROSS_SCOPE.items()] or ["- none"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "bola_matrix.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
