"""Report periods in China time: the week (Monday–Sunday) of a date, a calendar month."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from gis_service.errors import InvalidInputError
from gis_service.timeutil import CHINA_TIME

Period = tuple[datetime, datetime]  # [start, end), both China-time midnights
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def midnight(day: date) -> datetime:
    """00:00 China time of `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA_TIME)


def week_of(day: date) -> Period:
    """The Monday–Sunday week (China time) that `day` falls in."""
    monday = day - timedelta(days=day.weekday())
    return midnight(monday), midnight(monday + timedelta(days=7))


def parse_month(text: str) -> date:
    """The first day of a `YYYY-MM` month; InvalidInputError when it is not one."""
    match = MONTH.match(text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInputError(f"month {text!r} is not YYYY-MM")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_of(first: date) -> Period:
    """The calendar month (China time) that `first` falls in."""
    start = first.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return midnight(start), midnight(following)


def previous(start: datetime, end: datetime) -> Period:
    """The period before [start, end): the month before a calendar month, else as long."""
    local = start.astimezone(CHINA_TIME)
    if (start, end) == month_of(local.date()):
        return month_of(local.date() - timedelta(days=1))
    return start - (end - start), start


def days(start: datetime, end: datetime) -> list[date]:
    """Every China-time day in [start, end)."""
    first = start.astimezone(CHINA_TIME).date()
    last = (end - timedelta(microseconds=1)).astimezone(CHINA_TIME).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def last_full_week(today: date) -> Period:
    """The last Monday–Sunday week (China time) that has ended by `today`."""
    return week_of(today - timedelta(days=7))


def comparable(start: datetime, end: datetime, until: datetime) -> Period:
    """The period [start, end) is compared with: the one before it (`previous`), or, while it
    runs (`until` before `end`), as much of that one as has passed of this: the first 7 days
    of November for the first 7 days of December, not all of November."""
    before_start, before_end = previous(start, end)
    if until < end:
        before_end = min(before_end, before_start + (until - start))
    return before_start, before_end
