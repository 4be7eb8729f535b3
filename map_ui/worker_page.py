"""The grid worker's phone page as pure functions: its markup and settings, and what makes it
an installable web app that works without signal — the web app manifest and the service
worker's script (the assets it keeps for offline use). worker.js and worker_outbox.js do the
rest through the API with the session cookie."""

from __future__ import annotations

import html
from dataclasses import dataclass

import orjson

from gis_service.auth.permissions import HANDLERS, PATROL_WALKERS
from map_ui.assets import OWN_URL, VENDOR_URL
from map_ui.nav import role_name
from map_ui.wall import Basemap

PATROL_FLUSH_SECONDS = 120  # a recording patrol is uploaded this often, so little is lost
OUTBOX_RETRY_SECONDS = 30  # what waits in the outbox is tried again this often

PAGE_URL = "/worker"
# At the root, so that its scope may be "/worker": a service worker's scope can be no wider
# than its script's folder (unless the answer says Service-Worker-Allowed), and a script at
# "/worker/sw.js" could only control "/worker/…", not the page "/worker" itself.
SERVICE_WORKER_URL = "/worker-sw.js"
SERVICE_WORKER_SCOPE = PAGE_URL
MANIFEST_URL = "/worker.webmanifest"
APP_NAME = "网格员工作台"
THEME = "#12263a"
BACKGROUND = "#f3f6f9"

STYLES = (f"{VENDOR_URL}/leaflet/dist/leaflet.css", f"{OWN_URL}/worker.css")
SCRIPTS = (f"{VENDOR_URL}/leaflet/dist/leaflet.js", f"{OWN_URL}/page.js", f"{OWN_URL}/labels.js",
           f"{OWN_URL}/worker_outbox.js", f"{OWN_URL}/worker.js")
# (url, sizes, type): the SVG for any size, PNGs where a launcher wants a bitmap
ICONS = ((f"{OWN_URL}/worker-icon.svg", "any", "image/svg+xml"),
         (f"{OWN_URL}/worker-icon-192.png", "192x192", "image/png"),
         (f"{OWN_URL}/worker-icon-512.png", "512x512", "image/png"))
# what the service worker keeps so that the page opens with no network (the page itself is
# kept apart: it is the signed-in person's, and kept as last served)
OFFLINE_ASSETS = (*STYLES, *SCRIPTS, f"{OWN_URL}/favicon.svg", *(url for url, _, _ in ICONS))


@dataclass(frozen=True)
class WorkerView:
    """What the page needs to know about the signed-in field account."""

    username: str
    role: str
    scope_code: str | None
    worker_code: str | None
    worker_name: str | None
    grid_code: str | None
    basemap: Basemap | None = None
    patrol_flush_seconds: int = PATROL_FLUSH_SECONDS
    outbox_retry_seconds: int = OUTBOX_RETRY_SECONDS


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="{theme}">
<title>网格员工作台</title>
<link rel="manifest" href="{manifest}">
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
<link rel="apple-touch-icon" href="{own}/worker-icon-192.png">
{styles}
</head><body>
<header class="w-head"><h1>网格员工作台</h1><p id="who">{who}</p>
<p id="net" class="w-net" hidden>离线：所做的上报、操作和轨迹先存在手机上，恢复网络后自动发送</p>
</header>
<div id="map" class="w-map" aria-label="网格地图"></div>
<nav class="w-tabs" role="tablist">
<button type="button" role="tab" data-tab="tasks" aria-selected="true">我的任务</button>
<button type="button" role="tab" data-tab="report" aria-selected="false">就地上报</button>
<button type="button" role="tab" data-tab="patrol" aria-selected="false">巡查轨迹</button>
</nav>
<p id="message" class="w-message" role="status" aria-live="polite"></p>
<section id="outbox" class="w-outbox" hidden>
<div class="w-row"><h2 id="outbox-count">待发送 0 条</h2>
<button type="button" id="outbox-send" class="w-small">立即发送</button></div>
<ul id="outbox-list" class="w-outbox-list"></ul>
<p id="outbox-others" class="w-note" hidden></p>
</section>
<main>
<section id="tab-tasks" class="w-panel">
<div class="w-row"><h2>待办任务</h2>
<button type="button" id="reload" class="w-small">刷新</button></div>
<ul id="tasks" class="w-tasks"><li class="w-empty">加载中…</li></ul>
<div id="team-box" hidden><h2>我的网格力量（1+1+N）</h2>
<ul id="team" class="w-team"></ul></div>
</section>
<section id="tab-report" class="w-panel" hidden>
<h2>在当前位置上报事件</h2>
<button type="button" id="locate" class="w-big">获取当前位置</button>
<p id="position" class="w-note">尚未定位</p>
<label for="crs">坐标系</label>
<select id="crs"><option value="wgs84" selected>WGS84（手机GPS）</option>
<option value="gcj02">GCJ-02（高德/腾讯）</option></select>
<label for="category">事件类别</label><select id="category"></select>
<label for="description">情况描述</label>
<textarea id="description" rows="3" maxlength="4000" placeholder="简要描述现场情况"></textarea>
<label for="report-photo">现场照片</label>
<input id="report-photo" type="file" accept="image/*" capture="environment">
<button type="button" id="submit-report" class="w-big w-primary" disabled>上报</button>
<div id="report-result" class="w-result" hidden></div>
</section>
<section id="tab-patrol" class="w-panel" hidden>
<h2>巡查轨迹</h2>
<button type="button" id="patrol-toggle" class="w-big w-primary">开始巡查</button>
<dl class="w-stats"><dt>状态</dt><dd id="patrol-state">未开始</dd>
<dt>已走</dt><dd><span id="patrol-distance">0</span> 米</dd>
<dt>定位点</dt><dd id="patrol-points">0</dd>
<dt>已上传</dt><dd id="patrol-sent">0 段</dd></dl>
<p class="w-note">巡查中每{flush_minutes}分钟自动上传一次轨迹，结束时上传剩余部分。</p>
</section>
</main>
<script id="worker-config" type="application/json">{config}</script>
{scripts}
</body></html>"""


def _who(view: WorkerView) -> str:
    role = role_name(view.role)
    name = view.worker_name or view.username
    grid = f" · 网格 {view.grid_code}" if view.grid_code else ""
    code = f"（{view.worker_code}）" if view.worker_code else ""
    return f"{role} {name}{code}{grid}"


def _config(view: WorkerView) -> str:
    config = {"username": view.username, "role": view.role, "scope": view.scope_code,
              "worker_code": view.worker_code, "grid": view.grid_code,
              # a handler works its tasks; a grid team member follows what it cooperates on
              "acts": view.role in HANDLERS, "patrols": view.role in PATROL_WALKERS,
              "flush_seconds": view.patrol_flush_seconds,
              "retry_seconds": view.outbox_retry_seconds,
              "service_worker": {"url": SERVICE_WORKER_URL, "scope": SERVICE_WORKER_SCOPE},
              "basemap": ({"url": view.basemap.url, "attribution": view.basemap.attribution}
                          if view.basemap else None)}
    # inside <script>, "</" could end the element early: escape it in the JSON text
    return orjson.dumps(config).decode().replace("</", "<\\/")


def worker_page(view: WorkerView) -> str:
    """The phone page of a field account: tasks, report here, patrol recording, and what
    still waits to be sent."""
    styles = "\n".join(f'<link rel="stylesheet" href="{url}">' for url in STYLES)
    scripts = "\n".join(f'<script src="{url}"></script>' for url in SCRIPTS)
    return PAGE.format(own=OWN_URL, theme=THEME, manifest=MANIFEST_URL, styles=styles,
                       scripts=scripts, who=html.escape(_who(view)), config=_config(view),
                       flush_minutes=max(1, view.patrol_flush_seconds // 60))


def manifest() -> bytes:
    """The web app manifest: the phone page installed as an app of its own."""
    return orjson.dumps({
        "id": PAGE_URL, "name": APP_NAME, "short_name": "网格员", "lang": "zh-CN",
        "description": "网格员的任务、就地上报和巡查轨迹；无信号时先存在手机上，恢复后自动发送",
        "start_url": PAGE_URL, "scope": PAGE_URL, "display": "standalone",
        "orientation": "portrait", "theme_color": THEME, "background_color": BACKGROUND,
        "icons": [{"src": url, "sizes": sizes, "type": kind, "purpose": "any"}
                  for url, sizes, kind in ICONS]})


def service_worker_script(body: str, version: str) -> str:
    """The service worker as served: the page and asset list it keeps, and the cache's
    version (a digest of the assets: a new one makes browsers install the worker again),
    put before its code (static/worker_sw.js)."""
    settings = orjson.dumps({"version": version, "page": PAGE_URL,
                             "assets": list(OFFLINE_ASSETS)}).decode()
    return f"const SETTINGS = {settings};\n{body}"
