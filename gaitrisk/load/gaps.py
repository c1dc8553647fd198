"""User-declared spans without data (watch not worn, nothing uploaded).

A day inside a gap is "no data" (NaN) in the daily series, never 0 km: a rest
day and a day the watch stayed at home look the same in the store, and only the
user can tell them apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class DataGap:
    """Local calendar days ``first_day`` .. ``last_day`` (both inclusive) without data."""

    athlete: str
    first_day: dt.date
    last_day: dt.date
    reason: str | None = None
    id: int | None = None

    def __post_init__(self) -> None:
        if self.last_day < self.first_day:
            raise ValueError(f"gap ends ({self.last_day}) before it starts ({self.first_day})")

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1
