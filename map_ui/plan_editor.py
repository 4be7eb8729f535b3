"""The plan editor as pure functions returning HTML: the draft on a map, the side panel
(validation, balance, impact, log) and the tools; plan_editor.js does the rest through the
plans API, every edit with If-Match."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import orjson

from gis_service.auth.permissions import PLAN_EDITORS
from gis_service.plans.wording import STATUS_NAMES
from grid_layers.repair import DEFAULT_TOLERANCE_M, MAX_TOLERANCE_M
from map_ui.assets import OWN_URL, VENDOR_URL
from map_ui.nav import nav_html, role_name
from map_ui.wall import Basemap

DRAW_URL = f"{VENDOR_URL}/leaflet-draw/dist"
PROBLEM_NAMES = {
    "invalid_geometry": "几何无效", "overlap": "重叠", "gap": "缝隙",
    "outside_parent": "超出上级网格", "not_contiguous": "不连续", "sliver": "碎片",
    "orphan": "无上级网格", "duplicate_code": "编码重复",
}
IMPACT_LISTS = {"address_points": "地址点", "open_incidents": "未办结事件",
                "incidents": "历史事件", "workers": "网格员", "memberships": "片区/专项归属"}
# the impact's totals and per-grid counts as column headers (the API's keys stay its own)
IMPACT_TOTALS = {"new": "新增网格", "changed": "变更网格", "deleted": "删除网格",
                 **IMPACT_LISTS}
IMPACT_COLUMNS = {
    "address_points_in": "地址点迁入", "address_points_out": "地址点迁出",
    "open_incidents_in": "未办结事件迁入", "open_incidents_out": "未办结事件迁出",
    "incidents_in": "历史事件迁入", "incidents_out": "历史事件迁出",
    "workers_out": "网格员迁出", "workers_affected": "网格员受影响",
    "districts_joined": "划入执法片区", "districts_left": "划出执法片区",
    "special_in": "划入专属网格", "special_out": "划出专属网格",
}
# what a repair within tolerance did (grid_layers.repair.REPAIR_KINDS), in words
REPAIR_NAMES = {"made_valid": "修正自相交", "snapped": "顶点对齐", "gap_closed": "填补缝隙",
                "overlap_resolved": "消除重叠", "clipped_to_parent": "裁去超出上级部分"}
# the tolerance input: the API's default and bounds (over 0, at most the maximum)
TOLERANCE = {"default": DEFAULT_TOLERANCE_M, "max": MAX_TOLERANCE_M}
# the edit log's operations in words
OPERATION_NAMES = {"put": "修改网格", "delete": "删除网格", "split": "拆分", "merge": "合并",
                   "move": "划出一块", "reassign": "改隶属", "rebalance": "自动均衡",
                   "repair": "容差内修复"}
TABS = (("validation", "校验"), ("balance", "均衡"), ("impact", "影响"), ("log", "记录"))
# (id, label, title): the tools a planner uses; a commander sees none of them
TOOLS = (
    ("tool-edit", "编辑顶点", "拖动所选网格的顶点，然后保存"),
    ("tool-split", "拆分", "在所选网格上画一条线把它一分为二"),
    ("tool-merge", "合并", "再点一个相邻网格，与所选网格合并"),
    ("tool-move", "划出一块", "画一个多边形，把所选网格的这一块划给相邻网格"),
    ("tool-undo", "撤销", "撤销最近一次修改"),
    ("tool-rebalance", "自动均衡", "按户数区间生成一份新的均衡方案"),
    ("tool-publish", "发布", "校验通过后设定生效时间并发布"),
)

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>方案编辑 · {name} · 网格化指挥平台</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{vendor}/leaflet/dist/leaflet.css">
<link rel="stylesheet" href="{draw}/leaflet.draw.css">
<link rel="stylesheet" href="{own}/plan_editor.css">
</head>
<body class="plan-editor{readonly_class}">
<header class="pe-head">
  <h1>边界方案：<span id="plan-name">{name}</span></h1>
  <span id="plan-status" class="pe-status" data-status="{status_key}">{status}</span>
  <span id="plan-version" class="pe-version">第 {version} 版</span>
  <span class="pe-user">{role}：{user}</span>
  {nav}
</header>
<nav class="pe-toolbar" aria-label="工具">
  <span class="pe-selected">所选网格：<b id="selected-grid">未选择</b></span>
  {tools}
  <span id="draw-actions" class="pe-draw-actions" hidden>
    <button type="button" id="draw-finish">完成</button>
    <button type="button" id="draw-save">保存</button>
    <button type="button" id="draw-cancel">取消</button>
  </span>
  <span id="mode-hint" class="pe-hint"></span>
</nav>
<main class="pe-main">
  <section class="pe-map" aria-label="地图"><div id="map"></div></section>
  <aside class="pe-panel" aria-label="方案信息">
    <div class="pe-tabs" role="tablist">{tabs}</div>
    <section class="pe-pane" id="pane-validation" data-pane="validation">
      <p id="validation-state" class="pe-validity" data-valid="">正在校验…</p>
      {repair_form}
      <section id="repairs" class="pe-repairs" hidden>
        <h2 id="repairs-title"></h2>
        <ol id="repair-list" class="pe-repair-list"></ol>
      </section>
      <ul id="problems" class="pe-problems"></ul>
    </section>
    <section class="pe-pane" id="pane-balance" data-pane="balance" hidden>
      <form id="band-form" class="pe-band">户数区间
        <input id="band-low" type="number" min="0" value="{band_low}" aria-label="下限"> –
        <input id="band-high" type="number" min="0" value="{band_high}" aria-label="上限">
        <button type="submit">重算</button></form>
      <p id="spread" class="pe-spread"></p>
      <table class="pe-table" id="metrics-table"><thead><tr>{metric_heads}</tr></thead>
        <tbody id="metrics-rows"></tbody></table>
    </section>
    <section class="pe-pane" id="pane-impact" data-pane="impact" hidden>
      <div id="impact-summary"></div>
      <ul class="pe-downloads">{downloads}</ul>
    </section>
    <section class="pe-pane" id="pane-log" data-pane="log" hidden>
      <ol id="edit-log" class="pe-log"></ol>
    </section>
  </aside>
</main>
<dialog id="op-dialog" class="pe-dialog">
  <form method="dialog" id="op-form">
    <h2 id="op-title"></h2>
    <div id="op-fields"></div>
    <p id="op-error" class="pe-error" role="alert"></p>
    <menu><button type="button" id="op-cancel">取消</button>
      <button type="submit" id="op-submit">确定</button></menu>
  </form>
</dialog>
<div id="messages" class="pe-messages" aria-live="polite"></div>
<script type="application/json" id="plan-editor-config">{config}</script>
<script src="{vendor}/leaflet/dist/leaflet.js"></script>
<script src="{draw}/leaflet.draw.js"></script>
<script src="{own}/page.js"></script>
<script src="{own}/plan_api.js"></script>
<script src="{own}/plan_editor.js"></script>
</body></html>"""

REPAIR_FORM = """<form id="repair-form" class="pe-repair-form" novalidate hidden>
        <button type="submit" id="repair-run"></button>
        <label>容差 <input id="repair-tolerance" type="number" min="0.01" max="{max}"
          step="0.01" value="{default}" required aria-label="容差（米）"> 米</label>
      </form>"""

METRIC_COLUMNS = (
    ("code", "编码"), ("name", "名称"), ("households", "户数"), ("population", "人口"),
    ("address_points", "地址点"), ("incidents_12m", "近12月事件"), ("area_m2", "面积(m²)"),
    ("polsby_popper", "紧凑度"), ("deviation", "偏离"), ("in_band", "区间内"),
)

MESSAGE_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} · 方案编辑</title>
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{own}/plan_editor.css"></head>
<body class="plan-editor pe-message-page"><main>
<h1>{title}</h1>
<p id="{kind}">{text}</p>
<p><a href="/plans">全部方案</a> · <a href="/">返回一张图</a> ·
<a href="/login?next={next}">换一个账号登录</a></p>
</main></body></html>"""

LIST_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>边界方案 · 网格化指挥平台</title>
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{own}/plan_editor.css"></head>
<body class="plan-editor pe-list-page"><main>
<h1>边界方案</h1>
{nav}<p class="pe-user">{role}：{user}</p>
{new_form}
{import_form}
<table class="pe-table" id="plans"><thead><tr><th>编号</th><th>名称</th><th>状态</th>
<th>版本</th><th>网格数</th><th>创建人</th><th>更新时间</th></tr></thead>
<tbody>{rows}</tbody></table>
</main>
<script type="application/json" id="plan-list-config">{config}</script>
<script src="{own}/page.js"></script>
<script src="{own}/plan_api.js"></script>
<script src="{own}/plan_editor.js"></script>
<script src="{own}/plan_import.js"></script>
</body></html>"""

NEW_FORM = """<form id="new-plan" class="pe-new"><label>新草稿名称
<input id="new-plan-name" required maxlength="200" value="新边界方案"></label>
<button type="submit">新建草稿</button><span id="new-plan-error" class="pe-error"></span></form>"""

# a .geojson or .gpkg as a new draft; a file whose only defects are rings folded by rounding
# is refused, and the refusal offers the import repaired within a tolerance
IMPORT_FORM = """<form id="import-plan" class="pe-new pe-import"><label>从文件导入草稿
<input id="import-file" type="file" accept=".geojson,.json,.gpkg" required></label>
<label>名称 <input id="import-name" maxlength="200" placeholder="默认取文件名"></label>
<button type="submit" id="import-submit">导入</button>
<div id="import-refused" class="pe-import-refused" hidden>
<p id="import-error" class="pe-error" role="alert"></p>
<ul id="import-problems" class="pe-problems"></ul>
<p id="import-repair" hidden><label>容差 <input id="import-tolerance" type="number" min="0.01"
max="{max}" step="0.01" value="{default}" aria-label="容差（米）"> 米</label>
<button type="button" id="import-repair-run">容差内修复后导入</button></p>
</div></form>"""


@dataclass(frozen=True)
class EditorData:
    """What the editor page needs besides the API: the plan, who, the band, the basemap."""

    plan_id: int
    name: str
    status: str
    version: int
    username: str
    role: str
    band: tuple[int, int] = (100, 300)
    basemap: Basemap | None = None


def _json_for_script(value: Any) -> str:
    """JSON safe inside a <script> element: no `<` is left to close it early."""
    return orjson.dumps(value).decode().replace("<", "\\u003c")


def can_edit(role: str) -> bool:
    """Whether a role may change plans (the other plan readers only look)."""
    return role in PLAN_EDITORS


def editor_config(data: EditorData) -> dict[str, Any]:
    """The settings plan_editor.js reads."""
    basemap = ({"url": data.basemap.url, "attribution": data.basemap.attribution}
               if data.basemap else None)
    return {"plan_id": data.plan_id, "version": data.version, "status": data.status,
            "editable": can_edit(data.role) and data.status == "draft",
            "can_plan": can_edit(data.role), "band": list(data.band), "basemap": basemap,
            "problems": PROBLEM_NAMES, "statuses": STATUS_NAMES, "impact_lists": IMPACT_LISTS,
            "impact_totals": IMPACT_TOTALS, "impact_columns": IMPACT_COLUMNS,
            "operations": OPERATION_NAMES, "repairs": REPAIR_NAMES, "tolerance": TOLERANCE,
            "user": data.username}


def _tools(enabled: bool) -> str:
    if not enabled:
        return ('<span class="pe-readonly-note" id="readonly-note">'
                "只读：仅规划员和管理员可修改草稿方案</span>")
    return "".join(f'<button type="button" id="{key}" class="pe-tool" title="{title}">'
                   f"{label}</button>" for key, label, title in TOOLS)


def _tabs() -> str:
    return "".join(
        f'<button type="button" role="tab" class="pe-tab" id="tab-{key}" data-tab="{key}">'
        f"{label}</button>" for key, label in TABS)


def _downloads(plan_id: int) -> str:
    return "".join(f'<li><a href="/api/v1/plans/{plan_id}/impact/{kind}.csv" '
                   f'data-kind="{kind}" download>{label}清单（CSV）</a></li>'
                   for kind, label in IMPACT_LISTS.items())


def editor_page(data: EditorData) -> str:
    """The plan editor as a complete HTML page."""
    config = editor_config(data)
    heads = "".join(f'<th data-sort="{key}">{label}</th>' for key, label in METRIC_COLUMNS)
    return PAGE.format(
        own=OWN_URL, vendor=VENDOR_URL, draw=DRAW_URL, name=html.escape(data.name),
        status_key=html.escape(data.status),
        status=STATUS_NAMES.get(data.status, html.escape(data.status)), version=data.version,
        role=html.escape(role_name(data.role)), user=html.escape(data.username),
        nav=nav_html(data.role, "plans"),
        readonly_class="" if config["editable"] else " pe-readonly",
        tools=_tools(bool(config["editable"])), tabs=_tabs(), metric_heads=heads,
        repair_form=REPAIR_FORM.format(**TOLERANCE) if config["editable"] else "",
        band_low=data.band[0], band_high=data.band[1], downloads=_downloads(data.plan_id),
        config=_json_for_script(config))


def forbidden_page(username: str, role: str, next_path: str) -> str:
    """The answer to a signed-in user whose role may not see plans."""
    text = (f"账号 {html.escape(username)}（{html.escape(role_name(role))}）不能查看边界方案："
            "方案仅供规划员、管理员和指挥长使用。")
    return MESSAGE_PAGE.format(own=OWN_URL, title="无权访问方案编辑", kind="forbidden",
                               text=text, next=html.escape(next_path))


def not_found_page(plan_id: int) -> str:
    """The answer for a plan that does not exist."""
    return MESSAGE_PAGE.format(own=OWN_URL, title="方案不存在", kind="not-found",
                               text=f"没有编号为 {plan_id} 的边界方案。",
                               next=f"/plans/{plan_id}/edit")


def list_page(plans: list[dict[str, Any]], *, username: str, role: str) -> str:
    """Every plan with a link to its editor; planners may start a new draft."""
    rows = "".join(
        f'<tr data-id="{p["id"]}"><td>{p["id"]}</td>'
        f'<td><a href="/plans/{p["id"]}/edit">{html.escape(str(p["name"]))}</a></td>'
        f'<td>{STATUS_NAMES.get(str(p["status"]), html.escape(str(p["status"])))}</td>'
        f'<td>{p["version"]}</td><td>{p["grid_count"]}</td>'
        f'<td>{html.escape(str(p["owner"]))}</td><td>{html.escape(str(p["updated_at"]))}</td>'
        "</tr>" for p in plans) or '<tr><td colspan="7">尚无方案</td></tr>'
    return LIST_PAGE.format(own=OWN_URL, role=html.escape(role_name(role)),
                            nav=nav_html(role, "plans"),
                            user=html.escape(username), rows=rows,
                            new_form=NEW_FORM if can_edit(role) else "",
                            import_form=IMPORT_FORM.format(**TOLERANCE) if can_edit(role)
                            else "",
                            config=_json_for_script({"list": True, "problems": PROBLEM_NAMES,
                                                     "tolerance": TOLERANCE}))
