"""``overstriding``: a drop from the runner's own cadence for speed, the population model only before one exists.

The method (evidence table ``overstriding_personal`` / ``overstriding_population``): a run's level
windows are judged against its baseline -- the population line scaled by the median level residual
of >= 10 earlier level runs in 90 days -- at <= -5 % (Heiderscheit 2011), or, without that baseline,
against 150 + 6.01 v at more than 12 steps/min under it; the flag fires when >= 10 % of the 7-day
level time is low.  Inputs are built as window arrays and feature records here (the features and
dataset functions in between are the real ones), and once through a store with synthetic runs.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from gaitrisk.features.gait import MIN_PERSONAL_RUNS, GaitCore, finish_gait, fit_personal_baseline
from gaitrisk.model.dataset import CADENCE_SUMS, cadence_per_run, cadence_window
from gaitrisk.model.flags import flag_json
from gaitrisk.model.rules import flags_for_day, rule_factor, rule_levels

DAY = dt.date(2024, 3, 10)
V = 3.0                                   # m/s on level ground
POP = 150.0 + 6.01 * V                    # the population's expected cadence there: 168.03 steps/min
TALL = 0.92                               # a runner 8 % under the population at every speed
WINDOWS = 100                             # level windows of 30 s per run
RECORD_KEYS = ("cadence_residual_pct", "cadence_low_share", "cadence_baseline", "cadence_baseline_runs",
               "cadence_baseline_pct", "level_time_s")
NEUTRAL = {"spike_max_7d": 1.0, "week_ratio": 1.0, "dh5_ratio": 1.0, "road_m_28d": 10000.0,
           "road_left_low_m_28d": 5000.0, "road_right_low_m_28d": 5000.0, "track_ccw_m_28d": 0.0,
           "track_cw_m_28d": 0.0, "pain_L_28d": 0.0, "pain_R_28d": 0.0, "pain_today": 0.0, "pain_base_7d": 0.0,
           "pain_logged_7d": 7.0}


def core(factors: np.ndarray) -> GaitCore:
    """One run's level windows at ``V``, each at ``factors`` x the population's cadence."""
    cad = POP * np.asarray(factors, float)
    return GaitCore(cadence_spm=float(cad.mean()), step_length_m=None, step_length_source=None,
                    step_length_per_height=None, gct_measured_ms=None, gct_hoyt_ms=None, gct_out_of_range=False,
                    gct_balance_pct=None, vertical_oscillation_mm=None, vertical_ratio_pct=None,
                    level_speed_mps=V, level_cadence_spm=float(cad.mean()), window_speed_mps=np.full(cad.size, V),
                    window_cadence_spm=cad, window_run_s=np.full(cad.size, 30.0), no_altitude=False,
                    drift={"cadence_spm": 0.0, "gct_ms": None, "gct_balance_pct": None})


def record(factors: np.ndarray, earlier: int) -> dict:
    """The cadence part of a run's feature record after ``earlier`` level runs at the tall runner's cadence."""
    baseline = fit_personal_baseline(np.full(earlier, V), np.full(earlier, TALL * POP))
    g = finish_gait(core(factors), baseline=baseline)
    return {k: getattr(g, k) for k in RECORD_KEYS}


def windows(base: float, drop: float = 0.0, low: int = 0) -> np.ndarray:
    """``WINDOWS`` window factors at ``base``, the first ``low`` of them ``drop`` lower still."""
    f = np.full(WINDOWS, base)
    f[:low] *= 1.0 - drop
    return f


def day_row(*records: dict) -> pd.Series:
    """The athlete-day row of a 7-day window holding ``records`` (the latest last)."""
    per_run = pd.DataFrame(cadence_per_run(pd.DataFrame(list(records))))
    sums = {c: pd.Series([per_run[c].sum()]) for c in CADENCE_SUMS}
    cad = cadence_window(sums).iloc[0]
    return pd.Series({**NEUTRAL, **cad.to_dict(), "cad_base_runs": per_run["cad_base_runs"].iloc[-1],
                      "cad_base_pct": per_run["cad_base_pct"].iloc[-1]}, dtype=float)


def level(r: pd.Series) -> int:
    frame = r.to_frame().T.set_axis(pd.MultiIndex.from_tuples([("ann", pd.Timestamp(DAY))], names=["athlete", "day"]))
    return int(rule_levels(frame)["overstriding"].iloc[0])


def overstriding(r: pd.Series):
    found = [f for f in flags_for_day(r, DAY) if f.code == "overstriding"]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_tall_runner_steady_against_their_own_baseline_is_not_flagged():
    # 8 % under the population model at every window: the population fallback would fire
    # (-13.4 steps/min), but against the runner's own baseline the residual is 0.
    r = day_row(record(windows(TALL), earlier=MIN_PERSONAL_RUNS))
    assert r["cad_personal_7d"] == 1.0 and r["cad_resid_7d"] == pytest.approx(0.0, abs=1e-9)
    assert r["cad_low_share_7d"] == 0.0 and level(r) == 0 and overstriding(r) is None


def test_the_baseline_takes_over_from_the_fallback_within_a_window():
    # The window still holds cold-start runs (flagged by the population fallback) and one run with
    # the runner's own baseline: only the baseline's judgement counts.
    cold = [record(windows(TALL), earlier=n) for n in (7, 8, 9)]
    assert level(day_row(*cold)) == 1
    r = day_row(*cold, record(windows(TALL), earlier=MIN_PERSONAL_RUNS))
    assert r["cad_personal_7d"] == 1.0 and level(r) == 0


@pytest.mark.parametrize("low, fires", [(10, True), (100, True), (9, False), (0, False)])
def test_a_six_percent_drop_from_the_own_baseline_needs_ten_percent_of_level_time(low, fires):
    r = day_row(record(windows(TALL, drop=0.06, low=low), earlier=12))
    assert r["cad_low_share_7d"] == pytest.approx(low / WINDOWS)
    assert level(r) == int(fires)
    f = overstriding(r)
    assert (f is not None) == fires
    if fires:
        personal = rule_factor("overstriding")
        assert personal.id == "overstriding_personal" and personal.grade == "B"
        assert f.evidence == personal.flag_evidence() and flag_json(f)["evidence"]["grade"] == "B"
        assert f.source == personal.cite and "Heiderscheit 2011" in f.source
        assert f"{low} % of your level running" in f.explanation and "own cadence" in f.explanation
        assert "median of your 12 earlier level runs" in f.explanation and "-8.0 %" in f.explanation
        assert "population fallback" not in f.explanation
        assert "foot lands" in f.explanation and "not measured" in f.explanation


def test_a_four_percent_drop_is_not_flagged():
    r = day_row(record(windows(TALL, drop=0.04, low=WINDOWS), earlier=12))
    assert r["cad_resid_7d"] == pytest.approx(-4.0) and level(r) == 0 and overstriding(r) is None


def test_the_drop_is_measured_from_the_own_rate_not_in_population_points():
    # -5 % of the runner's own rate is 0.92 x 0.95 = -12.6 % against the population: fires;
    # 4.9 % of it does not (a points difference of -5 would call -13 % against the population the limit).
    assert level(day_row(record(windows(TALL, drop=0.05, low=WINDOWS), earlier=12))) == 1
    assert level(day_row(record(windows(TALL, drop=0.049, low=WINDOWS), earlier=12))) == 0


@pytest.mark.parametrize("factor, fires", [(0.94, False), (0.92, True)])
def test_cold_start_uses_the_population_fallback_at_the_wider_cut(factor, fires):
    # 9 earlier level runs: no personal baseline.  -6 % is 10.1 steps/min under 168.03: no flag;
    # -8 % is 13.4 under it, past the fallback's 12: flag, labelled as the population fallback.
    r = day_row(record(windows(factor), earlier=MIN_PERSONAL_RUNS - 1))
    assert r["cad_personal_7d"] == 0.0 and r["cad_resid_7d"] == pytest.approx((factor - 1) * 100)
    assert level(r) == int(fires)
    f = overstriding(r)
    assert (f is not None) == fires
    if fires:
        fallback = rule_factor("overstriding", fallback=True)
        assert fallback.id == "overstriding_population" and fallback.grade == "C"
        assert f.evidence == fallback.flag_evidence() and flag_json(f)["evidence"] == {
            "grade": "C", "source": fallback.cite, "effect": f.evidence.effect,
            "threshold_origin": "design choice"}
        assert "no personal baseline yet: 9 of 10 level runs" in f.explanation
        assert "population fallback" in f.explanation and "-8.0 %" in f.explanation
        assert "foot lands" in f.explanation


def test_no_level_time_is_no_judgement():
    r = day_row({k: None for k in RECORD_KEYS})
    assert np.isnan(r["cad_personal_7d"]) and np.isnan(r["cad_low_share_7d"]) and level(r) == 0


# -- through a store -----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_through_a_store_the_fallback_then_the_own_baseline_then_a_drop(tmp_path):
    from zoneinfo import ZoneInfo

    from gaitrisk.features.compute import compute_and_store_features
    from gaitrisk.ingest.pipeline import import_paths
    from gaitrisk.model.dataset import LabelSpec, athlete_days
    from gaitrisk.report import build_athlete_report
    from gaitrisk.store import Store
    from gaitrisk.synth.runs import RunSpec, generate_run
    from gaitrisk.synth.writers import write_fit

    start = dt.datetime(2024, 3, 1, 7, 0, tzinfo=dt.UTC)
    # A run every other day, 8 % under the population model; the last two 6 % under that.
    factors = [TALL] * 12 + [TALL * 0.94] * 2
    folder = tmp_path / "runs"
    folder.mkdir()
    for i, factor in enumerate(factors):
        spec = RunSpec(seed=100 + i, start_time=start + dt.timedelta(days=2 * i), sample_interval_s=5,
                       distance_m=3000.0, speed_mps=V, cadence_spm=POP * factor, loop_relief_m=0.0)
        write_fit(generate_run(spec), folder / f"run{i:02d}.fit")
    with Store(tmp_path / "s.db") as store:
        import_paths([str(folder)], store, "tall")
        compute_and_store_features(store, "tall")
        frame = athlete_days(store, "tall", ZoneInfo("UTC"), LabelSpec())
        report = build_athlete_report(store, "tall", ZoneInfo("UTC"), today=(start + dt.timedelta(days=24)).date())
    levels = rule_levels(frame)["overstriding"]

    def on(i: int) -> tuple[pd.Series, int]:
        key = ("tall", pd.Timestamp((start + dt.timedelta(days=2 * i)).date()))
        return frame.loc[key], int(levels.loc[key])

    cold, lv = on(MIN_PERSONAL_RUNS - 1)          # the 10th run: 9 earlier level runs
    assert cold["cad_personal_7d"] == 0.0 and lv == 1
    assert "no personal baseline yet: 9 of 10 level runs" in overstriding(cold).explanation
    own, lv = on(MIN_PERSONAL_RUNS)               # the 11th: the runner's own baseline exists
    assert own["cad_personal_7d"] == 1.0 and lv == 0 and abs(own["cad_resid_7d"]) < 1.0
    steady, lv = on(11)
    assert lv == 0 and overstriding(steady) is None
    # 6 % under the own baseline: the window's runs with that baseline are the 11th to the 13th
    # (the 10th, also in it, was judged by the fallback), of equal level time: a third is low.
    drop, lv = on(12)
    assert drop["cad_personal_7d"] == 1.0 and lv == 1
    assert drop["cad_low_share_7d"] == pytest.approx(1 / 3, abs=0.02)
    assert drop["cad_resid_7d"] == pytest.approx(-6.0 / 3, abs=0.5)
    f = overstriding(drop)
    assert f.evidence == rule_factor("overstriding").flag_evidence() and "own cadence" in f.explanation

    # The report's cadence column for the week ending on that day is the flag's residual, against
    # the same baseline, and the baseline line it draws is the runner's own.
    week = report.trends[-1]
    assert week.week_end == (start + dt.timedelta(days=24)).date()
    assert week.cadence_baseline == "personal"
    assert week.cadence_residual_pct == pytest.approx(drop["cad_resid_7d"], abs=1e-9)
    line = report.baseline_cadence
    assert line.source == "personal" and line.n_runs == 12
    assert line.a == pytest.approx(150.0 * TALL, rel=0.01) and line.b == pytest.approx(6.01 * TALL, rel=0.01)
    shown = [f for f in report.flags if f.code == "overstriding"]
    assert shown and shown[-1].evidence == rule_factor("overstriding").flag_evidence()
