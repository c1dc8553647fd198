"""Import end to end: dedup by bytes and by run, batches that survive bad files, crash safety."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store

from .helpers.gpxgen import gpx_run

UTC = dt.timezone.utc


def _season(folder, n=6, start=dt.datetime(2024, 3, 1, 7, tzinfo=UTC)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"run{i:03d}.gpx").write_bytes(gpx_run(start + dt.timedelta(days=i), minutes=5))
    return folder


@pytest.mark.slow
def test_same_folder_twice_adds_nothing(tmp_path):
    runs = _season(tmp_path / "runs")
    with Store(tmp_path / "g.db") as st:
        first = import_paths([str(runs)], st, "ann")
        second = import_paths([str(runs)], st, "ann")
        assert (first.imported, first.duplicates) == (6, 0)
        assert (second.imported, second.duplicates) == (0, 6)
        assert len(st.activities("ann")) == 6


def test_same_bytes_in_gz_and_zip_is_one_activity(tmp_path):
    data = gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=5)
    (tmp_path / "a.gpx").write_bytes(data)
    (tmp_path / "a.gpx.gz").write_bytes(gzip.compress(data))
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as z:
        z.writestr("activities/a.gpx", data)
    with Store(tmp_path / "g.db") as st:
        rep = import_paths([str(tmp_path / p) for p in ("a.gpx", "a.gpx.gz", "export.zip")], st, "ann")
        assert (rep.imported, rep.duplicates) == (1, 2)


def test_same_run_other_format_keeps_richest_and_records_both(tmp_path, real_data):
    gpx, tcx = real_data / "gpx/runpandas__run.gpx", real_data / "tcx/runpandas__run.tcx"
    with Store(tmp_path / "g.db") as st:
        rep = import_paths([str(gpx), str(tcx)], st, "ann")  # the poorer format first
        assert (rep.imported, rep.duplicates, rep.replaced) == (1, 1, 1)
        [rec] = st.activities()
        assert rec.fmt == "tcx" and set(rec.sources) == {str(gpx), str(tcx)}
        assert "speed_mps" in st.samples(rec.id).columns  # the TCX speed extension won
        rep2 = import_paths([str(tcx), str(gpx)], st, "ann")
        assert (rep2.imported, rep2.duplicates, rep2.replaced) == (0, 2, 0)


@pytest.mark.slow
def test_dec_2020_tcx_and_session_gpx_are_one_history(tmp_path, real_data):
    # The Dec-2020 TCX runs also appear among the session GPX files: each run once.
    with Store(tmp_path / "g.db") as st:
        import_paths([str(real_data / "gpx")], st, "ann")
        n_gpx = len(st.activities())
        rep = import_paths([str(real_data / "tcx")], st, "ann")
        fmt = {r.start_time.date(): r.fmt for r in st.activities()}
        # 12-02, 12-06, 12-08, 12-13, 12-26, and the "run" and "stopped_example" GPX/TCX pairs
        assert rep.duplicates == 7
        assert len(st.activities()) == n_gpx + rep.imported
        assert fmt[dt.date(2020, 12, 6)] == "tcx"


def test_two_athletes_same_file_are_separate(tmp_path):
    runs = _season(tmp_path / "runs", n=2)
    with Store(tmp_path / "g.db") as st:
        import_paths([str(runs)], st, "ann")
        import_paths([str(runs)], st, "bob")
        assert len(st.activities("ann")) == len(st.activities("bob")) == 2
        assert {r.id for r in st.activities("ann")}.isdisjoint({r.id for r in st.activities("bob")})


def test_bad_files_never_abort_the_batch(tmp_path, real_data):
    runs = _season(tmp_path / "runs", n=3)
    (runs / "broken.gpx").write_bytes(b"<gpx><trk>")
    (runs / "zero.fit").write_bytes(b"")
    shutil.copy(real_data / "corrupt/fitparse__activity-unexpected-eof.fit", runs)
    with Store(tmp_path / "g.db") as st:
        rep = import_paths([str(runs), str(tmp_path / "missing")], st, "ann")
    assert rep.imported == 4 and rep.partial == 1
    failed = {f["file"].split("/")[-1]: f["reason"] for f in rep.failed}
    assert set(failed) == {"broken.gpx", "zero.fit", "missing"}
    assert all("\n" not in r for r in failed.values())


def test_strava_export_names_and_types(tmp_path):
    z = tmp_path / "export_123.zip"
    run = gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=5)
    ride = gpx_run(dt.datetime(2024, 3, 2, 7, tzinfo=UTC), minutes=5, type_="running")
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("activities.csv", "Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
                    "1,\"Mar 1, 2024\",Morning tempo,Run,activities/1.gpx.gz\n"
                    "2,\"Mar 2, 2024\",Commute,Ride,activities/2.gpx.gz\n")
        zf.writestr("activities/1.gpx.gz", gzip.compress(run))
        zf.writestr("activities/2.gpx.gz", gzip.compress(ride))
    with Store(tmp_path / "g.db") as st:
        rep = import_paths([str(z)], st, "ann")
        assert (rep.imported, rep.skipped) == (1, 1)
        assert st.activities()[0].name == "Morning tempo"
    assert any("Ride" in (o.reason or "") for o in rep.outcomes)


@pytest.mark.slow
def test_killed_import_leaves_a_consistent_store_that_a_rerun_completes(tmp_path):
    runs = _season(tmp_path / "runs", n=40)
    db = tmp_path / "g.db"
    code = ("import sys; from gaitrisk.store import Store; from gaitrisk.ingest.pipeline import import_paths;"
            "import_paths([sys.argv[1]], Store(sys.argv[2]), 'ann')")
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", code, str(runs), str(db)])
        deadline = time.time() + 60
        while time.time() < deadline:  # kill once some, but not all, runs are in
            time.sleep(0.05)
            if db.exists() and _count(db) >= 5 + 10 * attempt:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with Store(db) as st:
            assert st.integrity_check() == "ok"
            n = len(st.activities())
            orphans = st._conn.execute(
                "SELECT count(*) FROM activities a WHERE NOT EXISTS (SELECT 1 FROM samples s WHERE s.activity_id=a.id)"
                " OR NOT EXISTS (SELECT 1 FROM activity_sources x WHERE x.activity_id=a.id)").fetchone()[0]
            assert orphans == 0 and 0 < n <= 40
    with Store(db) as st:
        rep = import_paths([str(runs)], st, "ann")
        assert rep.imported + rep.duplicates == 40
        assert len(st.activities()) == 40


def _count(db) -> int:
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM activities").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_parallel_import_matches_serial(tmp_path):
    from gaitrisk.executor import PoolExecutor

    runs = _season(tmp_path / "runs", n=8)
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        import_paths([str(runs)], a, "ann")
        pool = PoolExecutor(2)
        try:
            import_paths([str(runs)], b, "ann", executor=pool)
        finally:
            pool.close()
        ra, rb = a.activities(), b.activities()
        assert [r.id for r in ra] == [r.id for r in rb]
        assert [r.distance_m for r in ra] == [r.distance_m for r in rb]


def test_estimate_count_for_the_progress_bar(tmp_path):
    from gaitrisk.ingest.sources import estimate_count

    runs = _season(tmp_path / "runs", n=3)
    (runs / "notes.txt").write_text("not an activity")
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as z:
        z.writestr("a/1.fit", b"x")
        z.writestr("a/2.gpx.gz", b"x")
        z.writestr("a/readme.json", b"{}")
    assert estimate_count([str(runs), str(tmp_path / "export.zip")]) == 5
