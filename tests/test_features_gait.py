"""Gait features against known truth: the synthetic fixtures (imported, stored, read back) and
runs generated here.  Truth comes from the generator, formulas from the evidence base."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pytest

from gaitrisk.features.clean import clean
from gaitrisk.features.compute import compute_and_store_features
from gaitrisk.features.gait import (MIN_PERSONAL_RUNS, CadenceBaseline, fit_personal_baseline, gait, hoyt_gct_ms)
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store
from gaitrisk.synth import RunSpec, generate_run

from .helpers.paths import FIXTURES

TRUTH = json.loads((FIXTURES / "truth" / "truth.json").read_text())
RUNS = sorted(n for n, t in TRUTH.items() if t["sport"] == "running")
DEFAULT_LEG_M = 0.53 * 1.75  # the documented defaults (evidence.md 2.2; profile.py)


@lru_cache(maxsize=None)
def record(name: str) -> dict:
    """Import one truth fixture into its own store, compute its features, read the record back."""
    with Store(":memory:") as st:
        import_paths([str(FIXTURES / "truth" / name)], st, "me")
        rep = compute_and_store_features(st, "me")
        assert rep.computed == 1 and not rep.failed
        (rid,) = st.run_features("me").index
        return st.features(rid)[1]


@pytest.mark.parametrize("name", [n for n in RUNS if TRUTH[n]["recorded"]["cadence"]])
def test_cadence_within_1_spm(name):
    assert record(name)["cadence_spm"] == pytest.approx(TRUTH[name]["cadence_spm"], abs=1.0)


@pytest.mark.parametrize("name", RUNS)
def test_step_length_within_1_percent_measured_or_derived(name):
    rec, truth = record(name), TRUTH[name]
    if not truth["recorded"]["cadence"] and not truth["recorded"]["dynamics"]:
        assert rec["step_length_m"] is None
        return
    assert rec["step_length_m"] == pytest.approx(truth["step_length_m"], rel=0.01)
    assert rec["step_length_source"] == ("speed/cadence" if truth["recorded"]["cadence"] else "measured")
    assert rec["step_length_per_height"] == pytest.approx(truth["step_length_m"] / 1.75, rel=0.01)


@pytest.mark.parametrize("name", RUNS)
def test_gct_measured_where_recorded_else_hoyt_estimate_labelled(name):
    rec, truth = record(name), TRUTH[name]
    if truth["recorded"]["dynamics"]:
        assert rec["gct_source"] == "measured"
        assert rec["gct_ms"] == pytest.approx(truth["gct_ms"], abs=1.0)
        assert rec["gct_balance_pct"] == pytest.approx(truth["gct_balance_pct"], abs=0.1)
        assert rec["vertical_oscillation_mm"] == pytest.approx(truth["vertical_oscillation_mm"], abs=0.5)
        assert rec["vertical_ratio_pct"] == pytest.approx(truth["vertical_ratio_pct"], rel=0.01)
    else:
        # Hoyt et al. 2000 at the true speed with the default leg length, computed here.
        hoyt = 1000 * 0.80 * DEFAULT_LEG_M**0.84 / truth["speed_mps"] ** 0.87
        assert rec["gct_source"] == "estimated"
        assert rec["gct_ms"] == pytest.approx(hoyt, rel=0.01)
        assert rec["gct_balance_pct"] is None and rec["vertical_oscillation_mm"] is None


def test_hoyt_model_reproduces_the_evidence_worked_values():
    # evidence.md 2.2: L = 0.90 m -> 330, 282, 246, 219, 198 ms at 2.5 ... 4.5 m/s.
    got = hoyt_gct_ms(np.array([2.5, 3.0, 3.5, 4.0, 4.5]), 0.90)
    assert np.allclose(got, [330, 282, 246, 219, 198], atol=2)


@pytest.mark.parametrize("name", [n for n in RUNS if TRUTH[n]["recorded"]["cadence"]])
def test_cadence_residual_against_the_population_model(name):
    truth = TRUTH[name]
    expected = 150.0 + 6.01 * truth["speed_mps"]  # evidence.md table 0 #1
    rec = record(name)
    assert rec["cadence_baseline"] == "population"
    # +-1 spm of cadence is +-0.6 % of residual.
    assert rec["cadence_residual_pct"] == pytest.approx((truth["cadence_spm"] / expected - 1) * 100, abs=0.6)


def test_residual_uses_level_ground_only_on_the_hill():
    rec, truth = record("hill.fit"), TRUTH["hill.fit"]
    assert rec["level_speed_mps"] == pytest.approx(truth["speed_mps"], rel=0.01)
    # Only the flats (100 m each end) and the crest count: about a third of the run.
    assert rec["grade_bins_m"]["level"] < 0.5 * truth["distance_m"]


def test_personal_baseline_needs_ten_runs_and_is_the_median_residual():
    v = np.linspace(2.5, 4.0, MIN_PERSONAL_RUNS)
    pop = 150.0 + 6.01 * v
    # Nine runs 8 % under the population line and one odd run 20 % over it: the median is -8 %.
    c = pop * np.r_[np.full(MIN_PERSONAL_RUNS - 1, 0.92), 1.20]
    fit = fit_personal_baseline(v, c)
    assert fit.source == "personal" and fit.n_runs == MIN_PERSONAL_RUNS
    assert fit.residual_pct == pytest.approx(-8.0)
    assert fit.a == pytest.approx(150.0 * 0.92) and fit.b == pytest.approx(6.01 * 0.92)
    short = fit_personal_baseline(v[:-1], c[:-1])
    assert short.source == "population" and short.n_runs == MIN_PERSONAL_RUNS - 1 and short.residual_pct is None


def _run(**kw):
    syn = generate_run(RunSpec(seed=31, route="road_loop", distance_m=3000.0, speed_mps=3.0, **kw))
    return syn, clean(syn.samples)


def test_low_cadence_for_speed_raises_the_overstride_score():
    syn, run = _run(cadence_spm=150.0)  # expected 168 at 3 m/s: -10.7 %, and < 153 spm
    g = gait(syn.samples, run, np.zeros(run.n), height_m=1.75, leg_length_m=DEFAULT_LEG_M)
    assert g.cadence_residual_pct == pytest.approx((150 / 168.03 - 1) * 100, abs=0.5)
    assert g.cadence_low_share == 1.0
    assert g.overstride_score == 0.75 and len(g.overstride_flags) == 3
    syn, run = _run(cadence_spm=172.0)
    ok = gait(syn.samples, run, np.zeros(run.n), height_m=1.75, leg_length_m=DEFAULT_LEG_M)
    assert ok.overstride_score == 0.0 and ok.overstride_flags == ()


def test_a_personal_baseline_changes_the_residual():
    syn, run = _run(cadence_spm=172.0)
    personal = CadenceBaseline(a=160.0, b=4.0, source="personal", n_runs=12)  # expects 172 at 3 m/s
    g = gait(syn.samples, run, np.zeros(run.n), height_m=1.75, leg_length_m=DEFAULT_LEG_M, baseline=personal)
    assert g.cadence_residual_pct == pytest.approx(0.0, abs=0.3) and g.cadence_baseline == "personal"


def test_drift_last_third_minus_first_third():
    syn, run = _run(cadence_spm=170.0, noise_scale=0.0)
    smp = syn.samples.copy()
    frac = np.arange(len(smp)) / (len(smp) - 1)
    smp["cadence_spm"] = 170.0 - 6.0 * frac  # linear fall of 6 spm: thirds' means differ by 4
    smp["stance_time_ms"] = 250.0 + 12.0 * frac  # +8 ms between the thirds
    g = gait(smp, run, np.zeros(run.n), height_m=1.75, leg_length_m=DEFAULT_LEG_M)
    assert g.drift["cadence_spm"] == pytest.approx(-4.0, abs=0.1)
    assert g.drift["gct_ms"] == pytest.approx(8.0, abs=0.2)
    assert g.drift["gct_balance_pct"] == pytest.approx(0.0, abs=1e-9)


def test_no_dynamics_file_has_nulls_not_zeros():
    rec = record("no_dynamics.gpx")
    for key in ("cadence_spm", "cadence_residual_pct", "gct_balance_pct", "vertical_oscillation_mm",
                "step_length_m"):
        assert rec[key] is None, key
    assert rec["gct_source"] == "estimated"


def _gait_of(samples):
    run = clean(samples)
    return run, gait(samples, run, np.zeros(len(samples)), height_m=1.75, leg_length_m=DEFAULT_LEG_M)


def test_step_length_is_speed_over_cadence_even_beside_a_device_step_length():
    # FR920XT + Stryd style: the file's step-length channel says 24 % more than its own speed
    # and cadence imply.  One definition: distance / steps over the running samples.
    smp = generate_run(RunSpec(seed=5, distance_m=3000.0, speed_mps=3.38, cadence_spm=179.7)).samples.copy()
    smp["step_length_mm"] = smp["step_length_mm"] * 1.24
    run, g = _gait_of(smp)
    assert g.step_length_source == "speed/cadence"
    assert g.step_length_m == pytest.approx(3.38 * 60 / 179.7, rel=0.01)
    # The identity the definition keeps: step length x cadence = the same samples' speed.
    ok = run.running & (smp["cadence_spm"].to_numpy() > 0)
    speed = np.average(run.speed_mps[ok], weights=run.dt_s[ok])
    assert g.step_length_m * g.cadence_spm / 60 == pytest.approx(speed, rel=1e-9)


def test_step_length_and_cadence_skip_the_same_zero_cadence_samples():
    smp = generate_run(RunSpec(seed=6, distance_m=3000.0, speed_mps=3.0, cadence_spm=170.0,
                               include_dynamics=False)).samples.copy()
    cad = smp["cadence_spm"].to_numpy().copy()
    cad[::7] = 0.0  # dropouts while running
    smp["cadence_spm"] = cad
    _, g = _gait_of(smp)
    assert g.cadence_spm == pytest.approx(170.0, abs=1.0)
    assert g.step_length_m == pytest.approx(3.0 * 60 / 170.0, rel=0.01)


@pytest.mark.parametrize("speed", [1.8, 6.5])
def test_no_hoyt_estimate_outside_its_speed_range(speed):
    # 1.8 m/s is a walk (Hoyt would say ~440 ms), 6.5 m/s a bike (~150 ms): no estimate, labelled.
    smp = generate_run(RunSpec(seed=7, distance_m=3000.0, speed_mps=speed, include_dynamics=False)).samples
    _, g = _gait_of(smp)
    assert g.gct_ms is None and g.gct_estimated_ms is None
    assert g.gct_source == "out of range"


def test_hoyt_estimate_inside_its_speed_range():
    smp = generate_run(RunSpec(seed=7, distance_m=3000.0, speed_mps=3.0, include_dynamics=False)).samples
    _, g = _gait_of(smp)
    assert g.gct_source == "estimated"
    assert g.gct_ms == pytest.approx(float(hoyt_gct_ms(3.0, DEFAULT_LEG_M)), rel=0.01)
