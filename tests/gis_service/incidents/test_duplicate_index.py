"""The duplicate search's partial index: it holds exactly the lifecycle's open incidents, the
search states the same predicate, and the planner uses it for the search."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.incidents import store
from gis_service.incidents.core.lifecycle import OPEN_STATES

# the newest migration that wrote the open states into the partial indexes (0014 first)
MIGRATION = Path(__file__).resolve().parents[3] / "alembic/versions/0026_camera_events.py"


def _states(sql: str) -> set[str]:
    match = re.search(r"status\)?(?:::text)? (?:IN \(|= ANY \(\(?ARRAY\[)([^)\]]*)", sql)
    assert match is not None, sql
    return set(re.findall(r"'(\w+)'", match.group(1)))


def test_the_index_and_the_search_name_the_open_states(db_session: Session) -> None:
    spec = importlib.util.spec_from_file_location("migration_0026", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert set(migration.OPEN) == OPEN_STATES
    definition = db_session.scalar(text(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_incident_open_category_geom'"))
    assert definition is not None and "gist (category_code, geom)" in definition
    assert _states(definition) == OPEN_STATES
    assert _states(store.DUPLICATES) == OPEN_STATES
    assert db_session.scalar(text(
        "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_incident_category_geom'")) == 0


def test_the_search_can_use_the_partial_index_in_its_generic_plan(
        db_session: Session) -> None:
    # only if the search's condition implies the index's predicate may the planner use it;
    # the other indexes it might prefer on an empty table are dropped (rolled back after)
    db_session.execute(text("DROP INDEX ix_incident_category, ix_incident_geom"))
    params = {"i": [0, 1], "category": ["GARBAGE", "BUILDING"], "lon": [120.4, 120.41],
              "lat": [30.9, 30.91], "since": [datetime.now(UTC) - timedelta(hours=24)] * 2,
              "degrees": 0.0005, "radius_m": 50.0}
    driver = db_session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + store.DUPLICATES, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_incident_open_category_geom" in plan, plan


def test_the_open_incidents_in_deadline_order_index_names_the_open_states(
        db_session: Session) -> None:
    # migration 0019's partial index serves the overdue list only while its predicate is the
    # lifecycle's open states, the list the queries write
    definition = db_session.scalar(text(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_incident_open_due'"))
    assert definition is not None and "(due_at, id)" in definition
    assert _states(definition) == OPEN_STATES
