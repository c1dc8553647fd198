"""Heart-rate zones, speed work and the long-run marker on runs whose truth is built here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitrisk import schema as S
from gaitrisk.features.clean import clean
from gaitrisk.features.intensity import intensity, is_long_run, rolling_max_hr, surface_class

from .helpers.frames import line_frame


def test_hr_zones_split_moving_time_by_percent_of_max():
    smp = line_frame(np.full(400, 3.0))
    # 100 s in each of 55 %, 65 %, 85 %, 95 % of a 200 bpm maximum.
    smp[S.HEART_RATE] = np.repeat([110.0, 130.0, 170.0, 190.0], [101, 100, 100, 100])
    out = intensity(clean(smp), smp[S.HEART_RATE].to_numpy(), 200.0)
    assert out.hr_zone_s == pytest.approx([100, 100, 0, 100, 100], abs=1)
    assert out.hr_zone_m == pytest.approx([300, 300, 0, 300, 300], abs=3)
    assert intensity(clean(smp), smp[S.HEART_RATE].to_numpy(), None).hr_zone_s is None


def test_speed_work_counts_repeated_fast_stretches_only():
    easy = np.full(120, 3.0)
    reps = np.concatenate([easy, np.full(40, 4.5), easy, np.full(40, 4.5), easy, np.full(40, 4.5), easy])
    out = intensity(clean(line_frame(reps)), None, None)
    assert out.speed_work_reps == 3
    assert out.speed_work_s == pytest.approx(120, abs=8)  # the 5-sample median blurs each edge
    single = np.concatenate([easy, np.full(40, 4.5), easy])
    one = intensity(clean(line_frame(single)), None, None)
    assert (one.speed_work_s, one.speed_work_reps) == (0.0, 0)  # a rep with 0 s is no rep
    steady = intensity(clean(line_frame(np.full(600, 3.0))), None, None)
    assert steady.speed_work_reps == 0


def test_long_run_marker():
    assert is_long_run(90 * 60, 15000, None)
    assert not is_long_run(60 * 60, 12000, 60000)  # 20 % of the week
    assert is_long_run(60 * 60, 16000, 60000)  # 27 % of the week
    assert not is_long_run(30 * 60, 6000, 6000)  # the only run of its week is not "long" by share


def test_rolling_max_hr_ignores_a_single_spike():
    el = np.arange(600.0)
    hr = np.full(600, 150.0)
    hr[300] = 230.0  # a strap artefact
    assert rolling_max_hr(el, hr) < 155


def test_surface_from_roughness():
    assert surface_class(None, True, False, 5.0)[0] == "trail"
    assert surface_class(None, True, False, 0.5)[0] == "road"
    assert surface_class("street", True, True, 0.5)[0] == "track"  # geometry beats a generic sub-sport


def test_pace_zones_split_moving_time_by_fraction_of_threshold_speed():
    from gaitrisk.features.intensity import best_window_speed

    # 300 s at each of 2.8, 3.4, 3.7, 4.0 and 4.2 m/s against a 4.0 m/s threshold:
    # 70 %, 85 %, 92.5 %, 100 %, 105 % -> Friel zones 1, 2, 3, 4, 5.
    smp = line_frame(np.repeat([2.8, 3.4, 3.7, 4.0, 4.2], 300))
    run = clean(smp)
    out = intensity(run, None, None, threshold_speed_mps=4.0)
    assert out.pace_zone_s == pytest.approx([300, 300, 300, 300, 300], abs=2)
    assert out.pace_zone_m == pytest.approx([840, 1020, 1110, 1200, 1260], rel=0.01)
    assert intensity(run, None, None).pace_zone_s is None
    # The best 20 min of this 25 min run: the fastest 1200 s are its last four blocks.
    assert best_window_speed(run) == pytest.approx((3.4 + 3.7 + 4.0 + 4.2) / 4, rel=0.01)
    assert best_window_speed(clean(line_frame(np.full(600, 3.0)))) is None  # only 10 min long


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10_000), st.floats(120.0, 220.0), st.floats(2.0, 6.0))
def test_zones_from_the_histograms_equal_the_per_sample_sums(seed, hr_max, threshold):
    """The zones are taken from per-value histograms (so that the references can come from other
    runs): the same seconds and metres as classifying every moving sample directly."""
    from gaitrisk.features.intensity import HR_ZONE_EDGES, PACE_ZONE_EDGES

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    speeds = rng.choice([0.0, 0.5, 2.5, 3.0, 3.3, 4.1, 5.5], size=n) + rng.normal(0, 0.2, n).round(2)
    run = clean(line_frame(np.clip(speeds, 0.0, None)))
    hr = rng.integers(80, 200, run.n).astype(float)
    hr[rng.random(run.n) < 0.1] = np.nan
    out = intensity(run, hr, hr_max, threshold)
    w = np.where(run.moving, run.dt_s, 0.0)
    dm = np.where(run.moving, run.dist_m, 0.0)
    v = np.divide(run.dist_m, run.dt_s, out=np.full(run.n, np.nan), where=run.dt_s > 0)
    for got_s, got_m, x, edges, skip in ((out.pace_zone_s, out.pace_zone_m, v / threshold, PACE_ZONE_EDGES, 0),
                                         (out.hr_zone_s, out.hr_zone_m, hr / hr_max, HR_ZONE_EDGES, 1)):
        ok = np.isfinite(x) & (w > 0)
        z = np.digitize(x, edges)
        want_s = [w[ok & (z == k)].sum() for k in range(len(edges) + 1)][skip:]
        want_m = [dm[ok & (z == k)].sum() for k in range(len(edges) + 1)][skip:]
        assert got_s == pytest.approx(want_s, rel=1e-12, abs=1e-9)
        assert got_m == pytest.approx(want_m, rel=1e-12, abs=1e-9)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, 5.0, 40.0]),
                          st.one_of(st.floats(60, 210), st.just(float("nan")))), min_size=1, max_size=200))
def test_rolling_max_hr_is_the_pandas_time_rolling_mean_it_replaced(steps):
    """Windows (t - 30 s, t] over repeated times, gaps and missing values, as pandas' rolling("30s")."""
    import pandas as pd

    el = np.cumsum([s for s, _ in steps])
    hr = np.array([h for _, h in steps])
    ref = pd.Series(hr, index=pd.to_timedelta(el, unit="s")).rolling("30s", min_periods=1).mean().to_numpy()
    vals = ref[el >= el[0] + 15.0]
    want = float(np.nanmax(vals)) if np.isfinite(vals).any() else None
    got = rolling_max_hr(el, hr)
    assert (got is None) == (want is None)
    if want is not None:
        assert got == pytest.approx(want, rel=1e-12)
