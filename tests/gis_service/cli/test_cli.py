"""The `gis-service` command: exit codes, import, accounts and tokens, on a database of its own
(the command commits, so it cannot share the tests' rolled-back transaction)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from gis_service.cli import app
from tests.town import box, grid_features, write_geojson, write_town

runner = CliRunner()


@pytest.fixture()
def cli_database(scratch_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database of the command's own; DATABASE_URL points at it."""
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    return scratch_url


def _grid_rows(url: str) -> list[tuple[str, int]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT code, version FROM grid_version ORDER BY code"))
        result = [(r.code, r.version) for r in rows]
    engine.dispose()
    return result


def test_import_exit_codes(cli_database: str, tmp_path: Path) -> None:
    files = write_town(tmp_path)
    checked = runner.invoke(app, ["import", "grids", str(files["grids"]), "--check"])
    assert checked.exit_code == 0, checked.output
    assert "nothing stored" in checked.output and _grid_rows(cli_database) == []

    imported = runner.invoke(app, ["import", "grids", str(files["grids"])])
    assert imported.exit_code == 0, imported.output
    stored = _grid_rows(cli_database)
    assert len(stored) == 8

    bad = copy.deepcopy(grid_features())
    bad[4]["geometry"] = box(120.40, 30.91, 120.408, 30.92)  # T-A-2 shrunk: a gap in T-A
    rejected = runner.invoke(app, ["import", "grids", str(write_geojson(tmp_path / "b.json", bad))])
    assert rejected.exit_code == 1
    assert "gap" in rejected.output and "T-A" in rejected.output and "m²" in rejected.output
    assert _grid_rows(cli_database) == stored

    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("this is not GeoJSON")
    assert runner.invoke(app, ["import", "grids", str(garbage)]).exit_code == 2
    assert runner.invoke(app, ["import", "grids", str(tmp_path / "missing.gpkg")]).exit_code == 2
    unknown_crs = runner.invoke(app, ["import", "grids", str(files["grids"]), "--crs", "mars"])
    assert unknown_crs.exit_code == 2 and "mars" in unknown_crs.output


def test_every_kind_imports_in_order(cli_database: str, tmp_path: Path) -> None:
    files = write_town(tmp_path)
    for kind in ("grids", "districts", "zones", "projects", "departments", "workers"):
        result = runner.invoke(app, ["import", kind, str(files[kind])])
        assert result.exit_code == 0, (kind, result.output)


def test_user_and_token(cli_database: str) -> None:
    added = runner.invoke(app, ["user", "add", "li", "--role", "dispatcher", "--password",
                                "a long secret"])
    assert added.exit_code == 0, added.output
    again = runner.invoke(app, ["user", "add", "li", "--role", "dispatcher"])
    assert again.exit_code == 1 and "已存在" in again.output
    bad_role = runner.invoke(app, ["user", "add", "wu", "--role", "king"])
    assert bad_role.exit_code == 1 and "角色" in bad_role.output
    issued = runner.invoke(app, ["token", "li"])
    assert issued.exit_code == 0 and len(issued.output.strip()) >= 40
    engine = create_engine(cli_database)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM access_token")).scalar_one()
    engine.dispose()
    assert issued.output.strip() not in stored  # only the hash is kept
