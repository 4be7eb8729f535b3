"""`gis-service report weekly|monthly`: writes HTML, JSON or CSV by the file's suffix; an
unknown area, kind or suffix exits 2 and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.imports.service import run_import
from tests.gis_service.reports.history import WEEK_DAY, week_of_incidents
from tests.town import write_town

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_database(module_scratch_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    files = write_town(tmp_path_factory.mktemp("town"))
    engine = create_engine(module_scratch_url)
    with Session(engine) as session:
        for kind in ("grids", "districts", "departments", "workers", "responsibilities"):
            assert run_import(session, kind, files[kind]).accepted
        session.commit()
        week_of_incidents(session)
    engine.dispose()
    return module_scratch_url


def invoke(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", url)
    result = runner.invoke(app, ["report", *args])
    return result.exit_code, result.output


def test_weekly_in_all_three_formats(cli_database: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for suffix in ("json", "csv", "html"):
        out = tmp_path / f"week.{suffix}"
        code, output = invoke(cli_database, monkeypatch, "weekly", "--area", "T",
                              "--date", WEEK_DAY, "--out", str(out))
        assert code == 0, output
        assert "written to" in output
    report = json.loads((tmp_path / "week.json").read_text(encoding="utf-8"))
    assert report["kind"] == "weekly" and report["intake"]["total"] == 5
    assert report["closures"]["handling_hours"] == {"median": 42.0, "p90": 85.2}
    assert (tmp_path / "week.csv").read_text(encoding="utf-8").startswith(
        "\ufeffsection,key,name,metric,value")
    page = (tmp_path / "week.html").read_text(encoding="utf-8")
    assert "周研判报告" in page and 'class="map"' in page and "<script" not in page


def test_monthly_of_a_district(cli_database: str, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "month.json"
    code, output = invoke(cli_database, monkeypatch, "monthly", "--area", "D2",
                          "--month", "2026-03", "--out", str(out))
    assert code == 0, output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["kind"] == "monthly" and report["area"]["kind"] == "district"
    assert report["intake"]["total"] == 1


@pytest.mark.parametrize(("args", "said"), [
    (("weekly", "--area", "NOPE", "--out", "x.json"), "no grid or district 'NOPE'"),
    (("weekly", "--area", "T", "--out", "x.pdf"), "must end in .html, .json, .csv"),
    (("daily", "--area", "T", "--out", "x.json"), "weekly or monthly"),
    (("monthly", "--area", "T", "--month", "2026-13", "--out", "x.json"), "YYYY-MM"),
])
def test_bad_input_exits_2_and_writes_nothing(
        cli_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        args: tuple[str, ...], said: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = invoke(cli_database, monkeypatch, *args)
    assert code == 2 and said in output
    assert not list(tmp_path.iterdir())
