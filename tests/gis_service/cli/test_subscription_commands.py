"""`gis-service subscriptions …` as an operator uses them: a host not allowed is refused with
one line; an allowed one is subscribed with its secret shown once, listed, disabled and
enabled, its deliveries listed, and removed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from gis_service.cli import app
from tests.gis_service.cli.test_user_commands import _refused
from tests.town import write_town

runner = CliRunner()


@pytest.fixture()
def town_db(scratch_url: str, monkeypatch: pytest.MonkeyPatch,
            tmp_path: Path) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    monkeypatch.setenv("GIS_WEBHOOK_ALLOWED_HOSTS", "hotline.example.gov.cn")
    files = write_town(tmp_path)
    result = runner.invoke(app, ["import", "grids", str(files["grids"])])
    assert result.exit_code == 0, result.output
    engine = create_engine(scratch_url)
    yield engine
    engine.dispose()


def test_subscriptions_from_the_command_line(town_db: Engine) -> None:
    _refused(runner.invoke(app, ["subscriptions", "add", "http://10.0.0.8/hook",
                                 "--events", "incident.created"]), "10.0.0.8:80", "not allowed")
    _refused(runner.invoke(app, ["subscriptions", "add", "https://hotline.example.gov.cn/in",
                                 "--events", "incident.made"]), "events")
    _refused(runner.invoke(app, ["subscriptions", "add", "https://hotline.example.gov.cn/in",
                                 "--events", "incident.created", "--areas", "NOPE"]), "NOPE")
    added = runner.invoke(app, ["subscriptions", "add", "https://hotline.example.gov.cn/in",
                                "--events", "incident.updated,incident.closed",
                                "--sources", "hotline_12345", "--areas", "T"])
    assert added.exit_code == 0, added.output
    secret = added.output.split("secret (shown once): ")[1].strip()
    with town_db.connect() as connection:
        stored = connection.execute(text("SELECT id, secret FROM webhook_subscription")).one()
    assert secret.startswith("whsec_") and stored.secret == secret
    listed = runner.invoke(app, ["subscriptions", "list"])
    assert "incident.updated,incident.closed" in listed.output
    assert "sources=hotline_12345;areas=T" in listed.output and secret not in listed.output
    number = str(stored.id)
    assert runner.invoke(app, ["subscriptions", "disable", number]).exit_code == 0
    assert "no (disabled by operator)" in runner.invoke(app, ["subscriptions", "list"]).output
    assert runner.invoke(app, ["subscriptions", "enable", number]).exit_code == 0
    deliveries = runner.invoke(app, ["subscriptions", "deliveries", number])
    assert deliveries.exit_code == 0 and deliveries.output.startswith("id")
    _refused(runner.invoke(app, ["subscriptions", "redeliver", number, "77"]), "77")
    assert runner.invoke(app, ["subscriptions", "remove", number, "--yes"]).exit_code == 0
    _refused(runner.invoke(app, ["subscriptions", "enable", number]), number)


def test_peers_from_the_command_line(town_db: Engine) -> None:
    secret = "whsec_" + "Q" * 43
    _refused(runner.invoke(app, ["peers", "add", "NOPE", "--kind", "town", "--secret", secret]),
             "NOPE")
    _refused(runner.invoke(app, ["peers", "add", "T", "--kind", "town", "--secret", "x"]),
             "secret")
    added = runner.invoke(app, ["peers", "add", "T", "--kind", "town", "--secret", secret])
    assert added.exit_code == 0 and "/api/v1/peers/T/events" in added.output, added.output
    _refused(runner.invoke(app, ["peers", "add", "T", "--kind", "town", "--secret", secret]),
             "exists")
    listed = runner.invoke(app, ["peers", "list"])
    assert "T  " in listed.output and "town" in listed.output and secret not in listed.output
    assert runner.invoke(app, ["peers", "remove", "T"]).exit_code == 0
    _refused(runner.invoke(app, ["peers", "remove", "T"]), "T")
