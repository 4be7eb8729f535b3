"""The wall's feed read from a replica skips nothing: a change committed late (its history
row's id below the cursor) while the replica is held back is still sent once it is replayed,
and a poll never reads behind the last one."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gis_service.dashboard import feed as feed_module
from tests.gis_service.replica.conftest import Pair
from tests.gis_service.replica.test_read_role import report

LATE = 1.5  # seconds a transaction may take from writing its history row to its commit

# a history row (and a change) written in a transaction the test holds open
NOTE = text("""
    WITH row AS (
        INSERT INTO incident_event (incident_id, seq, at, actor, action, note, prev_hash, hash)
        SELECT :id, max(seq) + 1, now(), 'test', 'note', 'held back', '', ''
        FROM incident_event WHERE incident_id = :id
        RETURNING id)
    SELECT id FROM row""")
RAISE = text("UPDATE incident SET priority = 1 WHERE id = :id")


def poll(client: TestClient, pair: Pair, last: dict[str, Any] | None = None,
         **params: Any) -> dict[str, Any]:
    if last is not None:
        params = {"after": last["cursor"], "seen_at": last["at"], "lsn": last["lsn"], **params}
    client.cookies.clear()
    params = {name: value for name, value in params.items() if value is not None}
    response = client.get("/api/v1/wall/feed", headers=pair.auth, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def items(answer: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {item["id"]: item for item in answer["incidents"]}


def test_a_late_commit_on_a_held_back_replica_is_not_skipped(
        pair: Pair, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feed_module, "LATE_SECONDS", LATE)
    changed = report(client, pair).json()["id"]
    time.sleep(LATE + 0.5)  # its own history is older than the overlap's window
    pair.caught_up()
    first = poll(client, pair)
    with pair.primary.connect() as held:
        held.execution_options(isolation_level="READ COMMITTED")  # not autocommit
        transaction = held.begin()
        late_row = held.scalar(NOTE, {"id": changed})  # written now, committed below
        held.execute(RAISE, {"id": changed})
        other = report(client, pair).json()["id"]  # a later row, committed first
        pair.caught_up()
        with pair.replay_paused():
            transaction.commit()
            second = poll(client, pair, first)  # the replica: `other`, not the late change
            assert other in items(second) and changed not in items(second)
            assert second["cursor"] > late_row
            time.sleep(LATE + 0.1)
            third = poll(client, pair, second)  # held back still: `at` stands
            assert changed not in items(third) and third["at"] == second["at"]
            asked_at = datetime.now(UTC).isoformat()
    pair.caught_up()
    last = poll(client, pair, third)
    assert items(last)[changed]["priority"] == 1
    # a feed that said `now` while the replica was held back would have passed over it
    assert changed not in items(poll(client, pair, third, seen_at=asked_at))


def test_a_poll_never_reads_behind_the_last(pair: Pair, client: TestClient) -> None:
    incident = report(client, pair).json()["id"]
    pair.caught_up()
    start = poll(client, pair)
    with pair.replay_paused():
        with pair.primary.connect() as primary:
            primary.execute(RAISE, {"id": incident})
            primary.execute(NOTE, {"id": incident})
        # the change is on the primary only; the writer's next poll (its LSN from the write)
        # is served by the primary and sees it …
        written = pair.primary_position()
        seen = poll(client, pair, start, lsn=written)
        assert items(seen)[incident]["priority"] == 1
        # … and the poll after it, sending its `lsn`, is not served by the held-back replica
        again = poll(client, pair, seen, after=start["cursor"])
        assert items(again)[incident]["priority"] == 1
        # a poll without a position is, and shows the incident as it was
        behind = poll(client, pair, seen, after=start["cursor"], lsn=None)
        assert items(behind)[incident]["priority"] == 0


def test_the_wall_page_keeps_its_position_in_a_cookie(pair: Pair, client: TestClient) -> None:
    client.cookies.clear()
    response = client.get("/api/v1/wall/feed", headers=pair.auth)
    lsn = response.json()["lsn"]
    assert lsn and client.cookies.get("gis_feed_lsn") == lsn
    assert "path=/api/v1/wall/feed" in response.headers["set-cookie"].lower()
