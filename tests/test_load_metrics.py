"""Load metrics on small hand-made histories whose answers are worked out here, and on the
18-run runpandas history.  Thresholds as in gaitrisk.load.metrics."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from gaitrisk.load import metrics as M
from gaitrisk.load.daily import daily_series, runs_frame
from gaitrisk.records import DataGap
from gaitrisk.load.weekly import build_report

UTC = ZoneInfo("UTC")
DAY0 = dt.date(2024, 1, 1)


def _run(day: int, metres: float, hour: float = 8.0, zone: ZoneInfo = UTC, base: dt.date = DAY0, id_=None):
    start = dt.datetime.combine(base + dt.timedelta(days=day), dt.time()) + dt.timedelta(hours=hour)
    start = start.replace(tzinfo=zone).astimezone(dt.timezone.utc)
    return SimpleNamespace(id=id_ or f"r{day}-{hour}", start_time=start, distance_m=metres, moving_time_s=metres / 3)


def _daily(runs, gaps=(), end_day=None, zone=UTC, features=None):
    rf = runs_frame(runs, zone, features)
    end = None if end_day is None else DAY0 + dt.timedelta(days=end_day)
    return rf, daily_series(rf, gaps, end=end)


def _tiers(runs, gaps=()):
    rf, daily = _daily(runs, gaps)
    return M.run_spikes(rf.frame["day"], rf.frame["distance_m"], daily["longest_run_m"])


def _at(series: pd.Series, day: int):
    return series.loc[pd.Timestamp(DAY0 + dt.timedelta(days=day))]


# -- daily series ---------------------------------------------------------------------
def test_rest_days_are_zero_gap_days_are_nan_and_history_starts_at_first_run():
    runs = [_run(0, 5000), _run(3, 7000), _run(3, 2000, hour=18)]
    gap = DataGap("me", DAY0 + dt.timedelta(days=5), DAY0 + dt.timedelta(days=6))
    _, d = _daily(runs, [gap], end_day=8)
    assert list(d.index) == list(pd.date_range("2024-01-01", "2024-01-09"))
    assert d["distance_m"].tolist()[:5] == [5000, 0, 0, 9000, 0]
    assert d["runs"].tolist()[:5] == [1, 0, 0, 2, 0]
    assert d["longest_run_m"].iloc[3] == 7000
    assert d["distance_m"].iloc[5:7].isna().all() and d["no_data"].iloc[5:7].all()
    assert d["distance_m"].iloc[7:].tolist() == [0, 0]
    # No per-run features yet: descent is unknown on every day, rest days included -- never 0.
    assert d["descent_m"].isna().all() and d["gap_distance_m"].isna().all()


def test_run_crossing_midnight_belongs_to_its_start_day():
    zone = ZoneInfo("Europe/Berlin")
    late = _run(0, 12000, hour=23.5, zone=zone)  # 23:30 local, lasts 70 min into the next day
    _, d = _daily([late, _run(2, 3000, zone=zone)], zone=zone)
    assert d["distance_m"].tolist() == [12000, 0, 3000]
    # The same instant seen from UTC (22:30 UTC) is also day 0 there, but one hour later
    # in Berlin would be day 1: check the local day really comes from the zone.
    after_midnight = _run(1, 4000, hour=0.25, zone=zone)  # 00:15 Berlin = 23:15 UTC the day before
    _, d2 = _daily([late, after_midnight], zone=zone)
    assert d2["distance_m"].tolist() == [12000, 4000]
    _, d_utc = _daily([late, after_midnight], zone=UTC)
    assert d_utc["distance_m"].tolist() == [16000]


@pytest.mark.parametrize("base, label", [(dt.date(2021, 3, 22), "spring forward 28 Mar"),
                                         (dt.date(2021, 10, 25), "fall back 31 Oct")])
def test_dst_change_keeps_seven_day_windows_seven_days(base, label):
    zone = ZoneInfo("Europe/Berlin")
    # Runs at 00:30 local on days 0 (Monday before the change) .. and on the day after the
    # change, plus one just outside the window.  A 7-day window ending on day 13 holds days 7..13.
    runs = [_run(d, m, hour=0.5, zone=zone, base=base) for d, m in [(0, 1000), (6, 2000), (7, 4000), (13, 8000)]]
    rf = runs_frame(runs, zone)
    d = daily_series(rf)
    assert len(d) == 14 and (np.diff(d.index.values) == np.timedelta64(1, "D")).all(), label
    assert d["distance_m"].loc[[pd.Timestamp(base + dt.timedelta(days=k)) for k in (0, 6, 7, 13)]].tolist() == \
        [1000, 2000, 4000, 8000]
    wk = M.week_change(d["distance_m"])
    assert wk["dist_7d"].iloc[13] == 12000  # days 7..13 only
    assert wk["dist_prev_7d"].iloc[13] == 3000  # days 0..6
    assert np.isnan(wk["week_ratio"].iloc[13])  # the reference week needs 21 days


# -- single-run spike (Frandsen 2025) -----------------------------------------------------
@pytest.mark.parametrize("metres, tier", [
    (11000, "none"),       # exactly +10 %: the reference category is "<= 10 %"
    (11001, "small"),
    (13000, "small"),      # exactly +30 %
    (13001, "moderate"),
    (20000, "moderate"),   # exactly +100 %
    (20001, "large"),
    (9000, "none"),        # regression
])
def test_spike_tiers_at_their_boundaries(metres, tier):
    spikes = _tiers([_run(0, 10000), _run(30, metres)])
    last = spikes.iloc[-1]
    assert last["spike_tier"] == tier
    assert last["longest_prev_30d_m"] == 10000
    assert last["spike_pct"] == pytest.approx((metres / 10000 - 1) * 100)


def test_first_30_days_are_insufficient_history():
    # History starts on day 0: a run on day 29 has only days 0..28 before it.
    spikes = _tiers([_run(0, 10000), _run(29, 15000), _run(30, 15000)])
    assert spikes["spike_tier"].tolist()[:2] == ["insufficient_history", "insufficient_history"]
    assert math.isnan(spikes["longest_prev_30d_m"].iloc[1])
    # Day 30 compares with max(day 0 = 10 km, day 29 = 15 km) -> 0 %.
    assert spikes["longest_prev_30d_m"].iloc[2] == 15000 and spikes["spike_tier"].iloc[2] == "none"


def test_window_is_the_30_days_before_and_same_day_runs_do_not_count():
    # Day 0: 20 km falls out of the window of day 31 (days 1..30); day 10: 10 km stays in.
    spikes = _tiers([_run(0, 20000), _run(10, 10000), _run(31, 12000, hour=7), _run(31, 15000, hour=18)])
    assert spikes["longest_prev_30d_m"].tolist()[2:] == [10000, 10000]
    assert spikes["spike_tier"].tolist()[2:] == ["small", "moderate"]  # +20 %, +50 %


def test_rest_only_window_has_no_reference_and_a_gap_makes_it_unknown():
    spikes = _tiers([_run(0, 10000), _run(31, 5000)])
    assert spikes["longest_prev_30d_m"].iloc[1] == 0 and spikes["spike_tier"].iloc[1] == "insufficient_history"
    gap = DataGap("me", DAY0 + dt.timedelta(days=5), DAY0 + dt.timedelta(days=6))
    spikes = _tiers([_run(0, 10000), _run(20, 10000), _run(35, 9000), _run(40, 11500)], [gap])
    # Day 35: window 5..34 contains the gap (a longer run may be missing) -> unknown.
    # Day 40: window 10..39 is complete; longest 10 km (day 20; day 35 was 9 km) -> +15 % small.
    assert spikes["spike_tier"].tolist()[2:] == ["insufficient_history", "small"]


# -- week to week (Nielsen 2014) ---------------------------------------------------------------
def test_week_change_needs_21_days_and_30_percent_is_not_a_jump():
    # 10 km in days 0..6 and 7..13 (reference week 10 km), then 13 km in days 14..20 = +30 %.
    runs = [_run(0, 5000), _run(3, 5000), _run(8, 5000), _run(11, 5000), _run(15, 6000), _run(20, 7000)]
    _, d = _daily(runs)
    wk = M.week_change(d["distance_m"])
    assert wk["week_ratio"].iloc[:20].isna().all()  # day 19's 14-day reference would start on day -1
    assert wk["dist_ref_7d"].iloc[20] == 10000
    assert wk["week_change_pct"].iloc[20] == pytest.approx(30.0)
    assert bool(wk["week_jump"].iloc[20]) is False  # bool(<NA>) would raise
    _, d2 = _daily(runs[:5] + [_run(20, 7001)])
    assert bool(M.week_change(d2["distance_m"])["week_jump"].iloc[20]) is True
    # Nothing in the previous 7 days: the ratio is undefined, not infinite.
    _, d3 = _daily([_run(0, 1000), _run(14, 5000), _run(20, 5000)])
    assert math.isnan(M.week_change(d3["distance_m"])["week_ratio"].iloc[20])


# -- ACWR ------------------------------------------------------------------------------------------
def test_uncoupled_acwr_7_21():
    # 1 km every day for days 0..20, then 2 km every day for days 21..27.
    runs = [_run(k, 1000 if k < 21 else 2000) for k in range(28)]
    _, d = _daily(runs)
    acwr = M.acwr_uncoupled(d["distance_m"])
    assert acwr.iloc[:27].isna().all()            # needs days t-27..t
    assert acwr.iloc[27] == pytest.approx(2.0)    # mean(2 km) / mean(1 km); acute not inside chronic


def test_ewma_7_28_from_its_recursion_and_a_gap_restarts_it():
    # One 10 km run on day 0, then rest: EWMA_t = 10 000 * (1 - λ)^t with λ = 2/(N+1).
    runs = [_run(0, 10000), _run(60, 1)]
    _, d = _daily(runs)
    e = M.acwr_ewma(d["distance_m"])
    assert e["ewma_28"].iloc[:27].isna().all() and e["ewma_7"].iloc[:27].isna().all()
    for t in (27, 33):
        acute = 10000 * (1 - 2 / 8) ** t
        chronic = 10000 * (1 - 2 / 29) ** t
        assert e["ewma_7"].iloc[t] == pytest.approx(acute)
        assert e["ewma_28"].iloc[t] == pytest.approx(chronic)
        assert e["acwr_ewma"].iloc[t] == pytest.approx(acute / chronic)
    gap = DataGap("me", DAY0 + dt.timedelta(days=30), DAY0 + dt.timedelta(days=30))
    _, dg = _daily(runs, [gap])
    eg = M.acwr_ewma(dg["distance_m"])
    assert not math.isnan(eg["ewma_28"].iloc[29])
    assert eg["ewma_28"].iloc[30:58].isna().all()  # 28 known days again: days 31..58
    assert eg["ewma_28"].iloc[58] == pytest.approx(0.0)  # restarted at day 31's load (0), not carried over


def test_monotony_and_strain_with_floored_sd():
    # Week 1: one 7 km run.  mean = 1 km, sample SD = sqrt((6² + 6·1²)/6) km = sqrt(7) km.
    # Week 2: 5 km every day: SD 0, floored at mean/10 -> monotony 10.  Week 3: rest -> 0.
    runs = [_run(0, 7000)] + [_run(k, 5000) for k in range(7, 14)] + [_run(21, 1)]
    _, d = _daily(runs)
    ms = M.monotony_strain(d["distance_m"])
    assert ms["monotony"].iloc[:6].isna().all()
    assert ms["monotony"].iloc[6] == pytest.approx(1 / math.sqrt(7))
    assert ms["strain"].iloc[6] == pytest.approx(7000 / math.sqrt(7))
    assert ms["monotony"].iloc[13] == pytest.approx(10.0) and ms["strain"].iloc[13] == pytest.approx(350000)
    assert ms["monotony"].iloc[20] == 0 and ms["strain"].iloc[20] == 0
    assert bool(ms["monotony_high"].iloc[13]) and not bool(ms["monotony_high"].iloc[6])


def test_return_to_run_after_21_days_without_a_run():
    _, d = _daily([_run(0, 5000), _run(22, 5000)])  # 21 run-free days (1..21) in between
    flag = M.return_to_run(d["runs"])
    assert bool(flag.iloc[22]) is True and pd.isna(flag.iloc[0]) and not flag.iloc[1:22].any()
    _, d = _daily([_run(0, 5000), _run(21, 5000)])  # 20 run-free days
    assert bool(M.return_to_run(d["runs"]).iloc[21]) is False


def test_descent_spike_with_features_and_not_available_without():
    # Descent 100 m on days 3, 10, 17, 24 and 200 m on day 31: at day 34, 7-day descent 200 m against
    # the mean week of the 28 days before (days 0..27) = 400/4 = 100 m -> ratio 2.0 > 1.5.  A baseline
    # that included the current week would read 500/4 = 125 m (ratio 1.6).
    runs = [_run(0, 1000, id_="a"), _run(3, 1000, id_="b"), _run(10, 1000, id_="c"), _run(17, 1000, id_="d"),
            _run(24, 1000, id_="e"), _run(31, 1000, id_="f"), _run(34, 1000, id_="g")]
    feats = pd.DataFrame({"descent_m": [0, 100, 100, 100, 100, 200, 0], "gap_distance_m": [1000.0] * 7},
                         index=pd.Index(list("abcdefg"), name="activity_id"))
    rf, d = _daily(runs, features=feats)
    assert rf.not_available == () and d["descent_m"].iloc[1] == 0  # rest day: 0, not unknown
    ds = M.descent_spike(d["descent_m"])
    assert ds["descent_ratio"].iloc[:34].isna().all()   # 35 days: 28 days of baseline before the 7
    assert ds["descent_ratio"].iloc[34] == pytest.approx(2.0) and bool(ds["descent_spike"].iloc[34])
    rf0, d0 = _daily(runs)
    assert set(rf0.not_available) == {"descent_m", "gap_distance_m"}
    assert M.descent_spike(d0["descent_m"])["descent_ratio"].isna().all()
    # A run without a feature record makes its day's descent unknown (not 0).
    rf1, d1 = _daily(runs, features=feats.drop(index="e"))
    assert math.isnan(d1["descent_m"].iloc[24]) and d1["descent_m"].iloc[17] == 100


# -- the weekly table -------------------------------------------------------------------------------
def test_weekly_table_on_a_hand_made_history():
    runs = [_run(k, 5000) for k in (0, 2, 4, 7, 9, 11)] + [_run(14, 12000)]
    gap = DataGap("me", DAY0 + dt.timedelta(days=16), DAY0 + dt.timedelta(days=17))
    pain = [SimpleNamespace(time_utc=dt.datetime(2024, 1, 15, 20, tzinfo=dt.timezone.utc), score=3),
            SimpleNamespace(time_utc=dt.datetime(2024, 1, 16, 7, tzinfo=dt.timezone.utc), score=5),
            SimpleNamespace(time_utc=dt.datetime(2024, 1, 2, 7, tzinfo=dt.timezone.utc), score=1)]
    rep = build_report("me", runs_frame(runs, UTC), [gap], pain, UTC, DAY0 + dt.timedelta(days=20), 3)
    w = rep.weeks
    assert [(x.week_start, x.week_end) for x in w] == [
        (dt.date(2024, 1, 1), dt.date(2024, 1, 7)), (dt.date(2024, 1, 8), dt.date(2024, 1, 14)),
        (dt.date(2024, 1, 15), dt.date(2024, 1, 21))]
    # Days 0..6, 7..13, 14..20 (day 14 = 15 Jan); the gap covers days 16 and 17.
    assert [x.distance_m for x in w] == [15000, 15000, 12000]
    assert [x.runs for x in w] == [3, 3, 1]
    assert [x.no_data_days for x in w] == [0, 0, 2]
    assert w[1].change_pct is None and w[1].week_jump is None   # the reference week needs 21 days
    assert any("change_pct: not enough history (needs 21 days" in n for n in w[1].notes)
    assert w[2].change_pct is None and w[2].week_jump is None  # the gap makes the 7-day total unknown
    assert any("2 day(s) without data" in n for n in w[2].notes)
    assert w[0].change_pct is None and any("not enough history" in n for n in w[0].notes)
    assert [x.pain_max for x in w] == [1, None, 5]
    # Day 14's 12 km run: history is only 14 days old -> insufficient, not a spike.
    assert rep.runs[-1].spike_tier == "insufficient_history"
    out = rep.as_json()
    assert set(out) == {"weeks", "runs"}
    assert set(out["runs"][0]) == {"id", "start_time", "distance_m", "longest_prev_30d_m", "spike_pct",
                                   "spike_tier"}
    assert out["weeks"][0]["descent_m"] is None and any("descent_m" in n for n in out["weeks"][0]["notes"])


# -- the runpandas history (18 real runs, Oct 2020 - Jun 2021) --------------------------------------
@pytest.fixture(scope="module")
def runpandas_store(tmp_path_factory, real_data):
    real = real_data
    files = sorted((real / "gpx").glob("runpandas__session-*.gpx"))
    if len(files) != 18:
        pytest.skip(f"expected the 18 runpandas session GPX files in {real / 'gpx'}, found {len(files)}")
    from gaitrisk.ingest.pipeline import import_paths
    from gaitrisk.store import Store

    store = Store(tmp_path_factory.mktemp("rp") / "g.db")
    report = import_paths([str(f) for f in files], store, "rp")
    assert report.imported == 18 and not report.failed
    yield store
    store.close()


@pytest.mark.slow
def test_runpandas_history_spikes_and_weeks(runpandas_store):
    from gaitrisk.load.weekly import load_report

    recs = {r.start_time.date().isoformat() + ("b" if r.start_time.hour == 10 and r.start_time.day == 17
                                                    and r.start_time.month == 1 else ""): r
            for r in runpandas_store.activities("rp")}
    assert len(recs) == 18
    dist = {k: r.distance_m for k, r in recs.items()}
    rep = load_report(runpandas_store, "rp", UTC, dt.date(2021, 6, 27), 40)
    by_id = {r.id: r for r in rep.runs}
    tier = {k: by_id[r.id].spike_tier for k, r in recs.items()}
    # Worked out from the run dates (UTC days): history starts 2020-10-18, so runs up to
    # 2020-11-16 (29 days later) have no full 30-day window.
    for k in ("2020-10-18", "2020-10-30", "2020-11-02", "2020-11-16"):
        assert tier[k] == "insufficient_history", k
    # 2020-12-06: previous 30 days (11-06..12-05) hold 11-16 (10.35 km), 11-22, 12-02, 12-04;
    # 12.21 km is +18 % on 10.35 km -> small.
    run = by_id[recs["2020-12-06"].id]
    assert run.longest_prev_30d_m == pytest.approx(dist["2020-11-16"])
    assert run.spike_pct == pytest.approx((dist["2020-12-06"] / dist["2020-11-16"] - 1) * 100)
    assert tier["2020-12-06"] == "small"
    # 2021-01-17, second run: 13.5 km once its GPS glitches (a second position stream, the way across
    # recording holes) are left out -- 21.7 km with them; window 12-18..01-16, longest 2021-01-02
    # (10.1 km) -> +34 %, moderate; the 6.1 km run earlier the same day is not in its window.
    run = by_id[recs["2021-01-17b"].id]
    assert dist["2021-01-17b"] == pytest.approx(13_480, rel=0.01)
    assert run.longest_prev_30d_m == pytest.approx(dist["2021-01-02"]) and tier["2021-01-17b"] == "moderate"
    # Every other run from 2020-11-22 on is shorter than the longest of its previous 30 days...
    for k in ("2020-11-22", "2020-12-02", "2020-12-04", "2020-12-08", "2020-12-13", "2020-12-16",
              "2020-12-26", "2020-12-28", "2021-01-02", "2021-01-15", "2021-01-17"):
        assert tier[k] == "none", k
    # ... except 2021-06-20, after five months without running: no reference run in the
    # previous 30 days, and the week is a return to running.
    assert tier["2021-06-20"] == "insufficient_history"
    last_week = rep.weeks[-1]
    assert (last_week.week_start, last_week.week_end) == (dt.date(2021, 6, 21), dt.date(2021, 6, 27))
    june = [w for w in rep.weeks if w.week_start <= dt.date(2021, 6, 20) <= w.week_end][0]
    assert june.return_to_run is True and june.runs == 1
    # Weekly sums equal the sum of the runs whose UTC day falls in the week.
    for w in rep.weeks:
        expected = sum(r.distance_m for r in recs.values() if w.week_start <= r.start_time.date() <= w.week_end)
        if w.no_data_days == 0:
            assert w.distance_m == pytest.approx(expected), w.week_start
    assert sum(w.runs for w in rep.weeks) == 18


# -- the store's feature values, read for the load table ------------------------------------------
def test_read_runs_takes_descent_from_the_feature_records_as_the_model_does(tmp_path, real_data):
    """The load table reads two values of each feature record through SQLite's JSON functions; the
    model's athlete-day table reads the whole records.  Both must give each run the same descent and
    grade-adjusted distance, and a run without a record must stay unknown (NaN), not 0."""
    from gaitrisk.load.daily import read_runs
    from gaitrisk.store import Store
    from gaitrisk.workflow import import_files

    files = sorted((real_data / "gpx").glob("runpandas__session-*.gpx"))[:6]
    if len(files) < 6:
        pytest.skip("the runpandas GPX sessions are not in the real data")
    with Store(tmp_path / "s.db") as store:
        import_files(store, [str(f) for f in files], "ann")
        whole = store.run_features("ann")
        runs = read_runs(store, "ann", UTC)
        assert runs.not_available == () and len(runs) == 6
        assert np.isfinite(runs.values["descent_m"]).sum() >= 5
        for col in ("descent_m", "gap_distance_m"):
            np.testing.assert_array_equal(runs.values[col], whole[col].reindex(list(runs.ids)).to_numpy(float))
        frame = runs_frame(store.activities("ann"), UTC, whole)
        np.testing.assert_array_equal(frame.values["descent_m"], runs.values["descent_m"])
    from gaitrisk.workflow import import_runs

    with Store(tmp_path / "bare.db") as store:   # runs without feature records
        import_runs(store, [str(f) for f in files], "ann")
        assert set(read_runs(store, "ann", UTC).not_available) == {"descent_m", "gap_distance_m"}
        first = store.activities("ann")[0].id
        store.save_features(first, "ann", 1, {"activity_id": first, "descent_m": 12.5})   # one record, without gap_distance_m
        some = read_runs(store, "ann", UTC)
        assert some.not_available == () and some.values["descent_m"][0] == 12.5
        assert np.isnan(some.values["descent_m"][1:]).all() and np.isnan(some.values["gap_distance_m"]).all()
