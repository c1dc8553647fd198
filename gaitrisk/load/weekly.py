"""The weekly load table and the ``gaitrisk load --json`` contract.

Weeks are blocks of 7 calendar days ending on ``end`` (today by default), not ISO
weeks: a physio asking "how much did you run in the last week?" means the last 7
days, and the metrics themselves use rolling calendar-day windows.
Each week shows its sums and the daily metrics (:mod:`.metrics`) as of its last
day, so "change %" of a week is exactly Nielsen's 7-day vs previous-7-day change.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..records import DataGap
from ..times import iso
from . import metrics as M
from .daily import DESCENT, DISTANCE, GAP_DISTANCE, LONGEST, MOVING_TIME, NO_DATA, RUNS, RunsFrame, daily_series

if TYPE_CHECKING:
    from ..records import PainEntry
    from ..store import Store

SPIKE_ORDER = (M.TIER_INSUFFICIENT, M.TIER_NONE, "small", "moderate", "large")
ACWR_CAVEAT = ("ACWR (7:21 uncoupled and EWMA 7/28) is shown as a feature only: the evidence for runners is "
               "weak (Frandsen 2025 found a negative dose-response; Impellizzeri 2020)")


@dataclass(frozen=True)
class RunSpike:
    """One run in the ``runs`` list of ``load --json`` (Frandsen 2025 single-run spike)."""

    id: str
    start_time: dt.datetime
    distance_m: float | None
    longest_prev_30d_m: float | None
    spike_pct: float | None
    spike_tier: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "start_time": iso(self.start_time), "distance_m": _r(self.distance_m, 1),
                "longest_prev_30d_m": _r(self.longest_prev_30d_m, 1), "spike_pct": _r(self.spike_pct, 2),
                "spike_tier": self.spike_tier}


@dataclass(frozen=True)
class WeekRow:
    """Seven local calendar days; sums over the days with data, metrics as of ``week_end``.

    ``None`` means "not enough history", "no data" or "not available"; ``notes`` says which.
    """

    week_start: dt.date
    week_end: dt.date
    distance_m: float | None
    no_data_days: int
    runs: int
    moving_time_s: float | None
    gap_distance_m: float | None
    descent_m: float | None
    longest_run_m: float | None
    change_pct: float | None
    week_jump: bool | None
    spikes: int
    spike_tier_max: str | None
    acwr_7_21: float | None
    acwr_ewma_7_28: float | None
    monotony: float | None
    strain: float | None
    return_to_run: bool | None
    descent_ratio: float | None
    descent_spike: bool | None
    pain_max: int | None
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            v = getattr(self, name)
            if isinstance(v, dt.date):
                v = v.isoformat()
            elif isinstance(v, float):
                v = _r(v, 3 if name in _RATIOS else 1)
            elif isinstance(v, tuple):
                v = list(v)
            out[name] = v
        return out


_RATIOS = {"acwr_7_21", "acwr_ewma_7_28", "monotony", "descent_ratio", "change_pct"}


@dataclass(frozen=True)
class LoadReport:
    athlete: str
    zone: str
    end: dt.date
    weeks: tuple[WeekRow, ...]
    runs: tuple[RunSpike, ...]
    not_available: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        """The stable contract: ``{"weeks": [...], "runs": [...]}``, oldest first."""
        return {"weeks": [w.as_json() for w in self.weeks], "runs": [r.as_json() for r in self.runs]}


def _r(v: float | None, nd: int) -> float | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return round(float(v), nd)


def _val(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _bool(v: Any) -> bool | None:
    return None if v is None or pd.isna(v) else bool(v)


def build_report(athlete: str, runs: RunsFrame, gaps: Sequence[DataGap], pain: Sequence[PainEntry], zone: ZoneInfo,
                 end: dt.date, n_weeks: int) -> LoadReport:
    """The weekly table of the ``n_weeks`` weeks ending on ``end`` and the spikes of their runs."""
    if n_weeks < 1:
        raise ValueError("n_weeks must be at least 1")
    frame = runs.frame
    window = pd.date_range(pd.Timestamp(end) - pd.Timedelta(days=7 * n_weeks - 1), pd.Timestamp(end), freq="D")
    if frame.empty or frame["day"].min() > window[-1]:
        return LoadReport(athlete, zone.key, end, (), (), runs.not_available,
                          ("no runs stored up to this date",))
    daily = daily_series(frame, gaps, end=max(end, frame["day"].max().date()), not_available=runs.not_available)
    metrics = M.daily_metrics(daily)
    spikes = M.run_spikes(frame["day"], frame[DISTANCE], daily[LONGEST])

    # Days of the window before the first run are unknown, like a gap.
    days = pd.concat([daily, metrics], axis=1).reindex(window)
    days[NO_DATA] = days[NO_DATA].astype("boolean").fillna(True).astype(bool)
    week = pd.Series((window[-1] - window).days // 7, index=window)
    g = days.groupby(week)
    sums = g[[DISTANCE, MOVING_TIME, GAP_DISTANCE, DESCENT, RUNS]].sum(min_count=1)
    longest = g[LONGEST].max()
    no_data = g[NO_DATA].sum()
    last = days.loc[window[(window[-1] - window).days % 7 == 0]]  # each week's last day
    last.index = week[last.index]
    ret_any = days["return_to_run"].fillna(False).astype(bool).groupby(week).any()
    ret_unknown = days["return_to_run"].isna().groupby(week).any()

    in_window = frame["day"].between(window[0], window[-1])
    run_week = ((window[-1] - frame.loc[in_window, "day"]).dt.days // 7)
    tiers = spikes.loc[in_window, "spike_tier"]
    rank = tiers.map({t: i for i, t in enumerate(SPIKE_ORDER)})
    spike_count = tiers.isin(["small", "moderate", "large"]).groupby(run_week).sum()
    tier_max = rank.groupby(run_week).max().map(lambda i: SPIKE_ORDER[int(i)])
    pain_max = _pain_by_week(pain, zone, window)

    rows = []
    for k in range(n_weeks - 1, -1, -1):
        if k not in sums.index:
            continue
        m = last.loc[k]
        row = WeekRow(
            week_start=(window[-1] - pd.Timedelta(days=7 * k + 6)).date(),
            week_end=(window[-1] - pd.Timedelta(days=7 * k)).date(),
            distance_m=_val(sums.at[k, DISTANCE]), no_data_days=int(no_data.at[k]),
            runs=int(0 if pd.isna(sums.at[k, RUNS]) else sums.at[k, RUNS]),
            moving_time_s=_val(sums.at[k, MOVING_TIME]),
            gap_distance_m=None if GAP_DISTANCE in runs.not_available else _val(sums.at[k, GAP_DISTANCE]),
            descent_m=None if DESCENT in runs.not_available else _val(sums.at[k, DESCENT]),
            longest_run_m=_val(longest.at[k]),
            change_pct=_val(m["week_change_pct"]), week_jump=_bool(m["week_jump"]),
            spikes=int(spike_count.get(k, 0)), spike_tier_max=tier_max.get(k),
            acwr_7_21=_val(m["acwr_7_21"]), acwr_ewma_7_28=_val(m["acwr_ewma"]),
            monotony=_val(m["monotony"]), strain=_val(m["strain"]),
            return_to_run=True if ret_any.at[k] else (None if ret_unknown.at[k] else False),
            descent_ratio=_val(m["descent_ratio"]), descent_spike=_bool(m["descent_spike"]),
            pain_max=None if pd.isna(pain_max.get(k, np.nan)) else int(pain_max[k]),
        )
        rows.append(_with_notes(row, m, runs.not_available))
    shown = frame.loc[in_window].join(spikes.loc[in_window])
    run_rows = tuple(
        RunSpike(id=i, start_time=r.start_time.to_pydatetime(), distance_m=_val(r.distance_m),
                 longest_prev_30d_m=_val(r.longest_prev_30d_m), spike_pct=_val(r.spike_pct),
                 spike_tier=r.spike_tier)
        for i, r in shown.sort_values("start_time").iterrows())
    notes: tuple[str, ...] = (ACWR_CAVEAT,)
    if runs.not_available:
        notes += (f"{', '.join(runs.not_available)}: not available until per-run features are computed",)
    return LoadReport(athlete, zone.key, end, tuple(rows), run_rows, runs.not_available, notes)


def _pain_by_week(pain: Sequence[PainEntry], zone: ZoneInfo, window: pd.DatetimeIndex) -> pd.Series:
    """Highest pain score logged on each week's local days (any region)."""
    if not pain:
        return pd.Series(dtype=float)
    times = pd.to_datetime([p.time_utc for p in pain], utc=True)
    days = pd.DatetimeIndex(times.tz_convert(zone).tz_localize(None).normalize())
    scores = pd.Series([p.score for p in pain], index=days, dtype=float)
    scores = scores[(days >= window[0]) & (days <= window[-1])]
    return scores.groupby((window[-1] - scores.index).days // 7).max()


def _with_notes(row: WeekRow, m: pd.Series, not_available: tuple[str, ...]) -> WeekRow:
    """Say why each empty metric is empty (no data, not enough history, nothing to compare with)."""
    notes: list[str] = []
    if row.no_data_days:
        notes.append(f"{row.no_data_days} day(s) without data (a declared gap or before the first run); "
                     "sums cover the other days")
    if not_available:
        notes.append(f"{', '.join(not_available)}: not available until per-run features are computed")
    history = (
        ("change_pct", "week_change_pct", "dist_prev_7d", 21, "no running in the previous 7 days"),
        ("acwr_7_21", "acwr_7_21", None, 28, None),
        ("acwr_ewma_7_28", "acwr_ewma", "ewma_28", 28, "no chronic load"),
        ("monotony", "monotony", None, 7, None),
    )
    for name, col, den, need, zero_reason in history:
        if pd.isna(m[col]):
            if den is not None and not pd.isna(m[den]) and m[den] == 0:
                notes.append(f"{name}: {zero_reason}")
            else:
                notes.append(f"{name}: not enough history (needs {need} days with data)")
    if pd.isna(m["descent_ratio"]) and DESCENT not in not_available:
        notes.append("descent_ratio: not enough history (needs 35 days with data) or no descent in the 28 days "
                     "before the last 7")
    return WeekRow(**{**row.__dict__, "notes": tuple(notes)})


def load_report(store: Store, athlete: str, zone: ZoneInfo, end: dt.date, n_weeks: int) -> LoadReport:
    """Read runs, gaps and pain from the store and build the report."""
    from .daily import read_runs

    return build_report(athlete, read_runs(store, athlete, zone), store.gaps(athlete),
                        store.pain_entries(athlete), zone, end, n_weeks)
