"""The wall's live feed: every open incident once, then only what changed.

The cursor is the id of the newest history row the wall has seen. Every change to an incident
writes a history row (append-only), so the rows after the cursor name the incidents to redraw:
the wall adds or moves those still open and drops those that closed. Ids are handed out when
a row is written, not when its transaction commits, so a poll also re-reads those of the last
`OVERLAP` rows before the cursor that were written shortly before the last poll (`seen_at`,
less `LATE_SECONDS`): they may have committed after it (redrawing an incident twice is
harmless; missing one is not). Bulk imports commit many
rows at once, long after their ids were taken: the wall starts afresh (`reset`) every minute,
which also catches them. A wall that fell far behind is told to start again at once.

Read from a replica (GIS_READ_DATABASE_URL; `track`), two more rules keep that promise:
- A poll never reads behind the last one. Each answer carries `lsn`, the WAL position it was
  read at (a replica's replay position, or the primary's written position; taken after its
  reads); the next poll sends it back (`lsn`, or the wall page's `gis_feed_lsn` cookie) and
  is read on a replica that has replayed that far — checked on the connection that serves
  it, waited for up to ~0.2 s — or else on the primary (`database.read_session`). Otherwise
  a poll landing on a replica behind the last one (two replicas behind a load balancer)
  would redraw the incidents it re-reads as they were before, until the wall starts afresh.
- `at` is the moment the answer is complete to, and the next poll's overlap starts from it.
  A replica that has received WAL it has not replayed yet (held back, or slow) is complete
  to its last replayed commit (`pg_last_xact_replay_timestamp`, read before the other
  reads), not to now: a transaction it has not replayed committed after that, so wrote its
  rows no earlier than that less `LATE_SECONDS`, and the next poll re-reads them however
  long the replica was held back. Answering `now` there would pass over a row committed
  late (id below the cursor) once the replica had been behind for `LATE_SECONDS`. A replica
  not behind what it received, and the primary, answer now, as before.
Without a read database none of this runs: no extra statement, `lsn` is null.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.dashboard import queries
from gis_service.incidents.scope import visible

MAX_OPEN = 20_000  # open incidents drawn at once; a town has hundreds
MAX_CHANGES = 5_000  # history rows read per poll; beyond this the wall starts afresh
OVERLAP = 1_000  # history rows re-read per poll, for transactions that committed late
LATE_SECONDS = 10  # how long after writing a row its transaction may take to commit


def live_feed(session: Session, *, principal: Principal, after: int | None,
              seen_at: datetime | None = None, now: datetime,
              yellow_share: float, track: bool = False) -> dict[str, Any]:
    """With no cursor: every open placed incident (`reset`). With one: the incidents changed
    since, open or not. Both with the new cursor, `at` and, with `track` (reads from a
    replica), the WAL position `lsn` they were read at."""
    as_of = now
    if track:
        behind_since = session.execute(queries.read_position()).one().behind_since
        if behind_since is not None:
            as_of = min(now, behind_since)
    answer = _changes(session, principal, after, seen_at, now, yellow_share)
    answer["at"] = as_of
    answer["lsn"] = session.execute(queries.read_position()).one().lsn if track else None
    return answer


def _changes(session: Session, principal: Principal, after: int | None,
             seen_at: datetime | None, now: datetime, yellow_share: float) -> dict[str, Any]:
    scope = visible(principal)
    if after is not None:
        seen_since = seen_at - timedelta(seconds=LATE_SECONDS) if seen_at else None
        changed = session.execute(queries.changed_after(
            after, max(after - OVERLAP, 0), seen_since, MAX_CHANGES + 1)).all()
        if len(changed) <= MAX_CHANGES:
            ids = sorted({incident_id for incident_id, _ in changed})
            cursor = max([after, *(row_id for _, row_id in changed)])
            items = _array(session, queries.incidents_by_id(scope, ids, now, yellow_share)) \
                if ids else orjson.Fragment("[]")
            return {"cursor": cursor, "reset": False, "incidents": items}
    cursor = int(session.scalar(queries.newest_event()) or 0)
    everything = _array(session, queries.open_incidents(scope, now, yellow_share, MAX_OPEN))
    return {"cursor": cursor, "reset": True, "incidents": everything}


def _array(session: Session, live: queries.Rows) -> orjson.Fragment:
    """The incidents as the JSON array of the feed's items PostgreSQL built, passed into the
    answer as it is."""
    return orjson.Fragment(session.scalar(queries.feed_items(live)) or "[]")
