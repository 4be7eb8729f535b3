"""A small hand-drawn town for tests: a 0.02° square split into halves and quarters.

    level 1  T        [120.40, 120.42] × [30.90, 30.92]
    level 2  T-A west half, T-B east half (x = 120.41)
    level 3  T-A-1 / T-B-1 south (y < 30.91), T-A-2 / T-B-2 north
    special  S-SCHOOL [120.405, 120.415] × [30.905, 30.915]
    districts D1 south half, D2 north half; zones Z1 west strip (level 1), Z2 whole town (level 2)
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gis_service.imports.service import run_import

X0, X1, X2 = 120.40, 120.41, 120.42
Y0, Y1, Y2 = 30.90, 30.91, 30.92


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A GeoJSON polygon for an axis-aligned box."""
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def ring(*points: tuple[float, float]) -> dict[str, Any]:
    """A GeoJSON polygon through the given corners (closed automatically)."""
    return {"type": "Polygon", "coordinates": [[list(p) for p in (*points, points[0])]]}


def grid_features() -> list[dict[str, Any]]:
    """The town's grids as GeoJSON features with the contract's fields."""
    rows = [
        # parents carry their children's corners as vertices (noded), as real data should
        ("T", "七都镇(测试)", "comprehensive", 1, None,
         ring((X0, Y0), (X1, Y0), (X2, Y0), (X2, Y1), (X2, Y2), (X1, Y2), (X0, Y2), (X0, Y1))),
        ("T-A", "西村", "comprehensive", 2, "T",
         ring((X0, Y0), (X1, Y0), (X1, Y1), (X1, Y2), (X0, Y2), (X0, Y1))),
        ("T-B", "东村", "comprehensive", 2, "T",
         ring((X1, Y0), (X2, Y0), (X2, Y1), (X2, Y2), (X1, Y2), (X1, Y1))),
        ("T-A-1", "西村一组", "comprehensive", 3, "T-A", box(X0, Y0, X1, Y1)),
        ("T-A-2", "西村二组", "comprehensive", 3, "T-A", box(X0, Y1, X1, Y2)),
        ("T-B-1", "东村一组", "comprehensive", 3, "T-B", box(X1, Y0, X2, Y1)),
        ("T-B-2", "东村二组", "comprehensive", 3, "T-B", box(X1, Y1, X2, Y2)),
        ("S-SCHOOL", "中心小学", "education", None, "T", box(120.405, 30.905, 120.415, 30.915)),
    ]
    return [{"type": "Feature", "geometry": geom,
             "properties": {"code": c, "name": n, "kind": k, "level": lv, "parent_code": p,
                            "households": 120}}
            for c, n, k, lv, p, geom in rows]


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    """Write features as a GeoJSON file and return its path."""
    path.write_text(json.dumps(collection(features), ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """Write a UTF-8 CSV file and return its path."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_town(folder: Path) -> dict[str, Path]:
    """Every file of the test town, keyed by import kind."""
    districts = [
        {"type": "Feature", "geometry": box(X0, Y0, X2, Y1),
         "properties": {"code": "D1", "name": "南片区", "squad_code": "Q1",
                        "squad_name": "一中队"}},
        {"type": "Feature", "geometry": box(X0, Y1, X2, Y2),
         "properties": {"code": "D2", "name": "北片区", "squad_code": "Q2",
                        "squad_name": "二中队"}},
    ]
    zones = [
        {"type": "Feature", "geometry": box(X0, Y0, 120.403, Y2),
         "properties": {"code": "Z1", "name": "太湖一级保护区", "level": 1}},
        {"type": "Feature", "geometry": box(X0, Y0, X2, Y2),
         "properties": {"code": "Z2", "name": "太湖二级保护区", "level": 2}},
    ]
    projects = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.412, 30.912]},
         "properties": {"code": "P1", "name": "环湖大道", "status": "building",
                        "department": "JS"}},
        {"type": "Feature", "geometry": box(120.411, 30.911, 120.413, 30.913),
         "properties": {"code": "P2", "name": "渔港改造", "status": "building",
                        "department": "JS"}},
    ]
    return {
        "grids": write_geojson(folder / "grids.geojson", grid_features()),
        "districts": write_geojson(folder / "districts.geojson", districts),
        "zones": write_geojson(folder / "zones.geojson", zones),
        "projects": write_geojson(folder / "projects.geojson", projects),
        "stations": write_geojson(folder / "stations.geojson", [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.405, 30.915]},
             "properties": {"code": "ST1", "name": "西村便民服务站", "grid_code": "T-A"}}]),
        "departments": write_csv(folder / "departments.csv", ["code", "name"],
                                 [["JS", "建设局"], ["HB", "环保办"]]),
        "workers": write_csv(
            folder / "workers.csv",
            ["code", "name", "role", "grid_code", "district_code", "department_code",
             "backup_code", "on_duty"],
            [["W1", "张三", "grid_worker", "T-A-1", "", "", "W2", "yes"],
             ["W2", "李四", "grid_worker", "T-A-2", "", "", "W1", "yes"],
             ["W3", "王五", "grid_worker", "T-B-1", "", "", "W4", "no"],
             ["W4", "赵六", "grid_worker", "T-B-2", "", "", "W3", "yes"],
             ["Q1-1", "钱七", "squad_leader", "", "D1", "", "", "yes"]]),
        "responsibilities": write_csv(
            folder / "responsibilities.csv",
            ["category_code", "category_name", "handler", "department_code", "cooperating",
             "respond_hours", "resolve_hours"],
            [["GARBAGE", "垃圾堆放", "grid", "", "", "2", "24"],
             ["BUILDING", "违章搭建", "squad", "", "JS", "4", "72"],
             ["POLLUTION", "水体污染", "department", "HB", "JS", "1", "12"],
             ["FLOOD", "防汛险情", "town", "", "", "0.5", "6"]]),
        "zone_rules": write_csv(
            folder / "zone_rules.csv",
            ["code", "zone_level", "in_project", "categories", "priority", "deadline_factor",
             "cooperating", "note"],
            [["TAIHU-1", "1", "no", "POLLUTION;BUILDING", "2", "0.5", "HB", "太湖一级保护区"],
             ["KEY-PROJECT", "", "yes", "BUILDING", "1", "0.75", "", "重点工程区域"]]),
    }


ROUTING_KINDS = ("grids", "districts", "zones", "departments", "workers", "responsibilities")


def import_town(session: Session, folder: Path) -> dict[str, Path]:
    """Write the town and import what routing reads, through the ordinary importers (the
    caller commits)."""
    files = write_town(folder)
    for kind in ROUTING_KINDS:
        report = run_import(session, kind, files[kind])
        assert report.accepted, report.lines()
    return files


def handler(incident: dict[str, Any]) -> tuple[str, str] | None:
    """An incident's assignee as (type, code), leaving out the name the API adds."""
    assignee = incident["assignee"]
    return None if assignee is None else (assignee["type"], assignee["code"])
