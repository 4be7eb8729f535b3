"""`gis-service relocate` and `gis-service export incidents` on a database of their own (the
commands commit): a LocalCluster of two worker processes answers exactly as this process does,
having unpickled the locator once each; GeoParquet out (geopandas, GDAL) and in; the export's
town/month partitions read by dask-geopandas; bad input refused with its exit code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dask
import dask_geopandas
import duckdb
import geopandas
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.exports.layers import INCIDENT_COLUMNS
from gis_service.exports.parquet import NO_TOWN, PARTITIONS, TYPES
from tests.town import import_town

runner = CliRunner()
POINTS = 3000
CODES = ["town_code", "grid2_code", "grid3_code", "special_codes"]
# points over the town and around it, recorded all in T-A-1; some exactly on shared edges and
# corners (x = 120.41, y = 30.91), the school's outline, and outside the town
FILL = text("""
INSERT INTO incident (source, external_id, category_code, lon, lat, geom, reported_at, status,
                      town_code, grid2_code, grid3_code, created_at, updated_at)
SELECT 'hotline_12345', 'r' || g, 'GARBAGE', x, y, ST_SetSRID(ST_MakePoint(x, y), 4490),
       timestamptz '2026-06-15 12:00+08' + make_interval(days => g % 150),
       CASE WHEN g % 10 = 0 THEN 'dispatched' ELSE 'closed' END,
       'T', 'T-A', 'T-A-1', now(), now()
FROM (SELECT g,
             CASE WHEN g % 7 = 0 THEN 120.41 WHEN g % 11 = 0 THEN 120.405
                  ELSE round((120.398 + random() * 0.024)::numeric, 4)::float8 END AS x,
             CASE WHEN g % 13 = 0 THEN 30.91
                  ELSE round((30.898 + random() * 0.024)::numeric, 4)::float8 END AS y
      FROM generate_series(1, :n) AS g) AS p;
""")


@pytest.fixture(scope="module")
def database(module_scratch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test town and POINTS incidents, committed; DATABASE_URL points at them."""
    engine = create_engine(module_scratch_url)
    with Session(engine) as session:
        import_town(session, tmp_path_factory.mktemp("town"))
        session.commit()
        session.execute(text("ALTER TABLE grid_version DISABLE TRIGGER grid_version_immutable"))
        session.execute(text("UPDATE grid_version SET valid_from = valid_from - interval '2 y'"))
        session.execute(text("ALTER TABLE grid_version ENABLE TRIGGER grid_version_immutable"))
        session.execute(text("SELECT setseed(0.21)"))
        session.execute(FILL, {"n": POINTS})
        session.commit()
    engine.dispose()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", module_scratch_url)
        yield module_scratch_url


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def stored(url: str) -> pd.DataFrame:
    engine = create_engine(url)
    with engine.connect() as connection:
        frame = pd.read_sql(text(f"SELECT id, {', '.join(CODES)} FROM incident ORDER BY id"),
                            connection)
    engine.dispose()
    return frame


def gdal_read(path: Path) -> geopandas.GeoDataFrame:
    """A GeoParquet file as GDAL reads it: pyogrio's GDAL is built without the Arrow driver,
    so through its ADBC driver with DuckDB's library (GDAL's own route for Parquet then)."""
    library = next(Path(duckdb.__file__).parent.parent.glob("_duckdb*.so"))
    frame: geopandas.GeoDataFrame = pyogrio.read_dataframe(f"ADBC:{path}",
                                                           ADBC_DRIVER=str(library))
    return frame


def codes_of(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """(id, town, grid2, grid3, special) per row in id order; None for no code."""
    def code(value: object) -> object:
        return None if value is None or value is pd.NA or value != value else value

    return [(int(r.id), code(r.town_code), code(r.grid2_code), code(r.grid3_code),
             tuple(r.special_codes)) for r in frame.sort_values("id").itertuples()]


def test_workers_answer_as_this_process_does(database: str, tmp_path: Path) -> None:
    here, there = tmp_path / "here.parquet", tmp_path / "there.parquet"
    code, out = invoke("relocate", "--output", str(here), "--batch-size", "400")
    assert code == 0, out
    code, out = invoke("relocate", "--workers", "2", "--output", str(there),
                       "--batch-size", "400")
    assert code == 0, out
    # 8 batches over two worker processes: each unpickled the locator once
    shipped = out.split("locator unpickled per worker: ")[1].splitlines()[0].split(", ")
    assert len(shipped) == 2 and all(item.endswith(" 1") for item in shipped), out

    mine, theirs = geopandas.read_parquet(here), geopandas.read_parquet(there)
    assert len(mine) == len(theirs) == POINTS
    assert mine.crs is not None and mine.crs.to_epsg() == 4326
    assert codes_of(mine) == codes_of(theirs)
    answers = {row[0]: row[1:] for row in codes_of(mine)}
    assert {a[0] for a in answers.values()} == {"T", None}  # some points lie outside
    assert {a[2] for a in answers.values()} >= {"T-A-1", "T-A-2", "T-B-1", "T-B-2"}
    assert any(a[3] == ("S-SCHOOL",) for a in answers.values())
    # on the shared edge x = 120.41 the smallest code wins, as locate answers
    edge = mine[(mine.geometry.x == 120.41) & (mine.geometry.y > 30.9) &
                (mine.geometry.y < 30.91)]
    assert len(edge) and set(edge.grid3_code) == {"T-A-1"}
    by_gdal = gdal_read(here)
    assert codes_of(by_gdal) == codes_of(mine) and by_gdal.crs.to_epsg() == 4326
    assert int(mine.changed.sum()) == sum(a[:3] != ("T", "T-A", "T-A-1") or a[3] != ()
                                          for a in answers.values())

    code, out = invoke("relocate", "--workers", "2", "--batch-size", "700")
    assert code == 0, out
    assert f"{int(mine.changed.sum()):,} incidents rewritten" in out
    assert codes_of(stored(database)) == codes_of(mine)
    code, out = invoke("relocate", "--dry-run")
    assert code == 0 and "\n0 with codes that change" in out, out

    # the file as input: its own codes compared, every point answered again
    again = tmp_path / "again.parquet"
    code, out = invoke("relocate", "--input", str(here), "--output", str(again))
    assert code == 0 and "\n0 with codes that change" in out, out
    relocated_again = geopandas.read_parquet(again)
    assert codes_of(relocated_again) == codes_of(mine) and not relocated_again.changed.any()


def test_a_file_of_points_in_another_crs(database: str, tmp_path: Path) -> None:
    points = geopandas.GeoDataFrame(
        {"name": ["west", "east", "school", "away"]},
        geometry=[shapely.Point(120.402, 30.902), shapely.Point(120.415, 30.918),
                  shapely.Point(120.41, 30.91), shapely.Point(121.0, 31.0)],
        crs="EPSG:4326").to_crs("EPSG:3857")
    source, out = tmp_path / "mercator.parquet", tmp_path / "out.parquet"
    points.to_parquet(source)
    code, output = invoke("relocate", "--input", str(source), "--output", str(out))
    assert code == 0, output
    answer = geopandas.read_parquet(out)
    assert list(answer.name) == ["west", "east", "school", "away"]
    assert list(answer.grid3_code.fillna("-")) == ["T-A-1", "T-B-2", "T-A-1", "-"]
    assert [list(s) for s in answer.special_codes] == [[], [], ["S-SCHOOL"], []]
    assert answer.crs.to_epsg() == 4326
    assert abs(answer.geometry.x.iloc[0] - 120.402) < 1e-9


def test_export_partitions_by_town_and_month(database: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "incidents"
    code, out = invoke("export", "incidents", "--format", "parquet", "--out", str(out_dir))
    assert code == 0, out
    towns = sorted(p.name for p in out_dir.iterdir())
    assert towns == ["town_code=T", f"town_code={NO_TOWN}"]
    months = sorted(p.name for p in (out_dir / "town_code=T").iterdir())
    assert months == [f"month=2026-{m:02d}" for m in range(6, 12)]  # mid-June + 0..149 days

    frame = dask_geopandas.read_parquet(out_dir)
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert len(frame) == POINTS
    whole = frame.compute()
    assert set(whole.town_code.astype(str)) == {"T", NO_TOWN}
    expected = {name for name, _ in INCIDENT_COLUMNS if name != "town"}
    assert set(whole.columns) - {"geometry", *PARTITIONS} == expected == set(TYPES) - {
        *PARTITIONS}
    one = next((out_dir / "town_code=T" / months[0]).glob("*.parquet"))
    by_gdal = gdal_read(one)
    assert len(by_gdal) and by_gdal.crs.to_epsg() == 4326
    assert set(by_gdal.geometry.geom_type) == {"Point"}

    code, out = invoke("export", "incidents", "--format", "parquet", "--out", str(out_dir))
    assert code == 2 and "not an empty folder" in out


def test_bad_input_exit_codes(database: str, tmp_path: Path) -> None:
    assert invoke("relocate", "--at", "yesterday")[0] == 2
    assert invoke("relocate", "--at", "1990-01-01")[0] == 2  # no boundaries then
    assert invoke("relocate", "--input", str(tmp_path / "missing.parquet"), "--dry-run")[0] == 2
    garbage = tmp_path / "garbage.parquet"
    garbage.write_text("not parquet")
    assert invoke("relocate", "--input", str(garbage), "--dry-run")[0] == 2
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"id": [1, 2], "x": [120.41, 120.42]}), plain)
    code, out = invoke("relocate", "--input", str(plain), "--dry-run")
    assert code == 2 and "no point geometry" in out
    areas = tmp_path / "areas.parquet"
    geopandas.GeoDataFrame({"id": [1]}, geometry=[shapely.box(120.40, 30.90, 120.41, 30.91)],
                           crs="EPSG:4326").to_parquet(areas)
    code, out = invoke("relocate", "--input", str(areas), "--dry-run")
    assert code == 2 and "not points" in out
    points = tmp_path / "points.parquet"
    geopandas.GeoDataFrame({"id": [1]}, geometry=[shapely.Point(120.405, 30.905)],
                           crs="EPSG:4326").to_parquet(points)
    assert invoke("relocate", "--input", str(points))[0] == 2  # to --output, or --dry-run
    assert invoke("relocate", "--output", str(tmp_path / "no" / "such.parquet"))[0] == 2
    assert invoke("relocate", "--workers", "0")[0] == 2
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, out = invoke("relocate", "--scheduler", "tcp://127.0.0.1:9", "--dry-run")
    assert code == 3 and "no dask scheduler" in out
    assert invoke("export", "tickets", "--out", str(tmp_path / "x"))[0] == 2
    assert invoke("export", "incidents", "--format", "csv", "--out", str(tmp_path / "y"))[0] == 2
