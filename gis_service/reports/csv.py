"""A report as one flat CSV: a row per figure (section, key, name, metric, value)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

COLUMNS = ("section", "key", "name", "metric", "value")
Row = tuple[str, str, str, str, Any]


def _counted(section: str, items: list[dict[str, Any]]) -> Iterator[Row]:
    for item in items:
        yield section, str(item.get("code", item.get("date", ""))), item.get("name", ""), \
            "count", item["count"]


def _rows(report: dict[str, Any]) -> Iterator[Row]:
    area = report["area"] or report["covers"]
    code, name = area["code"] or "", area["name"]
    for metric in ("start", "end", "until"):
        yield "period", code, name, metric, report["period"][metric]
    intake = report["intake"]
    yield "intake", "", "", "total", intake["total"]
    yield from _counted("intake_channel", intake["by_channel"])
    yield from _counted("intake_category", intake["by_category"])
    yield from _counted("intake_daily", intake["daily"])
    yield from _counted("top_grids", report["top_grids"])
    for metric, value in report["flow"].items():
        yield "flow", "", "", metric, value
    for step, block in report["on_time"].items():
        for metric, value in block.items():
            yield "on_time", step, "", metric, value
    closures = report["closures"]
    for metric in ("closed", "on_time", "on_time_rate"):
        yield "closures", "", "", metric, closures[metric]
    for metric, value in closures["handling_hours"].items():
        yield "closures", "", "", f"handling_{metric}_hours", value
    returns = report["returns"]
    yield "returns", "", "", "returns", returns["returns"]
    yield "returns", "", "", "escalations", returns["escalations"]
    yield from _counted("returned_category", returns["top_returned_categories"])
    ratio = report["ratio_721"]
    for n, (resolution, count) in enumerate(ratio["counts"].items()):
        yield "ratio_721", resolution, "", "count", count
        yield "ratio_721", resolution, "", "tenths", ratio["ratio"][n] if ratio["ratio"] else None
    satisfaction = report["satisfaction"]
    yield "satisfaction", "", "", "mean", satisfaction["mean"]
    yield "satisfaction", "", "", "rated", satisfaction["rated"]
    for rating, count in satisfaction["distribution"].items():
        yield "satisfaction", rating, "", "count", count
    for rank, place in enumerate(report["repeat_locations"], start=1):
        for metric in ("kind", "count", "lon", "lat", "address", "category", "spread_m"):
            yield "repeat_location", str(rank), place.get("address") or "", metric, place[metric]
    for figure, block in report["comparison"].items():
        for metric, value in block.items():
            yield "comparison", figure, "", metric, value
    for rank, warning in enumerate(report.get("early_warnings", {}).get("warnings", []), 1):
        said = warning.get("message", warning) if isinstance(warning, dict) else warning
        yield "early_warning", str(rank), "", "warning", said


def report_csv(report: dict[str, Any]) -> str:
    """The report's tables as CSV text (UTF-8 with a BOM, so spreadsheets read the Chinese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in _rows(report):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()
