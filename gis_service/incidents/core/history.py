"""The hash chain over an incident's history: each row's hash covers its content and the
hash of the row before it, and the incident keeps the newest hash. Changing, removing or
re-ordering any row breaks the chain."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

GENESIS = "0" * 64


def event_hash(*, prev_hash: str, incident_id: int, seq: int, at: datetime, actor: str,
               action: str, before: dict[str, Any], after: dict[str, Any], note: str,
               detail: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and the row's canonical JSON."""
    # UTC text, so that the time reads the same whatever zone the database session uses
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    content = {"incident_id": incident_id, "seq": seq, "at": stamp, "actor": actor,
               "action": action, "before": before, "after": after, "note": note,
               "detail": detail}
    canonical = orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


def broken_links(rows: list[dict[str, Any]], head: str) -> list[str]:
    """What is wrong with one incident's chain (empty when intact): `rows` are its history
    rows in order, `head` the hash the incident keeps."""
    problems = []
    previous = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        if row["seq"] != expected_seq:
            problems.append(f"row {row['seq']}: expected sequence {expected_seq}")
        if row["prev_hash"] != previous:
            problems.append(f"row {row['seq']}: does not follow the row before it")
        fields = {k: row[k] for k in ("incident_id", "seq", "at", "actor", "action", "before",
                                      "after", "note", "detail")}
        if event_hash(prev_hash=row["prev_hash"], **fields) != row["hash"]:
            problems.append(f"row {row['seq']}: content does not match its hash")
        previous = row["hash"]
    if previous != (head or GENESIS):
        problems.append("the newest row is not the one the incident points to (rows missing?)")
    return problems
