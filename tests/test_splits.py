"""Kilometre and lap splits from stored samples (``gaitrisk show``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gaitrisk.features.splits import km_splits, lap_splits
from gaitrisk.records import Lap

T0 = dt.datetime(2024, 5, 1, 7, 0, tzinfo=dt.timezone.utc)


def _run(pause_s: float = 0.0) -> pd.DataFrame:
    """2500 m at 4 m/s, one sample a second, climbing 1 m per 100 m; a pause of ``pause_s``
    (a new timer segment) after 1200 m."""
    t = np.arange(0, 626, dtype=float)
    dist = np.minimum(t * 4.0, 2500.0)
    elapsed = t + np.where(dist > 1200, pause_s, 0.0)
    return pd.DataFrame({
        "timestamp": [T0 + dt.timedelta(seconds=float(e)) for e in elapsed], "elapsed_s": elapsed,
        "distance_m": dist, "heart_rate_bpm": np.where(dist <= 1000, 140.0, 160.0), "cadence_spm": 170.0,
        "altitude_m": 100 + dist / 100, "timer_segment": (dist > 1200).astype(int)})


@pytest.mark.parametrize("pause_s", [0.0, 300.0])
def test_km_splits_use_timer_time_and_the_samples_in_each_km(pause_s):
    s1, s2, s3 = km_splits(_run(pause_s))
    assert [s.distance_m for s in (s1, s2, s3)] == [1000.0, 1000.0, 500.0]
    assert [s.time_s for s in (s1, s2, s3)] == pytest.approx([250.0, 250.0, 125.0], abs=1.0)  # the pause is no time
    assert s1.pace_s_per_km == pytest.approx(250.0, abs=1.0) and s3.pace_s_per_km == pytest.approx(250.0, abs=2.0)
    assert s1.heart_rate_bpm == pytest.approx(140.0) and s2.heart_rate_bpm == pytest.approx(160.0, abs=0.1)
    assert s2.cadence_spm == pytest.approx(170.0)
    assert [s.elevation_change_m for s in (s1, s2, s3)] == pytest.approx([10.0, 10.0, 5.0])


def test_a_short_last_stub_joins_the_split_before():
    run = _run()
    run = run[run["distance_m"] <= 2020.0]
    splits = km_splits(run)
    assert [s.distance_m for s in splits] == [1000.0, 1020.0]


def test_no_distance_no_splits():
    assert km_splits(_run().drop(columns="distance_m")) == []


def test_lap_splits_take_the_device_laps_and_the_samples_inside():
    laps = (Lap(T0, 300.0, 300.0, 1200.0), Lap(T0 + dt.timedelta(seconds=300), 326.0, 325.0, 1300.0))
    a, b = lap_splits(_run(), laps)
    assert (a.distance_m, a.time_s, b.distance_m, b.time_s) == (1200.0, 300.0, 1300.0, 325.0)
    assert a.pace_s_per_km == pytest.approx(250.0)
    assert a.elevation_change_m == pytest.approx(11.96) and b.cadence_spm == pytest.approx(170.0)
