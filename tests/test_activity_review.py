"""Plausibility screening and managing one activity: "not a run?" activities, exclude, include,
set --sport, delete, and the athlete settings, each with what depends on it computed again."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from gaitrisk import schema as S
from gaitrisk.cli import cli
from gaitrisk.features import compute as compute_mod
from gaitrisk.features.plausibility import screen, speed_limit_mps
from gaitrisk.features.intensity import despike_hr, rolling_max_hr
from gaitrisk.load.daily import read_runs
from gaitrisk.records import ActivityRecord
from gaitrisk.store import Store
from gaitrisk.synth.runs import RunSpec, generate_run
from gaitrisk.synth.writers import write_fit, write_gpx, write_tcx

pytestmark = pytest.mark.slow


def _spec(seed: int, day: int, **kw) -> RunSpec:
    return RunSpec(seed=seed, start_time=dt.datetime(2024, 4, day, 6, 30, tzinfo=dt.UTC), sample_interval_s=5,
                   **{"distance_m": 6000.0} | kw)


def _runner(folder, days=(1, 2, 3, 8)):
    """The runner's own runs (3.2 m/s, 172 spm, HR 148), one a day, as FIT files."""
    return [write_fit(generate_run(_spec(d, d)), folder / f"run{d}.fit") for d in days]


def _ride(folder):
    # A GPX bike ride: 5.6 m/s with pedal turns (64-65 per minute, read as 129 "steps") -> 2.6 m "steps".
    return write_gpx(generate_run(_spec(40, 4, distance_m=12000.0, speed_mps=5.6, cadence_spm=129.0,
                                        heart_rate_bpm=178.0, include_dynamics=False)), folder / "ride.gpx")


def _rowing(folder):
    # Rowing labelled running: 40 strokes/min at 2.8 m/s -> 4.2 m per "step".
    return write_tcx(generate_run(_spec(50, 5, speed_mps=2.8, cadence_spm=40.0, heart_rate_bpm=182.0,
                                        include_dynamics=False)), folder / "rowing.tcx")


def _cli(db, *args, ok=True):
    res = CliRunner().invoke(cli, ["--db", str(db), *map(str, args)])
    assert "Traceback" not in res.output
    if ok:
        assert res.exit_code == 0, res.output
    return res


@pytest.fixture(autouse=True)
def hr_max_from_one_run(monkeypatch):
    # The data's maximum HR stands in from the first run with HR (not the tenth): a few runs show it.
    monkeypatch.setattr(compute_mod, "HR_MAX_MIN_RUNS", 1)


def _by_day(db) -> dict[int, tuple[str, dict]]:
    with Store(db) as st:
        return {r.start_time.day: (r.id, st.features(r.id)[1]) for r in st.activities("me")}


def _hr_max(record: dict) -> float:
    note = next(n for n in record["profile_notes"] if n.startswith("hr_max_bpm"))
    return float(re.search(r"\((\d+)", note).group(1)) if "data" in note else float(re.search(r"= (\d+)", note).group(1))


def _athlete_values(record: dict) -> tuple:
    """What other runs set in a run's record: threshold speed, max HR and the zones they give."""
    return (record["threshold_speed_mps"], _hr_max(record), record["hr_zone_s"], record["pace_zone_s"])


@pytest.fixture
def runner_only(tmp_path):
    folder = tmp_path / "files"
    folder.mkdir()
    db = tmp_path / "runner.db"
    _cli(db, "import", *_runner(folder), "--workers", "1")
    return _by_day(db)


@pytest.fixture
def mixed(tmp_path):
    """The runner's runs with a ride and a rowing session among them (days 4 and 5)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    db = tmp_path / "mixed.db"
    res = _cli(db, "import", *_runner(folder), _ride(folder), _rowing(folder), "--workers", "1")
    return db, res


def test_a_ride_and_a_rowing_session_are_stored_as_not_a_run_with_the_reason(mixed):
    db, res = mixed
    out = json.loads(_cli(db, "activities", "--json").output)
    by_fmt = {a["format"]: a for a in out}
    assert by_fmt["gpx"]["review"] == "not_a_run" and "step length" in by_fmt["gpx"]["review_reason"]
    assert by_fmt["tcx"]["review"] == "not_a_run" and "cadence 40 spm" in by_fmt["tcx"]["review_reason"]
    assert {a["review"] for a in out if a["format"] == "fit"} == {"run"}
    assert res.output.count("not a run?") == 2  # the import says so, one line each
    assert "not a run?" in _cli(db, "activities").output


def test_not_a_run_changes_no_later_run_of_the_runner(mixed, runner_only):
    db, _ = mixed
    got = _by_day(db)
    for day in (1, 2, 3, 8):
        assert _athlete_values(got[day][1]) == _athlete_values(runner_only[day][1]), day
    assert got[8][1]["threshold_speed_mps"] == pytest.approx(3.2, rel=0.02)
    assert _hr_max(got[8][1]) < 160  # the runner's own (148 + drift), not the rower's 182


def test_not_a_run_is_out_of_load_and_include_makes_it_count(mixed, runner_only):
    db, _ = mixed
    ride = _by_day(db)[4][0]
    with Store(db) as st:
        assert ride not in read_runs(st, "me", dt.UTC).frame.index
    _cli(db, "activity", "include", ride[:10])
    got = _by_day(db)
    assert got[8][1]["threshold_speed_mps"] == pytest.approx(5.6, rel=0.02)  # the ride's best 20 min counts now
    assert _hr_max(got[8][1]) > 170
    with Store(db) as st:
        assert ride in read_runs(st, "me", dt.UTC).frame.index
        assert st.reviews("me")[ride].status == "included"
    # Recomputing never overturns the user's word.
    _cli(db, "features", "--update", "--force")
    with Store(db) as st:
        assert st.reviews("me")[ride].status == "included"


def test_exclude_takes_a_run_out_of_load_and_baselines(runner_only, tmp_path):
    folder = tmp_path / "ex"
    folder.mkdir()
    db = tmp_path / "ex.db"
    files = _runner(folder, days=(1, 2, 3))
    # A faster run on day 4: it sets the threshold of day 8 until it is excluded.
    files.append(write_fit(generate_run(_spec(4, 4, speed_mps=4.0)), folder / "fast.fit"))
    files += _runner(folder, days=(8,))
    _cli(db, "import", *files, "--workers", "1")
    fast = _by_day(db)[4][0]
    assert _by_day(db)[8][1]["threshold_speed_mps"] == pytest.approx(4.0, rel=0.02)
    _cli(db, "activity", "exclude", fast)
    got = _by_day(db)
    assert _athlete_values(got[8][1]) == _athlete_values(runner_only[8][1])
    with Store(db) as st:
        frame = read_runs(st, "me", dt.UTC).frame
        assert fast not in frame.index and len(frame) == 4
        assert st.reviews("me")[fast].status == "excluded"
    _cli(db, "activity", "include", fast)
    assert _by_day(db)[8][1]["threshold_speed_mps"] == pytest.approx(4.0, rel=0.02)


def test_delete_removes_the_activity_and_recomputes_later_runs(mixed, runner_only):
    db, _ = mixed
    ride = _by_day(db)[4][0]
    _cli(db, "activity", "include", ride)
    _cli(db, "activity", "delete", ride, "--yes")
    got = _by_day(db)
    assert 4 not in got
    assert _athlete_values(got[8][1]) == _athlete_values(runner_only[8][1])
    with sqlite3.connect(db) as c:
        for table in ("activities", "samples", "activity_sources", "run_features"):
            col = "id" if table == "activities" else "activity_id"
            assert c.execute(f"SELECT count(*) FROM {table} WHERE {col}=?", (ride,)).fetchone()[0] == 0


def test_delete_asks_and_unknown_ids_are_one_line(mixed):
    db, _ = mixed
    ride = _by_day(db)[4][0]
    res = _cli(db, "activity", "delete", ride, ok=False)
    assert res.exit_code != 0 and "add --yes" in res.output
    assert 4 in _by_day(db)
    for args in (["exclude", "zzz"], ["include", "zzz"], ["delete", "zzz", "--yes"], ["set", "zzz", "--sport", "run"]):
        res = _cli(db, "activity", *args, ok=False)
        assert res.exit_code != 0 and res.output.strip().splitlines() == [
            f"store: {db.resolve()}", "Error: no activity with id 'zzz'"]


def test_set_sport_ride_takes_a_run_out_and_trail_sets_the_surface(runner_only, tmp_path):
    folder = tmp_path / "sp"
    folder.mkdir()
    db = tmp_path / "sp.db"
    files = _runner(folder, days=(1, 2, 3))
    files.append(write_fit(generate_run(_spec(4, 4, speed_mps=4.0)), folder / "fast.fit"))
    files += _runner(folder, days=(8,))
    _cli(db, "import", *files, "--workers", "1")
    fast = _by_day(db)[4][0]
    _cli(db, "activity", "set", fast, "--sport", "ride")
    assert _athlete_values(_by_day(db)[8][1]) == _athlete_values(runner_only[8][1])
    res = _cli(db, "activity", "include", fast, ok=False)
    assert res.exit_code != 0 and "--sport run" in res.output
    day1 = _by_day(db)[1][0]
    _cli(db, "activity", "set", day1, "--sport", "trail")
    assert _by_day(db)[1][1]["surface"] == "trail"
    _cli(db, "activity", "set", fast, "--sport", "run")
    assert _by_day(db)[8][1]["threshold_speed_mps"] == pytest.approx(4.0, rel=0.02)


def test_athlete_set_max_hr_and_threshold_pace_change_the_zones(runner_only, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    db = tmp_path / "p.db"
    _cli(db, "import", *_runner(folder), "--workers", "1")
    before = _by_day(db)[8][1]
    _cli(db, "athlete", "set", "--max-hr", "200")
    after = _by_day(db)[8][1]
    assert after["hr_zone_s"] != before["hr_zone_s"]
    assert not any(n.startswith("hr_max_bpm") for n in after["profile_notes"])  # the set value, no default
    # 148 bpm is 74 % of 200: zone 3 (70-80 %); of the data's ~151 maximum it was zone 5.
    assert np.argmax(after["hr_zone_s"]) == 2 and np.argmax(before["hr_zone_s"]) == 4
    _cli(db, "athlete", "set", "--threshold-pace", "4:00", "--height", "180")
    rec = _by_day(db)[8][1]
    assert rec["threshold_speed_mps"] == pytest.approx(1000 / 240)
    assert rec["pace_zone_s"] != after["pace_zone_s"]
    assert rec["step_length_per_height"] == pytest.approx(rec["step_length_m"] / 1.8)
    bad = _cli(db, "athlete", "set", "--threshold-pace", "4:75", ok=False)
    assert bad.exit_code != 0 and "M:SS" in bad.output


def test_hr_spikes_set_no_athlete_maximum(tmp_path):
    folder = tmp_path / "hr"
    folder.mkdir()
    db = tmp_path / "hr.db"
    spiky = generate_run(_spec(3, 3))
    hr = spiky.samples[S.HEART_RATE].to_numpy().copy()
    hr[100:104] = 230.0  # 20 s of a strap's spike (5 s samples)
    hr[200] = 255.0
    spiky.samples[S.HEART_RATE] = hr
    files = [*_runner(folder, days=(1, 2)), write_tcx(spiky, folder / "spiky.tcx"), *_runner(folder, days=(8,))]
    _cli(db, "import", *files, "--workers", "1")
    assert _hr_max(_by_day(db)[8][1]) < 160


def test_despike_keeps_a_real_rise_and_drops_short_spikes():
    el = np.arange(0.0, 1800.0)
    hr = np.linspace(120.0, 180.0, el.size)  # a steady 2 bpm/min rise to a hard finish
    assert rolling_max_hr(el, despike_hr(el, hr)) == pytest.approx(rolling_max_hr(el, hr))
    spiky = hr.copy()
    spiky[600:615] = 235.0
    spiky[900] = 255.0
    assert rolling_max_hr(el, spiky) > 185
    assert rolling_max_hr(el, despike_hr(el, spiky)) == pytest.approx(rolling_max_hr(el, hr), abs=0.5)


# The file's own totals: none, as in a recording without distance or cadence.
BARE = ActivityRecord(id="x", athlete="me", fmt="fit", sport="running", sub_sport=None, device=None, name=None,
                      start_time=dt.datetime(2024, 4, 7, tzinfo=dt.UTC), duration_s=1.0, moving_time_s=1.0,
                      distance_m=None, avg_cadence_spm=None, avg_stance_time_ms=None, partial=False, sources=(),
                      laps=(), summary=None, problems=())


def _screen(rec: ActivityRecord = BARE, **kw):
    from gaitrisk.features.compute import run_pass
    from gaitrisk.features.profile import resolve

    run = generate_run(_spec(7, 7, **kw))
    features = run_pass(BARE, run.samples, resolve(None)).features
    return screen(replace(features, distance_m=0.0) if kw.get("include_cadence") is False else features, rec)


def test_screen_rules():
    assert _screen() is None  # an easy run
    assert _screen(speed_mps=6.0, distance_m=5000) is None  # a 5000 m world-class race
    assert "faster than the world record" in _screen(speed_mps=6.7, distance_m=12000)
    assert "cadence 40 spm" in _screen(speed_mps=2.8, cadence_spm=40.0)
    assert "step length" in _screen(speed_mps=5.6, cadence_spm=129.0, include_dynamics=False)
    # A cadence that may count one foot (85/min) is not judged by step length.
    assert _screen(speed_mps=3.3, cadence_spm=85.0, include_dynamics=False) is None
    assert "nothing in it shows running" in _screen(include_cadence=False)
    # Sparse samples may leave the features no distance: the file's own distance shows the run.
    assert _screen(replace(BARE, distance_m=8000.0), include_cadence=False) is None
    assert speed_limit_mps(100.0) is None and speed_limit_mps(1800.0) == pytest.approx(10000 / 1571.0)


def test_a_store_of_the_previous_schema_screens_its_runs_on_the_next_update(tmp_path):
    from gaitrisk.store.migrations import MIGRATIONS, V5_REVIEW

    folder = tmp_path / "old"
    folder.mkdir()
    db = tmp_path / "old.db"
    _cli(db, "import", *_runner(folder, days=(1,)), _ride(folder), "--workers", "1")
    with sqlite3.connect(db) as c:  # back to v4: the review columns gone, as before this schema
        c.execute("ALTER TABLE activities DROP COLUMN review")
        c.execute("ALTER TABLE activities DROP COLUMN review_reason")
        c.execute("DROP TABLE ostrc_weeks")  # and the tables of the migrations after it
        c.execute("ALTER TABLE activities DROP COLUMN road_side")   # a later schema's column
        c.execute(f"PRAGMA user_version={MIGRATIONS.index(V5_REVIEW)}")
    with Store(db) as st:
        assert {r.status for r in st.reviews("me").values()} == {None}
    _cli(db, "features", "--update")
    with Store(db) as st:
        assert sorted(r.status for r in st.reviews("me").values()) == ["not_a_run", "run"]


def test_the_nightly_report_follows_an_exclude(tmp_path):
    """Excluding a run changes what the report is made from: the next nightly run writes it again."""
    from gaitrisk.nightly import run_nightly

    inbox = tmp_path / "inbox" / "ann"
    inbox.mkdir(parents=True)
    _runner(inbox)
    db, reports = tmp_path / "g.db", tmp_path / "reports"

    def night():
        return run_nightly(db, tmp_path / "inbox", report_dir=reports, zone=dt.UTC, min_age_s=0)

    def runs_in_report() -> int:
        weeks = json.loads((reports / "ann.json").read_text())["athletes"][0]["weeks"]
        return sum(w["runs"] or 0 for w in weeks)

    assert not night().nothing_new
    assert night().nothing_new
    assert runs_in_report() == 4
    with Store(db) as st:
        victim = st.activities("ann")[-1].id
    _cli(db, "activity", "exclude", victim)
    assert not night().nothing_new
    assert runs_in_report() == 3


def test_zero_distance_and_zero_cadence_is_not_a_run():
    """A device that writes 0 for the cadence it did not measure: 0 steps are no cadence."""
    zero = replace(BARE, duration_s=22.0, moving_time_s=22.0, distance_m=0.0, avg_cadence_spm=0.0)
    assert _screen(zero, include_cadence=False) == "0 m and no cadence: nothing in it shows running"
    # A real run's distance still shows running when the device's cadence is 0 (no sensor).
    assert _screen(replace(zero, distance_m=8000.0), include_cadence=False) is None
