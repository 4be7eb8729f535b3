"""Times: stored as UTC; an ISO time given without a zone is China Standard Time (UTC+8)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CHINA_TIME = timezone(timedelta(hours=8), "CST")


def aware(moment: datetime | None) -> datetime | None:
    """The same moment with a zone; naive input is read as China Standard Time."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=CHINA_TIME)
