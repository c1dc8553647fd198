"""The SQLite store: migrations, atomic writes, user-only files, samples round trip."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import stat

import numpy as np
import pandas as pd
import pytest

from gaitrisk import schema as S
from gaitrisk.ingest.frame import build_samples
from gaitrisk.records import ActivityRecord
from gaitrisk.store import SourceRef, Store, StoreError, codec
from gaitrisk.store.migrations import MIGRATIONS
from gaitrisk.store.sqlite import FileIndexEntry


def _samples(n=50):
    ts = np.datetime64("2024-05-01T07:00:00", "ns") + np.arange(n).astype("timedelta64[s]")
    return build_samples(ts, {S.LAT: np.linspace(46, 46.01, n), S.LON: np.full(n, 14.5),
                              S.CADENCE: np.full(n, 170.0), S.TIMER_SEGMENT: np.zeros(n, int)})


def _record(id_="a1", athlete="ann"):
    return ActivityRecord(id=id_, athlete=athlete, fmt="gpx", sport="running", sub_sport=None, device=None,
                          name=None, start_time=dt.datetime(2024, 5, 1, 7, tzinfo=dt.timezone.utc), duration_s=49.0,
                          moving_time_s=49.0, distance_m=1112.0, avg_cadence_spm=170.0, avg_stance_time_ms=None,
                          partial=False, sources=("x.gpx",))


def test_new_store_is_migrated_private_and_wal(tmp_path):
    db = tmp_path / "sub" / "g.db"
    with Store(db) as st:
        assert st.schema_version == len(MIGRATIONS)
        assert st._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_samples_round_trip_exactly():
    s = _samples()
    back = codec.decode(codec.encode(s))
    assert back.equals(s)
    assert str(back[S.TIMESTAMP].dt.tz) == "UTC"


def test_activity_row_sources_and_samples_written_together(tmp_path):
    with Store(tmp_path / "g.db") as st:
        st.add_activity(_record(), _samples(), SourceRef("ab" * 32, 0, "x.gpx", "gpx", 123))
        [rec] = st.activities("ann")
        assert rec.sources == ("x.gpx",) and rec.avg_cadence_spm == 170.0
        assert rec.start_time == dt.datetime(2024, 5, 1, 7, tzinfo=dt.timezone.utc)
        assert len(st.samples(rec.id)) == 50
        assert st.known_source("ann", "ab" * 32) == ["a1"]
        assert st.known_source("bob", "ab" * 32) == []


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    with Store(tmp_path / "g.db") as st:
        def interrupted(*args, **kwargs):  # Ctrl-C after the activity row is written
            raise KeyboardInterrupt

        monkeypatch.setattr(Store, "_insert_source", staticmethod(interrupted))
        with pytest.raises(KeyboardInterrupt):
            st.add_activity(_record(), _samples(), SourceRef("cd" * 32, 0, "x.gpx", "gpx", 1))
        monkeypatch.undo()
        assert st.activities() == []
        assert st._conn.execute("SELECT count(*) FROM samples").fetchone()[0] == 0
        assert st._conn.execute("SELECT count(*) FROM activity_sources").fetchone()[0] == 0
        # A duplicate id aborts the whole transaction too: the first activity is untouched.
        st.add_activity(_record(), _samples(), SourceRef("ab" * 32, 0, "x.gpx", "gpx", 1))
        with pytest.raises(sqlite3.IntegrityError):
            st.add_activity(_record(), _samples(10), SourceRef("ef" * 32, 0, "y.gpx", "gpx", 1))
        assert len(st.samples("a1")) == 50
        assert st._conn.execute("SELECT count(*) FROM activity_sources").fetchone()[0] == 1


def test_not_a_database_is_a_clear_error(tmp_path):
    p = tmp_path / "notes.db"
    p.write_text("hello, I am not SQLite " * 100)
    with pytest.raises(StoreError, match="not a usable gaitrisk database"):
        Store(p)


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "g.db"
    Store(p).close()
    con = sqlite3.connect(p)
    con.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    con.close()
    with pytest.raises(StoreError, match="newer than this gaitrisk"):
        Store(p)


def test_abbreviated_ids_and_like_wildcards(tmp_path):
    with Store(tmp_path / "g.db") as st:
        st.add_activity(_record("abc123"), _samples(), SourceRef("ab" * 32, 0, "x.gpx", "gpx", 1))
        assert [r.id for r in st.find("abc")] == ["abc123"]
        assert st.find("%") == [] and st.find("_bc") == []


def test_samples_encoded_elsewhere_are_stored_as_given(tmp_path):
    enc = codec.encoded(_samples())
    assert enc.blob == codec.encode(_samples())  # deterministic: the same frame, the same bytes
    with Store(tmp_path / "g.db") as st:
        st.add_activity(_record(), enc, SourceRef("ab" * 32, 0, "x.gpx", "gpx", 1))
        assert st.samples("a1").equals(_samples())
        assert st._conn.execute("SELECT n_rows, blob FROM samples").fetchone() == (50, enc.blob)


def test_a_batch_of_writes_commits_whole_or_not_at_all(tmp_path):
    with Store(tmp_path / "g.db") as st:
        with pytest.raises(sqlite3.IntegrityError), st.transaction():
            st.add_activity(_record("a1"), _samples(), SourceRef("ab" * 32, 0, "x.gpx", "gpx", 1))
            assert st.known_source("ann", "ab" * 32) == ["a1"]  # the batch sees its own writes
            st.add_activity(_record("a1"), _samples(), SourceRef("cd" * 32, 0, "y.gpx", "gpx", 1))
        assert st.activities() == [] and st.known_source("ann", "ab" * 32) == []
        with st.transaction():
            st.add_activity(_record("a1"), _samples(), SourceRef("ab" * 32, 0, "x.gpx", "gpx", 1))
            st.add_activity(_record("a2"), _samples(), SourceRef("cd" * 32, 0, "y.gpx", "gpx", 1))
        assert [r.id for r in st.activities()] == ["a1", "a2"]


def test_file_index_round_trip_per_athlete(tmp_path):
    from gaitrisk.store.sqlite import FileIndexEntry

    plain = FileIndexEntry("/data/a.fit", 123, 1_700_000_000_123_456_789, "ab" * 32)
    archive = FileIndexEntry("/data/export.zip", 9, 5, None, (("!a/1.gpx", "cd" * 32, None),
                                                             ("!a/2.gpx", None, "not a run (Strava type: Ride)")))
    with Store(tmp_path / "g.db") as st:
        st.index_file("ann", plain)
        st.index_file("ann", archive)
        assert st.file_index("ann") == {plain.path: plain, archive.path: archive}
        assert st.file_index("bob") == {}
        moved = FileIndexEntry(plain.path, 124, plain.mtime_ns + 1, "ef" * 32)
        st.index_file("ann", moved)  # the file changed: its entry is replaced
        assert st.file_index("ann")[plain.path] == moved


def test_athlete_snapshot_holds_their_rows_only_and_opens_read_only(tmp_path):
    """A worker's copy of one athlete: every read the analysis makes gives what the full store gives."""
    from gaitrisk.records import DataGap
    from gaitrisk.records import PainEntry

    utc = dt.UTC
    with Store(tmp_path / "g.db") as st:
        for name, ids in (("ann", ("a1", "a2")), ("bob", ("b1",))):
            for i, id_ in enumerate(ids):
                rec = dataclasses.replace(_record(id_, name), start_time=dt.datetime(2024, 5, 1 + i, 7, tzinfo=utc))
                st.add_activity(rec, _samples(), SourceRef(f"{id_:0>64}", 0, f"{id_}.gpx", "gpx", 1))
                st.save_features(id_, name, 3, {"activity_id": id_, "distance_m": 1112.0 + i, "cadence_spm": [170, 171]})
            st.add_pain_entries([PainEntry(name, dt.datetime(2024, 5, 2, 8, tzinfo=utc), 3, "lateral_hip", "L",
                                           "during_run")])
            st.add_gap(DataGap(name, dt.date(2024, 5, 10), dt.date(2024, 5, 12), "holiday"))
            st.set_profile(name, {"mass_kg": 60.0 if name == "ann" else 80.0})
            st.index_file(name, FileIndexEntry(f"/home/{name}/a.fit", 1, 2, "ab" * 32))
        data = st.snapshot_athlete("ann")
        with_samples = st.snapshot_athlete("ann", samples=True)
        with pytest.raises(LookupError):
            st.snapshot_athlete("cy")
        snap = tmp_path / "ann.db"
        snap.write_bytes(data)
        with Store(snap, read_only=True) as ro:
            assert ro.athletes() == ["ann"]
            assert ro.activities("ann") == st.activities("ann") and len(ro.activities("ann")) == 2
            assert ro.pain_entries("ann") == st.pain_entries("ann") and ro.gaps("ann") == st.gaps("ann")
            assert ro.profile("ann") == st.profile("ann") == {"mass_kg": 60.0}
            assert ro.feature_versions("ann") == st.feature_versions("ann") == {"a1": 3, "a2": 3}
            pd.testing.assert_frame_equal(ro.run_features("ann"), st.run_features("ann"))
            assert ro.file_index("ann") == {}  # paths on the client's disk stay there
            with pytest.raises(KeyError):  # samples only when asked for
                ro.samples("a1")
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                ro.set_profile("ann", {})
        snap.write_bytes(with_samples)
        with Store(snap, read_only=True) as ro:
            assert ro.samples("a1").equals(st.samples("a1")) and ro.activities("bob") == []


def test_read_only_open_never_creates_or_migrates(tmp_path):
    missing = tmp_path / "elsewhere" / "g.db"
    with pytest.raises(StoreError, match="no such gaitrisk database"):
        Store(missing, read_only=True)
    assert not missing.parent.exists()  # nothing created: not the file, not its folder
    old = tmp_path / "old.db"
    sqlite3.connect(old).execute("CREATE TABLE t(x)").connection.close()  # schema v0
    with pytest.raises(StoreError, match="not migrated"):
        Store(old, read_only=True)
    assert sqlite3.connect(old).execute("PRAGMA user_version").fetchone()[0] == 0
