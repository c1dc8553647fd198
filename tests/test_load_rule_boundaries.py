"""The load rules at their boundaries, from runs in a real store to the flags and the weekly table.

session_spike, mileage_jump, return_from_break and downhill_load read the daily load metrics
(gaitrisk.load.metrics) that the weekly table shows; the histories here are built so that the
expected answer follows from the thresholds by hand.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from gaitrisk.load import metrics as M
from gaitrisk.load.daily import daily_series, runs_frame
from gaitrisk.records import DataGap
from gaitrisk.load.weekly import load_report
from gaitrisk.model.dataset import build_dataset
from gaitrisk.model.flags import rule_flags
from gaitrisk.store import Store

from .helpers.runs_store import DAY0, daily_runs_store

UTC = ZoneInfo("UTC")
LOAD_CODES = {"session_spike", "mileage_jump", "return_from_break", "downhill_load"}


def _store(tmp_path, km_by_day: dict[int, float], gaps: tuple[tuple[int, int], ...] = ()) -> Store:
    st = daily_runs_store(tmp_path, km_by_day)
    for first, last in gaps:
        st.add_gap(DataGap("ann", DAY0 + dt.timedelta(days=first), DAY0 + dt.timedelta(days=last)))
    return st


def _flags(st: Store) -> dict[str, str]:
    """Each rule's strongest flag over the athlete's whole history: code -> severity."""
    frame = build_dataset(st, ["ann"], UTC).frame
    days = frame.index.get_level_values("day")
    return {f.code: f.severity for f in rule_flags(frame, days.min().date(), days.max().date())}


def test_a_steady_every_other_day_runner_gets_no_load_flag(tmp_path):
    # 10 km every other day for 12 weeks: rolling 7-day windows hold 4 and 3 runs in turn
    # (40 km after 30 km = +33 %), yet the training never changes.
    with _store(tmp_path, {d: 10.0 for d in range(0, 84, 2)}) as st:
        assert LOAD_CODES.isdisjoint(_flags(st))
        weeks = load_report(st, "ann", UTC, DAY0 + dt.timedelta(days=83), 12).weeks
        assert not any(w.week_jump for w in weeks)


def test_a_real_week_jump_is_an_info_flag_and_the_weekly_table_says_the_same(tmp_path):
    # Three weeks of 3 x 5 km (15 km), then 3 x 7 km (21 km = +40 % over the 15 km reference week).
    runs = {d: 5.0 for w in range(3) for d in (7 * w, 7 * w + 2, 7 * w + 4)}
    runs.update({21: 7.0, 23: 7.0, 25: 7.0})
    with _store(tmp_path, runs) as st:
        assert _flags(st).get("mileage_jump") == "info"
        (week,) = load_report(st, "ann", UTC, DAY0 + dt.timedelta(days=27), 1).weeks
        assert week.week_jump is True and week.change_pct == pytest.approx(40.0)


def test_a_declared_30_day_gap_is_not_a_break(tmp_path):
    runs = {d: 10.0 for d in range(0, 42, 2)}   # days 0..40, then the watch stays home 30 days
    runs[71] = 10.0                             # first run back on day 71
    with _store(tmp_path, runs, gaps=((41, 70),)) as st:
        assert "return_from_break" not in _flags(st)
    with _store(tmp_path / "undeclared", runs) as st:   # the same runs without the gap: a real break
        assert _flags(st).get("return_from_break") == "info"


def test_a_gap_inside_a_break_leaves_the_run_free_days_around_it(tmp_path):
    # Last run day 40; gap days 41..50 (10 days); run-free known days 51..72 (22 days) -> still a break.
    runs = {d: 10.0 for d in range(0, 42, 2)}
    runs[73] = 10.0
    with _store(tmp_path, runs, gaps=((41, 50),)) as st:
        assert _flags(st).get("return_from_break") == "info"


def _week_change(km_by_day: dict[int, float], last_day: int) -> pd.DataFrame:
    runs = [SimpleNamespace(id=f"r{d}", start_time=dt.datetime.combine(DAY0 + dt.timedelta(days=d), dt.time(7),
                                                                          tzinfo=dt.timezone.utc),
                            distance_m=km * 1000.0, moving_time_s=km * 300) for d, km in km_by_day.items()]
    rf = runs_frame(runs, UTC)
    daily = daily_series(rf, (), end=DAY0 + dt.timedelta(days=last_day))
    return M.week_change(daily["distance_m"])


def test_no_mileage_jump_from_an_empty_previous_week():
    # Three weeks of 15 km, a week without running, then 20 km: no ratio to nothing.
    runs = {d: 5.0 for w in range(3) for d in (7 * w, 7 * w + 2, 7 * w + 4)}
    runs.update({28: 10.0, 30: 10.0})
    wk = _week_change(runs, 34)
    assert wk["dist_prev_7d"].iloc[34] == 0 and np.isnan(wk["week_ratio"].iloc[34])
    assert pd.isna(wk["week_jump"].iloc[34])


def test_no_mileage_jump_below_the_volume_guard():
    # Reference weeks of 9 km, then 18 km (+100 %): under the 10 km guard it is no jump; at 10 km it is.
    small = {d: 3.0 for w in range(3) for d in (7 * w, 7 * w + 2, 7 * w + 4)}
    small.update({21: 6.0, 23: 6.0, 25: 6.0})
    wk = _week_change(small, 27)
    assert wk["week_ratio"].iloc[27] == pytest.approx(2.0) and bool(wk["week_jump"].iloc[27]) is False
    guard = {d: 10.0 / 3 for w in range(3) for d in (7 * w, 7 * w + 2, 7 * w + 4)}
    guard.update({21: 6.0, 23: 6.0, 25: 6.0})
    wk = _week_change(guard, 27)
    assert wk["dist_ref_7d"].iloc[27] == pytest.approx(M.WEEK_JUMP_MIN_M)
    assert bool(wk["week_jump"].iloc[27]) is True


def _descent(values: dict[int, float], days: int) -> pd.DataFrame:
    series = pd.Series(0.0, index=pd.date_range(DAY0, periods=days, freq="D"))
    for day, metres in values.items():
        series.iloc[day] = metres
    return M.descent_spike(series)


def test_downhill_needs_28_days_of_baseline_before_the_current_week():
    steady = {d: 100.0 for d in range(0, 35, 7)}
    assert _descent(steady, 34)["descent_ratio"].isna().all()     # 34 days: the baseline is short
    assert _descent(steady, 35)["descent_ratio"].iloc[34] == pytest.approx(1.0)


def test_downhill_after_a_break_is_not_a_spike():
    # 28 days without descent, then a hilly week: the baseline is empty, so there is no ratio (a
    # baseline that included the current week would read 4.0, the largest it can ever be).
    ds = _descent({28: 300.0, 31: 300.0}, 35)
    assert np.isnan(ds["descent_ratio"].iloc[34]) and pd.isna(ds["descent_spike"].iloc[34])
