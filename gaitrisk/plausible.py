"""When data can be true: the span of time a run, a pain entry or a data gap may fall in.

Outside it the clock or the typing is wrong, not the runner: a watch whose clock was
never set, a year typed as 0224.  One window for every kind of record, so that what
the import refuses and what the pain log and the gaps refuse are the same.
"""

from __future__ import annotations

import datetime as dt

EARLIEST_START = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # before GPS watches; FIT's epoch is 1989-12-31
FUTURE_SLACK_S = 2 * 86400.0  # time zones and a slightly fast clock


def latest(now: dt.datetime | None = None) -> dt.datetime:
    """The latest instant data can have, ``now`` (default: the current time) plus the slack."""
    return (now or dt.datetime.now(dt.timezone.utc)) + dt.timedelta(seconds=FUTURE_SLACK_S)


def day_problem(day: dt.date, now: dt.datetime | None = None) -> str | None:
    """Why no record can fall on the calendar day ``day`` (one line), or ``None`` when one can."""
    if day < EARLIEST_START.date():
        return f"{day.isoformat()} is before {EARLIEST_START:%Y} (a typo in the year?)"
    last = latest(now).date()
    if day > last:
        return f"{day.isoformat()} is in the future (after {last.isoformat()})"
    return None
