"""Unit rules every reader shares: cadence in steps/min, absent-not-zero, time order, totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitrisk import schema as S
from gaitrisk.ingest.frame import (PAUSE_GAP_S, build_samples, cumulative_distance, haversine_m, per_foot_to_spm,
                                   totals)
from gaitrisk.ingest.positions import glitches_of


def _ts(seconds):
    return np.datetime64("2024-05-01T07:00:00", "ns") + np.asarray(seconds, dtype="timedelta64[s]")


def test_per_foot_cadence_doubles_with_fraction():
    assert per_foot_to_spm(np.array([79.0, 85.0]), np.array([0.5, 0.0])).tolist() == [159.0, 170.0]


def test_cadence_already_in_steps_is_left_alone():
    assert per_foot_to_spm(np.array([170.0, 172.0, 0.0])).tolist() == [170.0, 172.0, 0.0]


def test_absent_columns_are_dropped_not_zero_and_rows_sorted():
    df = build_samples(_ts([2, 0, 1, 1]), {S.HEART_RATE: [np.nan] * 4, S.SPEED: [3.0, 1.0, 2.0, 9.0]})
    assert S.HEART_RATE not in df.columns
    assert df[S.SPEED].tolist() == [1.0, 2.0, 3.0]  # sorted, duplicate timestamp dropped (first kept)
    assert df[S.ELAPSED].tolist() == [0.0, 1.0, 2.0]
    assert str(df[S.TIMESTAMP].dt.tz) == "UTC"


def test_unknown_column_is_a_programming_error():
    with pytest.raises(KeyError):
        build_samples(_ts([0]), {"cadence": [80.0]})


def test_distance_from_positions_one_degree_of_latitude():
    lat = np.array([0.0, 0.5, 1.0])
    d = cumulative_distance(lat, np.zeros(3))
    assert d[-1] == pytest.approx(111_195, rel=1e-3)  # 1 degree on the mean Earth sphere


def test_totals_pause_and_gap_excluded_from_moving_time():
    # 0..100 s in segment 0, pause, 200..300 s in segment 1, then a 120 s hole without a pause event.
    t = list(range(0, 101)) + list(range(200, 301)) + [421]
    seg = [0] * 101 + [1] * 101 + [1]
    cols = {S.TIMER_SEGMENT: np.array(seg), S.DISTANCE: np.arange(len(t), dtype=float) * 3,
            S.CADENCE: np.r_[np.full(202, 170.0), 0.0]}
    assert totals(build_samples(_ts(t), cols))["moving_time_s"] == 100 + 100 + 121  # timer events only: the hole counts
    df = build_samples(_ts(t), cols, pause_gap_s=30.0)
    assert df[S.TIMER_SEGMENT].tolist()[-3:] == [1, 1, 2]  # the marked pause once, the 120 s hole added
    out = totals(df)
    assert out["duration_s"] == 421
    assert out["moving_time_s"] == 200
    assert out["distance_m"] == pytest.approx(3 * 202)
    # Time-weighted: the last sample starts a segment of its own and stands for no interval.
    assert out["avg_cadence_spm"] == pytest.approx(170.0)
    assert out["avg_stance_time_ms"] is None


def test_session_cadence_is_time_weighted_over_smart_recording_with_zeros():
    # 100 s at 1 Hz and 180 spm; then smart recording: 160 spm logged every 10 s for 400 s;
    # then 30 s standing (0 spm) with the timer running; then a 90 s hole in the recording
    # (timer running) closed by one 170 spm sample.  The watch averages per second: the
    # hole counts up to the pause threshold only.
    t = list(range(0, 101)) + list(range(110, 501, 10)) + list(range(501, 531)) + [620]
    cad = [180.0] * 101 + [160.0] * 40 + [0.0] * 30 + [170.0]
    stance = np.where(np.array(cad) > 0, 250.0, 0.0)
    out = totals(build_samples(_ts(t), {S.CADENCE: np.array(cad), S.STANCE_TIME: stance}))
    weighted = (180 * 100 + 160 * 400 + 0 * 30 + 170 * PAUSE_GAP_S) / (100 + 400 + 30 + PAUSE_GAP_S)
    assert out["avg_cadence_spm"] == pytest.approx(weighted)
    assert out["avg_stance_time_ms"] == pytest.approx(250.0)  # zeros skipped


def test_nomenclature_doc_is_generated_from_schema():
    from .helpers.paths import REPO

    assert (REPO / "docs" / "nomenclature.md").read_text() == S.nomenclature_markdown()


def test_every_reader_column_is_in_the_schema():
    assert len({c.name for c in S.SAMPLE_COLUMNS}) == len(S.SAMPLE_COLUMNS)
    assert pd.api.types.is_float_dtype(np.dtype(S.COLUMNS_BY_NAME[S.CADENCE].dtype))


def _rules_in_pandas(ts, columns, pause_gap_s):
    """The frame's rules written out step by step with pandas: the oracle for the numpy version."""
    df = pd.DataFrame({S.TIMESTAMP: pd.to_datetime(ts, utc=True),
                       **{k: np.asarray(v, dtype=np.int64 if k == S.TIMER_SEGMENT else float) for k, v in columns.items()}})
    if S.LAT in df and S.LON in df:
        df.loc[(df[S.LAT] == 0) & (df[S.LON] == 0), [S.LAT, S.LON]] = np.nan
        # Off the globe, or half a position: no position.
        on_globe = df[S.LAT].between(-90, 90) & df[S.LON].between(-180, 180)
        df.loc[~on_globe & ~(df[S.LAT].isna() & df[S.LON].isna()), [S.LAT, S.LON]] = np.nan
    df = df[(df[S.TIMESTAMP] >= pd.Timestamp("1970-01-01", tz="UTC")) & (df[S.TIMESTAMP] < pd.Timestamp("2200-01-01", tz="UTC"))]
    df = df.sort_values(S.TIMESTAMP, kind="stable").drop_duplicates(S.TIMESTAMP).reset_index(drop=True)
    df = df.drop(columns=[c for c in df if c in S.FLOAT_COLUMNS and not np.isfinite(df[c]).any()])
    seg = df[S.TIMER_SEGMENT] if S.TIMER_SEGMENT in df else pd.Series(0, index=df.index, dtype=np.int64)
    df[S.ELAPSED] = (df[S.TIMESTAMP] - df[S.TIMESTAMP].iloc[0]).dt.total_seconds() if len(df) else 0.0
    if pause_gap_s is not None:
        seg = seg + ((df[S.ELAPSED].diff() > pause_gap_s) & (seg.diff() == 0)).cumsum()
    df[S.TIMER_SEGMENT] = seg.astype(np.int64)
    if S.DISTANCE not in df and S.LAT in df and S.LON in df:
        spikes = glitches_of(df[S.LAT].to_numpy(), df[S.LON].to_numpy(), df[S.ELAPSED].to_numpy())
        fix = df.loc[~spikes, [S.LAT, S.LON, S.TIMER_SEGMENT, S.ELAPSED]].dropna()
        steps = haversine_m(fix[S.LAT].shift(), fix[S.LON].shift(), fix[S.LAT], fix[S.LON]).fillna(0.0)
        # Across a pause: at most one sample interval at the median speed.
        dt = fix[S.ELAPSED].diff()
        same = (fix[S.TIMER_SEGMENT].diff() == 0) & (dt > 0)
        cross = fix[S.TIMER_SEGMENT].diff().fillna(0) != 0
        if same.any():
            cap = (steps[same] / dt[same]).median() * np.minimum(dt, dt[same].median())
        else:
            cap = pd.Series(0.0, index=fix.index)
        steps = steps.where(~cross, np.minimum(steps, cap))
        # No row with a whole fix: no distance at all (NaN), rather than a made-up 0.
        df[S.DISTANCE] = steps.cumsum().reindex(df.index).ffill().fillna(0.0) if len(fix) else np.nan
    return df[[c.name for c in S.SAMPLE_COLUMNS if c.name in df]]


_secs = st.lists(st.one_of(st.integers(0, 400), st.just(-1), st.just(10**10)), max_size=30)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(_secs, st.data(), st.sampled_from([None, 5.0, 30.0]))
def test_frame_follows_its_rules(secs, data, gap):
    # -1: no time; 10**10 s after 2024: beyond 2200 (dropped); 0..400: duplicates and disorder.
    ts = np.array([np.datetime64("NaT") if s == -1 else np.datetime64("2024-05-01T07:00:00", "ns")
                   + np.timedelta64(s, "s") for s in secs], dtype="datetime64[ns]")
    value = st.one_of(st.just(np.nan), st.just(0.0), st.floats(-90, 90), st.sampled_from([95.0, -181.0, np.inf]))
    cols = {name: np.array(data.draw(st.lists(value, min_size=len(ts), max_size=len(ts))))
            for name in data.draw(st.sets(st.sampled_from([S.LAT, S.LON, S.HEART_RATE, S.DISTANCE])))}
    if data.draw(st.booleans()):
        cols[S.TIMER_SEGMENT] = np.sort(data.draw(st.lists(st.integers(0, 3), min_size=len(ts), max_size=len(ts))))
    got = build_samples(ts, cols, pause_gap_s=gap)
    want = _rules_in_pandas(ts, cols, gap)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    assert isinstance(got.index, pd.RangeIndex)
