"""Runs -> the daily load series of one athlete.

One row per local calendar day from the first run's day to ``end``: distance,
moving time, grade-adjusted distance, descent, number of runs and the longest
run.  A day without a run is 0; a day inside a declared gap is NaN ("no data",
never 0); a quantity that is not measured at all (descent before the per-run
features exist) is NaN on every day.  Days before the first run are not in the
series: they are not rest, they are unknown, and every metric that needs them
says "not enough history".

The tables are numpy arrays, so that the weekly load table needs no pandas (it is
the quickest everyday command); :attr:`RunsFrame.frame` and :func:`daily_series`
give the same tables as pandas frames for the model's athlete-day table.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from zoneinfo import ZoneInfo

import numpy as np

from ..records import DataGap
from ..review import counted

if TYPE_CHECKING:
    import pandas as pd

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
FEATURE_COLUMNS = (GAP_DISTANCE, DESCENT)   # the per-run feature records' part of the runs table


@dataclass(frozen=True, eq=False)  # numpy fields: no field-wise equality or hash
class RunsFrame:
    """The runs that make up a daily series, and what could not be measured.

    One entry per run, in the order given: ``ids``; ``start_time`` (aware UTC); ``day``, the
    local start day (``datetime64[D]``); ``values`` holds the float arrays of :data:`SUMMED`.
    ``not_available``: columns that are NaN because their source does not exist yet.
    """

    ids: tuple[str, ...]
    start_time: tuple[dt.datetime, ...]
    day: np.ndarray
    values: Mapping[str, np.ndarray]
    not_available: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The runs as a DataFrame: index ``activity_id``; columns :data:`RUN_COLUMNS` (``start_time``
        aware UTC, ``day`` the local start day as a naive midnight timestamp)."""
        import pandas as pd

        frame = pd.DataFrame({"start_time": pd.to_datetime(list(self.start_time), utc=True),
                              "day": pd.to_datetime(self.day.astype("datetime64[us]")),
                              **{c: self.values[c] for c in SUMMED}},
                             index=pd.Index(list(self.ids), name="activity_id", dtype=object))
        return frame[list(RUN_COLUMNS)]


def _utc(t: dt.datetime) -> dt.datetime:
    # A naive time is UTC, as the store writes it; astimezone would read it as the machine's time.
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)


def number(v: Any) -> float:
    """A feature-record value as a float: NaN for anything but a number (None, a text, a bool)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else np.nan


def _feature_columns(features: Any, ids: Sequence[str]) -> dict[str, np.ndarray] | None:
    """``FEATURE_COLUMNS`` for ``ids`` from a feature table (a DataFrame indexed by activity id, or
    a mapping of id to values), or ``None`` when it holds none of these runs."""
    if features is None:
        return None
    if hasattr(features, "reindex"):   # the store's DataFrame of feature records
        if not features.index.isin(list(ids)).any():
            return None
        return {c: (features[c].reindex(list(ids)).to_numpy(float) if c in features.columns
                    else np.full(len(ids), np.nan)) for c in FEATURE_COLUMNS}
    if not any(i in features for i in ids):
        return None
    return {c: np.array([number(features.get(i, {}).get(c)) for i in ids], float) for c in FEATURE_COLUMNS}


def runs_frame(records: Sequence, zone: ZoneInfo, features: Any = None) -> RunsFrame:
    """Build the runs table from stored :class:`~gaitrisk.records.ActivityRecord` s.

    ``features`` holds the per-run feature values (``descent_m`` and ``gap_distance_m``) when they
    exist: a DataFrame indexed by activity id (``Store.run_features``) or a mapping of activity
    id to values (``Store.run_feature_values``).  Without any for these runs, descent and
    grade-adjusted distance are not available (NaN), never 0.  A run without a feature record has
    NaN there, which makes its day's descent unknown.
    """
    ids = tuple(r.id for r in records)
    starts = tuple(_utc(r.start_time) for r in records)
    # The start day in local time: a run from 23:30 to 00:40 is the earlier day's run.
    day = np.array([t.astimezone(zone).date() for t in starts], dtype="datetime64[D]")
    values = {DISTANCE: np.array([np.nan if r.distance_m is None else r.distance_m for r in records], float),
              MOVING_TIME: np.array([np.nan if r.moving_time_s is None else r.moving_time_s for r in records],
                                    float)}
    # Features computed for none of these runs (never run, or an empty table) means the
    # quantity is not available at all -- not 0 m of descent on every rest day.
    found = _feature_columns(features, ids)
    missing: tuple[str, ...] = () if found else FEATURE_COLUMNS
    values |= found or {c: np.full(len(ids), np.nan) for c in FEATURE_COLUMNS}
    return RunsFrame(ids, starts, day, values, missing)


@dataclass(frozen=True, eq=False)  # numpy fields: no field-wise equality or hash
class Daily:
    """The daily series: ``days`` (consecutive local ``datetime64[D]``) and one float array per
    column of :data:`SUMMED`, :data:`RUNS` and :data:`LONGEST`; ``no_data`` is a bool array."""

    days: np.ndarray
    columns: Mapping[str, np.ndarray]
    no_data: np.ndarray

    def __len__(self) -> int:
        return len(self.days)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.no_data if name == NO_DATA else self.columns[name]

    def frame(self) -> pd.DataFrame:
        """As a DataFrame indexed by the days (naive midnight timestamps, ``freq='D'``, named ``day``)."""
        import pandas as pd

        index = pd.DatetimeIndex(self.days.astype("datetime64[s]"), freq="D", name="day")
        return pd.DataFrame({**self.columns, NO_DATA: self.no_data}, index=index)


def daily_arrays(runs: RunsFrame, gaps: Sequence[DataGap] = (), *, start: dt.date | None = None,
                 end: dt.date | None = None) -> Daily:
    """The daily series of ``runs``: :class:`Daily`.

    ``start`` defaults to the first run's day and ``end`` to the last run's day; runs
    outside them are left out.  A day's sum is NaN when any of its runs lacks that value
    (a run without a distance makes the day's distance unknown, not smaller).  Columns
    named in ``runs.not_available`` are NaN on every day, rest days included.
    """
    names = (*SUMMED, RUNS, LONGEST)
    if not len(runs) and (start is None or end is None):
        return Daily(np.array([], "datetime64[D]"), {c: np.array([], float) for c in names}, np.array([], bool))
    first = np.datetime64(start, "D") if start is not None else runs.day.min()
    last = np.datetime64(end, "D") if end is not None else runs.day.max()
    days = np.arange(first, max(first, last) + 1, dtype="datetime64[D]")
    n = len(days)
    pos = (runs.day - first).astype(int)
    inside = (pos >= 0) & (pos < n)
    pos = pos[inside]
    out: dict[str, np.ndarray] = {}
    for col in SUMMED:
        # bincount adds NaN like any value: one run without it makes its day unknown.
        out[col] = (np.full(n, np.nan) if col in runs.not_available
                    else np.bincount(pos, weights=runs.values[col][inside], minlength=n))
    out[RUNS] = np.bincount(pos, minlength=n).astype(float)
    longest = np.zeros(n)
    longest[pos] = np.nan   # fmax skips NaN: a run day is NaN only when none of its runs has a distance
    np.fmax.at(longest, pos, runs.values[DISTANCE][inside])
    out[LONGEST] = longest
    no_data = no_data_mask(days, gaps)
    for col in names:
        out[col][no_data] = np.nan
    return Daily(days, out, no_data)


def daily_series(runs: RunsFrame, gaps: Sequence[DataGap] = (), *, start: dt.date | None = None,
                 end: dt.date | None = None) -> pd.DataFrame:
    """:func:`daily_arrays` as a DataFrame (index: naive local dates, one per calendar day, ``freq='D'``)."""
    return daily_arrays(runs, gaps, start=start, end=end).frame()


def no_data_mask(days: np.ndarray, gaps: Sequence[DataGap]) -> np.ndarray:
    """True on each day (``datetime64[D]``) covered by a gap (a handful of gaps against thousands of days)."""
    days = np.asarray(days, "datetime64[D]")
    mask = np.zeros(len(days), bool)
    for g in gaps:
        mask |= (days >= np.datetime64(g.first_day, "D")) & (days <= np.datetime64(g.last_day, "D"))
    return mask


def read_runs(store: Store, athlete: str, zone: ZoneInfo) -> RunsFrame:
    """Read an athlete's runs that count (:mod:`gaitrisk.review`), with per-run features where the
    store has them."""
    features = None
    if hasattr(store, "run_feature_values"):  # a store without per-run features has no such method
        try:
            features = store.run_feature_values(athlete, FEATURE_COLUMNS)
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
