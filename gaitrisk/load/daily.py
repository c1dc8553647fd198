"""Runs -> the daily load series of one athlete.

One row per local calendar day from the first run's day to ``end``: distance,
moving time, grade-adjusted distance, descent, number of runs and the longest
run.  A day without a run is 0; a day inside a declared gap is NaN ("no data",
never 0); a quantity that is not measured at all (descent before the per-run
features exist) is NaN on every day.  Days before the first run are not in the
series: they are not rest, they are unknown, and every metric that needs them
says "not enough history".
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..records import DataGap
from ..review import counted

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)

DISTANCE = "distance_m"
MOVING_TIME = "moving_time_s"
GAP_DISTANCE = "gap_distance_m"   # grade-adjusted distance (per-run features)
DESCENT = "descent_m"
RUNS = "runs"
LONGEST = "longest_run_m"
NO_DATA = "no_data"
SUMMED = (DISTANCE, MOVING_TIME, GAP_DISTANCE, DESCENT)
RUN_COLUMNS = ("start_time", "day", DISTANCE, MOVING_TIME, GAP_DISTANCE, DESCENT)


@dataclass(frozen=True)
class RunsFrame:
    """The runs that make up a daily series, and what could not be measured.

    ``frame``: index ``activity_id``; columns :data:`RUN_COLUMNS` (``start_time``
    aware UTC, ``day`` the local start day as a naive midnight timestamp).
    ``not_available``: columns that are NaN because their source does not exist yet.
    """

    frame: pd.DataFrame
    not_available: tuple[str, ...] = ()


def runs_frame(records: Sequence, zone: ZoneInfo, features: pd.DataFrame | None = None) -> RunsFrame:
    """Build the runs table from stored :class:`~gaitrisk.records.ActivityRecord` s.

    ``features`` is the per-run feature table (index activity id; ``descent_m`` and
    ``gap_distance_m``) when it exists; without it descent and grade-adjusted distance
    are not available (NaN), never 0.  A run without a feature record has NaN there,
    which makes its day's descent unknown.
    """
    frame = pd.DataFrame({
        "activity_id": [r.id for r in records],
        "start_time": pd.to_datetime([r.start_time for r in records], utc=True),
        DISTANCE: np.array([np.nan if r.distance_m is None else r.distance_m for r in records], float),
        MOVING_TIME: np.array([r.moving_time_s for r in records], float),
    }).set_index("activity_id")
    # The start day in local time: a run from 23:30 to 00:40 is the earlier day's run.
    frame["day"] = frame["start_time"].dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    missing: list[str] = []
    # Features computed for none of these runs (never run, or an empty table) means the
    # quantity is not available at all -- not 0 m of descent on every rest day.
    has_features = features is not None and bool(features.index.isin(frame.index).any())
    for col in (GAP_DISTANCE, DESCENT):
        if has_features and col in features.columns:
            frame[col] = features[col].reindex(frame.index).astype(float)
        else:
            frame[col] = np.nan
            missing.append(col)
    return RunsFrame(frame[list(RUN_COLUMNS)], tuple(missing))


def daily_series(runs: pd.DataFrame, gaps: Sequence[DataGap] = (), *, start: dt.date | None = None,
                 end: dt.date | None = None, not_available: Sequence[str] = ()) -> pd.DataFrame:
    """The daily series (index: naive local dates, one per calendar day, ``freq='D'``).

    ``start`` defaults to the first run's day and ``end`` to the last run's day.
    A day's sum is NaN when any of its runs lacks that value (a run without a
    distance makes the day's distance unknown, not smaller).  Columns named in
    ``not_available`` (see :class:`RunsFrame`) are NaN on every day, rest days included.
    """
    if runs.empty and (start is None or end is None):
        return pd.DataFrame(columns=[*SUMMED, RUNS, LONGEST, NO_DATA], index=pd.DatetimeIndex([], freq="D"))
    first = pd.Timestamp(start) if start is not None else runs["day"].min()
    last = pd.Timestamp(end) if end is not None else runs["day"].max()
    days = pd.date_range(first, max(first, last), freq="D", name="day")
    by_day = runs.groupby("day")
    out = pd.DataFrame(index=days)
    for col in SUMMED:
        sums = by_day[col].sum()
        unknown = runs[col].isna().groupby(runs["day"]).any()
        out[col] = np.nan if col in not_available else sums.mask(unknown).reindex(days, fill_value=0.0)
    out[RUNS] = by_day.size().reindex(days, fill_value=0).astype(float)
    out[LONGEST] = by_day[DISTANCE].max().reindex(days, fill_value=0.0)
    out[NO_DATA] = no_data_mask(days, gaps)
    out.loc[out[NO_DATA], [*SUMMED, RUNS, LONGEST]] = np.nan
    return out


def no_data_mask(days: pd.DatetimeIndex, gaps: Sequence[DataGap]) -> np.ndarray:
    """True on each day covered by a gap (a handful of gaps against thousands of days)."""
    mask = np.zeros(len(days), bool)
    values = days.values
    for g in gaps:
        mask |= (values >= np.datetime64(g.first_day)) & (values <= np.datetime64(g.last_day))
    return mask


def read_runs(store: Store, athlete: str, zone: ZoneInfo) -> RunsFrame:
    """Read an athlete's runs that count (:mod:`gaitrisk.review`), with per-run features where the
    store has them."""
    features = None
    if hasattr(store, "run_features"):  # a store without per-run features has no such method
        try:
            features = store.run_features(athlete)
        except Exception as exc:  # a features bug must not take the load table down
            log.warning("per-run features unavailable: %s", exc)
    return runs_frame(counted(store.activities(athlete), store.reviews(athlete)), zone, features)


def latest_days(store: Store, athlete: str, zone: ZoneInfo) -> tuple[dt.date, dt.date] | None:
    """The local day of ``athlete``'s latest counted run, and their last day with a run or a pain
    entry (where the reading commands and the library end by default); ``None`` without runs."""
    runs = counted(store.activities(athlete), store.reviews(athlete))
    if not runs:
        return None
    latest_run = max(a.start_time for a in runs).astimezone(zone).date()
    pain = [e.time_utc.astimezone(zone).date() for e in store.pain_entries(athlete)]
    return latest_run, max([latest_run, *pain])
