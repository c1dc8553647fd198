"""Which days the reading commands (``load``, ``flags``, ``report``, ``activities``) show.

One rule for all of them: they end on the athlete's last day with data (a run or a pain
entry) unless ``--until`` says otherwise, so an old export shows its data instead of empty
weeks up to today; the header says "latest run: DATE" when that run is not recent; and an
athlete without runs is one line and exit status 1 everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import click

# A latest run older than this many days is named in the header (a week: a runner's usual cycle).
RECENT_DAYS = 7


@dataclass(frozen=True)
class DataDays:
    """An athlete's data in local calendar days."""

    athlete: str
    latest_run: dt.date
    latest: dt.date       # the last day with a run or a pain entry
    today: dt.date

    def end(self, until: dt.date | None) -> dt.date:
        """The last day to show: ``--until`` when given, else the last day with data."""
        return until if until is not None else self.latest

    @property
    def stale(self) -> bool:
        return (self.today - self.latest_run).days > RECENT_DAYS

    def header_note(self) -> str:
        """"latest run: DATE" when the latest run is not recent, else ""."""
        return f"latest run: {self.latest_run}" if self.stale else ""


def no_runs_message(athlete: str, store_path) -> str:
    return f"no runs stored for athlete {athlete!r} in {store_path}. Try: gaitrisk import PATH --athlete {athlete}"


def data_days(store, athlete: str, zone: ZoneInfo, today: dt.date | None = None) -> DataDays:
    """The athlete's :class:`DataDays`; an athlete without runs is refused in one line (exit 1)."""
    from ..load.daily import latest_days

    days = latest_days(store, athlete, zone)
    if days is None:
        raise click.ClickException(no_runs_message(athlete, store.path))
    today = today or dt.datetime.now(zone).date()
    return DataDays(athlete, *days, today)
