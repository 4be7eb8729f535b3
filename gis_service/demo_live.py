"""A believable day while the demo runs (`gis-service simulate`, started by `make demo` unless
`GIS_DEMO_LIVE=0`): new reports from every channel at the hour's rate, grid workers accepting
and resolving what they are given, the center verifying and closing, patrols moving, now and
then a town handing a ticket up to the county and the county sending it down again.

Where the demo has cameras, most `video` reports are their events (`camera_code`, a scene the
camera watches, a confidence), and now and then a camera sees the same thing again a minute
later, so the wall shows a detection folding into its incident.

Everything goes through the service's real HTTP API as the demo's accounts would (tokens are
issued for them from the database, as `gis-service token` does), so the wall, the console and
the phone page move as they would with people at work. Nothing here is needed by the tests
of the service; its own test runs a few rounds against a live service.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_service.auth.service import issue_token
from gis_service.timeutil import CHINA_TIME

logger = logging.getLogger(__name__)

# the share of each hour of the day (China time) in a day's reports: quiet at night, busy in
# the morning and early afternoon, as the demo's year of history is
HOURLY = (0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.4, 1.9, 2.0, 1.9, 1.6,
          1.3, 1.6, 1.8, 1.8, 1.6, 1.3, 1.0, 0.8, 0.6, 0.5, 0.4, 0.3)
SOURCES = (("hotline_12345", 40), ("grid_patrol", 30), ("enforcement_patrol", 8),
           ("mayor_mailbox", 5), ("video", 7), ("walk_in", 5), ("open311", 5))
RESOLUTIONS = (("service", 7), ("management", 2), ("enforcement", 1))  # the 721 target
PLACES = ("路口", "桥头", "河边", "菜场门口", "小区门口", "学校旁", "村委会附近", "工地旁",
          "停车场", "公交站旁")
TOKEN_LIFETIME = timedelta(days=2)
CAMERA_SHARE = 0.7  # of the video reports, those sent as a camera's event (when there are any)
SEEN_AGAIN = 0.4  # the chance that a camera's event repeats the last one (and folds into it)


@dataclass(frozen=True)
class Pace:
    """How fast the day goes: reports per hour at the busiest hour, and the chance per round
    (5 s by default) that each step of an incident in hand is taken — about an hour from
    report to close, so as many stay open on the wall as the loaded history left open."""

    reports_per_hour: float = 120.0
    accept: float = 0.02
    start: float = 0.02
    resolve: float = 0.005
    verify: float = 0.02
    close: float = 0.02
    evaluate: float = 0.5  # of the closed ones, the citizen's evaluation recorded
    escalate: float = 0.02  # per round: a town hands one ticket up to the county
    send_down: float = 0.05  # per ticket waiting at the county, per round
    pings: int = 4  # grid workers' positions sent per round


@dataclass
class Tally:
    """What the simulator did, for its log line."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: int = 0


class DemoDay:
    """Drives the service at `base_url` as the demo's accounts."""

    def __init__(self, base_url: str, session_factory: Callable[[], Session], *,
                 pace: Pace = Pace(), seed: int | None = None,
                 client: httpx.Client | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.client = client or httpx.Client(base_url=base_url, timeout=30)
        self.sessions = session_factory
        self.pace = pace
        self.clock = clock  # the hour of the day sets the rate of reports
        self.rng = random.Random(seed)
        self.tokens: dict[str, str] = {}
        self.tally = Tally()
        self.grids: list[tuple[str, BaseGeometry]] = []  # level-3 grids: code, shape
        self.grid_shapes: dict[str, BaseGeometry] = {}
        self.categories: list[str] = []
        self.workers: list[tuple[str, str]] = []  # (worker code, grid code) on duty
        self.centers: dict[str, str] = {}  # town code -> its dispatcher's account
        self.county: str | None = None  # the county center's account, if there is one
        self.cameras: list[tuple[str, tuple[str, ...]]] = []  # (code, the scenes it reports)
        self.last_seen: tuple[str, str] | None = None  # the last camera event's camera, scene
        self.number = 0

    # ---- who acts ---------------------------------------------------------------------------
    def _headers(self, account: str) -> dict[str, str] | None:
        """A bearer token for a demo account (issued once), or None when there is no such
        enabled account."""
        if account not in self.tokens:
            with self.sessions() as session:
                try:
                    self.tokens[account] = issue_token(session, username=account,
                                                       lifetime=TOKEN_LIFETIME)
                except Exception:  # no such account in this deployment: that move is skipped
                    return None
        return {"Authorization": f"Bearer {self.tokens[account]}"}

    def _get(self, account: str, path: str, **params: Any) -> Any:
        headers = self._headers(account)
        if headers is None:
            return None
        response = self.client.get(path, headers=headers, params=params)
        if response.status_code != 200:
            self.tally.failures += 1
            return None
        return response.json()

    def _act(self, account: str, incident: dict[str, Any], action: str, **body: Any) -> bool:
        headers = self._headers(account)
        if headers is None:
            return False
        response = self.client.post(
            f"/api/v1/incidents/{incident['id']}/actions",
            headers={**headers, "If-Match": f'"{incident["version"]}"'},
            json={"action": action, **body})
        if response.status_code == 200:
            self.tally.counts[action] += 1
            incident.update(response.json())
            return True
        if response.status_code not in (403, 409, 412):  # someone else moved first: fine
            self.tally.failures += 1
        return False

    # ---- what there is ----------------------------------------------------------------------
    def load(self) -> None:
        """Read the town's grids, categories, workers and centers through the API."""
        grids = self._get("admin", "/api/v1/grids", level=3) or {"features": []}
        self.grids = [(f["properties"]["code"], shape(f["geometry"]))
                      for f in grids["features"] if f.get("geometry")]
        for _, geometry in self.grids:
            shapely.prepare(geometry)
        self.grid_shapes = dict(self.grids)
        services = self.client.get("/open311/v2/services.json")
        self.categories = ([s["service_code"] for s in services.json()]
                           if services.status_code == 200 else [])
        workers = self._get("admin", "/api/v1/workers") or []
        self.workers = [(w["code"], w["grid_code"]) for w in workers
                        if w.get("role") == "grid_worker" and w.get("on_duty")
                        and w.get("grid_code") in self.grid_shapes]
        self._load_cameras()
        accounts = self._get("admin", "/api/v1/accounts") or []
        for account in accounts:
            if account.get("role") != "dispatcher" or not account.get("scope_code") \
                    or account.get("disabled"):
                continue
            level = self._level(account["scope_code"])
            if level == 1:
                self.centers.setdefault(account["scope_code"], account["username"])
            elif level == 0 and self.county is None:
                self.county = account["username"]

    def _load_cameras(self) -> None:
        """The cameras and the scenes each reports (its `scenes` attribute, else every scene
        the center has a row for)."""
        scenes = [row["scene"] for row in self._get("admin", "/api/v1/video-scenes") or []]
        cameras = self._get("admin", "/api/v1/cameras") or {"features": []}
        self.cameras = []
        for feature in cameras["features"]:
            props = feature["properties"]
            listed = str((props.get("attributes") or {}).get("scenes") or "").split(";")
            watched = tuple(s for s in listed if s in scenes) or tuple(scenes)
            if watched:
                self.cameras.append((props["code"], watched))

    def _level(self, code: str) -> int | None:
        grid = self._get("admin", f"/api/v1/grids/{code}")
        return None if grid is None else grid["properties"].get("level")

    # ---- one round ----------------------------------------------------------------------------
    def round(self, seconds: float) -> Tally:
        """What `seconds` of the day brings: new reports, steps taken, hand-ups, pings."""
        moment = self.clock().astimezone(CHINA_TIME)
        for _ in range(self._arrivals(seconds, moment.hour)):
            self._report()
        self._handle()
        self._county()
        self._pings()
        return self.tally

    def _arrivals(self, seconds: float, hour: int) -> int:
        """A Poisson draw of the reports due in `seconds` at this hour's rate."""
        mean = self.pace.reports_per_hour * HOURLY[hour] / max(HOURLY) * seconds / 3600
        if mean > 30:  # the normal approximation, where Knuth's product would underflow
            return max(0, round(self.rng.gauss(mean, math.sqrt(mean))))
        limit, k, product = math.exp(-mean), 0, self.rng.random()  # Knuth's method
        while product > limit:
            k += 1
            product *= self.rng.random()
        return k

    def _point(self) -> tuple[str, float, float] | None:
        if not self.grids:
            return None
        code, geometry = self.rng.choice(self.grids)
        west, south, east, north = geometry.bounds
        for _ in range(50):
            lon, lat = self.rng.uniform(west, east), self.rng.uniform(south, north)
            if geometry.contains(shapely.Point(lon, lat)):
                return code, lon, lat
        point = geometry.representative_point()
        return code, point.x, point.y

    def _report(self) -> None:
        place = self._point()
        if place is None or not self.categories:
            return
        _, lon, lat = place
        source = self.rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        if source == "video" and self.cameras and self.rng.random() < CAMERA_SHARE:
            self._camera_event()
            return
        self.number += 1
        body = {"source": source, "external_id": f"LIVE-{int(time.time())}-{self.number}",
                "category": self.rng.choice(self.categories),
                "description": f"{self.rng.choice(PLACES)}，请尽快处理（演示实时）",
                "location": {"lon": round(lon, 7), "lat": round(lat, 7), "crs": "wgs84"}}
        headers = self._headers("admin")
        if headers is None:
            return
        response = self.client.post("/api/v1/incidents", headers=headers, json=body)
        if response.status_code in (200, 201):
            self.tally.counts["report"] += 1
        else:
            self.tally.failures += 1

    def _camera_event(self) -> None:
        """A camera's detection, as the video platform sends it: a scene the camera reports,
        at the camera; sometimes the last one seen again (it folds into that incident)."""
        if self.last_seen is not None and self.rng.random() < SEEN_AGAIN:
            camera, scene = self.last_seen
        else:
            camera, scenes = self.rng.choice(self.cameras)
            scene = self.rng.choice(scenes)
        self.last_seen = (camera, scene)
        self.number += 1
        body = {"source": "video", "external_id": f"LIVE-{int(time.time())}-{self.number}",
                "camera_code": camera, "scene": scene,
                "confidence": round(self.rng.uniform(0.55, 0.98), 2)}
        headers = self._headers("admin")
        if headers is None:
            return
        response = self.client.post("/api/v1/incidents", headers=headers, json=body)
        if response.status_code in (200, 201):
            self.tally.counts["camera_event" if response.status_code == 201
                              else "camera_repeat"] += 1
        else:
            self.tally.failures += 1

    def _handle(self) -> None:
        """Each incident in hand may take its next step: the grid worker accepts, starts and
        resolves their own; the center the rest, and verifies, closes and records the
        citizen's evaluation."""
        steps = (("dispatched", "accept", self.pace.accept),
                 ("accepted", "start", self.pace.start),
                 ("in_progress", "resolve", self.pace.resolve),
                 ("resolved", "verify", self.pace.verify),
                 ("verified", "close", self.pace.close))
        for status, action, chance in steps:
            page = self._get("admin", "/api/v1/incidents", status=status, limit=60) or {}
            for incident in page.get("items", []):
                if self.rng.random() >= chance:
                    continue
                extra: dict[str, Any] = {}
                if action == "close":
                    extra["resolution"] = self.rng.choices(
                        [r for r, _ in RESOLUTIONS], [w for _, w in RESOLUTIONS])[0]
                self._act(self._actor(incident, action), incident, action, **extra)
                if action == "close" and self.rng.random() < self.pace.evaluate:
                    self._act("dispatcher", incident, "evaluate",
                              satisfaction=self.rng.choices((5, 4, 3, 2, 1),
                                                            (55, 30, 10, 3, 2))[0])

    def _actor(self, incident: dict[str, Any], action: str) -> str:
        assignee = incident.get("assignee") or {}
        if action in ("accept", "start", "resolve") and assignee.get("type") == "grid_worker":
            return str(assignee["code"]).lower()  # the worker's own account (load-demo's)
        if assignee.get("type") == "county" and self.county:
            return self.county
        return self.centers.get(incident.get("town") or "", "dispatcher")

    def _county(self) -> None:
        """Now and then a town hands a ticket up; the county sends what waits there down to
        the town it lies in."""
        if self.county is None:
            return
        if self.rng.random() < self.pace.escalate:
            page = self._get("admin", "/api/v1/incidents", status="dispatched", limit=40) or {}
            held = [i for i in page.get("items", [])
                    if (i.get("assignee") or {}).get("type") == "town"]
            if held:
                incident = self.rng.choice(held)
                self._act(self.centers.get(incident.get("town") or "", "dispatcher"), incident,
                          "escalate", note="镇级协调不了，报请县指挥中心")
        waiting = self._get(self.county, "/api/v1/incidents", queue="escalated", limit=20) or {}
        for incident in waiting.get("items", []):
            if incident.get("town") and self.rng.random() < self.pace.send_down:
                self._act(self.county, incident, "dispatch", to=f"town:{incident['town']}",
                          note="县指挥中心下派，请属地处置")

    def _pings(self) -> None:
        for worker, grid in self.rng.sample(self.workers, min(self.pace.pings,
                                                              len(self.workers))):
            geometry = self.grid_shapes[grid]
            point = geometry.representative_point()
            west, south, east, north = geometry.bounds
            lon = point.x + self.rng.uniform(-0.2, 0.2) * (east - west)
            lat = point.y + self.rng.uniform(-0.2, 0.2) * (north - south)
            if not geometry.contains(shapely.Point(lon, lat)):
                lon, lat = point.x, point.y
            headers = self._headers(worker.lower())
            if headers is None:
                continue
            response = self.client.post("/api/v1/patrols/ping", headers=headers,
                                        json={"lon": round(lon, 7), "lat": round(lat, 7)})
            if response.status_code == 200:
                self.tally.counts["ping"] += 1


def run(day: DemoDay, *, round_seconds: float, rounds: int | None = None,
        log_every: float = 60.0, pause: float | None = None) -> None:
    """Play a round of `round_seconds` of the day every `pause` seconds (as long as a round,
    by default) until stopped, or until `rounds` have run; a round that fails is logged and
    the next one tries again."""
    wait = round_seconds if pause is None else pause
    day.load()
    last_log, done = time.monotonic(), 0
    while rounds is None or done < rounds:
        started = time.monotonic()
        try:
            day.round(round_seconds)
        except httpx.HTTPError as exc:  # the service restarting: wait for it
            logger.warning("simulated round failed: %s", exc)
        done += 1
        if time.monotonic() - last_log >= log_every:
            logger.info("demo day: %s (%d refused)", dict(day.tally.counts), day.tally.failures)
            last_log = time.monotonic()
        if rounds is None or done < rounds:
            time.sleep(max(0.0, wait - (time.monotonic() - started)))
