"""The grid worker's phone page as a pure function: markup and settings; worker.js does the
rest through the API with the session cookie."""

from __future__ import annotations

import html
from dataclasses import dataclass

import orjson

from map_ui.assets import OWN_URL, VENDOR_URL
from map_ui.nav import role_name
from map_ui.wall import Basemap

PATROL_FLUSH_SECONDS = 120  # a recording patrol is uploaded this often, so little is lost


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


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#12263a">
<title>网格员工作台</title>
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{vendor}/leaflet/dist/leaflet.css">
<link rel="stylesheet" href="{own}/worker.css">
</head><body>
<header class="w-head"><h1>网格员工作台</h1><p id="who">{who}</p></header>
<div id="map" class="w-map" aria-label="网格地图"></div>
<nav class="w-tabs" role="tablist">
<button type="button" role="tab" data-tab="tasks" aria-selected="true">我的任务</button>
<button type="button" role="tab" data-tab="report" aria-selected="false">就地上报</button>
<button type="button" role="tab" data-tab="patrol" aria-selected="false">巡查轨迹</button>
</nav>
<p id="message" class="w-message" role="status" aria-live="polite"></p>
<main>
<section id="tab-tasks" class="w-panel">
<div class="w-row"><h2>待办任务</h2>
<button type="button" id="reload" class="w-small">刷新</button></div>
<ul id="tasks" class="w-tasks"><li class="w-empty">加载中…</li></ul>
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
<script src="{vendor}/leaflet/dist/leaflet.js"></script>
<script src="{own}/page.js"></script>
<script src="{own}/labels.js"></script>
<script src="{own}/worker.js"></script>
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
              "flush_seconds": view.patrol_flush_seconds,
              "basemap": ({"url": view.basemap.url, "attribution": view.basemap.attribution}
                          if view.basemap else None)}
    # inside <script>, "</" could end the element early: escape it in the JSON text
    return orjson.dumps(config).decode().replace("</", "<\\/")


def worker_page(view: WorkerView) -> str:
    """The phone page of a field account: tasks, report here, patrol recording."""
    return PAGE.format(own=OWN_URL, vendor=VENDOR_URL, who=html.escape(_who(view)),
                       config=_config(view),
                       flush_minutes=max(1, view.patrol_flush_seconds // 60))
