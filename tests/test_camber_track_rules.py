"""camber_exposure and track_direction at their boundaries.

Camber (a hypothesis) flags only from observed side evidence: an out-and-back pairing or a side the
runner declared (habit or one run); a side assumed from the profile's defaults is shown as assumed
exposure and never flagged.  The hypothesised leg is the up-slope one: keeping to the left edge of a
crowned road puts the left foot low and the right leg up-slope.  Track direction flags only when the
track is a material share of the running (>= 20 % of the 28-day distance and >= 10 km) and names
the inside leg (counter-clockwise: the left).

The frames are built by hand like tests/test_model_rules.py; the last tests go through a store
with synthetic runs, the CLI and the features.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.model.dataset import build_dataset
from gaitrisk.model.flags import assess
from gaitrisk.model.rules import flags_for_day, rule_levels
from gaitrisk.report.assemble import build_athlete_report
from gaitrisk.report.jsonout import report_json
from gaitrisk.report.html import render_html
from gaitrisk.report.text import render_text
from gaitrisk.store import Store
from gaitrisk.synth import RunSpec, generate_run
from gaitrisk.synth.writers import write_gpx

DAY = dt.date(2024, 3, 10)
UTC = ZoneInfo("UTC")

QUIET = {"spike_max_7d": 1.0, "week_ratio": 1.0, "cad_resid_7d": 0.0, "pain_today": 0.0, "pain_base_7d": 0.0,
         "pain_logged_7d": 7.0, "pain_L_28d": 0.0, "pain_R_28d": 0.0, "lat_pain_L_28d": 0.0, "lat_pain_R_28d": 0.0,
         "road_m_28d": 0.0, "road_left_low_m_28d": 0.0, "road_right_low_m_28d": 0.0, "track_ccw_m_28d": 0.0,
         "track_cw_m_28d": 0.0, "dist_28d": 40000.0}


def row(**kw) -> pd.Series:
    return pd.Series({**QUIET, **kw}, dtype=float)


def level(code: str, r: pd.Series) -> int:
    frame = r.to_frame().T.set_axis(pd.MultiIndex.from_tuples([("ann", pd.Timestamp(DAY))], names=["athlete", "day"]))
    return int(rule_levels(frame)[code].iloc[0])


def camber_row(*, observed_left_low: float = 0.0, observed_right_low: float = 0.0, assumed: float = 0.0,
               assumed_low: str = "left", pain: str | None = None, score: float = 4.0) -> pd.Series:
    """28 days of road running: metres with an observed low side, and metres whose side is assumed."""
    observed = observed_left_low + observed_right_low
    left = observed_left_low + (assumed if assumed_low == "left" else 0.0)
    right = observed_right_low + (assumed if assumed_low == "right" else 0.0)
    kw = {"road_m_28d": observed + assumed, "road_left_low_m_28d": left, "road_right_low_m_28d": right,
          "road_obs_m_28d": observed, "road_obs_left_low_m_28d": observed_left_low,
          "road_obs_right_low_m_28d": observed_right_low, "road_assumed_m_28d": assumed}
    if pain:
        kw |= {f"pain_{pain}_28d": score, f"lat_pain_{pain}_28d": score}
    return row(**kw)


# -- camber_exposure -----------------------------------------------------------------------------

def test_camber_from_the_default_side_only_is_no_flag_even_with_up_slope_pain():
    # The default (facing traffic, right-hand traffic) puts the left foot low, the right leg up-slope:
    # 100 % of the road metres "one side" and right lateral pain, but the side is only assumed.
    r = camber_row(assumed=20000.0, assumed_low="left", pain="R")
    assert level("camber_exposure", r) == 0
    assert [f.code for f in flags_for_day(r, DAY)] == []


def test_camber_observed_75_percent_one_side_with_up_slope_pain_names_the_up_slope_leg():
    # 75 % of the observed road metres with the left foot low: the right leg up-slope, right lateral pain.
    r = camber_row(observed_left_low=7500.0, observed_right_low=2500.0, pain="R")
    assert level("camber_exposure", r) == 1
    (f,) = flags_for_day(r, DAY)
    assert (f.code, f.severity) == ("camber_exposure", "info")
    assert "75 % of your 10.0 km" in f.explanation and "right leg on the up-slope side" in f.explanation
    assert "hypothesis" in f.explanation.lower() and "not evidence" in f.explanation
    assert "explains" not in f.explanation and "cause" not in f.explanation
    assert f.evidence.grade == "hypothesis" and f.contributors[0].feature == "road_obs_m_28d"


def test_camber_mirror_image_names_the_left_leg():
    r = camber_row(observed_right_low=8000.0, observed_left_low=2000.0, pain="L")
    (f,) = flags_for_day(r, DAY)
    assert f.code == "camber_exposure" and "left leg on the up-slope side" in f.explanation


@pytest.mark.parametrize("up_slope_m, expected", [(7000.0, 1), (6999.0, 0), (6500.0, 0)])
def test_camber_needs_70_percent_of_the_observed_metres_up_slope_on_one_leg(up_slope_m, expected):
    r = camber_row(observed_left_low=up_slope_m, observed_right_low=10000.0 - up_slope_m, pain="R")
    assert level("camber_exposure", r) == expected


def test_camber_share_is_of_the_observed_metres_not_of_the_assumed_ones():
    # 7.5 km observed left-low and 2.5 km right-low, plus 30 km assumed right-low: the observed share
    # (75 %) decides; the assumed metres neither dilute nor count.
    r = camber_row(observed_left_low=7500.0, observed_right_low=2500.0, assumed=30000.0, assumed_low="right",
                   pain="R")
    assert level("camber_exposure", r) == 1


def test_camber_pain_on_the_low_side_only_is_no_flag():
    r = camber_row(observed_left_low=9000.0, observed_right_low=1000.0, pain="L")   # left low, left pain
    assert level("camber_exposure", r) == 0


def test_camber_needs_lateral_pain_not_other_target_pain():
    r = camber_row(observed_left_low=9000.0, observed_right_low=1000.0)
    r["pain_R_28d"] = 5.0   # groin or buttock pain on the up-slope side: not lateral
    assert level("camber_exposure", r) == 0


# -- track_direction -----------------------------------------------------------------------------

def track_row(track_m: float, ccw_share: float, pain: str | None = "L", dist_m: float = 40000.0) -> pd.Series:
    bends = 0.5 * track_m   # about half of a lap is bend; the rule reads only the bends' direction share
    kw = {"track_m_28d": track_m, "dist_28d": dist_m, "track_ccw_m_28d": ccw_share * bends,
          "track_cw_m_28d": (1 - ccw_share) * bends}
    if pain:
        kw[f"pain_{pain}_28d"] = 4.0
    return row(**kw)


def test_track_10_percent_of_the_distance_all_ccw_with_left_pain_is_no_flag():
    assert level("track_direction", track_row(4000.0, 1.0)) == 0


def test_track_30_percent_ccw_with_left_pain_names_the_left_inside_leg():
    r = track_row(12000.0, 1.0)
    assert level("track_direction", r) == 1
    (f,) = flags_for_day(r, DAY)
    assert (f.code, f.severity) == ("track_direction", "info") and f.evidence.grade == "C"
    assert "track running was 30 % of your distance in 28 days (12.0 km)" in f.explanation
    assert "100 % of its bends counter-clockwise" in f.explanation
    assert "left leg ran on the inside" in f.explanation and "left-side pain (your inside leg)" in f.explanation


def test_track_clockwise_names_the_right_inside_leg_and_an_outside_pain():
    (f,) = flags_for_day(track_row(12000.0, 0.1, pain="L"), DAY)
    assert "90 % of its bends clockwise" in f.explanation and "right leg ran on the inside" in f.explanation
    assert "left-side pain (your outside leg)" in f.explanation


def test_track_30_percent_but_60_40_directions_is_no_flag():
    assert level("track_direction", track_row(12000.0, 0.6)) == 0


@pytest.mark.parametrize("track_m, dist_m, expected", [
    (10000.0, 50000.0, 1),    # 20 % and 10 km: both limits met
    (9999.0, 40000.0, 0),     # 25 % but under 10 km
    (10000.0, 50001.0, 0),    # 10 km but under 20 %
])
def test_track_needs_20_percent_of_the_distance_and_10_km(track_m, dist_m, expected):
    assert level("track_direction", track_row(track_m, 1.0, dist_m=dist_m)) == expected


def test_a_frame_without_the_track_share_columns_never_fires():
    r = row(track_ccw_m_28d=1000.0, pain_L_28d=4.0).drop(["dist_28d"])
    assert level("track_direction", r) == 0


# -- through a store: synthetic runs, the CLI, the features, the dataset, the flags and the report --

def _cli(db, *args):
    res = CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    return res


@pytest.fixture(scope="module")
def road_runner(tmp_path_factory):
    """Six road loops (no out-and-back pairing) six days apart, and right lateral hip pain on the last run day."""
    folder = tmp_path_factory.mktemp("camber")
    db = folder / "g.db"
    files = []
    for i in range(6):
        spec = RunSpec(seed=200 + i, start_time=dt.datetime(2024, 4, 1, 7, 0, tzinfo=dt.UTC) + dt.timedelta(days=6 * i),
                       sample_interval_s=2, route="road_loop", distance_m=3000.0, loop_size_m=(600.0, 300.0),
                       include_dynamics=False)
        files.append(write_gpx(generate_run(spec), folder / f"road{i}.gpx"))
    _cli(db, "import", *files, "--workers", "1")
    _cli(db, "pain", "add", "--score", "4", "--region", "lateral_hip", "--side", "R", "--when", "after_run",
         "--date", "2024-05-01", "--time", "09:00", "--tz", "UTC")
    return db


def _state(db):
    with Store(db) as st:
        records = [st.features(a.id)[1] for a in st.activities("me")]
        ds = build_dataset(st, ["me"], UTC)
        a = assess(st, "me", UTC, days=28, dataset=ds)
    last = ds.frame.iloc[-1]
    return records, last, [f for f in a.flags if f.code == "camber_exposure"]


@pytest.mark.slow
def test_a_store_with_the_default_side_shows_assumed_exposure_and_no_flag(road_runner):
    records, last, camber_flags = _state(road_runner)
    assert {r["surface"] for r in records} == {"road"}
    assert all(r["road_low_side_source"].startswith("assumed: facing traffic") for r in records)
    assert last["camber_side_evidence"] == "assumed" and last["road_obs_m_28d"] == 0
    # Five runs in the last 28 days; the assumed side puts the right leg up-slope, and the pain is right lateral.
    assert last["road_assumed_m_28d"] == pytest.approx(15000, rel=0.01) and last["lat_pain_R_28d"] == 4
    assert camber_flags == []
    with Store(road_runner) as st:
        rep = build_athlete_report(st, "me", UTC, today=dt.date(2024, 5, 1))
    doc = report_json([rep], generated_at=dt.datetime(2024, 5, 2, tzinfo=dt.UTC))
    weeks = [w for w in doc["athletes"][0]["trends"] if w["runs"]]
    assert weeks and {w["road_side_evidence"] for w in weeks} == {"assumed"}
    assert all(w["road_assumed_m"] > 0 and w["road_observed_m"] is None for w in weeks)
    assert {r["road_side_evidence"] for r in doc["athletes"][0]["runs"]} == {"assumed"}
    text = render_text([rep], dt.datetime(2024, 5, 2, tzinfo=dt.UTC), width=200)
    table = text[text.index("Terrain, camber and track exposure"):]
    assert "road side" in table and "assumed" in table and "observed" not in table.split("Left low =")[0]
    html = render_html([rep], dt.datetime(2024, 5, 2, tzinfo=dt.UTC))
    camber_svg = html[html.index('data-plot="camber"'):]
    assert "<pattern" in camber_svg[:camber_svg.index("</figure>")]   # the assumed weeks are hatched


@pytest.mark.slow
def test_a_declared_habit_and_a_side_declared_for_each_run_through_the_cli(road_runner, tmp_path):
    db = tmp_path / "g.db"
    db.write_bytes(road_runner.read_bytes())
    # Keeping to the left edge (declared habit): left foot low, right leg up-slope, right lateral pain.
    _cli(db, "athlete", "set", "--road-side", "left")
    records, last, camber_flags = _state(db)
    assert {r["road_low_side_source"] for r in records} == {"declared habit"}
    assert last["camber_side_evidence"] == "observed"
    (f,) = camber_flags
    assert f.severity == "info" and "right leg on the up-slope side" in f.explanation
    # Each run declared on the right edge: right foot low, the right leg is down-slope -> no flag.
    with Store(db) as st:
        ids = [a.id for a in st.activities("me")]
    for activity_id in ids:
        _cli(db, "activity", "set", activity_id[:12], "--road-side", "right")
    records, last, camber_flags = _state(db)
    assert {r["road_low_side_source"] for r in records} == {"declared for this run"}
    assert {r["road_low_side"] for r in records} == {"right"}
    assert camber_flags == []
    out = json.loads(_cli(db, "flags", "--json", "--days", "28", "--tz", "UTC").output)
    assert "camber_exposure" not in json.dumps(out)
