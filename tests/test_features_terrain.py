"""Terrain against known truth: the 200 m hill at +6 % (barometric noise 0.3 m), flat runs,
Minetti's measured costs, and hysteresis on a profile built here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitrisk import schema as S
from gaitrisk.features.clean import clean
from gaitrisk.features.terrain import GRADE_WINDOW_M, gain_loss, lsq_slope, minetti_cost, terrain
from gaitrisk.ingest.decoders import REFERENCE
from gaitrisk.synth import RunSpec, generate_run

from .helpers.paths import FIXTURES

TRUTH = json.loads((FIXTURES / "truth" / "truth.json").read_text())
HILL = TRUTH["hill.fit"]


def _terrain(name: str):
    path = FIXTURES / "truth" / name
    smp = REFERENCE.decode(path.suffix[1:], path.read_bytes(), str(path)).activities[0].samples
    run = clean(smp)
    alt = smp[S.ALTITUDE].to_numpy() if S.ALTITUDE in smp else None
    return run, terrain(run, alt)


@pytest.fixture(scope="module")
def hill():
    return _terrain("hill.fit")


@pytest.mark.slow
def test_grade_on_the_200m_hill_within_half_a_point(hill):
    run, ter = hill
    s = run.cum_dist_m
    flat, length, g = HILL["hill_flat_m"], HILL["hill_length_m"], HILL["hill_grade"]
    half = GRADE_WINDOW_M / 2  # windows centred closer to a kink than this straddle it
    climb = (s >= flat + half) & (s <= flat + length - half)
    descent = (s >= flat + length + half) & (s <= flat + 2 * length - half)
    assert ter.grade[climb].mean() * 100 == pytest.approx(g * 100, abs=0.5)
    assert ter.grade[descent].mean() * 100 == pytest.approx(-g * 100, abs=0.5)
    # Every single window, not only the mean, stays within 1.5 points despite the 0.3 m noise.
    assert np.abs(ter.grade[climb] - g).max() * 100 < 1.5


@pytest.mark.slow
def test_gain_and_loss_recover_the_hill(hill):
    _, ter = hill
    assert ter.ascent_m == pytest.approx(HILL["total_ascent_m"], abs=1.0)
    assert ter.descent_m == pytest.approx(HILL["total_descent_m"], abs=1.0)


@pytest.mark.slow
def test_downhill_exposure_on_the_hill(hill):
    _, ter = hill
    true_m = HILL["hill_length_m"]  # all of the descent is at -6 %, none at -10 %
    # The 50 m window shortens a grade plateau by up to (2 x 5/6 - 1) x 50 m ~ 33 m at -5 %.
    assert true_m - 40 <= ter.distance_m_grade_le_minus5 <= true_m + 5
    assert ter.distance_m_grade_le_minus10 == 0
    assert ter.time_s_grade_le_minus5 == pytest.approx(ter.distance_m_grade_le_minus5 / HILL["speed_mps"], rel=0.02)
    bins = ter.grade_bins_m
    assert sum(bins.values()) == pytest.approx(HILL["distance_m"], rel=1e-6)
    assert bins["up"] == pytest.approx(HILL["hill_length_m"], abs=40)
    assert bins["down"] == pytest.approx(HILL["hill_length_m"], abs=40)


@pytest.mark.slow
def test_gap_is_the_distance_on_the_flat_and_longer_on_the_hill(hill):
    _, flat = _terrain("track_ccw.fit")
    assert flat.gap_distance_m == pytest.approx(TRUTH["track_ccw.fit"]["distance_m"], rel=1e-3)
    assert flat.gap_pace_s_per_km == pytest.approx(1000 / TRUTH["track_ccw.fit"]["speed_mps"], rel=1e-3)
    _, ter = hill
    # Independent of the code: Minetti's cost at +-6 % over 200 m each, flat elsewhere.
    g = HILL["hill_grade"]
    expected = (2 * HILL["hill_flat_m"] + HILL["hill_length_m"] * (minetti_cost(g) + minetti_cost(-g)) / 3.6)
    assert ter.gap_distance_m == pytest.approx(float(expected), rel=0.02)


@pytest.mark.parametrize("grade,measured", [(0.0, 3.40), (-0.20, 1.73), (0.45, 18.93), (-0.45, 3.92)])
def test_minetti_polynomial_matches_the_papers_measurements(grade, measured):
    # Minetti 2002 (evidence.md 4.3): measured costs; the polynomial fit is within ~6 % of them.
    assert float(minetti_cost(grade)) == pytest.approx(measured, rel=0.06)


def test_grade_is_clamped_beyond_45_percent():
    assert minetti_cost(0.9) == minetti_cost(0.45)


def test_lsq_slope_recovers_a_line_exactly_including_the_ends():
    y = 3.0 + 0.25 * np.arange(40)
    assert np.allclose(lsq_slope(y, half=5, min_points=5), 0.25)


def test_hysteresis_ignores_wiggles_below_the_band_but_counts_real_climbs():
    x = np.linspace(0, 1, 2001)
    wiggle = 0.5 * np.sin(2 * np.pi * 40 * x)  # +-0.5 m: below the 1.5 m band
    climb = 20.0 * np.clip((x - 0.25) / 0.25, 0, 1) - 20.0 * np.clip((x - 0.6) / 0.2, 0, 1)
    gain, loss = gain_loss(climb + wiggle)
    assert gain == pytest.approx(20.0, abs=1.0) and loss == pytest.approx(20.0, abs=1.0)
    assert gain_loss(wiggle) == (0.0, 0.0)


def test_without_altitude_terrain_is_null_not_zero():
    path = FIXTURES / "truth" / "no_dynamics.gpx"
    smp = REFERENCE.decode("gpx", path.read_bytes(), str(path)).activities[0].samples
    ter = terrain(clean(smp), None)
    assert ter.descent_m is None and ter.gap_distance_m is None and ter.grade_stats is None
    assert np.isnan(ter.grade).all()


def test_a_gross_altitude_outlier_run_is_rejected():
    # Three fixes 90 m too high at the start (as seen in a real fenix 2 file) must not count.
    syn = generate_run(RunSpec(seed=5, route="hill", distance_m=600.0, speed_mps=3.0))
    smp = syn.samples.copy()
    smp.loc[1:3, S.ALTITUDE] += 90.0
    ter = terrain(clean(smp), smp[S.ALTITUDE].to_numpy())
    assert ter.ascent_m == pytest.approx(syn.truth["total_ascent_m"], abs=1.0)


def _climb_frame(slow_mps: float, grade: float) -> tuple:
    """300 m flat at 3 m/s, 200 m climbed at ``grade`` and ``slow_mps``, 300 m flat: 1 Hz, noiseless."""
    from gaitrisk.ingest.frame import build_samples

    parts = [(300.0, 3.0, 0.0), (200.0, slow_mps, grade), (300.0, 3.0, 0.0)]
    dist, alt = [0.0], [500.0]
    for length, v, g in parts:
        n = int(round(length / v))
        step = length / n
        for _ in range(n):
            dist.append(dist[-1] + step)
            alt.append(alt[-1] + g * step)
    t = np.arange(len(dist))
    speed = np.r_[3.0, np.diff(dist)]
    ts = np.datetime64("2024-05-01T06:00:00", "ns") + t.astype("timedelta64[s]")
    smp = build_samples(ts, {S.DISTANCE: np.array(dist), S.ALTITUDE: np.array(alt), S.SPEED: speed})
    return smp, np.array(dist)


def test_a_climb_walked_below_stop_speed_keeps_its_true_grade():
    # A slow mountain climb: 0.7 m/s is below the stop speed, yet the altitude rises over
    # the metres walked; grade must stay the true 30 %, never thousands of percent.
    smp, dist = _climb_frame(0.7, 0.30)
    run = clean(smp)
    ter = terrain(run, smp[S.ALTITUDE].to_numpy())
    half = GRADE_WINDOW_M / 2
    climb = (dist >= 300 + half) & (dist <= 500 - half)
    assert ter.grade[climb] == pytest.approx(0.30, abs=0.005)
    assert ter.grade_stats["max_pct"] == pytest.approx(30.0, abs=0.5)
    assert ter.ascent_m == pytest.approx(60.0, abs=1.0)


@pytest.mark.slow
def test_real_mountain_leg_grade_stays_physical(real_data):
    # fenix 2 multisport, running leg 2: 734 m climbed over 2.2 km at 0.4-1.5 m/s.
    from .helpers.reference import decode_real

    act = next(a for a in decode_real("fit/fitparse__activity-large-fenxi2-multisport.fit").activities
               if a.leg_index == 2)
    run = clean(act.samples)
    alt = act.samples[S.ALTITUDE].to_numpy()
    ter = terrain(run, alt)
    net = (np.nanmax(alt) - np.nanmin(alt)) / run.dist_m.sum() * 100  # ~33 % on average
    assert ter.grade_stats["max_pct"] < 2 * net
    assert ter.grade_stats["p95_pct"] < 1.8 * net
