"""`gis-service db start|status|url|stop` on a home folder of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["GIS_SERVICE_HOME"] = str(home)
    command = [sys.executable, "-m", "gis_service.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def test_embedded_cluster_lifecycle() -> None:
    home = Path(tempfile.mkdtemp(prefix="gis-cli-"))
    try:
        assert _cli(home, "db", "status").returncode == 3  # not initialised yet
        started = _cli(home, "db", "start")
        assert started.returncode == 0, started.stderr
        assert _cli(home, "db", "start").returncode == 0  # idempotent
        assert "running" in _cli(home, "db", "status").stdout
        url = _cli(home, "db", "url").stdout.strip()
        assert url.startswith("postgresql+psycopg://")
        conninfo = url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == ("gis",)
        assert _cli(home, "db", "stop").returncode == 0
        assert _cli(home, "db", "status").returncode == 3
    finally:
        _cli(home, "db", "stop")
        shutil.rmtree(home, ignore_errors=True)
