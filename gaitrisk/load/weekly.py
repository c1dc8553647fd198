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

from ..records import DataGap
from ..times import iso, zone_name
from . import metrics as M
from .daily import DESCENT, DISTANCE, GAP_DISTANCE, LONGEST, MOVING_TIME, RUNS, RunsFrame, daily_arrays

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
    return None if v is None or v != v else float(v)


def _bool(v: Any) -> bool | None:
    return None if v is None or v != v else bool(v)


def _by_week(values: np.ndarray, how: str) -> np.ndarray:
    """The ``sum`` or ``max`` of each week of a window's days (oldest week first) over the days
    that are known; NaN for a week without any."""
    weeks = values.reshape(-1, M.WEEK_DAYS)
    known = ~np.isnan(weeks)
    out = np.full(len(weeks), np.nan)
    some = known.any(axis=1)
    if how == "sum":
        out[some] = np.where(known, weeks, 0.0)[some].sum(axis=1)
    else:
        out[some] = np.where(known, weeks, -np.inf)[some].max(axis=1)
    return out


def build_report(athlete: str, runs: RunsFrame, gaps: Sequence[DataGap], pain: Sequence[PainEntry], zone: ZoneInfo,
                 end: dt.date, n_weeks: int) -> LoadReport:
    """The weekly table of the ``n_weeks`` weeks ending on ``end`` and the spikes of their runs."""
    if n_weeks < 1:
        raise ValueError("n_weeks must be at least 1")
    last_day = np.datetime64(end, "D")
    window = np.arange(last_day - (7 * n_weeks - 1), last_day + 1, dtype="datetime64[D]")
    if not len(runs) or runs.day.min() > last_day:
        return LoadReport(athlete, zone_name(zone.key), end, (), (), runs.not_available,
                          ("no runs stored up to this date",))
    daily = daily_arrays(runs, gaps, end=max(end, runs.day.max().item()))
    metrics = M.daily_metrics(daily)
    spikes = M.spikes_of(runs.day, runs.values[DISTANCE], daily.days, daily[LONGEST])

    # The window's days in the daily series; days before the first run are unknown, like a gap.
    pos = (window - daily.days[0]).astype(int)
    seen = pos >= 0
    pos = np.where(seen, pos, 0)

    def on_window(values: np.ndarray) -> np.ndarray:
        return np.where(seen, values[pos], np.nan)

    no_data = np.where(seen, daily.no_data[pos], True).reshape(-1, 7).sum(axis=1)
    sums = {c: _by_week(on_window(daily[c]), "sum") for c in (DISTANCE, MOVING_TIME, GAP_DISTANCE, DESCENT, RUNS)}
    longest = _by_week(on_window(daily[LONGEST]), "max")
    last = {k: on_window(v)[6::7] for k, v in metrics.items()}   # each week's last day
    ret = on_window(metrics["return_to_run"]).reshape(-1, 7)
    ret_any, ret_unknown = (ret == 1.0).any(axis=1), np.isnan(ret).any(axis=1)

    in_window = (runs.day >= window[0]) & (runs.day <= window[-1])
    run_week = (runs.day[in_window] - window[0]).astype(int) // 7   # 0: the oldest week
    rank = np.array([SPIKE_ORDER.index(t) for t in spikes["spike_tier"][in_window]], int)
    spike_count = np.bincount(run_week, weights=rank >= SPIKE_ORDER.index("small"), minlength=n_weeks)
    tier_max = np.full(n_weeks, -1)
    np.maximum.at(tier_max, run_week, rank)
    pain_max = _pain_by_week(pain, zone, window)

    rows = []
    for i in range(n_weeks):
        m = {k: v[i] for k, v in last.items()}
        row = WeekRow(
            week_start=window[7 * i].item(), week_end=window[7 * i + 6].item(),
            distance_m=_val(sums[DISTANCE][i]), no_data_days=int(no_data[i]),
            runs=int(0 if np.isnan(sums[RUNS][i]) else sums[RUNS][i]),
            moving_time_s=_val(sums[MOVING_TIME][i]),
            gap_distance_m=None if GAP_DISTANCE in runs.not_available else _val(sums[GAP_DISTANCE][i]),
            descent_m=None if DESCENT in runs.not_available else _val(sums[DESCENT][i]),
            longest_run_m=_val(longest[i]),
            change_pct=_val(m["week_change_pct"]), week_jump=_bool(m["week_jump"]),
            spikes=int(spike_count[i]), spike_tier_max=SPIKE_ORDER[tier_max[i]] if tier_max[i] >= 0 else None,
            acwr_7_21=_val(m["acwr_7_21"]), acwr_ewma_7_28=_val(m["acwr_ewma"]),
            monotony=_val(m["monotony"]), strain=_val(m["strain"]),
            return_to_run=True if ret_any[i] else (None if ret_unknown[i] else False),
            descent_ratio=_val(m["descent_ratio"]), descent_spike=_bool(m["descent_spike"]),
            pain_max=pain_max[i],
        )
        rows.append(_with_notes(row, m, runs.not_available))
    shown = sorted(np.flatnonzero(in_window).tolist(), key=lambda j: runs.start_time[j])
    values = runs.values
    run_rows = tuple(
        RunSpike(id=runs.ids[j], start_time=runs.start_time[j], distance_m=_val(values[DISTANCE][j]),
                 longest_prev_30d_m=_val(spikes["longest_prev_30d_m"][j]), spike_pct=_val(spikes["spike_pct"][j]),
                 spike_tier=str(spikes["spike_tier"][j]))
        for j in shown)
    notes: tuple[str, ...] = (ACWR_CAVEAT,)
    if runs.not_available:
        notes += (f"{', '.join(runs.not_available)}: not available until per-run features are computed",)
    return LoadReport(athlete, zone_name(zone.key), end, tuple(rows), run_rows, runs.not_available, notes)


def _pain_by_week(pain: Sequence[PainEntry], zone: ZoneInfo, window: np.ndarray) -> list[int | None]:
    """Highest pain score logged on each week's local days (any region), oldest week first."""
    out: list[int | None] = [None] * (len(window) // 7)
    for p in pain:
        k = (np.datetime64(p.time_utc.astimezone(zone).date(), "D") - window[0]).astype(int) // 7
        if 0 <= k < len(out):
            out[k] = p.score if out[k] is None else max(out[k], p.score)
    return out


def _with_notes(row: WeekRow, m: dict[str, float], not_available: tuple[str, ...]) -> WeekRow:
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
        if np.isnan(m[col]):
            if den is not None and not np.isnan(m[den]) and m[den] == 0:
                notes.append(f"{name}: {zero_reason}")
            else:
                notes.append(f"{name}: not enough history (needs {need} days with data)")
    if np.isnan(m["descent_ratio"]) and DESCENT not in not_available:
        notes.append("descent_ratio: not enough history (needs 35 days with data) or no descent in the 28 days "
                     "before the last 7")
    return WeekRow(**{**row.__dict__, "notes": tuple(notes)})


def load_report(store: Store, athlete: str, zone: ZoneInfo, end: dt.date, n_weeks: int) -> LoadReport:
    """Read runs, gaps and pain from the store and build the report."""
    from .daily import read_runs

    return build_report(athlete, read_runs(store, athlete, zone), store.gaps(athlete),
                        store.pain_entries(athlete), zone, end, n_weeks)
