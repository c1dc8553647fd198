"""Camber proxies and surface against known geometry: CCW/CW track laps, an out-and-back run on
the right-hand side, road loops with the low side from habit and driving side."""

from __future__ import annotations

import json
import math

import pytest

from gaitrisk.features.camber import camber, side_evidence, with_run_side
from gaitrisk.features.clean import clean
from gaitrisk.features.compute import compute_features
from gaitrisk.features.profile import AthleteProfile, resolve
from gaitrisk.ingest.decoders import REFERENCE
from gaitrisk.records import ActivityRecord
from gaitrisk.synth import RunSpec, generate_run
from gaitrisk.synth.runs import TRACK_LINE_RADIUS_M

from .helpers.paths import FIXTURES

TRUTH = json.loads((FIXTURES / "truth" / "truth.json").read_text())


def _decode(name: str):
    path = FIXTURES / "truth" / name
    return REFERENCE.decode(path.suffix[1:], path.read_bytes(), str(path)).activities[0]


def _features(samples, profile=None, sub_sport=None):
    rec = ActivityRecord(id="x", athlete="me", fmt="fit", sport="running", sub_sport=sub_sport, device=None,
                         name=None, start_time=samples["timestamp"].iloc[0].to_pydatetime(), duration_s=0.0,
                         moving_time_s=0.0, distance_m=None, avg_cadence_spm=None, avg_stance_time_ms=None,
                         partial=False, sources=())
    return compute_features(rec, samples, resolve(profile))


def _bend_m(laps: int) -> float:
    return laps * 2 * math.pi * TRACK_LINE_RADIUS_M  # two half-circle bends per lap


def test_ccw_track_fixture_direction_laps_and_bend_metres():
    truth = TRUTH["track_ccw.fit"]
    f = _features(_decode("track_ccw.fit").samples)  # sub-sport not given: geometry alone
    c = f.camber
    assert c.is_track and f.surface == "track"
    assert c.track_laps == pytest.approx(truth["track_laps"], abs=0.2)
    assert c.track_bend_radius_m == pytest.approx(TRACK_LINE_RADIUS_M, abs=2.0)
    # The +-10 m heading window trims ~6 m off each end of a bend: within 10 % of the true bend metres.
    assert c.track_ccw_m == pytest.approx(_bend_m(truth["track_laps"]), rel=0.10)
    assert c.track_cw_m == 0
    assert c.road_left_low_m is None and c.camber_exposure_index is None  # a track is no road


def test_cw_track_generated_here_reads_clockwise():
    syn = generate_run(RunSpec(seed=41, route="track", laps=3, direction="cw", speed_mps=4.0))
    c = camber(clean(syn.samples), surface_is_road=False, habit_low_side="left")
    assert c.is_track and c.track_ccw_m == 0
    assert c.track_cw_m == pytest.approx(_bend_m(3), rel=0.10)


def test_a_road_loop_is_not_a_track_even_though_it_closes():
    syn = generate_run(RunSpec(seed=42, route="road_loop", distance_m=4000.0, loop_size_m=(120.0, 80.0),
                               loop_corner_radius_m=10.0))
    c = camber(clean(syn.samples), surface_is_road=True, habit_low_side="left")
    assert c.is_track is False and c.track_ccw_m == 0
    assert c.curve_ccw_m > 0 and c.curve_cw_m == 0  # its corners still count as CCW curve metres


def test_out_and_back_fixture_pairs_both_passes_and_finds_the_right_hand_side():
    truth = TRUTH["out_and_back.gpx"]
    f = _features(_decode("out_and_back.gpx").samples)
    c = f.camber
    assert f.surface == "road"
    assert c.out_and_back_side == truth["out_and_back_side"]
    assert c.out_and_back_separation_m == pytest.approx(2 * truth["lateral_offset_m"], abs=1.0)
    # All but the U-turn and the first/last ~50 m (less than 100 m apart along the path) pair up.
    assert c.out_and_back_paired_m >= 0.85 * truth["distance_m"]
    # Geometry outranks the habit default (facing traffic on the left): right foot low.
    assert c.road_low_side_source == "out-and-back geometry"
    assert c.road_right_low_m == pytest.approx(truth["distance_m"], rel=0.01) and c.road_left_low_m == 0
    assert c.camber_exposure_index == -1.0
    assert "moderate" in c.confidence["road_side"]


@pytest.mark.parametrize("driving,road,low,evidence", [
    ("right", None, "left", "assumed"), ("left", None, "right", "assumed"),        # road side from the default
    ("right", "facing", "left", "observed"), ("left", "with", "left", "observed"),  # both declared
    (None, "facing", "left", "assumed"),                                          # driving side from the default
    (None, "right", "right", "observed")])                                        # the side itself declared
def test_road_loop_low_side_from_habit_and_driving_side(driving, road, low, evidence):
    truth = TRUTH["no_dynamics.gpx"]
    f = _features(_decode("no_dynamics.gpx").samples, AthleteProfile(driving_side=driving, road_side=road))
    c = f.camber
    assert f.surface == "road" and c.out_and_back_side is None
    assert c.road_low_side == low and side_evidence(c.road_low_side_source) == evidence
    if evidence == "assumed":
        assert c.road_low_side_source.startswith("assumed: ") and "low" in c.confidence["road_side"]
    else:
        assert c.road_low_side_source == "declared habit" and "declared" in c.confidence["road_side"]
    on_low = c.road_left_low_m if low == "left" else c.road_right_low_m
    assert on_low == pytest.approx(truth["distance_m"], rel=0.01)
    assert c.camber_exposure_index == (1.0 if low == "left" else -1.0)


def test_sub_sport_decides_the_surface_before_geometry():
    smp = _decode("no_dynamics.gpx").samples
    assert _features(smp, sub_sport="trail").surface == "trail"
    assert _features(smp, sub_sport="treadmill").surface == "treadmill"
    f = _features(smp, sub_sport="treadmill")
    assert f.camber.road_m is None  # no road exposure off the road


def test_no_positions_gives_null_camber_and_unknown_surface():
    smp = _decode("hill.fit").samples.drop(columns=["lat_deg", "lon_deg"])
    f = _features(smp)
    assert f.surface == "unknown"
    assert f.camber.track_ccw_m is None and f.camber.road_left_low_m is None
    assert f.gait.cadence_spm == pytest.approx(TRUTH["hill.fit"]["cadence_spm"], abs=1.0)


def test_out_and_back_reports_the_balance_of_each_pass():
    # An out-and-back with a pod: 51 % left on the way out, 49 % on the way back (a flip).
    syn = generate_run(RunSpec(seed=43, route="out_and_back", distance_m=2000.0, noise_scale=0.0))
    smp = syn.samples.copy()
    half = smp["distance_m"] <= syn.truth["turnaround_distance_m"]
    smp["stance_time_balance_pct"] = half.map({True: 51.0, False: 49.0})
    c = camber(clean(smp), surface_is_road=True, habit_low_side="left",
               balance=smp["stance_time_balance_pct"].to_numpy())
    assert c.balance_out_pct == pytest.approx(51.0) and c.balance_back_pct == pytest.approx(49.0)
    assert c.out_and_back_side == "right"


def test_balance_shift_against_the_athletes_own_baseline():
    from gaitrisk.features.compute import balance_shift

    assert balance_shift(51.0, [50.0, 49.8]) == {"gct_balance_baseline_pct": None, "gct_balance_shift_pct": None}
    out = balance_shift(51.9, [50.0, 50.2, 49.9, 50.4])
    assert out["gct_balance_baseline_pct"] == pytest.approx(50.1)
    assert out["gct_balance_shift_pct"] == pytest.approx(1.8)
    assert balance_shift(None, [50.0] * 5)["gct_balance_shift_pct"] is None


def test_a_mixed_habit_and_a_side_declared_for_one_run():
    truth = TRUTH["no_dynamics.gpx"]
    c = _features(_decode("no_dynamics.gpx").samples, AthleteProfile(road_side="mixed")).camber
    # Mixed: road metres with an observed (declared) side, but no one side low.
    assert c.road_low_side is None and c.road_left_low_m == c.road_right_low_m == 0.0
    assert c.road_m == pytest.approx(truth["distance_m"], rel=0.01)
    assert side_evidence(c.road_low_side_source) == "observed"
    run = with_run_side(c, "right")
    assert (run.road_low_side, run.road_low_side_source) == ("right", "declared for this run")
    assert run.road_right_low_m == c.road_m and run.road_left_low_m == 0.0 and run.camber_exposure_index == -1.0


def _kd_pairs(x, y, r):
    from scipy.spatial import cKDTree
    import numpy as np

    found = cKDTree(np.column_stack([x, y])).query_pairs(r, output_type="ndarray")
    return {(int(i), int(j)) for i, j in found}


@pytest.mark.parametrize("seed", range(6))
def test_pairs_within_finds_the_pairs_a_kd_tree_finds(seed):
    import numpy as np

    from gaitrisk.features.camber import PAIR_MAX_M, pairs_within

    rng = np.random.default_rng(seed)
    # a wandering path out and back, plus points on an exact grid (distances of exactly r)
    steps = rng.normal(0, 4.0, size=(600, 2)).cumsum(axis=0)
    path = np.concatenate([steps, steps[::-1] + rng.normal(0, 6.0, size=(600, 2))])
    grid = np.array([(a * PAIR_MAX_M, b * PAIR_MAX_M) for a in range(-3, 4) for b in range(-3, 4)])
    pts = np.concatenate([path, grid, path[:50]])  # repeated points: distance 0
    x, y = pts[:, 0], pts[:, 1]
    got = pairs_within(x, y, PAIR_MAX_M)
    assert got.ndim == 2 and got.shape[1] == 2
    assert (got[:, 0] < got[:, 1]).all()
    assert {(int(i), int(j)) for i, j in got} == _kd_pairs(x, y, PAIR_MAX_M)
    assert len({(int(i), int(j)) for i, j in got}) == len(got)  # each pair once


def test_pairs_within_on_an_out_and_back_path():
    import numpy as np

    from gaitrisk.features.camber import PAIR_MAX_M, pairs_within, path_geometry

    g = path_geometry(clean(_decode("out_and_back.gpx").samples))
    assert g is not None
    got = pairs_within(g.x, g.y, PAIR_MAX_M)
    assert len(got) > 1000
    assert {(int(i), int(j)) for i, j in got} == _kd_pairs(g.x, g.y, PAIR_MAX_M)
    assert pairs_within(np.array([1.0]), np.array([2.0]), PAIR_MAX_M).shape == (0, 2)
