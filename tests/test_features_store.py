"""Feature records in the store: the migration, recompute on a version or profile change,
``Store.run_features`` for the load code, and the ``gaitrisk features`` CLI contract."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.features import compute as compute_mod
from gaitrisk.features.compute import compute_and_store_features
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store

from .helpers.paths import FIXTURES

pytestmark = pytest.mark.slow

SEASON = json.loads((FIXTURES / "truth" / "season.json").read_text())
# The season's first three weeks (before its watch gap): enough runs for the run-at-a-time
# imports below, which recompute every later run's record on each step.
FIRST_WEEKS = sorted(p for p in (FIXTURES / "runs").iterdir() if p.name < "2024-04-20")
# The keys `gaitrisk features ID --json` must hold (null where not computable).
ISSUE_KEYS = {"cadence_spm", "cadence_residual_pct", "step_length_m", "gct_ms", "gct_source", "gct_balance_pct",
              "vertical_oscillation_mm", "grade", "descent_m", "distance_m_grade_le_minus5", "gap_pace_s_per_km",
              "track_ccw_m", "track_cw_m", "road_left_low_m", "road_right_low_m", "camber_exposure_index",
              "overstride_score", "surface", "long_run", "speed_work_s", "hr_zone_s"}


@pytest.fixture
def season(tmp_path):
    db = tmp_path / "g.db"
    with Store(db) as st:
        import_paths([str(FIXTURES / "runs")], st, "demo")
    return db


def test_features_are_computed_once_and_again_on_a_version_change(season, monkeypatch):
    with Store(season) as st:
        n = len(st.activities("demo"))
        assert compute_and_store_features(st).computed == n
        again = compute_and_store_features(st)
        assert (again.computed, again.up_to_date) == (0, n)
        # A new version: the one the staleness check asks for and the one the computation writes.
        from gaitrisk.features import status

        monkeypatch.setattr(status, "FEATURE_VERSION", compute_mod.FEATURE_VERSION + 1)
        monkeypatch.setattr(compute_mod, "FEATURE_VERSION", compute_mod.FEATURE_VERSION + 1)
        assert compute_and_store_features(st).computed == n
        assert set(st.feature_versions("demo").values()) == {compute_mod.FEATURE_VERSION}


def test_a_profile_change_makes_records_stale(season):
    with Store(season) as st:
        compute_and_store_features(st)
        st.set_profile("demo", {"height_m": 1.9})
        assert compute_and_store_features(st).computed == len(st.activities("demo"))
        rec = st.features(st.activities("demo")[0].id)[1]
        assert rec["step_length_per_height"] == pytest.approx(rec["step_length_m"] / 1.9)


def test_run_features_frame_for_the_load_code(season):
    with Store(season) as st:
        assert st.run_features("demo").empty
        compute_and_store_features(st)
        df = st.run_features("demo")
        recs = st.activities("demo")
    assert df.index.name == "activity_id" and list(df.index) == [r.id for r in recs]
    assert df["descent_m"].dtype == float and df["gap_distance_m"].dtype == float
    for r in recs:
        key = next(k for k in SEASON if r.sources[0].endswith(k.split("/")[-1]))
        truth = SEASON[key]
        row = df.loc[r.id]
        assert row["distance_m"] == pytest.approx(truth["distance_m"], rel=0.01)
        # Noise-free altitude: within 1 m.  Barometric noise (0.3-0.4 m SD) sampled every 5 s is
        # barely median-filtered (the filter spans 5 s) and adds a few metres: within 15 %.
        tol = 1.0 if truth["altitude_noise_sd_m"] == 0 else 0.15 * truth["total_descent_m"]
        assert row["descent_m"] == pytest.approx(truth["total_descent_m"], abs=tol)
        assert row["ascent_m"] == pytest.approx(truth["total_ascent_m"], abs=max(tol, 0.15 * truth["total_ascent_m"]))
        # Grade-adjusted distance is never below the distance for these gentle routes
        # (Minetti's cost only falls below level for descents steeper than ~ -2 %).
        assert row["gap_distance_m"] >= row["distance_m"] * 0.99


def test_hill_season_run_has_its_downhill_exposure(season):
    with Store(season) as st:
        compute_and_store_features(st)
        df = st.run_features("demo")
        hills = [r.id for r in st.activities("demo") if r.sources[0].endswith("hills.fit")]
    truth = SEASON["runs/2024-04-05_hills.fit"]
    row = df.loc[hills[0]]
    # Each -6 % descent is 200 m.  The 50 m window alone trims ~16 % (measured noise-free); with
    # 5 s samples (~3.5 per window) and 0.4 m barometric noise (grade SD ~1 point) about 30 %
    # is lost at the -5 % threshold (docs/features.md): this is a lower bound on exposure.
    true_m = truth["n_climbs"] * truth["hill_length_m"]
    assert 0.65 * true_m <= row["distance_m_grade_le_minus5"] <= true_m + 30
    assert row["distance_m_grade_le_minus10"] < 0.05 * true_m


def test_cli_features_update_and_json_contract(season):
    run = CliRunner().invoke
    res = run(cli, ["--db", str(season), "features", "--update", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"computed": len(SEASON) - 1, "up_to_date": 0, "failed": [], "not_a_run": []}
    ids = [a["id"] for a in json.loads(run(cli, ["--db", str(season), "activities", "--json"]).output)]
    for rid in ids:
        out = run(cli, ["--db", str(season), "features", rid[:10], "--json"])
        assert out.exit_code == 0, out.output
        rec = json.loads(out.output)
        assert ISSUE_KEYS <= rec.keys()
        assert rec["gct_source"] in ("measured", "estimated")
    text = run(cli, ["--db", str(season), "features", ids[0]])
    assert text.exit_code == 0 and "cadence" in text.output and "note:" in text.output


def test_cli_features_errors(tmp_path, season):
    run = CliRunner().invoke
    assert run(cli, ["--db", str(season), "features"]).exit_code != 0
    missing = run(cli, ["--db", str(season), "features", "ffffffff"])
    assert missing.exit_code != 0 and "no activity" in missing.output
    first = json.loads(run(cli, ["--db", str(season), "activities", "--json"]).output)[0]["id"]
    not_yet = run(cli, ["--db", str(season), "features", first])
    assert not_yet.exit_code != 0 and "features --update" in not_yet.output
    for args in (["features"], ["athlete"], ["athlete", "set"], ["athlete", "show"]):
        assert run(cli, [*args, "--help"]).exit_code == 0


def test_help_does_not_import_pandas():
    import subprocess
    import sys

    code = "import sys; from gaitrisk.cli import cli; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_balance_shift_is_stored_once_three_earlier_runs_have_balance(season):
    with Store(season) as st:
        compute_and_store_features(st)
        df = st.run_features("demo")
        recs = st.activities("demo")
    ids = [r.id for r in recs]
    # Season FIT runs record balance; the first weeks' last run (long loop, 51.4 % left) follows >= 3 of them.
    at = next(i for i, r in enumerate(recs) if r.sources[0].endswith("2024-04-19_long_loop.fit"))
    last = df.loc[ids[at]]
    assert last["gct_balance_pct"] == pytest.approx(51.4, abs=0.1)
    earlier = df.loc[ids[:at], "gct_balance_pct"].dropna()
    assert len(earlier) >= 3
    assert last["gct_balance_shift_pct"] == pytest.approx(51.4 - earlier.median(), abs=0.1)
    assert np.isnan(float(df["gct_balance_shift_pct"].iloc[0]))  # no baseline yet: null, not 0


def test_a_run_a_night_gives_the_records_of_one_import_of_everything(tmp_path, monkeypatch):
    """Incremental update (the nightly run): the earlier runs' first pass comes from their stored
    records, so one new run costs one run's samples; and what spans runs (GCT calibration,
    threshold speed, maximum heart rate, cadence baseline) is causal, so importing the season a
    run at a time gives every record of importing it at once."""
    runs = [p for p in FIRST_WEEKS if p.suffix in (".fit", ".gpx", ".tcx")]
    with Store(tmp_path / "inc.db") as st:
        for path in runs:  # the file names sort by date: a run a night
            import_paths([str(path)], st, "demo")
            before = {r.id for r in st.activities("demo")} - set(st.feature_versions("demo"))
            read: list[str] = []
            real = st.samples_blob  # what the feature pass reads (and ships to workers)
            monkeypatch.setattr(st, "samples_blob", lambda aid: read.append(aid) or real(aid))
            done: list[str] = []
            rep = compute_and_store_features(st, "demo", on_run=done.append)
            monkeypatch.undo()
            assert rep.computed == len(done) == len(before) and read == done == sorted(before)
        incremental = st.run_features("demo")
    with Store(tmp_path / "full.db") as st:
        import_paths([str(p) for p in runs], st, "demo")
        compute_and_store_features(st, "demo")
        full = st.run_features("demo")
    assert not any(c.startswith("_") for c in full.columns)  # the cache is not a feature
    assert sorted(incremental.index) == sorted(full.index) and len(full) == 8
    cols = sorted(set(full.columns) - {"computed_at"})
    assert "profile_notes" in cols and "threshold_speed_mps" in cols and "gct_estimated_ms" in cols
    for c in cols:
        for x, y in zip(incremental.loc[full.index, c], full[c]):
            assert repr(x) == repr(y), (c, x, y)


def test_an_old_export_added_after_newer_runs_gives_the_records_of_one_import(tmp_path):
    """Backfill: the runs arrive newest first, a run at a time (the nightly run first, then the old
    export). Each older run is in the newer runs' history, so their records are computed again,
    and the store ends with exactly the records of importing everything at once."""
    # The tempo run's GPX copy is left out: which copy of a run is kept depends on which came
    # first (the import's rule), and this test is about the features.
    runs = [p for p in FIRST_WEEKS if p.suffix in (".fit", ".gpx", ".tcx") and p.name != "2024-04-12_tempo_loop.gpx"]
    with Store(tmp_path / "full.db") as st:
        import_paths([str(p) for p in runs], st, "demo")
        compute_and_store_features(st, "demo")
        full = st.run_features("demo")
    with Store(tmp_path / "back.db") as st:
        reports = []
        for path in reversed(runs):
            import_paths([str(path)], st, "demo")
            reports.append(compute_and_store_features(st, "demo"))
        back = st.run_features("demo")
        again = compute_and_store_features(st, "demo")
    # Every added run is older than all stored ones: each call computes it and all later runs.
    assert [r.computed for r in reports] == list(range(1, len(runs) + 1)) and len(runs) == 8
    assert all(r.up_to_date == 0 and not r.failed for r in reports)
    assert (again.computed, again.up_to_date) == (0, len(runs))
    cols = sorted(set(full.columns) - {"computed_at"})
    assert sorted(back.index) == sorted(full.index)
    for c in cols:
        for x, y in zip(back.loc[full.index, c], full[c]):
            assert repr(x) == repr(y), (c, x, y)


def test_athlete_values_use_the_run_and_the_runs_before_it_only(season):
    """The pace zones' threshold speed is the best 20 min of this run and the earlier ones, the GCT
    scale the median measured/Hoyt ratio of the same runs (evidence.md 2.2), never a later run's."""
    with Store(season) as st:
        compute_and_store_features(st, "demo")
        recs = [st.features(r.id)[1] for r in st.activities("demo")]
    best = [r[compute_mod.FIRST_PASS_KEY]["best_20min_speed"] for r in recs]
    ratios = [r[compute_mod.FIRST_PASS_KEY]["gct_ratio"] for r in recs]
    thresholds = [r["threshold_speed_mps"] for r in recs]
    assert thresholds[0] == best[0] and len(set(thresholds)) > 1  # the season's best comes later
    for i, rec in enumerate(recs):
        so_far = [b for b in best[:i + 1] if b]
        assert rec["threshold_speed_mps"] == (max(so_far) if so_far else None)
        measured = [x for x in ratios[:i + 1] if x]
        if measured and rec["gct_source"] == "estimated":
            hoyt = rec["gct_estimated_ms"] / float(np.median(measured))
            assert any(f"x{float(np.median(measured)):.3f} on {len(measured)} run(s)" in n
                       for n in rec["profile_notes"])
            assert 150 < hoyt < 400  # the uncalibrated Hoyt estimate of a run at 2-5 m/s, ms


def test_records_computed_in_worker_processes_equal_the_in_process_ones(season, tmp_path):
    """Both passes run through the executor (per-run features in the process pool)."""
    from gaitrisk.executor import PoolExecutor

    with Store(season) as st:
        serial = compute_and_store_features(st, "demo")
        expected = st.run_features("demo")
        with PoolExecutor(2) as pool:
            pooled = compute_and_store_features(st, "demo", force=True, executor=pool)
        got = st.run_features("demo")
    assert pooled.computed == serial.computed == len(expected) and not pooled.failed
    assert list(got.index) == list(expected.index)
    for col in sorted(set(expected.columns) - {"computed_at"}):
        assert [repr(v) for v in got[col]] == [repr(v) for v in expected[col]], col


def test_a_run_whose_samples_are_damaged_is_reported_and_the_others_are_stored(season):
    with Store(season) as st:
        ids = [r.id for r in st.activities("demo")]
        with st.transaction() as c:
            c.execute("UPDATE samples SET blob=? WHERE activity_id=?", (b"GRZC garbage", ids[2]))
        rep = compute_and_store_features(st, "demo")
        assert rep.computed == len(ids) - 1
        assert [f["activity_id"] for f in rep.failed] == [ids[2]]
        assert "damaged" in rep.failed[0]["reason"]
        assert st.features(ids[2]) is None and st.features(ids[3]) is not None
        # It adds nothing to the later runs' history: the next run leaves their records alone.
        again = compute_and_store_features(st, "demo")
        assert (again.computed, again.up_to_date, len(again.failed)) == (0, len(ids) - 1, 1)


def test_cli_features_update_runs_in_worker_processes(season):
    res = CliRunner().invoke(cli, ["--db", str(season), "features", "--update", "--workers", "2", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"computed": len(SEASON) - 1, "up_to_date": 0, "failed": [], "not_a_run": []}


def test_baseline_window_and_week_distance_by_bisection_equal_the_plain_scan():
    """_past / _week_distance use the runs' sorted start times; the answer is the O(n^2) scan's."""
    import datetime as dt
    import random

    from gaitrisk.features.compute import BASELINE_DAYS, _past, _week_distance

    rnd = random.Random(7)
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    # Ties (two runs at one start) and gaps longer than the windows, like real histories.
    times = sorted(t0 + dt.timedelta(hours=rnd.choice([0, 0, 6, 30, 24 * 40]) * k // 3) for k in range(300))

    class Rec:
        def __init__(self, t):
            self.start_time, self.distance_m = t, rnd.choice([None, 5000.0, 10123.5, 21097.5])

    recs = [Rec(t) for t in times]
    first = [rnd.choice([None, object()]) for _ in recs]
    counted = [rnd.random() < 0.8 for _ in recs]  # runs set aside ("not a run?", excluded) count nowhere
    for i, r in enumerate(recs):
        t = r.start_time
        assert _past(first, times, i, counted) == [
            j for j in range(i) if first[j] is not None and counted[j]
            and t - dt.timedelta(days=BASELINE_DAYS) <= recs[j].start_time < t]
        assert _week_distance(recs, times, i, counted) == float(sum(
            x.distance_m or 0.0 for x, c in zip(recs[:i + 1], counted) if c and t - dt.timedelta(days=7) < x.start_time <= t))
