"""The samples codec: exact round trips, old stores still readable, damaged blobs refused."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import numpy as np
import pandas as pd
import pytest
import zstandard

from gaitrisk import schema as S
from gaitrisk.ingest.frame import build_samples
from gaitrisk.store import SourceRef, Store, StoreError, codec


def _every_column(n=600, seed=3):
    rng = np.random.default_rng(seed)
    ts = np.datetime64("2024-05-01T07:00:00", "ns") + (np.arange(n) * 1_000_000_123).astype("timedelta64[ns]")
    cols = {c: rng.normal(100, 30, n) for c in S.FLOAT_COLUMNS if c != S.ELAPSED}
    cols[S.CADENCE][::7] = np.nan  # dropouts survive as NaN, not as a sentinel
    cols[S.TIMER_SEGMENT] = np.arange(n) * 3 // max(n, 1)  # three timer segments
    return build_samples(ts, cols)


def _npz_v1(samples: pd.DataFrame) -> bytes:
    """What stores written before zcol-v1 hold (the former encoder, as numpy writes an .npz)."""
    buf = io.BytesIO()
    arrays = {c: (samples[c].dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64) if c == S.TIMESTAMP
                  else samples[c].to_numpy()) for c in samples.columns}
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_round_trip_is_exact_for_every_schema_column():
    s = _every_column()
    assert set(s.columns) == set(S.COLUMNS_BY_NAME)
    blob = codec.encode(s)
    back = codec.decode(blob)
    pd.testing.assert_frame_equal(back, s, check_exact=True)
    assert back[S.CADENCE].isna().sum() == s[S.CADENCE].isna().sum() > 0
    assert codec.encode(back) == blob  # deterministic


def test_blobs_are_little_endian_whatever_the_machine():
    s = _every_column(5)
    blob = codec.encode(s)
    h = struct.unpack_from("<I", blob, 4)[0]
    body = zstandard.ZstdDecompressor().decompress(blob[8 + h:])
    first = json.loads(blob[8:8 + h])["cols"][0]
    assert first == [S.TIMESTAMP, "int64"]
    # the first column's 5 low bytes come first (shuffled), as on any little-endian machine
    ns = s[S.TIMESTAMP].to_numpy("datetime64[ns]").view(np.int64)
    assert body[:5] == bytes(int(v) & 0xFF for v in ns)
    # a big-endian column in the frame encodes to the same bytes
    swapped = s.copy()
    swapped[S.LAT] = s[S.LAT].to_numpy().astype(">f8")
    assert codec.encode(swapped) == blob


def test_empty_and_one_row_frames_round_trip():
    for n in (0, 1):
        s = _every_column(n)
        pd.testing.assert_frame_equal(codec.decode(codec.encode(s)), s, check_exact=True)


def test_shuffled_zstd_is_smaller_than_the_former_npz_on_a_real_like_run():
    # a smooth one-hour run compresses well once neighbouring values' bytes sit together
    n = 3600
    t = np.arange(n, dtype=float)
    ts = np.datetime64("2024-05-01T07:00:00", "ns") + (t * 1e9).astype("timedelta64[ns]")
    s = build_samples(ts, {S.LAT: 46 + t * 2.5e-5, S.LON: 14.5 + t * 2e-5, S.ALTITUDE: 300 + np.sin(t / 300) * 20,
                           S.DISTANCE: t * 3.1, S.SPEED: 3.1 + np.sin(t / 50) * 0.2,
                           S.HEART_RATE: np.round(150 + np.sin(t / 200) * 10), S.CADENCE: np.full(n, 172.0),
                           S.TIMER_SEGMENT: np.zeros(n, int)})
    assert len(codec.encode(s)) < len(_npz_v1(s))


def test_legacy_npz_blobs_still_decode(tmp_path):
    s = _every_column()
    pd.testing.assert_frame_equal(codec.decode(_npz_v1(s), codec.LEGACY_FORMAT), s, check_exact=True)
    # and through a store that holds one (as an older store does)
    rec = _record()
    with Store(tmp_path / "g.db") as st:
        st.add_activity(rec, codec.Encoded(codec.LEGACY_FORMAT, len(s), _npz_v1(s)),
                        SourceRef("ab" * 32, 0, "x.gpx", "gpx", 1))
        pd.testing.assert_frame_equal(st.samples(rec.id), s, check_exact=True)


def _record():
    import datetime as dt

    from gaitrisk.records import ActivityRecord

    return ActivityRecord(id="a1", athlete="ann", fmt="gpx", sport="running", sub_sport=None, device=None,
                          name=None, start_time=dt.datetime(2024, 5, 1, 7, tzinfo=dt.timezone.utc), duration_s=599.0,
                          moving_time_s=599.0, distance_m=1000.0, avg_cadence_spm=170.0, avg_stance_time_ms=None,
                          partial=False, sources=("x.gpx",))


def _blob(header: dict, body: bytes) -> bytes:
    h = json.dumps(header).encode()
    return codec.MAGIC + struct.pack("<I", len(h)) + h + zstandard.ZstdCompressor().compress(body)


@pytest.mark.parametrize("blob, why", [
    (b"GRZ", "not a zcol-v1"),
    (b"PK\x03\x04" + b"\0" * 20, "not a zcol-v1"),
    (codec.MAGIC + struct.pack("<I", 10**6) + b"{}", "header is damaged"),
    (codec.MAGIC + struct.pack("<I", 2) + b"{]", "header is damaged"),
    (_blob({"n": 2, "cols": [["lat_deg", "object"]]}, b"\0" * 16), "unexpected column"),
    (_blob({"n": 2, "cols": [["evil", "float64"]]}, b"\0" * 16), "unexpected column"),
    (_blob({"n": 2, "cols": [["lat_deg", "float64"]]}, b"\0" * 15), "16 bytes its header promises"),
    # a bomb: the header promises 16 bytes, the frame inflates to 64 MB
    (_blob({"n": 2, "cols": [["lat_deg", "float64"]]}, b"\0" * (64 << 20)), "does not decompress|promises"),
    (_blob({"n": 2, "cols": [["lat_deg", "float64"]]}, b"\0" * 16)[:-3], "does not decompress"),
])
def test_damaged_blobs_are_refused_with_a_reason(blob, why):
    with pytest.raises(codec.CodecError, match=why):
        codec.decode(blob)


def test_a_store_reports_damaged_samples_instead_of_crashing(tmp_path):
    s = _every_column()
    rec = _record()
    with Store(tmp_path / "g.db") as st:
        st.add_activity(rec, s, SourceRef("ab" * 32, 0, "x.gpx", "gpx", 1))
        blob = st._conn.execute("SELECT blob FROM samples").fetchone()[0]
        with st.transaction() as c:
            c.execute("UPDATE samples SET blob=?", (blob[: len(blob) // 2],))
        with pytest.raises(StoreError, match="samples of a1 are damaged"):
            st.samples("a1")
        with st.transaction() as c:
            c.execute("UPDATE samples SET format='pickle'")
        with pytest.raises(StoreError, match="unknown format 'pickle'"):
            st.samples("a1")


def test_unknown_columns_are_refused_on_the_way_in():
    s = _every_column().assign(secret=1.0)
    with pytest.raises(KeyError, match="secret"):
        codec.encode(s)


def test_legacy_reader_never_unpickles():
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("lat_deg.npy", buf.getvalue())
    with pytest.raises(ValueError, match="pickle"):
        codec.decode(zbuf.getvalue(), codec.LEGACY_FORMAT)
