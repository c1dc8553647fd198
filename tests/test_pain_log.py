"""The pain log's coverage and pain_rising on a real store: unlogged days are unknown, not 0.

The demo season (runs 2024-04-01 .. 2024-04-19) is imported into a store; its pain log is
replaced by the entries each test writes, so every expected number is worked out here.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from zoneinfo import ZoneInfo

import pytest

from gaitrisk.model.dataset import build_dataset
from gaitrisk.model.rules import rule_levels
from gaitrisk.pain.compliance import BASELINE_MIN_LOGGED, pain_log_status
from gaitrisk.records import PainEntry

from .helpers.demo_store import ATHLETE, build_demo_store

UTC = ZoneInfo("UTC")


def entry(day: str, score: int, region: str = "lateral_hip", when: str = "after_run") -> PainEntry:
    t = dt.datetime.fromisoformat(day).replace(hour=18, tzinfo=dt.UTC)
    return PainEntry(ATHLETE, t, score, region, "L", when)


@pytest.fixture(scope="module")
def season_db(tmp_path_factory):
    return build_demo_store(tmp_path_factory.mktemp("painlog"))


@pytest.fixture()
def store_with(season_db, tmp_path):
    """A copy of the season whose pain log holds only the given entries."""
    from gaitrisk.store import Store

    opened = []

    def make(entries):
        db = tmp_path / f"s{len(opened)}.db"
        shutil.copy(season_db, db)
        st = Store(db)
        opened.append(st)
        for e in st.pain_entries(ATHLETE):
            st.delete_pain_entry(ATHLETE, e.id)
        st.add_pain_entries(entries)
        return st

    yield make
    for st in opened:
        st.close()


def rising_on(store, day: str) -> int:
    frame = build_dataset(store, [ATHLETE], UTC).frame
    return int(rule_levels(frame).loc[(ATHLETE, dt.datetime.fromisoformat(day)), "pain_rising"])


def test_one_2_of_10_after_a_week_without_entries_is_not_rising(store_with):
    store = store_with([entry("2024-04-01", 0), entry("2024-04-10", 2)])
    frame = build_dataset(store, [ATHLETE], UTC).frame
    row = frame.loc[(ATHLETE, dt.datetime(2024, 4, 10))]
    assert row["pain_today"] == 2 and row["pain_logged_7d"] == 0
    assert rising_on(store, "2024-04-10") == 0
    assert "not enough pain log" in pain_log_status(store.pain_entries(ATHLETE), UTC, dt.date(2024, 4, 10)).summary()


@pytest.mark.slow
def test_the_baseline_is_the_mean_of_the_logged_days(store_with):
    # 1/10 logged on 3 of the 7 days before 04-10, nothing on the other 4: the baseline is 1, not 3/7.
    logged = [entry(d, 1) for d in ("2024-04-03", "2024-04-05", "2024-04-07")]
    store = store_with([*logged, entry("2024-04-10", 3)])
    row = build_dataset(store, [ATHLETE], UTC).frame.loc[(ATHLETE, dt.datetime(2024, 4, 10))]
    assert row["pain_base_7d"] == 1.0 and row["pain_logged_7d"] == BASELINE_MIN_LOGGED
    assert rising_on(store, "2024-04-10") == 1                        # 3 - 1 = 2 points
    assert rising_on(store_with([*logged, entry("2024-04-10", 2)]), "2024-04-10") == 0   # 2 - 1 < 2
    assert rising_on(store_with([*logged[1:], entry("2024-04-10", 3)]), "2024-04-10") == 0   # 2 logged days


@pytest.mark.parametrize("region", ["shin", "foot"])
def test_shin_and_foot_pain_can_rise(store_with, region):
    logged = [entry(d, 0, region) for d in ("2024-04-03", "2024-04-05", "2024-04-07")]
    assert rising_on(store_with([*logged, entry("2024-04-10", 3, region)]), "2024-04-10") == 1


def test_the_report_shows_logging_compliance(store_with):
    from gaitrisk.report import build_athlete_report
    from gaitrisk.report.jsonout import athlete_json
    from gaitrisk.report.text import render_text

    days = ("2024-04-06", "2024-04-08", "2024-04-12", "2024-04-12", "2024-04-18")   # 4 distinct days
    store = store_with([entry(d, 1) for d in days] + [entry("2024-04-05", 1)])    # 04-05: outside the 14 days
    rep = build_athlete_report(store, ATHLETE, UTC, today=dt.date(2024, 4, 19))
    assert rep.pain_log.logged_days == 4 and rep.pain_log.window_days == 14
    # The 7 days before 04-19 (04-12 .. 04-18) hold 2 logged days: not enough for a baseline.
    assert rep.pain_log.baseline_logged_days == 2 and not rep.pain_log.enough_for_baseline
    out = athlete_json(rep)["pain_log"]
    assert out["logged_days"] == 4 and out["enough_for_baseline"] is False
    json.dumps(out)
    text = render_text([rep], dt.datetime(2024, 4, 19, 20, tzinfo=dt.UTC))
    assert "4 of the last 14 days logged" in text and "not enough pain log" in text
