"""`gis-service cluster status|url|restore` as an operator runs them, on the real cluster."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from typer.testing import CliRunner

from gis_service.cli import app
from gis_service.cluster.layout import Layout

runner = CliRunner()


def _run(home: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["cluster", *args], env={"GIS_SERVICE_HOME": str(home)})
    return result.exit_code, result.output


def test_status_names_the_leader_its_synchronous_standby_and_the_archive(
        cluster: tuple[Path, Layout]) -> None:
    home, _ = cluster
    code, output = _run(home, "status", "--json")
    assert code == 0, output
    state = json.loads(output)
    members = state["members"]
    assert sorted(m["name"] for m in members) == ["pg1", "pg2", "pg3"]
    assert [m["role"] for m in members].count("leader") == 1
    replicas = [m for m in members if m["role"] == "replica"]
    assert len(replicas) == 2 and sum(m["sync"] for m in replicas) == 1
    for member in members:
        assert {"name", "role", "state", "host", "port", "pid", "lag"} <= member.keys()
        assert member["state"] == "running" and isinstance(member["pid"], int)
    assert state["last_archived_wal"]  # pgBackRest has archived the leader's WAL
    code, text = _run(home, "status")
    assert code == 0 and "leader" in text and "sync replica" in text


def test_url_gives_the_write_and_read_ports(cluster: tuple[Path, Layout]) -> None:
    home, _ = cluster
    code, write = _run(home, "url")
    assert code == 0
    code, read = _run(home, "url", "--read")
    assert code == 0
    plain = {url: url.strip().replace("postgresql+psycopg", "postgresql")
             for url in (write, read)}
    with psycopg.connect(plain[write]) as connection:
        assert connection.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    with psycopg.connect(plain[read]) as connection:  # a replica while any is healthy
        assert connection.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)


def test_bad_input_is_refused_with_a_message(cluster: tuple[Path, Layout],
                                             tmp_path: Path) -> None:
    home, _ = cluster
    code, output = _run(home, "restore", "--to", "yesterday")
    assert code == 2 and "ISO 8601" in output
    code, output = _run(home, "restore", "--to", "2026-12-07T10:15:00")
    assert code == 2 and "time zone" in output
    code, output = _run(home, "backup", "--kind", "weekly")
    assert code == 2 and "full, diff or incr" in output
    code, output = _run(tmp_path, "status")  # a home with no cluster
    assert code == 2 and "cluster up" in output
