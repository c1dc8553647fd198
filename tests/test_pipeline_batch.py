"""Worker-side encoding, batched writes, the file index and ship="paths" change nothing stored.

Each test imports one mixed folder (new runs, the same bytes twice, the same run as GPX and
TCX, a zip, a file with nothing to import, a broken file) and compares whole stores row by row.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import time
import zipfile

import pytest

from gaitrisk.executor import PoolExecutor
from gaitrisk.ingest.sources import walk
from gaitrisk.ingest.pipeline import import_paths
from gaitrisk.store import Store

from .helpers.gpxgen import gpx_run

UTC = dt.timezone.utc
OLD = time.time() - 3600  # file times older than the racy window, as in a real export folder


def _mixed(folder, real_data):
    folder.mkdir()
    runs = [gpx_run(dt.datetime(2024, 3, 1 + i, 7, tzinfo=UTC), minutes=5) for i in range(4)]
    for i, data in enumerate(runs):
        (folder / f"run{i}.gpx").write_bytes(data)
    (folder / "run0-copy.gpx.gz").write_bytes(gzip.compress(runs[0]))  # same bytes, same batch
    shutil.copy(real_data / "gpx/runpandas__run.gpx", folder / "pair.gpx")  # the same run twice:
    shutil.copy(real_data / "tcx/runpandas__run.tcx", folder / "pair.tcx")  # TCX is richer, comes second
    shutil.copy(real_data / "fit/fitparse__activity-small-fenix2-run.fit", folder)
    shutil.copy(real_data / "gpx/gpxpy__route.gpx", folder)  # a route: nothing to import
    (folder / "ride.gpx").write_bytes(gpx_run(dt.datetime(2024, 4, 1, 7, tzinfo=UTC), minutes=5, type_="cycling"))
    (folder / "zz-broken.gpx").write_bytes(b"<gpx><trk>")
    with zipfile.ZipFile(folder / "export.zip", "w") as z:
        z.writestr("a/new.gpx", gpx_run(dt.datetime(2024, 5, 1, 7, tzinfo=UTC), minutes=5))
        z.writestr("a/again.gpx", runs[1])
    for p in folder.iterdir():
        os.utime(p, (OLD, OLD))
    return folder


def _dump(store: Store) -> dict[str, list[tuple]]:
    """Every stored row that an import writes, without the import times."""
    c = store._conn
    columns = ", ".join(r[1] for r in c.execute("PRAGMA table_info(activities)") if r[1] != "imported_at")
    return {
        "activities": c.execute(f"SELECT {columns} FROM activities ORDER BY id").fetchall(),
        "sources": c.execute("SELECT athlete_id, sha256, leg_index, activity_id, file_name, fmt, size_bytes"
                             " FROM activity_sources ORDER BY sha256, leg_index").fetchall(),
        "samples": c.execute("SELECT * FROM samples ORDER BY activity_id").fetchall(),
        "skipped": c.execute("SELECT * FROM skipped_files ORDER BY sha256").fetchall(),
    }


def _same_stores(a: Store, b: Store) -> None:
    da, db = _dump(a), _dump(b)
    for table in da:
        assert da[table] == db[table], table
    assert len(da["activities"]) >= 6


def _summary(report):
    return report.as_json(), report.replaced, [(o.file, o.status, o.reason, o.activity_ids, o.partial)
                                               for o in report.outcomes]


def _pooled(paths, store, **kw):
    pool = PoolExecutor(2)
    try:
        return import_paths(paths, store, "ann", executor=pool, **kw)
    finally:
        pool.close()


@pytest.mark.slow
def test_two_workers_store_the_same_rows_as_serial(tmp_path, real_data):
    folder = _mixed(tmp_path / "in", real_data)
    with Store(tmp_path / "serial.db") as a, Store(tmp_path / "pool.db") as b:
        ra = import_paths([str(folder)], a, "ann")
        rb = _pooled([str(folder)], b)
        _same_stores(a, b)
        assert _summary(ra) == _summary(rb)
    # The batch held both dedup cases: the .gz copy and run1 (also in the zip) are duplicates by bytes,
    # the TCX replaced the GPX of the same run.
    by_file = {o.file.rsplit("/in/", 1)[-1]: o for o in ra.outcomes}
    assert {by_file["run0-copy.gpx"].status, by_file["run0.gpx"].status} == {"imported", "duplicate"}
    assert by_file["export.zip!a/again.gpx"].status == "imported" and by_file["run1.gpx"].status == "duplicate"
    assert by_file["pair.tcx"].status == "duplicate" and ra.replaced == 1
    assert by_file["zz-broken.gpx"].status == "failed"
    assert by_file["gpxpy__route.gpx"].status == "skipped" and by_file["ride.gpx"].status == "skipped"


def test_batch_size_does_not_change_what_is_stored(tmp_path, real_data):
    folder = _mixed(tmp_path / "in", real_data)
    with Store(tmp_path / "one.db") as a, Store(tmp_path / "big.db") as b:
        ra = import_paths([str(folder)], a, "ann", batch_files=1)
        rb = import_paths([str(folder)], b, "ann", batch_files=1000)
        _same_stores(a, b)
        assert _summary(ra) == _summary(rb)


def test_workers_reading_paths_store_the_same_as_shipped_bytes(tmp_path, real_data):
    folder = _mixed(tmp_path / "in", real_data)
    with Store(tmp_path / "bytes.db") as a, Store(tmp_path / "paths.db") as b:
        ra = _pooled([str(folder)], a)
        rb = _pooled([str(folder)], b, ship="paths")
        _same_stores(a, b)
        assert _summary(ra) == _summary(rb)
        # A second run shipping paths finds the same duplicates (without the index it decodes them).
        again = import_paths([str(folder)], b, "ann", ship="paths", use_file_index=False)
        assert (again.imported, again.duplicates) == (0, ra.imported + ra.duplicates)


def test_unknown_ship_mode_is_refused(tmp_path):
    with Store(tmp_path / "g.db") as st, pytest.raises(ValueError, match="ship"):
        import_paths([str(tmp_path)], st, "ann", ship="carrier-pigeon")


def test_a_failed_batch_leaves_nothing_half_written(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(5):
        (folder / f"run{i}.gpx").write_bytes(gpx_run(dt.datetime(2024, 3, 1 + i, 7, tzinfo=UTC), minutes=5))
    with Store(tmp_path / "g.db") as st:
        real_add, calls = st.add_activity, []

        def failing_add(*args, **kw):
            calls.append(1)
            if len(calls) == 4:  # the second activity of the second batch
                raise OSError("disk full")
            return real_add(*args, **kw)

        monkeypatch.setattr(st, "add_activity", failing_add)
        with pytest.raises(OSError, match="disk full"):
            import_paths([str(folder)], st, "ann", batch_files=2)
        # The first batch committed whole; the second (one activity already written) rolled back.
        assert len(st.activities()) == 2
        orphans = st._conn.execute(
            "SELECT count(*) FROM activity_sources s WHERE NOT EXISTS (SELECT 1 FROM activities a"
            " WHERE a.id=s.activity_id)").fetchone()[0]
        assert orphans == 0 and st._conn.execute("SELECT count(*) FROM samples").fetchone()[0] == 2
        monkeypatch.setattr(st, "add_activity", real_add)
        rep = import_paths([str(folder)], st, "ann")
        assert (rep.imported, rep.duplicates) == (3, 2)


def test_rerun_reports_unchanged_files_from_the_index_without_reading(tmp_path, real_data, monkeypatch):
    folder = _mixed(tmp_path / "in", real_data)
    with Store(tmp_path / "g.db") as st:
        import_paths([str(folder)], st, "ann")
        reread = import_paths([str(folder)], st, "ann", use_file_index=False)

        def no_reading(*args, **kw):
            raise AssertionError("an unchanged file was read")

        os.remove(folder / "zz-broken.gpx")  # it failed, so it is not indexed and would be read
        with monkeypatch.context() as m:
            m.setattr(walk, "read_local", no_reading)
            m.setattr(walk, "iter_top_zip", no_reading)
            cached = import_paths([str(folder)], st, "ann")
        assert cached.unread == len(list(folder.iterdir()))
        expected = [o for o in _summary(reread)[2] if not o[0].endswith("zz-broken.gpx")]
        assert _summary(cached)[2] == expected
        assert (cached.imported, cached.duplicates, cached.skipped) == (0, reread.duplicates, reread.skipped)


def test_changed_fresh_or_failed_files_are_read_again(tmp_path, real_data):
    folder = _mixed(tmp_path / "in", real_data)
    with Store(tmp_path / "g.db") as st:
        first = import_paths([str(folder)], st, "ann")
        n_files = len(list(folder.iterdir()))
        again = import_paths([str(folder)], st, "ann")
        assert again.unread == n_files - 1  # all but the broken file
        # A new file in place of an old one (same name, new bytes and mtime) is read and imported.
        (folder / "run3.gpx").write_bytes(gpx_run(dt.datetime(2024, 6, 1, 7, tzinfo=UTC), minutes=5))
        os.utime(folder / "run3.gpx", (OLD + 60, OLD + 60))
        changed = import_paths([str(folder)], st, "ann")
        assert changed.imported == 1 and changed.unread == n_files - 2
        # A file written just now is not trusted to the index (its mtime may not change on rewrite).
        (folder / "fresh.gpx").write_bytes(gpx_run(dt.datetime(2024, 7, 1, 7, tzinfo=UTC), minutes=5))
        import_paths([str(folder)], st, "ann")
        assert str(folder / "fresh.gpx") not in st.file_index("ann")
        assert first.failed and str(folder / "zz-broken.gpx") not in st.file_index("ann")


def test_zip_with_a_bad_member_is_not_indexed_and_index_is_per_athlete(tmp_path):
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a/1.gpx", gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=5))
        zf.writestr("../evil.gpx", b"x")  # refused member: the archive was not fully processed
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("a/2.gpx", gpx_run(dt.datetime(2024, 3, 2, 7, tzinfo=UTC), minutes=5))
    for p in (z, good):
        os.utime(p, (OLD, OLD))
    with Store(tmp_path / "g.db") as st:
        import_paths([str(z), str(good)], st, "ann")
        assert set(st.file_index("ann")) == {str(good)}
        rep = import_paths([str(z), str(good)], st, "ann")
        assert rep.unread == 1 and rep.duplicates == 2 and len(rep.failed) == 1
        bob = import_paths([str(good)], st, "bob")
        assert (bob.imported, bob.unread) == (1, 0)


def test_index_is_ignored_when_its_activities_are_gone(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.gpx").write_bytes(gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=5))
    os.utime(folder / "a.gpx", (OLD, OLD))
    with Store(tmp_path / "g.db") as st:
        import_paths([str(folder)], st, "ann")
        with st.transaction() as c:  # the activity is deleted behind the index's back
            c.execute("DELETE FROM activities")
        rep = import_paths([str(folder)], st, "ann")
        assert (rep.imported, rep.unread) == (1, 0)
