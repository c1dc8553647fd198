"""Every real FIT file reads, and our totals agree with the device's own session summary.

The session message is written by the watch from its own sensors and timers,
independently of our sample arithmetic, so it is the oracle here.
"""

from __future__ import annotations

import math

import pytest

from gaitrisk.ingest.frame import totals

from .helpers.paths import real_files
from .helpers.reference import decode_real, decode_real_fast

pytestmark = [pytest.mark.realdata, pytest.mark.slow]

FIT_FILES = real_files("fit")

# Tolerances (the ingest requirements): distance +-1 %, elapsed and timer time
# +-1 % (at least 2 s: our sample spans miss the part-second before the first and
# after the last sample), average cadence +-1 spm, "smart recording" files (a sample
# every 2+ s) too: the average is weighted by each sample's interval, as the watch's is.
DIST_TOL = 0.01
TIME_TOL = 0.01
CAD_TOL_SPM = 1.0
# Runs with fewer than this many samples are too short for averages to be compared
# (fenix-5-run: 21 samples logged in "smart" mode over 57 s).
MIN_SAMPLES_FOR_AVERAGES = 500
# Stance-time average: the modern watches (fenix 5X, FR255, FR965) agree to 1 %; the
# 2015 fenix 2 computes its session average differently (within 5 %, 252 vs 242 ms).
# The 2012 FR70 (foot pod) averages cadence over a different base than every later
# Garmin (not over all samples: 176 spm in the session vs 164 over all samples, 174
# over non-zero ones, 161 from its own lap stride counts), so its average is not an oracle.
CADENCE_NOT_COMPARABLE = {"fitparse__compressed-speed-distance.fit"}
STANCE_TOL = {"fitparse__activity-small-fenix2-run.fit": 0.05}


@pytest.mark.parametrize("rel", FIT_FILES or ["<absent>"])
def test_every_fit_file_reads_without_error(rel):
    if rel == "<absent>":
        pytest.skip("real-data folder absent")
    res = decode_real(rel)
    assert res.error is None, res.error
    assert res.activities or res.skipped_reason


def _pairs():
    for rel in FIT_FILES:
        res = decode_real_fast(rel)
        for act in res.activities:
            if act.summary is not None:
                yield pytest.param(rel, act.leg_index, id=f"{rel.split('/')[-1]}#{act.leg_index}")


@pytest.mark.parametrize("rel,leg", list(_pairs()) or [pytest.param(None, None, marks=pytest.mark.skip("no data"))])
def test_totals_agree_with_device_session(rel, leg):
    act = next(a for a in decode_real(rel).activities if a.leg_index == leg)
    s, t = act.summary, totals(act.samples)
    if s.total_distance_m:
        assert t["distance_m"] == pytest.approx(s.total_distance_m, rel=DIST_TOL)
    assert t["duration_s"] == pytest.approx(s.total_elapsed_s, rel=TIME_TOL, abs=2.0)
    assert t["moving_time_s"] == pytest.approx(s.total_timer_s, rel=TIME_TOL, abs=2.0)
    if (s.avg_cadence_spm is not None and len(act.samples) >= MIN_SAMPLES_FOR_AVERAGES
            and rel.split("/")[-1] not in CADENCE_NOT_COMPARABLE):
        tol = CAD_TOL_SPM
        # Without avg_fractional_cadence the device's value is whole strides/min: up to 1 spm lost.
        if s.avg_cadence_spm % 2 == 0:
            tol += 1.0
        assert abs(t["avg_cadence_spm"] - s.avg_cadence_spm) <= tol
    if s.avg_stance_time_ms is not None and len(act.samples) >= MIN_SAMPLES_FOR_AVERAGES:
        tol = STANCE_TOL.get(rel.split("/")[-1], 0.01)
        assert t["avg_stance_time_ms"] == pytest.approx(s.avg_stance_time_ms, rel=tol)


def test_session_oracle_is_actually_exercised():
    pairs = list(_pairs())
    if not pairs:
        pytest.skip("real-data folder absent")
    # Enough running sessions with cadence and stance time to make the oracle test meaningful.
    with_cad = [p for p in pairs if decode_real(p.values[0]).activities[0].summary.avg_cadence_spm]
    assert len(pairs) >= 12 and len(with_cad) >= 7


def test_cadence_is_steps_per_minute(real_data):
    # fenix 5X run: per-foot cadence ~80 strides/min in the file -> ~160 steps/min.
    act = decode_real("fit/fitparserjs__running-with-developer-data.fit").activities[0]
    cad = act.samples["cadence_spm"]
    assert 150 < cad[cad > 0].median() < 185


def test_multisport_split_into_running_legs(real_data):
    res = decode_real("fit/muktihari__triathlon_summary_last.fit")
    assert [a.sport for a in res.activities] == ["running"]
    act = res.activities[0]
    assert act.summary.total_distance_m == pytest.approx(4491.51)
    assert totals(act.samples)["distance_m"] == pytest.approx(4491.51, rel=0.01)
    # The fenix 2 multisport file has two running legs.
    legs = decode_real("fit/fitparse__activity-large-fenxi2-multisport.fit").activities
    assert [round(a.summary.total_distance_m) for a in legs] == [2245, 12740]


def test_summary_first_and_last_give_the_same_run(real_data):
    first = decode_real("fit/muktihari__triathlon_summary_first.fit").activities[0]
    last = decode_real("fit/muktihari__triathlon_summary_last.fit").activities[0]
    assert first.start_time == last.start_time
    assert totals(first.samples) == totals(last.samples)


def test_timer_pauses_are_excluded_from_moving_time(real_data):
    act = decode_real("fit/tormoder__mornindew-broken.fit").activities[0]
    t = totals(act.samples)
    assert act.samples["timer_segment"].max() >= 1
    assert t["duration_s"] - t["moving_time_s"] > 1500  # 8629 s elapsed vs 6856 s on the timer
    assert t["moving_time_s"] == pytest.approx(act.summary.total_timer_s, rel=0.01)


def test_developer_fields_fill_missing_channels_only(real_data):
    # mornindew: Stryd "Ground Time" (ms) and "Power" (W) are developer fields; the
    # watch itself recorded neither, so they fill the canonical columns.
    s = decode_real("fit/tormoder__mornindew-broken.fit").activities[0].samples
    assert 200 < s["stance_time_ms"].median() < 400
    assert 100 < s["power_w"].median() < 500
    # fenix 5X + Stryd: the watch's own stance time wins over the pod's.
    act = decode_real("fit/fitparserjs__running-with-developer-data.fit").activities[0]
    assert totals(act.samples)["avg_stance_time_ms"] == pytest.approx(act.summary.avg_stance_time_ms, rel=0.01)


def test_compressed_timestamps_and_relative_time(real_data):
    res = decode_real("fit/fitparse__compressed-speed-distance.fit")
    act = res.activities[0]
    assert act.start_time.year == 2012
    assert totals(act.samples)["distance_m"] == pytest.approx(10248.67, rel=0.01)
    assert any("relative" in p for p in res.problems)


def test_non_activity_files_are_skipped_with_a_reason(real_data):
    for rel, word in [("fit/fitparse__MonitoringFile.fit", "monitoring"), ("fit/fitparse__Settings.fit", "settings"),
                      ("fit/fitparse__garmin-fenix-5-bike.fit", "cycling")]:
        res = decode_real(rel)
        assert not res.activities and word in res.skipped_reason


def test_columns_absent_not_zero(real_data):
    # FR110 run: no running dynamics recorded -> no stance/step columns at all.
    s = decode_real("fit/fitparse__2013-02-06-12-11-14.fit").activities[0].samples
    for col in ("stance_time_ms", "step_length_mm", "vertical_oscillation_mm", "stance_time_balance_pct"):
        assert col not in s.columns
    assert not math.isnan(s["lat_deg"].iloc[0])
