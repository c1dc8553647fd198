"""How much of the recent past the pain log covers.

A day is *logged* when it has at least one pain entry, a 0/10 entry included.  A day
without an entry is unknown, never pain-free: a runner who logs only when it hurts
would otherwise have a baseline of zeros and every entry would look like a rise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

BASELINE_DAYS = 7          # the pain_rising baseline: the 7 days before the day judged
# Design choice (no source sets it): a mean of one or two logged days is a mood, not a baseline;
# three of seven is about every other day, the least a diary kept "after runs" gives.
BASELINE_MIN_LOGGED = 3
COMPLIANCE_DAYS = 14       # logging compliance: days with an entry in the last 14


@dataclass(frozen=True)
class PainLogStatus:
    """The pain log's coverage up to ``day`` (a local calendar day)."""

    day: dt.date
    logged_days: int            # days with an entry in the COMPLIANCE_DAYS ending on ``day``
    window_days: int
    baseline_logged_days: int   # days with an entry in the BASELINE_DAYS before ``day``
    baseline_min: int

    @property
    def enough_for_baseline(self) -> bool:
        return self.baseline_logged_days >= self.baseline_min

    def summary(self) -> str:
        text = f"pain log: {self.logged_days} of the last {self.window_days} days logged"
        if not self.enough_for_baseline:
            text += (f"; not enough pain log to judge rising pain ({self.baseline_logged_days} of the "
                     f"{BASELINE_DAYS} days before {self.day} logged, {self.baseline_min} needed)")
        return text

    def as_json(self) -> dict:
        return {"day": self.day.isoformat(), "logged_days": self.logged_days, "window_days": self.window_days,
                "baseline_logged_days": self.baseline_logged_days, "baseline_days": BASELINE_DAYS,
                "baseline_min": self.baseline_min, "enough_for_baseline": self.enough_for_baseline}


def logged_days(entries: Iterable, zone: ZoneInfo) -> set[dt.date]:
    """The local days with at least one entry."""
    return {e.time_utc.astimezone(zone).date() for e in entries}


def pain_log_status(entries: Iterable, zone: ZoneInfo, day: dt.date) -> PainLogStatus:
    """Compliance over the ``COMPLIANCE_DAYS`` ending on ``day`` and the baseline's logged days before it."""
    logged = logged_days(entries, zone)

    def count(first: dt.date, last: dt.date) -> int:
        return sum(1 for d in logged if first <= d <= last)

    return PainLogStatus(
        day=day, logged_days=count(day - dt.timedelta(days=COMPLIANCE_DAYS - 1), day), window_days=COMPLIANCE_DAYS,
        baseline_logged_days=count(day - dt.timedelta(days=BASELINE_DAYS), day - dt.timedelta(days=1)),
        baseline_min=BASELINE_MIN_LOGGED)
