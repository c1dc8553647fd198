"""The evidence-based rules and the ``see_a_clinician`` red flag on small hand-built inputs.

Every expected answer is worked out here from the thresholds in gaitrisk/model/rules.py: a
rule fires strictly above (or at, where the source says ">=" / "<=") its threshold and not
just below it, at the severity its evidence-table entry allows (info = 1, warn = 2).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from gaitrisk.model.flags import flag_json
from gaitrisk.model.rules import clinician_flags, flags_for_day, rule_factor, rule_levels, rule_score
from gaitrisk.records import PainEntry

DAY = dt.date(2024, 3, 10)
UTC = ZoneInfo("UTC")

# A quiet day: nothing fires.
NEUTRAL = {"spike_max_7d": 1.0, "week_ratio": 1.0, "cad_resid_7d": 0.0, "dh5_ratio": 1.0,
           "road_m_28d": 10000.0, "road_left_low_m_28d": 5000.0, "road_right_low_m_28d": 5000.0,
           "track_ccw_m_28d": 0.0, "track_cw_m_28d": 0.0, "pain_L_28d": 0.0, "pain_R_28d": 0.0,
           "pain_today": 0.0, "pain_base_7d": 0.0, "pain_logged_7d": 7.0}


def row(**kw) -> pd.Series:
    return pd.Series({**NEUTRAL, **kw}, dtype=float)


def frame(*rows: pd.Series, athlete: str = "ann", start: dt.date = DAY) -> pd.DataFrame:
    days = pd.date_range(start, periods=len(rows), freq="D")
    return pd.DataFrame(list(rows)).set_axis(
        pd.MultiIndex.from_arrays([[athlete] * len(rows), days], names=["athlete", "day"]))


def level(code: str, **kw) -> int:
    return int(rule_levels(frame(row(**kw)))[code].iloc[0])


def codes(r: pd.Series) -> dict[str, str]:
    return {f.code: f.severity for f in flags_for_day(r, DAY)}


def test_a_quiet_day_fires_nothing():
    assert codes(row()) == {}
    assert rule_score(frame(row())).tolist() == [0.0]


@pytest.mark.parametrize("ratio, expected", [
    (1.10, 0), (1.11, 2), (1.30, 2), (1.31, 2), (2.0, 2), (2.01, 2), (2.5, 2), (np.nan, 0)])
def test_session_spike_is_one_warning_whatever_the_tier(ratio, expected):
    # Frandsen 2025: > 1.10 is a spike; its hazard rate ratios do not rise with the tier, so every
    # tier is the table's one severity (warn); a ratio at the limit is no spike.
    assert level("session_spike", spike_max_7d=ratio) == expected


def test_spike_1_11_and_2_5_give_the_same_severity_and_show_their_tier():
    (small,) = flags_for_day(row(spike_max_7d=1.11), DAY)
    (large,) = flags_for_day(row(spike_max_7d=2.5), DAY)
    assert small.severity == large.severity == "warn"
    assert "small spike" in small.explanation and "HRR 1.64" in small.explanation
    assert "large spike" in large.explanation and "HRR 2.28" in large.explanation


def test_session_spike_flag_names_its_numbers():
    (f,) = flags_for_day(row(spike_max_7d=2.2), DAY)
    assert (f.code, f.severity, f.date) == ("session_spike", "warn", DAY)
    assert "2.20" in f.explanation and "1.10" in f.explanation
    assert "10 %" in f.suggestion and f.contributors[0].feature == "spike_max_7d"
    assert f.contributors[0].value == pytest.approx(2.2) and f.source == "Frandsen 2025"


@pytest.mark.parametrize("jump, expected", [(1.0, 1), (0.0, 0), (np.nan, 0)])
def test_mileage_jump_is_the_load_tables_week_jump_and_at_most_info(jump, expected):
    assert level("mileage_jump", week_jump=jump, week_ratio=1.5) == expected


def test_mileage_jump_explanation():
    (f,) = flags_for_day(row(week_jump=1.0, week_ratio=1.5, dist_7d=30000.0, dist_ref_7d=20000.0), DAY)
    assert (f.code, f.severity) == ("mileage_jump", "info") and "1.50" in f.explanation and "1.30" in f.explanation
    assert "30.0 km" in f.explanation and "20.0 km" in f.explanation and f.source == "Nielsen 2014; Frandsen 2025"


@pytest.mark.parametrize("spike, expected", [(1.0, 1), (0.0, 0), (np.nan, 0)])
def test_downhill_load_is_the_load_tables_descent_spike(spike, expected):
    assert level("downhill_load", descent_spike=spike, descent_ratio=2.0) == expected


def test_camber_from_an_assumed_side_is_never_a_flag():
    # Camber is a hypothesis that fires on observed side evidence only: 90 % of the road metres on one
    # low side from the profile's defaults (no observed road metres), with lateral pain on either side, is no flag.
    for side in ("L", "R"):
        r = row(road_left_low_m_28d=9000.0, road_right_low_m_28d=1000.0, road_assumed_m_28d=10000.0,
                **{f"pain_{side}_28d": 4.0, f"lat_pain_{side}_28d": 4.0})
        assert level("camber_exposure", **{k: r[k] for k in r.index}) == 0 and codes(r) == {}


def test_track_direction_needs_one_way_bends_and_one_sided_pain():
    track = {"track_m_28d": 12000.0, "dist_28d": 40000.0}   # 30 % of the distance, 12 km: material
    assert level("track_direction", track_ccw_m_28d=800.0, track_cw_m_28d=200.0, pain_L_28d=3.0, **track) == 1  # 80 %
    assert level("track_direction", track_ccw_m_28d=790.0, track_cw_m_28d=210.0, pain_L_28d=3.0, **track) == 0  # 79 %
    assert level("track_direction", track_ccw_m_28d=100.0, track_cw_m_28d=900.0, pain_R_28d=3.0, **track) == 1  # CW
    # Pain on both sides is not side-specific; no track metres, no flag.
    assert level("track_direction", track_ccw_m_28d=900.0, track_cw_m_28d=0.0, pain_L_28d=3.0, pain_R_28d=3.0,
                 **track) == 0
    assert level("track_direction", pain_L_28d=5.0) == 0
    (f,) = flags_for_day(row(track_ccw_m_28d=1000.0, pain_R_28d=4.0, **track), DAY)
    assert f.code == "track_direction" and "direction" in f.suggestion


@pytest.mark.parametrize("today, base, expected", [
    (3.0, 1.0, 1),   # +2 points over the mean of the logged days: fires
    (2.9, 1.0, 0),   # +1.9: does not
    (6.0, 5.5, 0),   # above 5 but not during a run and only +0.5
    (0.0, 0.0, 0)])
def test_pain_rising(today, base, expected):
    assert level("pain_rising", pain_today=today, pain_base_7d=base) == expected


@pytest.mark.parametrize("run, expected", [(5.0, 0), (6.0, 1)])
def test_pain_above_5_during_a_run_needs_no_baseline(run, expected):
    assert level("pain_rising", pain_today=run, pain_run_today=run, pain_base_7d=np.nan, pain_logged_7d=0.0) == expected


@pytest.mark.parametrize("logged, expected", [(2.0, 0), (3.0, 1), (np.nan, 0)])
def test_pain_rising_needs_3_logged_days_in_the_baseline(logged, expected):
    assert level("pain_rising", pain_today=4.0, pain_base_7d=1.0, pain_logged_7d=logged) == expected


def test_pain_rising_is_the_same_on_one_row_and_on_the_whole_frame():
    # Pain 3 on eight days in a row: the first three have fewer than 3 logged days before them (no
    # baseline, no flag), and a steady 3 is not "rising" after that (3 - 3 < 2).
    steady = [row(pain_today=3.0, pain_base_7d=np.nan if i == 0 else 3.0, pain_logged_7d=float(min(i, 7)))
              for i in range(8)]
    assert rule_levels(frame(*steady))["pain_rising"].tolist() == [0] * 8
    without_base = frame(*[r.drop(["pain_base_7d", "pain_logged_7d"]) for r in steady])
    assert rule_levels(without_base)["pain_rising"].tolist() == [0] * 8   # computed from the frame
    assert "pain_rising" not in codes(steady[-1])
    (f,) = flags_for_day(row(pain_today=4.0, pain_base_7d=1.0, pain_logged_7d=4.0), DAY)
    assert f.severity == "info" and "4/10" in f.explanation and "1.0/10" in f.explanation
    assert "4 logged days" in f.explanation and f.evidence.threshold_origin == "design choice"


def test_the_frame_baseline_skips_unlogged_days():
    # 1, 1, 1 logged, four unlogged days, then 2.5: against the logged days' mean (1) that is +1.5, no
    # flag; unlogged days counted as 0 would give a mean of 3/7 and +2.07.  The next day's 3.5 is +2.0
    # against the logged days 1, 1, 2.5 (mean 1.5): a flag.
    days = [row(pain_today=v).drop(["pain_base_7d", "pain_logged_7d"])
            for v in (1.0, 1.0, 1.0, np.nan, np.nan, np.nan, np.nan, 2.5, 3.5)]
    assert rule_levels(frame(*days))["pain_rising"].tolist() == [0] * 7 + [0, 1]


def test_every_rule_flag_has_its_evidence_entrys_severity_and_none_is_high():
    # A row on which every rule's condition holds: each flag's severity and evidence are its table entry's.
    r = row(spike_max_7d=1.5, return_ratio_7d=0.9, week_jump=1.0, week_ratio=1.5, cad_low_share_7d=0.2, cad_personal_7d=1.0,
            cad_level_7d=150.0, descent_spike=1.0, descent_ratio=2.0, road_left_low_m_28d=9000.0,
            road_right_low_m_28d=1000.0, pain_L_28d=4.0, lat_pain_L_28d=4.0, track_ccw_m_28d=1000.0,
            pain_today=6.0, pain_base_7d=1.0, pain_logged_7d=4.0, road_obs_m_28d=10000.0,
            road_obs_right_low_m_28d=9000.0, track_m_28d=12000.0, dist_28d=40000.0)
    flags = flags_for_day(r, DAY)
    assert {f.code for f in flags} == set(rule_levels(frame(r)).columns)
    for f in flags:
        factor = rule_factor(f.code)
        assert f.severity == factor.severity != "high", f.code
        assert f.evidence == factor.flag_evidence() and f.source == factor.cite and "§" not in f.source
        assert flag_json(f)["evidence"] == {"grade": factor.grade, "source": factor.cite,
                                            "effect": f.evidence.effect, "threshold_origin": factor.threshold_origin}
    spike = next(f for f in flags if f.code == "session_spike")
    assert "HRR 1.64 (95 % CI 1.31–2.05)" in spike.evidence.effect


def test_rule_score_sums_the_levels_and_every_flag_is_actionable():
    r = row(spike_max_7d=2.5, week_jump=1.0, week_ratio=1.4, cad_low_share_7d=0.2, cad_personal_7d=1.0)
    assert rule_score(frame(r)).tolist() == [2 + 1 + 1]
    flags = flags_for_day(r, DAY)
    assert {f.code for f in flags} == {"session_spike", "mileage_jump", "overstriding"}
    for f in flags:
        assert f.suggestion and f.contributors and f.source and any(ch.isdigit() for ch in f.explanation)
        assert "§" not in f.source and f.evidence is not None and f.evidence.source == f.source


# -- see_a_clinician -------------------------------------------------------------------------
def pain(day: int, score: int, region: str = "lateral_hip", when: str = "after_run", side: str = "R",
         athlete: str = "ann") -> PainEntry:
    t = dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(8, 0), tzinfo=dt.UTC)
    return PainEntry(athlete, t, score, region, side, when)


def red(entries, f: pd.DataFrame | None = None):
    flags = clinician_flags(entries, frame() if f is None else f, UTC)
    assert all(x.code == "see_a_clinician" and x.severity == "high" and x.suggestion and x.contributors
               for x in flags)
    return flags


def test_rest_or_night_pain_in_a_bone_stress_region_from_3_of_10():
    (f,) = red([pain(0, 5, when="at_night", region="shin")])   # shin pain 5/10 at night: refer
    assert f.date == DAY and "5/10" in f.explanation and "night" in f.explanation
    assert f.source == "Song 2020"
    assert red([pain(0, 1, when="at_rest", region="foot")]) == []   # a 1/10 foot ache at rest
    assert red([pain(0, 2, when="at_rest", region="foot")]) == []
    for region in ("groin_front_hip", "buttock", "shin", "foot"):
        assert len(red([pain(0, 3, when="at_rest", region=region)])) == 1
    assert red([pain(0, 6, when="at_rest", region="lateral_hip")]) == []   # rest pain outside bone-stress sites
    assert red([pain(0, 0, when="at_rest")]) == []
    assert red([pain(0, 6, when="next_morning", region="shin")]) == []     # morning stiffness is not rest pain


def test_night_pain_from_3_of_10_refers_in_any_region():
    # The log cannot say the pain woke the runner: night pain >= 3/10 is taken as that.
    assert red([pain(0, 2, when="at_night", region="lateral_knee_itb")]) == []
    (f,) = red([pain(0, 3, when="at_night", region="lateral_knee_itb")])
    assert "wakes" in f.explanation


def test_pain_worsening_run_after_run():
    (f,) = red([pain(0, 2), pain(2, 3), pain(4, 4)])
    assert f.date == DAY + dt.timedelta(days=4) and "2 -> 3 -> 4" in f.explanation
    assert f.source == "Song 2020"
    assert red([pain(0, 2), pain(2, 3), pain(4, 3)]) == []                      # not strictly rising
    assert red([pain(0, 2), pain(2, 3, region="buttock"), pain(4, 4)]) == []    # not one region
    assert red([pain(0, 2), pain(2, 3, side="L"), pain(4, 4)]) == []            # not one side


def test_worsening_needs_the_three_runs_within_14_days():
    assert len(red([pain(0, 2), pain(6, 3), pain(13, 4)])) == 1   # 13 days from first to last
    assert red([pain(0, 2), pain(7, 3), pain(14, 4)]) == []       # 14 days
    assert red([pain(0, 2), pain(60, 3), pain(150, 4)]) == []     # January -> March -> June


def test_a_pain_free_run_breaks_the_chain():
    runs = frame(*[row(ran=1.0 if i in (0, 2, 3, 4) else 0.0) for i in range(5)])
    assert red([pain(0, 2), pain(2, 3), pain(4, 4)], runs) == []            # day 3: a run without pain
    assert red([pain(0, 2), pain(2, 3), pain(3, 0), pain(4, 4)]) == []      # a run logged 0/10
    no_run = frame(*[row(ran=1.0 if i in (0, 2, 4) else 0.0) for i in range(5)])
    assert len(red([pain(0, 2), pain(2, 3), pain(4, 4)], no_run)) == 1


def test_worsening_is_found_when_other_regions_are_logged_in_between():
    entries = [pain(0, 2), pain(1, 1, region="shin", when="next_morning"), pain(2, 3),
               pain(3, 1, region="shin", when="next_morning"), pain(4, 4)]
    assert len(red(entries)) == 1
    # Shin pain after a run on day 1 makes day 1 a run without lateral hip pain: the chain breaks.
    assert red([pain(0, 2), pain(1, 1, region="shin"), pain(2, 3), pain(4, 4)]) == []


def test_during_and_after_one_run_count_once():
    # 2 during the run and 3 after it on the same day, then 4: two run days only, no red flag yet.
    assert red([pain(0, 2, when="during_run"), pain(0, 3), pain(2, 4)]) == []


def test_groin_pain_within_7_days_of_a_load_spike():
    spike = frame(row(spike_max_7d=1.35), row(spike_max_7d=1.35))  # days 0 and 1 carry a > 1.30 spike
    (f,) = red([pain(1, 3, region="groin_front_hip")], spike)
    assert "groin pain 3/10" in f.explanation and "bone stress" in f.explanation
    assert red([pain(1, 2, region="groin_front_hip")], spike) == []           # below 3/10
    assert red([pain(1, 5, region="lateral_hip")], spike) == []               # not groin
    assert red([pain(5, 4, region="groin_front_hip")], spike) == []           # no spike that day
    assert red([pain(1, 4, region="groin_front_hip")], frame(row(spike_max_7d=1.30), row(spike_max_7d=1.30))) == []
    assert len(red([pain(0, 4, region="groin_front_hip")], frame(row(week_ratio=1.5)))) == 1


def test_groin_pain_on_two_run_days_within_7_days_refers_without_a_spike():
    (f,) = red([pain(0, 4, region="groin_front_hip"), pain(3, 4, region="groin_front_hip", when="during_run")])
    assert f.date == DAY + dt.timedelta(days=3) and f.source == "Song 2020"
    assert len(red([pain(0, 3, region="groin_front_hip"), pain(6, 3, region="groin_front_hip")])) == 1
    assert red([pain(0, 3, region="groin_front_hip"), pain(7, 3, region="groin_front_hip")]) == []   # 7 days apart
    assert red([pain(0, 2, region="groin_front_hip"), pain(3, 4, region="groin_front_hip")]) == []   # one below 3
    # Groin pain logged next morning counts only on a day with a run.
    morning = [pain(0, 4, region="groin_front_hip"), pain(3, 4, region="groin_front_hip", when="next_morning")]
    assert red(morning) == []
    assert len(red(morning, frame(*[row(ran=1.0 if i == 3 else 0.0) for i in range(4)]))) == 1


def test_every_trigger_cites_its_evidence_entry():
    from gaitrisk.model import evidence, rules

    ids = {f.id for f in evidence.load().for_flag("see_a_clinician")}
    assert {rules.CITE_REST_NIGHT, rules.CITE_WORSENING, rules.CITE_GROIN} <= ids
    flags = red([pain(0, 5, region="shin", when="at_night"), pain(0, 4, region="groin_front_hip"),
                 pain(2, 4, region="groin_front_hip")], frame(row()))
    assert flags and all(f.evidence is not None and f.source == f.evidence.source == "Song 2020" for f in flags)
    (factor,) = evidence.load().for_flag("pain_rising")
    assert factor.threshold_origin == "design choice"


def test_another_athletes_spike_is_not_this_athletes():
    both = pd.concat([frame(row(spike_max_7d=2.5), athlete="bob"), frame(row(), athlete="ann")])
    assert red([pain(0, 5, region="groin_front_hip", athlete="ann")], both) == []
    assert len(red([pain(0, 5, region="groin_front_hip", athlete="bob")], both)) == 1


# -- return from a break, absolute low cadence, next-morning pain ------------------------------

@pytest.mark.parametrize("ratio, expected", [(0.49, 0), (0.50, 1), (1.2, 1), (np.nan, 0)])
def test_return_from_break_informs_from_half_the_pre_break_longest(ratio, expected):
    # No run for >= 21 days, then a session >= 50 % of the pre-break longest run (grade C: info).
    assert level("return_from_break", return_ratio_7d=ratio) == expected


def test_return_from_break_is_its_own_flag_with_its_numbers():
    (f,) = flags_for_day(row(return_ratio_7d=0.8), DAY)
    assert (f.code, f.severity) == ("return_from_break", "info")
    assert "80 %" in f.explanation and "21 days" in f.explanation and f.source == "Frandsen 2025"
    assert f.contributors[0].feature == "return_ratio_7d" and "half" in f.suggestion


@pytest.mark.parametrize("cadence, expected", [(152.9, 1), (153.0, 0), (170.0, 0), (np.nan, 0)])
def test_absolute_low_cadence_backstop(cadence, expected):
    # Garmin's red band: < 153 spm (at >= 2.5 m/s, applied when the feature is built).
    assert level("cadence_abs_low", cad_level_7d=cadence) == expected


def test_absolute_low_cadence_is_its_own_info_flag():
    (f,) = flags_for_day(row(cad_level_7d=150.0), DAY)
    assert (f.code, f.severity) == ("cadence_abs_low", "info") and "150 steps/min" in f.explanation


@pytest.mark.parametrize("morning, base, expected", [(2.0, 1.0, 1), (1.5, 1.0, 0), (1.0, 0.0, 1), (0.0, 0.0, 0)])
def test_next_morning_pain_above_baseline(morning, base, expected):
    # Next-morning pain above the baseline by 1 point (the threshold is gaitrisk's design choice).
    assert level("pain_rising", pain_morning=morning, pain_base_7d=base, pain_today=morning) == expected
