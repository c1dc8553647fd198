"""The athlete-day table as numpy columns reads as the model's DataFrame does.

The everyday commands (flags, risk, report) read :class:`~gaitrisk.model.daytable.DayTable`
columns; model training, validation and notebooks read the DataFrame.  On the synthetic cohort
(15 athletes, each with a planted mechanism, so that every rule fires somewhere) both paths must
give the same levels, factors, flags and unjudged rules on every day.  The latest-run chart bins
arrays; a pandas groupby in the test is its reference.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from gaitrisk import schema as S
from gaitrisk.model.daytable import DayTable
from gaitrisk.model.factors import factor_matrix, risk_factors
from gaitrisk.model.flags import rule_flags
from gaitrisk.model.judged import unjudged
from gaitrisk.model.rules import (
    LEVEL,
    camber_flag_legs,
    camber_legs,
    clinician_flags,
    levels_of,
    rule_factor,
    rule_levels,
)
from gaitrisk.report.runsamples import run_samples
from gaitrisk.store import Store
from gaitrisk.store import codec


def same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == object or b.dtype == object:
        return a.shape == b.shape and all(x == y or (x is None and y is None) for x, y in zip(a, b))
    return a.shape == b.shape and np.array_equal(a.astype(float), b.astype(float), equal_nan=True)


@pytest.fixture(scope="module")
def tables(synthetic_cohort):
    _, _, db, ds, _ = synthetic_cohort
    with Store(db) as store:
        names = store.athletes()
    return {name: ds.table(name) for name in names if ds.table(name) is not None}


@pytest.mark.slow
def test_the_frame_and_the_table_hold_the_same_days_and_values(tables):
    assert len(tables) >= 10
    for name, t in tables.items():
        f = t.frame
        assert list(f.index.get_level_values("athlete").unique()) == [name]
        assert (f.index.get_level_values("day").to_numpy().astype("datetime64[D]") == t.days).all()
        back = DayTable.from_frame(f)
        assert list(back.columns) == list(t.columns)
        for c in t.columns:
            assert same(back[c], t[c]), (name, c)
        # Nullable flags in the frame, 1/0/NaN in the arrays.
        assert str(f["week_jump"].dtype) == "boolean" and f["camber_side_evidence"].dtype == object


@pytest.mark.slow
def test_levels_factors_and_camber_legs_agree_on_every_day(tables):
    fired = set()
    for name, t in tables.items():
        arrays, frame = levels_of(t), rule_levels(t.frame)
        assert list(arrays) == list(frame.columns)
        for code, lv in arrays.items():
            assert (lv == frame[code].to_numpy()).all(), (name, code)
            if (lv > 0).any():
                fired.add(code)
        assert np.array_equal(factor_matrix(t), risk_factors(t.frame).to_numpy(float))
        left, right = camber_legs(t)
        fl, fr = camber_flag_legs(t.frame)
        assert (left == fl.to_numpy(bool)).all() and (right == fr.to_numpy(bool)).all()
    # The cohort plants spikes, low cadence, downhill and pain: the comparison is not of all-zero levels.
    assert {"session_spike", "overstriding", "pain_rising"} <= fired, fired


@pytest.mark.slow
def test_flags_and_unjudged_rules_agree_on_windows_and_days(synthetic_cohort, tables):
    _, _, db, _, _ = synthetic_cohort
    zone = dt.timezone.utc
    with Store(db) as store:
        entries = {name: store.pain_entries(name) for name in tables}
    checked = 0
    for name, t in tables.items():
        first, last = t.day(0), t.day(len(t) - 1)
        for end in [first + dt.timedelta(days=k) for k in range(0, (last - first).days + 1, 9)] + [last]:
            start = end - dt.timedelta(days=13)
            assert rule_flags(t, start, end) == rule_flags(t.frame, start, end), (name, end)
            assert unjudged(t, end) == unjudged(t.frame, end), (name, end)
            checked += 1
        assert clinician_flags(entries[name], t, zone) == clinician_flags(entries[name], t.frame, zone)
    assert checked > 100
    # A day before the first or after the last judges nothing, either way.
    t = next(iter(tables.values()))
    for day in (t.day(0) - dt.timedelta(days=1), t.day(len(t) - 1) + dt.timedelta(days=5)):
        assert unjudged(t, day) == unjudged(t.frame, day) != ()


def test_a_table_without_a_rules_column_does_not_fire_it():
    days = np.array(["2024-03-01", "2024-03-02"], "datetime64[D]")
    t = DayTable("a", days, {"spike_max_7d": np.array([1.5, np.nan])})
    levels = levels_of(t)
    assert levels["session_spike"].tolist() == [LEVEL[rule_factor("session_spike").severity], 0] != [0, 0]
    assert all(not lv.any() for code, lv in levels.items() if code != "session_spike")
    assert t.position(dt.date(2024, 3, 2)) == 1 and t.position(dt.date(2024, 3, 3)) is None
    assert t.between(dt.date(2024, 3, 2), dt.date(2024, 3, 9)).day(0) == dt.date(2024, 3, 2)


def grouped_reference(df: pd.DataFrame) -> dict[str, list[float] | None]:
    """The chart's bins by pandas: the distance-bin means, the bin centres and the pace."""
    s = df[df[S.DISTANCE].notna()]
    dist = s[S.DISTANCE].to_numpy(float)
    width = max(25.0, (dist.max() - dist.min()) / 300)
    g = s.assign(_bin=np.floor((dist - dist.min()) / width).astype(int)).groupby("_bin")
    centres = ((g[S.DISTANCE].min() + g[S.DISTANCE].max()) / 2 - dist.min()) / 1000
    speed = g[S.SPEED].mean()
    pace = 1000.0 / speed.where(speed >= 0.5)
    return {"distance_km": [round(c, 3) for c in centres], "pace": pace.to_numpy(),
            "hr": g[S.HEART_RATE].mean().to_numpy(), "altitude": g[S.ALTITUDE].mean().to_numpy()}


def test_the_latest_run_chart_bins_as_a_pandas_groupby():
    rng = np.random.default_rng(7)
    n = 5000
    speed = np.clip(rng.normal(3.2, 0.6, n), 0, None)
    speed[1200:1300] = 0.0                                   # a stop: no pace there
    dist = np.cumsum(speed)
    dist[rng.random(n) < 0.02] = np.nan                      # samples without a distance are left out
    hr = rng.normal(150, 8, n)
    hr[2000:2600] = np.nan                                   # a strap drop-out: bins without heart rate
    df = pd.DataFrame({S.ELAPSED: np.arange(n, dtype=float), S.DISTANCE: dist, S.SPEED: speed,
                       S.HEART_RATE: hr, S.ALTITUDE: rng.normal(100, 5, n)})
    ref = grouped_reference(df)
    for samples in (df, {c: df[c].to_numpy() for c in df.columns}):
        rs = run_samples(samples, "x", dt.date(2024, 1, 1))
        assert list(rs.distance_km) == ref["distance_km"]
        for got, want in ((rs.pace_s_per_km, ref["pace"]), (rs.heart_rate_bpm, ref["hr"]),
                          (rs.altitude_m, ref["altitude"])):
            assert len(got) == len(want)
            assert all((math.isnan(a) and math.isnan(b)) or a == pytest.approx(round(b, 2), abs=0.01)
                       for a, b in zip(got, want))
        assert any(math.isnan(p) for p in rs.pace_s_per_km) and any(math.isnan(h) for h in rs.heart_rate_bpm)
        assert rs.cadence_spm is None


def test_decoded_columns_are_the_decoded_frame(tmp_path):
    n = 300
    ts = pd.date_range("2024-05-01 06:00", periods=n, freq="s", tz="UTC")
    df = pd.DataFrame({S.TIMESTAMP: ts, S.ELAPSED: np.arange(n, dtype=float),
                       S.DISTANCE: np.arange(n) * 3.1, S.HEART_RATE: np.where(np.arange(n) % 7, 140.0, np.nan),
                       S.TIMER_SEGMENT: np.zeros(n, np.int64)})
    blob = codec.encode(df)
    frame, columns = codec.decode(blob), codec.decode_columns(blob)
    assert list(columns) == list(frame.columns)
    assert columns[S.TIMESTAMP].dtype == np.dtype("datetime64[ns]")
    assert (columns[S.TIMESTAMP] == frame[S.TIMESTAMP].dt.tz_localize(None).to_numpy()).all()
    for c in frame.columns:
        if c != S.TIMESTAMP:
            assert np.array_equal(columns[c], frame[c].to_numpy(), equal_nan=True), c
