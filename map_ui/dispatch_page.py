"""The dispatcher console as a pure function returning HTML: the queues, a map and the detail
pane are filled in by dispatch.js from the API (every action with If-Match)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import orjson

from gis_service.incidents.core.lifecycle import OPEN_STATES, TRANSITIONS
from gis_service.incidents.queries import IN_HAND
from map_ui.assets import OWN_URL, VENDOR_URL
from map_ui.nav import nav_html, role_name
from map_ui.wall import Basemap

# (key, label): the queue's key is the list API's `queue=` value
# together: everything whose next move is the command center's
QUEUES = (
    ("needs_location", "待定位"),
    ("awaiting", "待派遣"),
    ("center", "中心承办"),
    ("escalated", "上报本中心"),
    ("returned", "退回本中心"),
    ("to_verify", "待核查"),
    ("to_close", "待结案"),
    ("overdue", "已超期"),
    ("whistle", "吹哨报到"),
)
REFRESH_MS = 5000
CONSOLE_URL = OWN_URL  # the console's own script and style
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>调度台 · 网格化指挥平台</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{vendor}/bootstrap/dist/css/bootstrap.min.css">
<link rel="stylesheet" href="{vendor}/leaflet/dist/leaflet.css">
<link rel="stylesheet" href="{console}/dispatch.css">
</head>
<body class="dispatch" data-bs-theme="dark">
<header class="dispatch-head">
  <h1>指挥中心调度台</h1>
  <span class="dispatch-user">{role}：{user}</span>
  <span id="refreshed" class="dispatch-refreshed">正在载入…</span>
  <span class="dispatch-nav">{nav}</span>
</header>
<main class="dispatch-main">
  <section class="dispatch-queues" aria-label="待办队列">
    <ul class="nav nav-tabs" role="tablist">{tabs}</ul>
    <form class="dispatch-search" id="search-form" role="search">
      <input type="search" id="search" class="form-control form-control-sm" maxlength="100"
             placeholder="按描述或地址查找（如：违章搭建 东村）" aria-label="查找事件">
      <label class="dispatch-search-closed"><input type="checkbox" id="search-closed">
        含已办结</label>
      <button type="submit" class="btn btn-sm btn-outline-info">查找</button>
    </form>
    <div class="dispatch-bulk">
      <label><input type="checkbox" id="select-all"> 全选</label>
      <button type="button" id="bulk-dispatch" class="btn btn-sm btn-warning" disabled>
        按规则批量派遣（<span id="bulk-count">0</span>）</button>
    </div>
    <div class="dispatch-table">
      <table class="table table-sm table-hover" id="queue-table">
        <thead><tr><th></th><th>编号</th><th>类别</th><th>地址</th><th>网格</th>
          <th>状态</th><th>期限</th><th>处置人</th></tr></thead>
        <tbody id="queue-rows"></tbody>
      </table>
      <p id="queue-empty" class="dispatch-empty" hidden>此队列暂无事件</p>
    </div>
  </section>
  <section class="dispatch-map" aria-label="地图"><div id="map"></div></section>
  <aside class="dispatch-detail" id="detail" aria-label="事件详情">
    <p class="dispatch-hint">在左侧队列中选择一个事件</p>
  </aside>
</main>
<div id="messages" class="dispatch-messages" aria-live="polite"></div>
<script type="application/json" id="dispatch-config">{config}</script>
<script src="{vendor}/leaflet/dist/leaflet.js"></script>
<script src="{own}/page.js"></script>
<script src="{own}/labels.js"></script>
<script src="{console}/dispatch.js"></script>
</body></html>"""

FORBIDDEN_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>无权访问 · 调度台</title>
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{console}/dispatch.css"></head>
<body class="dispatch dispatch-forbidden"><main>
<h1>无权访问调度台</h1>
<p id="forbidden">账号 {user}（{role}）不能使用调度台：
调度台仅供指挥中心的管理员、指挥长和调度员使用。</p>
<p><a href="/">返回一张图</a> · <a href="/login?next=/dispatch">换一个账号登录</a></p>
</main></body></html>"""


@dataclass(frozen=True)
class ConsoleData:
    """What the console page needs besides the API: who, names, and the optional basemap."""

    username: str
    role: str
    categories: dict[str, str] = field(default_factory=dict)  # code -> name
    basemap: Basemap | None = None
    refresh_ms: int = REFRESH_MS


def _json_for_script(value: Any) -> str:
    """JSON safe inside a <script> element: no `<` is left to close it early."""
    return orjson.dumps(value).decode().replace("<", "\\u003c")


def _tabs() -> str:
    return "".join(
        f'<li class="nav-item" role="presentation"><button type="button" class="nav-link" '
        f'role="tab" id="tab-{key}" data-queue="{key}">{label} '
        f'<span class="badge rounded-pill" data-count="{key}">–</span></button></li>'
        for key, label in QUEUES)


def console_config(data: ConsoleData) -> dict[str, Any]:
    """The settings dispatch.js reads."""
    basemap = ({"url": data.basemap.url, "attribution": data.basemap.attribution}
               if data.basemap else None)
    return {"queues": [{"key": k, "label": v} for k, v in QUEUES],
            "open_states": sorted(OPEN_STATES),
            # the lifecycle's table, so the page offers exactly the moves the service takes
            "moves": {action: sorted(t.sources) for action, t in TRANSITIONS.items()},
            "in_hand": list(IN_HAND),
            "categories": data.categories, "basemap": basemap, "refresh_ms": data.refresh_ms,
            "user": data.username}


def console_page(data: ConsoleData) -> str:
    """The dispatcher console as a complete HTML page."""
    return PAGE.format(own=OWN_URL, vendor=VENDOR_URL, console=CONSOLE_URL, tabs=_tabs(),
                       user=html.escape(data.username),
                       role=html.escape(role_name(data.role)),
                       nav=nav_html(data.role, "dispatch"),
                       config=_json_for_script(console_config(data)))


def forbidden_page(username: str, role: str) -> str:
    """The answer to a signed-in user whose role may not dispatch."""
    return FORBIDDEN_PAGE.format(own=OWN_URL, console=CONSOLE_URL,
                                 user=html.escape(username), role=html.escape(role))
