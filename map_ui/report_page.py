"""The printable report (周研判 / 月分析): a pure builder from the report's dict and its
level-3 grids; and the towns' league of a month (各镇排名). Charts and the map are inline SVG
drawn here; no script, no outside asset."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from html import escape
from typing import Any
from urllib.parse import quote

from gis_service.reports.league import League
from map_ui.assets import OWN_URL
from map_ui.wall_style import SOURCE_NAMES

KINDS = {"weekly": "周研判报告", "monthly": "月分析报告"}
STEP_NAMES = {"dispatch": "派遣", "accept": "响应（接单）", "resolve": "处置", "close": "结案"}
RESOLUTION_NAMES = {"service": "服务", "management": "管理", "enforcement": "执法"}
RESOLUTION_COLOURS = {"service": "#2e7d32", "management": "#f9a825", "enforcement": "#c62828"}
LEAGUE_HEAD = ("镇", "受理", "在办", "超期", "按期率", "“721”", "满意度", "上报", "退回")
HEADLINES = {"intake": "受理", "closed": "结案", "open_at_end": "期末在办",
             "close_on_time_rate": "按期结案率", "handling_median_hours": "处置时长中位数（小时）",
             "handling_p90_hours": "处置时长 P90（小时）", "satisfaction_mean": "满意度均值"}
BAR = "#1565c0"
STYLE = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       color: #222; margin: 0 auto; max-width: 186mm; font-size: 10.5pt; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 12.5pt; margin: 5mm 0 2mm;
  border-bottom: 1px solid #999; } .meta { color: #555; margin-bottom: 3mm; }
section { break-inside: avoid; page-break-inside: avoid; }
.page-break { break-before: page; page-break-before: always; }
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #bbb;
  padding: 1mm 2mm; text-align: left; } td.n { text-align: right; }
.two { display: flex; gap: 6mm; } .two > section { flex: 1; }
.up { color: #c62828; } .down { color: #2e7d32; } .note { color: #666; font-size: 9pt; }
svg text { font-size: 10px; fill: #333; }
nav.periods { margin-top: 1mm; }
@media print { a { color: inherit; text-decoration: none; } nav.periods { display: none; } }
"""


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{round(value, 2):g}"
    return str(value)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def svg_bars(items: Sequence[tuple[str, float]], width: int = 330, row: int = 18) -> str:
    """Horizontal bars with their labels and values."""
    if not items:
        return '<p class="note">本期无数据</p>'
    top = max(v for _, v in items) or 1
    label_w, bar_w = 96, width - 96 - 40
    parts = [f'<svg class="chart bars" width="{width}" height="{row * len(items) + 4}" '
             f'viewBox="0 0 {width} {row * len(items) + 4}" role="img">']
    for n, (label, value) in enumerate(items):
        y, w = n * row + 2, max(1.0, bar_w * value / top)
        parts.append(f'<text x="{label_w - 4}" y="{y + 12}" text-anchor="end">'
                     f"{escape(label[:12])}</text>"
                     f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" '
                     f'fill="{BAR}"/><text x="{label_w + w + 3:.1f}" y="{y + 12}">'
                     f"{_num(value)}</text>")
    return "".join(parts) + "</svg>"


def svg_line(points: Sequence[tuple[str, float]], width: int = 680, height: int = 150) -> str:
    """A line of daily counts with the first, last and every seventh day labelled."""
    if not points:
        return '<p class="note">本期无数据</p>'
    top = max(v for _, v in points) or 1
    left, bottom, inner_h = 30, 20, height - 30
    step = (width - left - 10) / max(1, len(points) - 1)
    xy = [(left + n * step, 8 + inner_h * (1 - v / top)) for n, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    parts = [f'<svg class="chart line" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">',
             f'<line x1="{left}" y1="{8 + inner_h}" x2="{width - 10}" y2="{8 + inner_h}" '
             f'stroke="#999"/><text x="2" y="14">{_num(top)}</text>'
             f'<text x="2" y="{8 + inner_h}">0</text>',
             f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="2"/>']
    for n, ((label, value), (x, y)) in enumerate(zip(points, xy, strict=True)):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{BAR}">'
                     f"<title>{escape(label)}：{_num(value)}</title></circle>")
        if n % 7 == 0 or n == len(points) - 1:
            anchor = "end" if n == len(points) - 1 and n else "middle"
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" '
                         f'text-anchor="{anchor}">{escape(label[5:])}</text>')
    return "".join(parts) + "</svg>"


def svg_721(counts: dict[str, int], width: int = 680) -> str:
    """The period's closures by resolution as a stacked bar, above the 7:2:1 target."""
    rows = [("本期", {k: float(v) for k, v in counts.items()}),
            ("目标", {"service": 7.0, "management": 2.0, "enforcement": 1.0})]
    left, bar_w = 40, width - 50
    parts = [f'<svg class="chart stacked" width="{width}" height="64" '
             f'viewBox="0 0 {width} 64" role="img">']
    for n, (label, shares) in enumerate(rows):
        total, x, y = sum(shares.values()), float(left), n * 30 + 4
        parts.append(f'<text x="0" y="{y + 15}">{label}</text>')
        for key, value in shares.items():
            w = bar_w * value / total if total else 0
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="22" '
                             f'fill="{RESOLUTION_COLOURS[key]}"><title>'
                             f"{RESOLUTION_NAMES[key]} {value:g}</title></rect>")
                if w > 40:
                    parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" style="fill:#fff">'
                                 f"{RESOLUTION_NAMES[key]} {value / total:.0%}</text>")
            x += w
        if not total:
            parts.append(f'<text x="{left}" y="{y + 15}">本期无结案</text>')
    return "".join(parts) + "</svg>"


def _rings(geometry: dict[str, Any]) -> Iterable[list[list[float]]]:
    if geometry["type"] == "Polygon":
        yield from geometry["coordinates"]
    elif geometry["type"] == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon


def _shade(count: int, top: int) -> str:
    share = count / top if top else 0
    light, dark = (239, 243, 255), (8, 69, 148)
    r, g, b = (round(a + (z - a) * share) for a, z in zip(light, dark, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def svg_map(grids: Sequence[dict[str, Any]], repeats: Sequence[dict[str, Any]],
            width: int = 680, height: int = 420) -> str:
    """The level-3 grids shaded by intake, repeat locations as red dots (lon/lat scaled by
    the cosine of the latitude: at a town's size that is close enough to true shape)."""
    shapes = [(g, json.loads(g["geometry"])) for g in grids if g.get("geometry")]
    points = [pt for _, geom in shapes for ring in _rings(geom) for pt in ring]
    if not points:
        return '<p class="note">该区域无三级网格边界</p>'
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    squeeze = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span_x, span_y = (max(xs) - min(xs)) * squeeze or 1e-6, (max(ys) - min(ys)) or 1e-6
    scale = min((width - 20) / span_x, (height - 34) / span_y)  # room for the legend

    def at(lon: float, lat: float) -> tuple[float, float]:
        return (10 + (lon - min(xs)) * squeeze * scale, 10 + (max(ys) - lat) * scale)

    top = max((int(g["count"]) for g, _ in shapes), default=0)
    parts = [f'<svg class="map" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">']
    for grid, geometry in shapes:
        d = " ".join("M" + " L".join("{:.1f},{:.1f}".format(*at(*pt[:2])) for pt in ring) + "Z"
                     for ring in _rings(geometry))
        parts.append(f'<path class="grid" d="{d}" fill="{_shade(int(grid["count"]), top)}" '
                     f'stroke="#555" stroke-width="0.6" fill-rule="evenodd"><title>'
                     f'{escape(grid["name"])}（{escape(grid["code"])}）：{grid["count"]}起'
                     f"</title></path>")
        ring = next(iter(_rings(geometry)))
        cx, cy = at(sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
        parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" '
                     f'style="font-size:9px;paint-order:stroke;stroke:#fff;stroke-width:2px">'
                     f'{escape(grid["name"])}</text>')
    for place in repeats:
        if place.get("lon") is not None:
            x, y = at(place["lon"], place["lat"])
            parts.append(f'<circle class="repeat" cx="{x:.1f}" cy="{y:.1f}" '
                         f'r="{min(10, 3 + place["count"] ** 0.5):.1f}" fill="#d32f2f" '
                         f'fill-opacity="0.8" stroke="#fff"><title>重复报告 {place["count"]}起'
                         f"</title></circle>")
    parts.append(f'<text x="10" y="{height - 2}">颜色越深受理越多（最多 {top} 起）；'
                 "红点：重复报告地点</text>")
    return "".join(parts) + "</svg>"


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(
        f'<td class="n">{_num(c)}</td>' if isinstance(c, int | float) or c is None
        else f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _delta(block: dict[str, Any], rate: bool) -> str:
    change = block["delta"]
    if change is None or change == 0:
        return "—" if change is None else "持平"
    arrow, css = ("↑", "up") if change > 0 else ("↓", "down")
    size = f"{abs(change) * 100:.1f}个百分点" if rate else _num(abs(change))
    return f'<span class="{css}">{arrow}{size}</span>'


def _headlines(comparison: dict[str, Any]) -> str:
    def shown(key: str, value: Any) -> str:
        return _rate(value) if key.endswith("_rate") else _num(value)

    rows = "".join(f"<tr><td>{HEADLINES.get(key, key)}</td>"
                   f"<td class='n'>{shown(key, b['value'])}</td>"
                   f"<td class='n'>{shown(key, b['previous'])}</td>"
                   f"<td class='n'>{_delta(b, key.endswith('_rate'))}</td></tr>"
                   for key, b in comparison.items())
    return ("<table><thead><tr><th>指标</th><th>本期</th><th>上期</th><th>变化</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def _warnings(report: dict[str, Any]) -> str:
    early = report.get("early_warnings")
    if early is None:
        return ""
    if not early["available"]:
        body = '<p class="note">预警模块暂未就绪，本期报告不含预警。</p>'
    elif not early["warnings"]:
        body = "<p>本周无预警。</p>"
    else:
        body = "<ol>" + "".join(
            f"<li>{escape(str(w.get('message', w)) if isinstance(w, dict) else str(w))}</li>"
            for w in early["warnings"]) + "</ol>"
    return f'<section id="warnings"><h2>早期预警（热点）</h2>{body}</section>'


def _minute(moment: str) -> str:
    """An ISO time (the report gives China time) as 2026-12-07 10:32."""
    return moment[:16].replace("T", " ")


def _span(start: str, end: str) -> str:
    """[start, end) as people say it: the last day when it ends at midnight, else the minute."""
    if end[11:19] == "00:00:00":
        last = (date.fromisoformat(end[:10]) - timedelta(days=1)).isoformat()
        return f"{start[:10]} 至 {last}"
    return f"{start[:10]} 至 {_minute(end)}"


def _title(report: dict[str, Any]) -> tuple[str, str]:
    covers = report["covers"]
    where = covers["name"] + (f"（{covers['code']}）" if report["area"] else "")
    period = report["period"]
    span = _span(period["start"], period["until"] if period["to_date"] else period["end"])
    zone = "（北京时间，截至生成时）" if period["to_date"] else "（北京时间）"
    return f"{where} {KINDS.get(report.get('kind', ''), '分析报告')}", span + zone


def _previous_note(report: dict[str, Any]) -> str:
    before = report["previous_period"]
    span = _span(before["start"], before["end"])
    if report["period"]["to_date"]:
        return f"上期：{span}（上期同一时段，与本期至今对比）。"
    return f"上期：{span}。"


def _other_periods(report: dict[str, Any]) -> str:
    """Links to the period before and after (content of the page, not its navigation)."""
    kind, start = report.get("kind"), date.fromisoformat(report["period"]["start"][:10])
    area = report["area"]
    extra = f"&area={quote(area['code'])}" if area else ""
    if kind == "weekly":
        links = [("上一周", f"/reports/weekly?date={start - timedelta(days=7)}{extra}")]
        if not report["period"]["to_date"]:
            links.append(("下一周", f"/reports/weekly?date={start + timedelta(days=7)}{extra}"))
    elif kind == "monthly":
        before = (start - timedelta(days=1)).strftime("%Y-%m")
        after = (start + timedelta(days=32)).strftime("%Y-%m")
        links = [("上月", f"/reports/monthly?month={before}{extra}")]
        if not report["period"]["to_date"]:
            links.append(("下月", f"/reports/monthly?month={after}{extra}"))
    else:
        return ""
    return ('<nav class="periods">' + " · ".join(
        f'<a href="{escape(href)}">{label}</a>' for label, href in links) + "</nav>")


def report_page(report: dict[str, Any], grids: Sequence[dict[str, Any]], nav: str = "") -> str:
    """The whole printable page (`nav`: the links to other pages, map_ui.nav)."""
    title, period = _title(report)
    intake, steps, flow = report["intake"], report["on_time"], report["flow"]
    closures, returns = report["closures"], report["returns"]
    channels = [(SOURCE_NAMES.get(r["code"], r["code"]), r["count"])
                for r in intake["by_channel"]]
    categories = [(r.get("name") or r["code"], r["count"]) for r in intake["by_category"][:12]]
    ratings = [(f"{k}星", n) for k, n in report["satisfaction"]["distribution"].items()]
    step_rows = [(STEP_NAMES[s], b["on_time"], b["late"], _rate(b["rate"]))
                 for s, b in steps.items()]
    repeat_rows = [(n, r["address"] or (f"{r['lon']:.5f}, {r['lat']:.5f}"
                                        if r["lon"] is not None else "—"),
                    r.get("category_name") or r.get("category") or "—", r["count"],
                    "地址相同" if r["kind"] == "address" else f"约{r['spread_m']}米内")
                   for n, r in enumerate(report["repeat_locations"], 1)]
    ratio = report["ratio_721"]["ratio"]
    daily = svg_line([(d["date"], d["count"]) for d in intake["daily"]])
    top_grids = [(g["name"], g["code"], g["count"]) for g in report["top_grids"]]
    sections = [
        f'<section id="summary"><h2>一、总体情况</h2>{_headlines(report["comparison"])}'
        f"<p>期初在办 {flow['open_at_start']} 件，本期受理 {flow['opened']} 件、结案 "
        f"{flow['closed']} 件，期末在办 {flow['open_at_end']} 件。</p>"
        f'<p class="note">{escape(_previous_note(report))}</p></section>',
        '<div class="two">'
        f'<section id="channels"><h2>二、受理渠道</h2>{svg_bars(channels)}</section>'
        f'<section id="categories"><h2>三、事项类别</h2>{svg_bars(categories)}</section></div>',
        f'<section id="daily"><h2>四、每日受理</h2>{daily}</section>',
        f'<section id="steps"><h2>五、各环节按时率</h2>'
        f'{_table(["环节", "按时", "超时", "按时率"], step_rows)}'
        '<p class="note">派遣、响应以响应时限计，处置、结案以办结时限计；'
        "本期受理、时限已过仍未完成的环节计为超时。</p>"
        f"<p>结案 {closures['closed']} 件，按期结案率 {_rate(closures['on_time_rate'])}；"
        f"处置时长（受理至结案）中位数 {_num(closures['handling_hours']['median'])} 小时，"
        f"P90 {_num(closures['handling_hours']['p90'])} 小时。退回 {returns['returns']} 次，"
        f"升级 {returns['escalations']} 次。</p>"
        + (_table(["退回最多的类别", "次数"],
                  [(r.get("name") or r["code"], r["count"])
                   for r in returns["top_returned_categories"]])
           if returns["top_returned_categories"] else "") + "</section>",
        f'<section id="ratio721"><h2>六、"721"工作法</h2>{svg_721(report["ratio_721"]["counts"])}'
        f"<p>服务 : 管理 : 执法 = {' : '.join(_num(v) for v in ratio) if ratio else '—'}"
        "（目标 7 : 2 : 1）</p></section>",
        f'<section id="satisfaction"><h2>七、群众满意度</h2>{svg_bars(ratings)}'
        f"<p>评价 {report['satisfaction']['rated']} 件，均值 "
        f"{_num(report['satisfaction']['mean'])}。</p></section>",
        f'<section id="map" class="page-break"><h2>八、区域分布</h2>'
        f'{svg_map(grids, report["repeat_locations"])}</section>',
        '<section id="repeats"><h2>九、重复报告地点</h2>'
        + (_table(["序号", "地址/位置", "类别", "次数", "范围"], repeat_rows) if repeat_rows
           else "<p>本期无重复报告地点。</p>")
        + '<p class="note">同一地点：约 50 米内（DBSCAN 聚类）或同一地址（无坐标的热线工单）'
        "本期报告 3 起及以上。</p></section>",
        f'<section id="grids"><h2>十、受理最多的三级网格</h2>'
        f'{_table(["网格", "编码", "受理"], top_grids)}'
        "</section>",
        _warnings(report),
    ]
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style>"
            f'<link rel="icon" href="{OWN_URL}/favicon.svg" type="image/svg+xml"></head>'
            f"<body>{nav}"
            f"<h1>{escape(title)}</h1><div class=\"meta\">统计周期：{escape(period)}"
            f" · 生成于 {escape(_minute(report['generated_at']))}（北京时间）"
            f"{_other_periods(report)}</div>"
            + "".join(sections) + "</body></html>")


def league_page(table: League, nav: str = "", generated_at: str = "") -> str:
    """The towns' league of a month as a printable page (each name opens that town's wall)."""
    rows = "".join(
        f'<tr data-code="{escape(t.code)}"><td><a href="/?town={quote(t.code)}">'
        f"{escape(t.name)}</a></td>"
        + "".join(f'<td class="n">{value}</td>' for value in (
            _num(t.intake), _num(t.open), _num(t.overdue), _rate(t.on_time_rate),
            " : ".join(_num(v) for v in t.ratio_721) if t.ratio_721 else "—",
            _num(t.satisfaction), _num(t.escalated), _num(t.returned))) + "</tr>"
        for t in table.towns)
    head = "".join(f"<th>{h}</th>" for h in LEAGUE_HEAD)
    title = f"各镇工作排名 · {table.month}"
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style>"
            f'<link rel="icon" href="{OWN_URL}/favicon.svg" type="image/svg+xml"></head>'
            f"<body>{nav}<h1>{escape(title)}</h1>"
            f'<div class="meta">统计月份：{escape(table.month)}（北京时间）'
            + (f" · 生成于 {escape(generated_at)}" if generated_at else "")
            + f'</div><section id="league"><table><thead><tr>{head}</tr></thead>'
            f'<tbody id="league-rows">{rows}</tbody></table>'
            '<p class="note">受理：本月报告数；在办、超期：月末（本月为当前）仍在办的、其中已超过'
            "时限的；按期率：本月结案中按期结案的比例；“721”：本月结案中服务、管理、执法之比"
            "（合计 10）；满意度：本月结案的群众评价均值（1–5）；上报：本月升级次数；退回：本月"
            "镇退回县指挥中心的工单数。</p></section></body></html>")
