"""The page of county staff stationed in towns (派驻人员考核), as a pure function returning
HTML: each member's department work in their town, the town's and the department's ratings,
the weighted total, and a rating form for the party the signed-in center rates as
(static/stationed.js sends it)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from gis_service.assessment.schemas import StationedPart, StationedRead, StationedScore
from map_ui.assessment_page import STYLE, month_form, percent
from map_ui.assets import OWN_URL

EXTRA_STYLE = """<style>
form.rate { display: flex; gap: 4px; margin-top: 4px; }
form.rate input[type=number] { width: 4.5em; } form.rate input[name=note] { width: 9em; }
.unrated { color: #ff8a80; } .status { min-height: 1.2em; color: #ffd54f; }
</style>"""
UNRATED = "未评"


@dataclass(frozen=True)
class StationedView:
    """What the page shows: who asks, the nav bar, and the month's stationed staff."""

    username: str
    nav: str
    read: StationedRead


def _part(row: StationedScore, part: StationedPart) -> str:
    shown = (f'<span class="unrated">{UNRATED}</span>' if part.score is None else
             f"{part.score} 分 → {part.points:g}"
             + (f'<br><span class="muted">{html.escape(part.rater or "")}'
                f"{'：' + html.escape(part.note) if part.note else ''}</span>"))
    if part.party not in row.may_rate:
        return f'<td class="part" data-party="{part.party}">{shown}</td>'
    value = "" if part.score is None else str(part.score)
    return (f'<td class="part" data-party="{part.party}"><span class="shown">{shown}</span>'
            f'<form class="rate" data-worker="{html.escape(row.worker_code)}" '
            f'data-party="{part.party}">'
            f'<input type="number" name="score" min="0" max="100" required value="{value}" '
            f'aria-label="评分（0–100）">'
            f'<input name="note" maxlength="4000" placeholder="评语" '
            f'value="{html.escape(part.note)}">'
            '<button type="submit">保存</button></form></td>')


def _row(row: StationedScore) -> str:
    return (f'<tr data-worker="{html.escape(row.worker_code)}">'
            f"<td>{html.escape(row.worker_name)}<br>"
            f'<span class="muted">{html.escape(row.worker_code)}</span></td>'
            f"<td>{html.escape(row.department_name)}</td>"
            f"<td>{html.escape(row.town_name)}</td>"
            f'<td class="num">{row.received}</td><td class="num">{row.cooperated}</td>'
            f'<td class="num">{row.closed}（按期 {row.closed_on_time}）</td>'
            f'<td class="num">{percent(row.on_time_rate)}</td>'
            f'<td class="num">{row.returned}</td>'
            f"{_part(row, row.town)}{_part(row, row.county)}"
            f'<td class="num total">{row.total:g}</td></tr>')


def stationed_page(view: StationedView) -> str:
    """The month's stationed staff with their facts, both ratings and totals."""
    read = view.read
    town_weight = f"{read.town_share * 100:g}"
    county_weight = f"{(1 - read.town_share) * 100:g}"
    body = "".join(_row(r) for r in read.staff) or (
        '<tr><td colspan="11" class="muted">没有派驻到可查看镇（街道）的区县部门人员</td></tr>')
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            "<title>派驻人员考核 · 网格化指挥平台</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="{OWN_URL}/favicon.svg" type="image/svg+xml">'
            f"{STYLE}{EXTRA_STYLE}</head><body>{view.nav}"
            f"<header><h1>派驻人员考核 · {html.escape(read.month)}</h1>"
            f"{month_form('/assessment/stationed', read.month)}"
            f'<a href="/assessment?month={html.escape(read.month)}">网格员考核</a>'
            f'<span class="muted">镇（街道）评分占 {town_weight}%，派驻部门评分占 '
            f"{county_weight}% · {html.escape(view.username)}</span></header><main>"
            '<p class="status" id="status" role="status"></p>'
            f'<table id="stationed" data-month="{html.escape(read.month)}"><thead><tr>'
            "<th>人员</th><th>派驻部门</th><th>所在镇</th>"
            '<th class="num">交办</th><th class="num">配合</th><th class="num">办结</th>'
            '<th class="num">按时办结率</th>'
            f'<th class="num">退回</th><th>镇评分（{town_weight}%）</th>'
            f'<th>部门评分（{county_weight}%）</th><th class="num">总分</th></tr></thead>'
            f"<tbody>{body}</tbody></table></main>"
            f'<script src="{OWN_URL}/page.js"></script>'
            f'<script src="{OWN_URL}/stationed.js"></script></body></html>')
