"""Report assembly (gaitrisk.report.assemble) against the bundled season's planted truth.

The demo season's first three weeks (fixtures/runs up to its watch gap, truth in
fixtures/truth/season.json) and their pain log (fixtures/pain/demo_pain.csv, planted by
scripts/make_fixtures.py) go through the real import, features and pain import; the report
must show exactly what they hold.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from gaitrisk.report import PRIVACY_ZONE_M, build_athlete_report

from .helpers.demo_store import ATHLETE, LAST_DAY, build_demo_store
from .helpers.paths import FIXTURES

UTC = ZoneInfo("UTC")
SEASON = json.loads((FIXTURES / "truth" / "season.json").read_text())


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    return build_demo_store(tmp_path_factory.mktemp("report"))


@pytest.fixture()
def store(demo_db):
    from gaitrisk.store import Store

    with Store(demo_db) as st:
        yield st


def _season_runs() -> list[dict]:
    return [t for t in SEASON.values() if "duplicate_of" not in t and t["start_time"][:10] <= LAST_DAY.isoformat()]


def _pain_rows() -> list[dict]:
    with open(FIXTURES / "pain" / "demo_pain.csv", newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["date"] <= LAST_DAY.isoformat()]


def test_runs_match_the_season_truth(store):
    rep = build_athlete_report(store, ATHLETE, UTC, today=LAST_DAY)
    truth = sorted(_season_runs(), key=lambda t: t["start_time"])
    assert [r.day for r in rep.runs] == [dt.datetime.fromisoformat(t["start_time"]).date() for t in truth]
    for r, t in zip(rep.runs, truth):
        assert r.distance_m == pytest.approx(t["distance_m"], rel=0.01)
        if t.get("gct_balance_pct") is not None and r.gct_balance_pct is not None:
            assert r.gct_balance_pct == pytest.approx(t["gct_balance_pct"], abs=0.3)
    # The weekly table and the per-run list agree, and cover every run.
    assert sum(w.runs for w in rep.weeks) == len(truth)
    assert sum(w.distance_m or 0 for w in rep.weeks) == pytest.approx(sum(t["distance_m"] for t in truth), rel=0.01)
    # Three weeks of data: the table starts at the first run's week, not 8 empty weeks back.
    assert len(rep.weeks) == 3 and rep.first <= dt.date(2024, 4, 1) < rep.first + dt.timedelta(days=7)
    assert rep.last == LAST_DAY and rep.stale_days == 0 and rep.notes == ()


def test_exposure_trends_sum_the_runs(store):
    rep = build_athlete_report(store, ATHLETE, UTC, today=LAST_DAY)
    for name in ("road_left_low_m", "road_right_low_m", "track_ccw_m", "track_cw_m", "downhill5_m"):
        per_run = sum(getattr(r, name) or 0 for r in rep.runs)
        assert sum(getattr(t, name) or 0 for t in rep.trends) == pytest.approx(per_run)
    track_week = next(t for t in rep.trends if t.week_start <= dt.date(2024, 4, 3) <= t.week_end)
    # 15 counter-clockwise laps (season truth): bends one way only.
    assert track_week.track_ccw_m > 1000 and (track_week.track_cw_m or 0) == 0
    # The out-and-back keeps the right-hand side: right foot low only in its week.
    oab = next(t for t in rep.trends if t.week_start <= dt.date(2024, 4, 7) <= t.week_end)
    assert oab.road_right_low_m > 5000
    hills = next(t for t in rep.trends if t.week_start <= dt.date(2024, 4, 5) <= t.week_end)
    assert hills.downhill5_m > 0   # 200 m repeats at -6 %


def test_pain_timeline_is_the_log(store):
    rep = build_athlete_report(store, ATHLETE, UTC, today=LAST_DAY)
    rows = _pain_rows()
    assert [(p.time.date().isoformat(), p.time.strftime("%H:%M"), p.score) for p in rep.pain] == \
        [(r["date"], r["time"], int(r["score"])) for r in rows]
    assert rep.weeks[-1].pain_max == max(int(r["score"]) for r in rows if r["date"] >= "2024-04-13")


def test_planted_flag_and_no_red_flag(store):
    rep = build_athlete_report(store, ATHLETE, UTC, today=LAST_DAY)
    assert [(f.code, f.severity, f.date) for f in rep.flags] == [("pain_rising", "info", LAST_DAY)]
    assert "5/10" in rep.flags[0].explanation and rep.red_flags == ()
    assert rep.model is None and "no trained model" in rep.model_note


def test_red_flags_come_first(demo_db, tmp_path):
    from gaitrisk.records import PainEntry
    from gaitrisk.store import Store

    copy = tmp_path / "demo.db"
    shutil.copy(demo_db, copy)
    with Store(copy) as st:
        st.add_pain_entries([PainEntry(ATHLETE, dt.datetime(2024, 4, 17, 2, 0, tzinfo=dt.UTC), 4, "lateral_hip",
                                       "L", "at_night")])
        rep = build_athlete_report(st, ATHLETE, UTC, today=LAST_DAY)
    assert [f.code for f in rep.flags] == ["see_a_clinician", "pain_rising"]
    assert rep.red_flags[0].date == dt.date(2024, 4, 17)


def test_since_and_today_bound_the_period(store):
    since, today = dt.date(2024, 4, 4), dt.date(2024, 4, 10)
    rep = build_athlete_report(store, ATHLETE, UTC, since=since, today=today)
    assert rep.first == since and rep.last == today
    assert [r.day for r in rep.runs] == [dt.date(2024, 4, 5), dt.date(2024, 4, 7), dt.date(2024, 4, 10)]
    assert [p.time.date() for p in rep.pain] == [dt.date(2024, 4, d) for d in (4, 7, 10)]
    assert rep.weeks[-1].week_end == today and rep.weeks[0].week_start <= since
    assert all(f.date <= today for f in rep.flags)
    with pytest.raises(ValueError, match="after the report day"):
        build_athlete_report(store, ATHLETE, UTC, since=dt.date(2024, 5, 1), today=LAST_DAY)


def test_a_stale_athlete_is_reported_as_of_the_last_data(store):
    rep = build_athlete_report(store, ATHLETE, UTC, today=dt.date(2024, 6, 1))
    assert rep.last == LAST_DAY and rep.stale_days == (dt.date(2024, 6, 1) - LAST_DAY).days
    assert "43 days" in rep.notes[0]


def test_a_failing_rule_leaves_the_rest_of_the_report(store, monkeypatch, caplog):
    import gaitrisk.model.flags as flags_mod

    def broken(*a, **k):
        raise TypeError("planted")

    monkeypatch.setattr(flags_mod, "assess", broken)
    rep = build_athlete_report(store, ATHLETE, UTC, today=LAST_DAY)
    assert rep.flags == () and "FLAGS COULD NOT BE COMPUTED (TypeError: planted)" in rep.notes[0]
    assert len(rep.runs) == 8 and len(rep.pain) == 9 and "planted" in caplog.text


def test_unknown_athlete(store):
    with pytest.raises(LookupError, match="nobody"):
        build_athlete_report(store, "nobody", UTC)


def test_cadence_without_ten_earlier_level_runs_is_against_the_population_fallback(store):
    rep = build_athlete_report(store, ATHLETE, UTC, today=LAST_DAY)
    feats = store.run_features(ATHLETE)
    v, c = feats["level_speed_mps"].to_numpy(float), feats["level_cadence_spm"].to_numpy(float)
    ok = np.isfinite(v) & np.isfinite(c)
    assert ok.sum() < 10   # too few level runs for a baseline of the runner's own: the population model stands in
    assert rep.baseline_cadence is None
    assert (rep.expected_cadence.a, rep.expected_cadence.b) == (150.0, 6.01)
    # Each week's residual is the level-time-weighted residual of its runs against 150 + 6.01 v.
    by_week = [(t, [r for r in rep.runs if t.week_start <= r.day <= t.week_end and r.level_time_s])
               for t in rep.trends]
    assert any(rs for _, rs in by_week)
    for t, rs in by_week:
        if not rs:
            assert t.cadence_residual_pct is None and t.cadence_baseline is None
            continue
        assert t.cadence_baseline == "population" and {r.cadence_baseline for r in rs} == {"population"}
        w = np.array([r.level_time_s for r in rs])
        resid = np.array([(r.level_cadence_spm / (150.0 + 6.01 * r.level_speed_mps) - 1) * 100 for r in rs])
        assert t.cadence_residual_pct == pytest.approx(float(np.average(resid, weights=w)), abs=0.3)


@pytest.mark.slow
def test_routes_only_with_maps_and_trimmed(store):
    assert build_athlete_report(store, ATHLETE, UTC, today=LAST_DAY).routes is None
    rep = build_athlete_report(store, ATHLETE, UTC, today=LAST_DAY, with_maps=True)
    assert rep.routes and rep.privacy_zone_m == PRIVACY_ZONE_M
    by_id = {r.id: r for r in rep.runs}
    for t in rep.routes:
        x, y = np.array(t.x_m), np.array(t.y_m)
        length = float(np.hypot(np.diff(x), np.diff(y)).sum())
        total = by_id[t.id].distance_m
        # Both ends cut: the shape is ~1 km shorter than the run (GPS path vs distance: 3 %).
        assert length == pytest.approx(total - 2 * PRIVACY_ZONE_M, rel=0.03)
        assert abs(x.mean()) < 1 and abs(y.mean()) < 1          # centred on itself: no position
        assert max(np.abs(x).max(), np.abs(y).max()) < 10_000   # metres, not degrees*1e5 or coordinates
    samples = store.samples(rep.routes[0].id)
    start = (samples["lat_deg"].iloc[0], samples["lon_deg"].iloc[0])
    assert not any(math.isclose(v, start[0], abs_tol=1e-3) or math.isclose(v, start[1], abs_tol=1e-3)
                   for t in rep.routes for v in (*t.x_m, *t.y_m))
