"""Cleaning: pause time excluded, stops below the walking threshold dropped, GPS spikes rejected,
steady-state windows -- on the known-truth fixtures and on frames built here with exact truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitrisk import schema as S
from gaitrisk.features.clean import (STOP_SPEED_MPS, _derived_from_positions, clean, forward_filled, interpolated,
                                     reject_spikes, rolling_median, windows)
from gaitrisk.ingest.decoders import REFERENCE
from gaitrisk.ingest.frame import build_samples, cumulative_distance
from gaitrisk.synth import RunSpec, generate_run

from .helpers.frames import line_frame
from .helpers.paths import FIXTURES

TRUTH = json.loads((FIXTURES / "truth" / "truth.json").read_text())


def _decode(name: str) -> pd.DataFrame:
    path = FIXTURES / "truth" / name
    return REFERENCE.decode(path.suffix[1:], path.read_bytes(), str(path)).activities[0].samples


def test_pause_time_is_excluded_on_the_paused_tcx():
    truth = TRUTH["paused.tcx"]
    run = clean(_decode("paused.tcx"))
    assert run.timer_s[-1] == pytest.approx(truth["moving_time_s"], abs=1e-6)
    assert run.pause_s == pytest.approx(truth["pause_s"], abs=1e-6)
    assert run.cum_dist_m[-1] == pytest.approx(truth["distance_m"], rel=0.005)


def test_stops_below_the_walking_threshold_leave_moving_time():
    # 100 s running at 3 m/s, 60 s standing (timer running), 100 s running.
    speeds = np.concatenate([np.full(100, 3.0), np.zeros(60), np.full(100, 3.0)])
    run = clean(line_frame(speeds))
    # The 5-sample speed median blurs each edge of the stop by up to 2 samples.
    assert run.stopped_s == pytest.approx(60, abs=4)
    assert run.timer_s[-1] == pytest.approx(200, abs=4)
    assert run.cum_dist_m[-1] == pytest.approx(600, abs=1e-6)


def test_walking_is_moving_but_not_running():
    speeds = np.concatenate([np.full(100, 3.0), np.full(100, 1.3), np.full(100, 3.0)])
    run = clean(line_frame(speeds))
    assert STOP_SPEED_MPS < 1.3
    assert run.dt_s[run.moving].sum() == pytest.approx(300, abs=1e-6)
    assert run.dt_s[run.running].sum() == pytest.approx(200, abs=4)


def test_the_spike_fixture_flags_exactly_the_displaced_fix():
    truth = TRUTH["spike.fit"]
    run = clean(_decode("spike.fit"))
    assert np.flatnonzero(run.spikes).tolist() == [truth["gps_spike"]["sample_index"]]
    assert run.cum_dist_m[-1] == pytest.approx(truth["distance_m"], rel=0.005)


def test_a_spike_in_position_derived_distance_is_removed_from_the_distance():
    # As a GPX file would give it: no device distance, so distance comes from positions.
    syn = generate_run(RunSpec(seed=11, route="road_loop", distance_m=1500, gps_spike_at_s=200.0))
    smp = syn.samples.drop(columns=[S.DISTANCE, S.SPEED])
    smp[S.DISTANCE] = cumulative_distance(smp[S.LAT].to_numpy(), smp[S.LON].to_numpy())
    raw = smp[S.DISTANCE].iloc[-1]
    assert raw > syn.truth["distance_m"] + 300  # the 200 m spike adds ~400 m if kept
    run = clean(smp)
    assert run.distance_source == "positions"
    assert run.spikes.sum() == 1
    assert run.cum_dist_m[-1] == pytest.approx(syn.truth["distance_m"], rel=0.005)


def test_reject_spikes_leaves_a_clean_fast_track_alone():
    # 11 m/s is fast but plausible; consecutive fixes agree, so nothing is a spike.
    t = np.arange(50.0)
    x = 11.0 * t
    assert not reject_spikes(x, np.zeros_like(x), t).any()


def test_steady_windows_exclude_surges():
    # Steady 3 m/s, then a 30 s window alternating 2 and 4 m/s (CV 33 %), then steady again.
    speeds = np.concatenate([np.full(90, 3.0), np.tile([2.0, 4.0], 15), np.full(90, 3.0)])
    win = windows(clean(line_frame(speeds)), {})
    assert not win.loc[win["t0_s"] == 90, "steady"].item()
    assert win.loc[win["t0_s"].isin([30, 150]), "steady"].all()
    assert win.loc[win["t0_s"] == 30, "speed_mps"].item() == pytest.approx(3.0)


def test_files_without_positions_speed_or_distance_do_not_crash():
    n = 50
    t0 = pd.Timestamp("2024-04-01T06:30:00Z")
    bare = pd.DataFrame({S.TIMESTAMP: t0 + pd.to_timedelta(np.arange(n), unit="s"),
                         S.ELAPSED: np.arange(n, dtype=float), S.HEART_RATE: np.full(n, 140.0),
                         S.TIMER_SEGMENT: np.zeros(n, dtype=np.int64)})
    run = clean(bare)
    assert run.distance_source == "none" and not run.has_positions and run.timer_s[-1] == 0
    assert clean(bare.iloc[:0]).n == 0


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(-50, 50), st.just(float("nan")), st.just(float("inf"))), max_size=60))
def test_fill_and_interpolate_are_the_pandas_calls_they_replace(values):
    v = np.array(values, dtype=float)
    np.testing.assert_array_equal(forward_filled(v), pd.Series(v, dtype=float).ffill().fillna(0.0).to_numpy())
    np.testing.assert_array_equal(interpolated(v),
                                  pd.Series(v, dtype=float).interpolate(limit_direction="both").to_numpy())


def test_the_derived_distance_test_settles_on_the_prefix_and_checks_the_rest():
    n = 200
    lat = 52.0 + np.arange(n) * 1e-5
    lon = np.full(n, 13.0)
    exact = cumulative_distance(lat, lon)
    none = np.zeros(n, dtype=bool)
    assert _derived_from_positions(exact, lat, lon, none)
    late = exact.copy()
    late[150:] += 0.5  # equal over the prefix, not after it: the whole run decides
    assert not _derived_from_positions(late, lat, lon, none)
    assert not _derived_from_positions(np.round(exact, 2) + 0.01, lat, lon, none)  # a device's own channel


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(-50, 50), st.just(float("nan"))), max_size=80),
       st.sampled_from([1, 2, 3, 5, 11, 31]))
def test_rolling_median_is_pandas_centred_rolling_median(values, k):
    """The fast path (scipy's median_filter, truncated windows at the ends) and the pandas fallback."""
    v = np.round(np.array(values, dtype=float), 1)  # ties, as in real altitude/speed channels
    expected = pd.Series(v).rolling(k, center=True, min_periods=1).median().to_numpy()
    np.testing.assert_array_equal(rolling_median(v, k), expected)
    finite = np.nan_to_num(v)
    np.testing.assert_array_equal(rolling_median(finite, k),
                                  pd.Series(finite).rolling(k, center=True, min_periods=1).median().to_numpy())


def test_a_spike_in_an_imported_gpx_is_left_out_of_the_stored_distance_and_the_features_agree():
    # The import derives a GPX's distance without the spike (build_samples); the features still
    # take that channel as derived from the positions.
    syn = generate_run(RunSpec(seed=11, route="road_loop", distance_m=1500, gps_spike_at_s=200.0))
    smp = syn.samples
    cols = {S.LAT: smp[S.LAT].to_numpy(), S.LON: smp[S.LON].to_numpy()}
    built = build_samples(smp[S.TIMESTAMP].dt.tz_localize(None).to_numpy(), cols)
    assert built[S.DISTANCE].iloc[-1] == pytest.approx(syn.truth["distance_m"], rel=0.005)
    run = clean(built)
    assert (run.distance_source, int(run.spikes.sum())) == ("positions", 1)
    assert run.cum_dist_m[-1] == pytest.approx(syn.truth["distance_m"], rel=0.005)
