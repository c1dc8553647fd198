"""The "could not judge" list: each rule that lacks its data or history, named at its boundary.

Histories are built in a real store and read through the same athlete-day frame the rules
read, so a reason appears exactly when the rule's own input is unknown.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from gaitrisk.model.dataset import build_dataset
from gaitrisk.model.judged import Unjudged, unjudged
from gaitrisk.store import Store

from .helpers.runs_store import DAY0, daily_runs_store

UTC = ZoneInfo("UTC")
# A run's level-ground cadence as the feature records hold it: 10 min of level running at the
# population model's cadence, none of it low for speed.
LEVEL = {"cadence_residual_pct": 0.0, "level_time_s": 600.0, "cadence_low_share": 0.0, "cadence_baseline": "population"}


def _judge(st: Store, day: int) -> dict[str, Unjudged]:
    frame = build_dataset(st, ["ann"], UTC).frame
    return {u.code: u for u in unjudged(frame, DAY0 + dt.timedelta(days=day))}


def test_session_spike_needs_30_days_of_runs_before_the_run(tmp_path):
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(40)}) as st:
        frame = build_dataset(st, ["ann"], UTC).frame
        assert np.isnan(frame["spike_max_7d"].iloc[29]) and not np.isnan(frame["spike_max_7d"].iloc[30])
        u = _judge(st, 29)["session_spike"]
        assert (u.have, u.need) == (29, 30)
        assert u.text() == "session spike: needs 30 days of runs before the run, you have 29"
        assert "session_spike" not in _judge(st, 30)


def test_session_spike_without_a_run_in_the_last_7_days_is_not_listed(tmp_path):
    # Nothing ran in the week: there is no run to judge, so nothing is missing.
    with daily_runs_store(tmp_path, {0: 5.0, 20: 5.0, 40: 5.0}) as st:
        assert "session_spike" in _judge(st, 26)
        assert "session_spike" not in _judge(st, 27)


def test_mileage_jump_needs_21_days_of_history(tmp_path):
    with daily_runs_store(tmp_path, {d: 2.0 for d in range(30)}) as st:
        u = _judge(st, 19)["mileage_jump"]
        assert (u.have, u.need) == (20, 21) and "needs 21 days of history, you have 20" in u.reason
        assert "mileage_jump" not in _judge(st, 20)


@pytest.mark.parametrize("km_per_day, listed", [(1.4, True), (10.0 / 7, False)])
def test_mileage_jump_reference_week_under_10_km(tmp_path, km_per_day, listed):
    with daily_runs_store(tmp_path, {d: km_per_day for d in range(30)}) as st:
        got = _judge(st, 25).get("mileage_jump")
    assert (got is not None) == listed
    if listed:
        assert got.reason == "reference week under 10 km (you have 9.8 km)" and (got.have, got.need) == (9.8, 10)


def test_mileage_jump_after_an_empty_week_names_the_return_rule(tmp_path):
    runs = {d: 5.0 for d in range(14)} | {27: 5.0}
    with daily_runs_store(tmp_path, runs) as st:
        assert "return_from_break" in _judge(st, 27)["mileage_jump"].reason


def test_overstriding_needs_level_ground_cadence_in_the_last_7_days(tmp_path):
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(10)}) as st:
        got = _judge(st, 9)
    assert got["overstriding"].text() == "overstriding: no level-ground cadence in the last 7 days"
    assert "cadence_abs_low" in got
    (tmp_path / "b").mkdir()
    with daily_runs_store(tmp_path / "b", {d: 5.0 for d in range(10)},
                features={"level_cadence_spm": 170.0, "level_speed_mps": 2.6, **LEVEL}) as st:
        got = _judge(st, 9)
    assert "overstriding" not in got and "cadence_abs_low" not in got


def test_cadence_floor_needs_level_running_at_2_5_m_s(tmp_path):
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(10)},
                features={"level_cadence_spm": 170.0, "level_speed_mps": 2.4, **LEVEL}) as st:
        got = _judge(st, 9)
    assert "overstriding" not in got
    assert got["cadence_abs_low"].reason == "no level-ground cadence at 2.5 m/s or faster in the last 7 days"


def test_downhill_load_needs_28_days_before_the_last_7(tmp_path):
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(40)}, features={"descent_m": 30.0}) as st:
        u = _judge(st, 33)["downhill_load"]
        assert (u.have, u.need) == (27, 28)
        assert u.reason == "needs 28 days of history before the last 7, you have 27"
        assert "downhill_load" not in _judge(st, 34)


def test_downhill_load_without_descent_in_the_baseline(tmp_path):
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(40)}, features={"descent_m": 0.0}) as st:
        assert "no descent recorded" in _judge(st, 34)["downhill_load"].reason


def test_track_direction_needs_28_days(tmp_path):
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(30)}, features={"track_ccw_m": 0.0, "track_cw_m": 0.0}) as st:
        assert (_judge(st, 26)["track_direction"].have, _judge(st, 26)["track_direction"].need) == (27, 28)
        assert "track_direction" not in _judge(st, 27)


@pytest.mark.parametrize("logged, listed", [(2, True), (3, False)])
def test_pain_rising_needs_3_logged_days_of_the_7_before(tmp_path, logged, listed):
    with daily_runs_store(tmp_path, {d: 5.0 for d in range(15)}, pain_days=range(14 - logged, 14)) as st:
        got = _judge(st, 14).get("pain_rising")
    assert (got is not None) == listed
    if listed:
        assert got.text() == "pain rising: needs 3 logged days of the 7 before, you have 2"


def test_a_hypothesis_rule_is_never_listed(tmp_path):
    with daily_runs_store(tmp_path, {0: 5.0}) as st:
        got = _judge(st, 0)
    assert "camber_exposure" not in got and "session_spike" in got


def test_a_day_before_the_first_run_lists_every_rule_as_lacking_history(tmp_path):
    with daily_runs_store(tmp_path, {5: 5.0}) as st:
        frame = build_dataset(st, ["ann"], UTC).frame
    got = unjudged(frame, DAY0)
    assert got and all(u.reason == "no runs up to this day" for u in got)
    assert unjudged(frame.droplevel("athlete"), DAY0 + dt.timedelta(days=5)) == unjudged(
        frame, DAY0 + dt.timedelta(days=5))
    assert isinstance(pd.Series([u.as_json() for u in got]).iloc[0], dict)


def test_flags_command_lists_what_it_could_not_judge(tmp_path):
    import json

    from click.testing import CliRunner

    from gaitrisk.cli.main import cli

    with daily_runs_store(tmp_path, {d: 5.0 for d in range(10)}):
        pass
    db = str(tmp_path / "u.db")
    out = json.loads(CliRunner().invoke(cli, ["--db", db, "flags", "--athlete", "ann", "--tz", "UTC", "--json"]).output)
    codes = {u["code"]: u for u in out["not_judged"]}
    assert codes["session_spike"] == {"code": "session_spike", "have": 9, "need": 30,
                                      "reason": "needs 30 days of runs before the run, you have 9"}
    text = CliRunner().invoke(cli, ["--db", db, "flags", "--athlete", "ann", "--tz", "UTC"]).output
    assert "could not judge on 2024-01-10:" in text
    assert "  session spike: needs 30 days of runs before the run, you have 9" in text
