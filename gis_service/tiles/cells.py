"""The incident aggregates behind the aggregated incident tiles (z ≤ 11; z12–13 for a report
window longer than a week), and keeping them current.

**Cells.** An incident is counted in the Web-Mercator tile of zoom 16 its point lies in (a
cell, ~520 m × 450 m at Taihu), per status and per the codes a scope can name (town, level-2
and level-3 grid, enforcement district), once for the China day it was reported on and once
for that month. Web-Mercator cells rather than H3 hexagons because they nest exactly: every
cell lies in one tile at every zoom up to 16, so an aggregated tile is the sum of the cells
inside it (an integer range, no geometry), a bin of a zoom-z tile is the block of cells
sharing `cell >> (16 − z − 5)`, and nothing is counted twice along tile edges; an H3 cell
straddles tile edges and its children do not fill it exactly. A tile at z ≤ 11 shows 32 × 32
bins: one point per bin with `count`, `open` and `done` (closed or rejected); at z12 and z13 a
bin is one cell (16 × 16 and 8 × 8 bins). Deadline colours are not counted: they change with
the clock.

**Scope.** The caller's scope condition (`incidents.scope.visible`) is restated on an
aggregate's code columns (`queries.on_cells`), so a grid worker's low-zoom tile counts only
their grid. Two aggregates hold the same counts under different codes, because keying one by
every code a scope may name would multiply its rows (for a year of 1,000,000 incidents: by
area 107,682 day rows; by handler 425,046; by both 440,574): `incident_cell` by area (town,
level-2 and level-3 grid, district) answers commanders, dispatchers and grid workers;
`incident_handler_cell` by handler (district, assignee, co-operating departments) answers
squads and departments. A `category` filter counts the incidents themselves instead (exact,
slower; see BENCHMARKS.md).

**Time.** `since`/`until` are exact: whole months come from month rows, other whole days
from day rows, and the partial days at either end from the incidents (`tiling.split_window`).
Month rows keep long windows cheap: a year is ~12 × (cells × statuses × codes) rows, where
day rows would be ~365 ×.

**Keeping it current without slowing intake.** Statement-level triggers on `incident`
(migration 0007) append what each statement changed, summed per day and every code, to
`incident_cell_delta`: a COPY chunk of the bulk import adds one grouped INSERT, an intake one
row, an update that moves no count (most actions) nothing. Writers only append, so no two
intakes wait on a row of an aggregate. `fold` moves the delta into both aggregates' day and
month rows in one transaction; the app runs it every `tile_fold_seconds`. Readers add the
unfolded delta in the same snapshot, so counts are exact at any moment, folded or not.

**Size.** For 1,000,000 incidents over a year in the demo town: by area 107,682 day rows and
6,003 month rows (20 MB); by handler 425,046 and 48,257 (98 MB), against 1.8 GB of incidents.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from gis_service import locks, sql_files

logger = logging.getLogger(__name__)
SQL = Path(__file__).resolve().parent / "sql"
FOLD = sql_files.load(SQL, "fold_cells")
SWEEPS = [text(f"DELETE FROM {table} WHERE n = 0")
          for table in ("incident_cell", "incident_handler_cell")]
# one folder at a time across processes: two would wait on each other's rows
FOLD_LOCK = text(f"SELECT pg_try_advisory_xact_lock({locks.TILE_FOLD})")
BIG_FOLD = 10_000  # aggregate rows written by a fold after which the delta is vacuumed


def fold(session: Session) -> int | None:
    """Move the delta into the aggregates (the caller commits); the number of aggregate rows
    written, or None when another process is folding."""
    if not session.scalar(FOLD_LOCK):
        return None
    written = int(session.scalar(FOLD) or 0)
    for sweep in SWEEPS:
        session.execute(sweep)
    return written


async def fold_loop(factory: sessionmaker[Session], interval: float) -> None:
    """Fold every `interval` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(_fold_once, factory)
        except Exception:  # a failed round is logged and retried next time, never fatal
            logger.exception("folding the incident cells failed")


def _fold_once(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        written = fold(session)
        session.commit()
        bind = session.get_bind()
    if written is not None and written > BIG_FOLD and isinstance(bind, Engine):
        # readers scan the delta whole: give back the room a bulk import left in it at once
        # (autovacuum would, later)
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM incident_cell_delta"))


def owns_connections(factory: sessionmaker[Session]) -> bool:
    """False when every session shares one connection (tests): no background work on it."""
    return not isinstance(factory.kw.get("bind"), Connection)
