"""The open camera incidents' partial index: it holds exactly the states a detection folds
into, the fold's search states the same predicate, and the planner uses it for the search's
generic plan (the intake prepares it)."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_service.incidents import store
from gis_service.incidents.core.detections import FOLDS_INTO

MIGRATION = Path(__file__).resolve().parents[3] / "alembic/versions/0027_camera_fold_index.py"


def _states(sql: str) -> set[str]:
    match = re.search(r"status\)?(?:::text)? (?:IN \(|= ANY \(\(?ARRAY\[)([^)\]]*)", sql)
    assert match is not None, sql
    return set(re.findall(r"'(\w+)'", match.group(1)))


def test_the_index_and_the_search_name_the_states_a_detection_folds_into(
        db_session: Session) -> None:
    spec = importlib.util.spec_from_file_location("migration_0027", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert set(migration.FOLDS_INTO) == FOLDS_INTO
    definition = db_session.scalar(text(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_incident_camera_open'"))
    assert definition is not None and "(camera_code, scene)" in definition
    assert _states(definition) == FOLDS_INTO
    assert _states(store.OPEN_FOR_FOLD) == FOLDS_INTO


def test_the_search_uses_the_partial_index_in_its_generic_plan(db_session: Session) -> None:
    db_session.execute(text("DROP INDEX ix_incident_camera_code"))  # rolled back after
    params = {"cameras": ["32050900001320000001"], "scenes": ["暴露垃圾"],
              "since": datetime(2026, 5, 1, tzinfo=UTC)}
    driver = db_session.connection().connection.driver_connection
    with driver.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + store.OPEN_FOR_FOLD, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ix_incident_camera_open" in plan, plan
