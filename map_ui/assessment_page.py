"""The grid-worker assessment pages as pure functions returning HTML: the league table and a
worker's own page with every item explained and an inline SVG map of their month's walks.
No script and no external asset: sorting is a link, the map is drawn here."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from gis_service.assessment.schemas import ItemScore, WorkerMap, WorkerScore
from map_ui.assets import OWN_URL

METRES_PER_DEGREE = 111_320.0  # of latitude; enough to draw the buffer band to scale
# (sort key, column label)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "排名"), ("worker_code", "网格员"), ("grid_code", "网格"),
    ("coverage_share", "轨迹覆盖率"), ("days_active", "在岗天数"), ("events_found", "巡查发现"),
    ("on_time_rate", "按时办结率"), ("returns", "退回"), ("spot_pass_rate", "抽查通过率"),
    ("total", "总分"))
SORT_KEYS = frozenset(key for key, _ in COLUMNS)

STYLE = """<style>
body { margin: 0; background: #0b1622; color: #e3eaf2; font: 15px "Microsoft YaHei",
  "PingFang SC", "WenQuanYi Micro Hei", system-ui, sans-serif; }
header { display: flex; gap: 16px; align-items: center; padding: 12px 20px;
  background: #12263a; border-bottom: 1px solid #23405c; flex-wrap: wrap; }
h1 { margin: 0; font-size: 20px; } h2 { font-size: 17px; margin: 20px 0 8px; }
a { color: #4fc3f7; } main { padding: 12px 20px 32px; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 6px 8px; border-bottom: 1px solid #23405c; text-align: left;
  vertical-align: top; }
th a { color: #e3eaf2; text-decoration: none; } th a:hover { text-decoration: underline; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.total { font-weight: bold; color: #ffd54f; } .neg { color: #ff8a80; }
.muted { color: #9fb3c8; font-size: 13px; }
form.month input, form.month button { font-size: 14px; padding: 4px 8px; }
.score { font-size: 34px; font-weight: bold; color: #ffd54f; }
.layout { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.layout > section { flex: 1 1 420px; }
details pre { white-space: pre-wrap; font-size: 12px; color: #9fb3c8; }
svg { background: #10202f; border: 1px solid #23405c; }
</style>"""

HEAD = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} · 网格化指挥平台</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{own}/favicon.svg" type="image/svg+xml">
{style}</head><body>"""


@dataclass(frozen=True)
class LeagueView:
    """What the league table shows: who asks, the month, the scheme, the rows and order."""

    username: str
    month: str
    scheme: str
    rows: list[WorkerScore]
    sort: str = "rank"
    descending: bool = False
    nav: str = ""  # the links to other pages (map_ui.nav)


@dataclass(frozen=True)
class WorkerView:
    """A worker's own page: their score with its explanation and the map of their month."""

    username: str
    month: str
    scheme: str
    score: WorkerScore
    map: WorkerMap
    buffer_m: float
    nav: str = ""  # the links to other pages (map_ui.nav)


def _head(title: str) -> str:
    return HEAD.format(title=html.escape(title), own=OWN_URL, style=STYLE)


NO_DATA = "无数据"  # an item with nothing to measure: it earns nothing


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _measured(value: float | None) -> str:
    return NO_DATA if value is None else f"{value * 100:.1f}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def month_form(action: str, month: str) -> str:
    return (f'<form class="month" method="get" action="{html.escape(action)}">'
            f'<label>月份 <input type="month" name="month" value="{html.escape(month)}"></label>'
            ' <button type="submit">查看</button></form>')


def sorted_rows(rows: Iterable[WorkerScore], key: str, descending: bool) -> list[WorkerScore]:
    """The rows ordered by a column (unknown keys: by rank); empty values always last."""
    key = key if key in SORT_KEYS else "rank"
    present = [r for r in rows if getattr(r, key) is not None]
    missing = [r for r in rows if getattr(r, key) is None]
    present.sort(key=lambda r: r.worker_code)
    present.sort(key=lambda r: getattr(r, key), reverse=descending)  # stable: ties by code
    return present + missing


def _header(view: LeagueView) -> str:
    cells = []
    for key, label in COLUMNS:
        descending = not view.descending if key == view.sort else key not in (
            "rank", "worker_code", "grid_code", "returns")
        query = urlencode({"month": view.month, "sort": key,
                           "order": "desc" if descending else "asc"})
        mark = (" ▼" if view.descending else " ▲") if key == view.sort else ""
        css = ' class="num"' if key not in ("worker_code", "grid_code") else ""
        cells.append(f'<th{css}><a href="/assessment?{html.escape(query)}" data-sort="{key}">'
                     f'{label}{mark}</a></th>')
    return "<tr>" + "".join(cells) + "</tr>"


def _row(row: WorkerScore, month: str) -> str:
    link = f"/assessment/{quote(row.worker_code)}?{urlencode({'month': month})}"
    checks = (f"{percent(row.spot_pass_rate)}（{row.spot_checks}次）" if row.spot_checks
              else NO_DATA)
    on_time = (f"{percent(row.on_time_rate)}（{row.closed_on_time}/{row.closed}）"
               if row.on_time_rate is not None else NO_DATA)
    return (f'<tr data-worker="{html.escape(row.worker_code)}">'
            f'<td class="num">{row.rank}</td>'
            f'<td><a href="{html.escape(link)}">{html.escape(row.worker_name)}</a> '
            f'<span class="muted">{html.escape(row.worker_code)}</span></td>'
            f'<td>{html.escape(row.grid_code or "—")}</td>'
            f'<td class="num">{_measured(row.coverage_share)}</td>'
            f'<td class="num">{row.days_active}</td>'
            f'<td class="num">{row.events_found}（加权 {row.events_weighted:g}）</td>'
            f'<td class="num">{on_time}</td>'
            f'<td class="num">{row.returns}</td><td class="num">{checks}</td>'
            f'<td class="num total">{row.total:g}</td></tr>')


def league_page(view: LeagueView) -> str:
    """The month's league table of grid workers, sortable by any column."""
    rows = sorted_rows(view.rows, view.sort, view.descending)
    body = "".join(_row(r, view.month) for r in rows) or (
        '<tr><td colspan="10" class="muted">本月没有可显示的网格员</td></tr>')
    csv = f"/api/v1/assessment.csv?{urlencode({'month': view.month})}"
    return (_head("网格员月度考核") + view.nav +
            f"<header><h1>网格员月度考核 · {html.escape(view.month)}</h1>"
            f"{month_form('/assessment', view.month)}"
            f'<a href="{html.escape(csv)}">导出CSV</a>'
            f'<a href="/assessment/stationed?{urlencode({"month": view.month})}">派驻人员考核</a>'
            f'<span class="muted">方案：{html.escape(view.scheme)} · '
            f"{html.escape(view.username)}</span></header><main>"
            f'<table id="league"><thead>{_header(view)}</thead><tbody>{body}</tbody></table>'
            "</main></body></html>")


def _facts_text(entry: ItemScore) -> str:
    """A sentence saying which stored facts the item was measured from."""
    f = entry.facts
    if entry.item == "coverage":
        area = "—" if f["area_m2"] is None else f"{f['area_m2']:,.0f}"
        return (f"网格 {f['grid_code'] or '—'} 面积 {area} m²；"
                f"{len(f['track_ids'])} 条本人轨迹 {f['buffer_m']:g} 米范围内覆盖 "
                f"{f['covered_m2']:,.0f} m²")
    if entry.item == "days_active":
        names = {"track": "轨迹", "ping": "定位", "history": "办件"}
        return "；".join(f"{day}（{'、'.join(names.get(s, s) for s in sources)}）"
                        for day, sources in f["days"].items()) or "本月无活动记录"
    if entry.item == "events_found":
        parts = [f"{code or '未分类'} {row['count']} 件 × {row['weight']:g}"
                 for code, row in f["by_category"].items()]
        return "；".join(parts) + (f"；事件 #{', #'.join(map(str, f['incident_ids']))}"
                                  if f["incident_ids"] else "本月无巡查发现")
    if entry.item == "closure_on_time":
        late = [f"#{row['id']}" for row in f["incidents"] if not row["on_time"]]
        return (f"办结 {f['closed']} 件，按期 {f['on_time']} 件"
                + (f"；超期 {', '.join(late)}" if late else ""))
    if entry.item == "spot_checks":
        return (f"抽查 {f['count']} 次，通过 {f['passed']} 次，平均分 "
                f"{_number(f['mean_score'])}")
    if entry.item == "returns":
        ids = ", ".join(f"#{row['id']}" for row in f["incidents"])
        return f"每次扣 {f['per_return']:g} 分，最多 {f['cap']:g} 分" + (f"；{ids}" if ids else "")
    return ""


def _explain_row(entry: ItemScore) -> str:
    value = (percent(entry.value) if entry.item in ("coverage", "closure_on_time", "spot_checks")
             else _number(entry.value))
    if entry.value is None:
        value = f'{NO_DATA}<br><span class="muted">{html.escape(entry.missing or "")}</span>'
    target = (percent(entry.target) if entry.item in ("coverage", "closure_on_time",
                                                       "spot_checks") else _number(entry.target))
    facts = html.escape(json.dumps(entry.facts, ensure_ascii=False, indent=1))
    css = "num neg" if entry.points < 0 else "num"
    return (f'<tr data-item="{entry.item}"><td>{html.escape(entry.label)}</td>'
            f'<td class="num">{value}</td><td class="num">{target}</td>'
            f'<td class="num">{entry.weight:g}</td><td class="{css}">{entry.points:g}</td>'
            f"<td>{html.escape(_facts_text(entry))}<details><summary>原始数据</summary>"
            f"<pre>{facts}</pre></details></td></tr>")


def _rings(geometry: dict[str, Any] | None) -> list[list[list[float]]]:
    if not geometry:
        return []
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def svg_map(walks: WorkerMap, buffer_m: float, width: int = 520, height: int = 420) -> str:
    """The home grid and the month's tracks as an SVG, lon/lat scaled by cos(latitude); each
    track is drawn with a band as wide as the coverage buffer."""
    rings = _rings(walks.grid)
    lines = [t["geometry"]["coordinates"] for t in walks.tracks
             if t["geometry"]["type"] == "LineString"]
    points = [p for ring in rings for p in ring] + [p for line in lines for p in line]
    if not points:
        return (f'<svg id="grid-map" width="{width}" height="{height}" role="img" '
                f'aria-label="无地图数据"><text x="20" y="40" fill="#9fb3c8">无网格或轨迹'
                "</text></svg>")
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((south + north) / 2))
    span = max((east - west) * squeeze, north - south, 1e-9)
    pad = 16
    scale = min(width - 2 * pad, height - 2 * pad) / span  # pixels per degree of latitude

    def xy(p: list[float]) -> str:
        return f"{pad + (p[0] - west) * squeeze * scale:.1f},{pad + (north - p[1]) * scale:.1f}"

    grid = "".join(f'<path class="grid" d="M{" L".join(xy(p) for p in ring)} Z" '
                   'fill="#1e3a56" stroke="#4fc3f7" stroke-width="2"/>' for ring in rings)
    band = max(2 * buffer_m / METRES_PER_DEGREE * scale, 1.0)
    tracks = "".join(
        f'<polyline class="band" points="{" ".join(xy(p) for p in line)}" fill="none" '
        f'stroke="#ffd54f" stroke-opacity="0.3" stroke-width="{band:.1f}" '
        'stroke-linecap="round" stroke-linejoin="round"/>'
        f'<polyline class="track" points="{" ".join(xy(p) for p in line)}" fill="none" '
        'stroke="#ff7043" stroke-width="2"/>' for line in lines)
    return (f'<svg id="grid-map" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="网格与本月巡查轨迹">{grid}{tracks}</svg>')


def worker_page(view: WorkerView) -> str:
    """A worker's month: the total, each item with value, target, weight, points and facts,
    and the map of their grid with the month's tracks."""
    s = view.score
    here = f"/assessment/{quote(s.worker_code)}"
    rows = "".join(_explain_row(entry) for entry in s.explain)
    return (_head(f"{s.worker_name} 月度考核") + view.nav +
            f"<header><h1>{html.escape(s.worker_name)}（{html.escape(s.worker_code)}）"
            f" · {html.escape(view.month)}</h1>{month_form(here, view.month)}"
            f'<a href="/assessment?{html.escape(urlencode({"month": view.month}))}">考核排名</a>'
            f'<span class="muted">方案：{html.escape(view.scheme)}</span></header><main>'
            f'<p><span class="score" id="total">{s.total:g}</span> / {s.best_total:g} 分 · '
            f"第 {s.rank} 名 · 网格 {html.escape(s.grid_code or '—')}"
            f"{'' if s.on_duty else ' · 当前不在岗'}</p>"
            '<div class="layout"><section><h2>得分明细</h2><table id="explain"><thead><tr>'
            '<th>项目</th><th class="num">实测</th><th class="num">目标</th>'
            '<th class="num">权重</th><th class="num">得分</th><th>依据</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
            '<p class="muted">得分 = 权重 × min(实测 / 目标, 1)；无数据的项目不得分；'
            "退回按次扣分，封顶。总分为各项之和。</p></section>"
            f"<section><h2>网格与本月巡查轨迹（{len(view.map.tracks)} 条）</h2>"
            f"{svg_map(view.map, view.buffer_m)}"
            f'<p class="muted">黄色带宽为覆盖判定距离 {view.buffer_m:g} 米。</p></section>'
            "</div></main></body></html>")


def message_page(title: str, message: str) -> str:
    """A short page for a refusal or something not found."""
    return (_head(title) + f"<header><h1>{html.escape(title)}</h1></header><main>"
            f'<p id="message">{html.escape(message)}</p>'
            '<p><a href="/assessment">考核排名</a> · <a href="/">一张图</a></p>'
            "</main></body></html>")
