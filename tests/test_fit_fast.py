"""The fast FIT decoder gives exactly what the fitparse reader gives, and falls back to it cleanly."""

from __future__ import annotations

import logging
import struct

import numpy as np
import pandas as pd
import pytest

from gaitrisk.ingest.fit import fast as fast_decoder
from gaitrisk.ingest.fit import record_columns, walk
from gaitrisk.ingest.fit.common import dev_target
from gaitrisk.ingest.fit.errors import Unsupported
from gaitrisk.ingest.fit.fast import UNSUPPORTED_PREFIX, decode_fit_fast, read_fast
from gaitrisk.ingest.fit.reference import decode_fit

from .helpers.compare import assert_same_result
from .helpers.paths import FIXTURES, REAL_DATA, real_files
from .helpers.reference import decode_real

REAL_FIT = [r for r in real_files("fit") + real_files("corrupt") if r.endswith(".fit")]
FIXTURE_FIT = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.fit"))


@pytest.mark.slow
@pytest.mark.realdata
@pytest.mark.parametrize("rel", REAL_FIT or ["<absent>"])
def test_real_file_decodes_as_fitparse_does(rel, caplog):
    if rel == "<absent>":
        pytest.skip(f"real watch files not found at {REAL_DATA}")
    data = (REAL_DATA / rel).read_bytes()
    read_fast(data, True)  # the fast path itself reads every real file (no fallback hides a gap)
    with caplog.at_level(logging.INFO, logger="gaitrisk.ingest.fit.fast"):
        fast = decode_fit_fast(data, rel)
    assert "fell back" not in caplog.text
    assert_same_result(decode_real(rel), fast)


@pytest.mark.slow
@pytest.mark.parametrize("rel", FIXTURE_FIT or ["<absent>"])
def test_fixture_decodes_as_fitparse_does(rel):
    if rel == "<absent>":
        pytest.skip("no generated fixtures")
    data = (FIXTURES / rel).read_bytes()
    read_fast(data, True)
    assert_same_result(decode_fit(data, rel), decode_fit_fast(data, rel))


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.3, 0.61, 0.97])
def test_truncated_file_decodes_up_to_the_damage(fraction, real_data):
    data = (real_data / "fit/fitparse__activity-small-fenix2-run.fit").read_bytes()
    cut = data[: int(len(data) * fraction)]
    fast = decode_fit_fast(cut, "cut.fit")
    assert fast.partial and any("damaged after" in p for p in fast.problems)
    assert_same_result(decode_fit(cut, "cut.fit"), fast)


@pytest.mark.slow
def test_developer_field_named_speed_does_not_replace_the_device_speed(real_data):
    # This Stryd file declares developer fields "Speed" and "Distance" next to the
    # watch's own speed and distance; fields are keyed by (developer index, number).
    data = (real_data / "fit/fitparse__developer-types-sample.fit").read_bytes()
    import fitparse

    native = [m.get_value("enhanced_speed") for m in fitparse.FitFile(data).get_messages("record")]
    dev_names = {fd.name for m in fitparse.FitFile(data).get_messages("record") for fd in m.fields
                 if type(fd.field).__name__ == "DevField"}
    assert "Speed" in dev_names and dev_target("Speed", "m/s") is None
    samples = decode_fit_fast(data, "dev.fit").activities[0].samples
    expected = pd.Series([v for v in native if v is not None], dtype=float)
    np.testing.assert_allclose(np.sort(samples["speed_mps"].dropna().to_numpy()), np.sort(expected.to_numpy()))


def _fit_file(body: bytes) -> bytes:
    """A minimal FIT container (12-byte header, no header CRC) around ``body``."""
    from fitparse.records import Crc  # the reference's own CRC, independent of the decoder's

    header = struct.pack("<BBHI4s", 12, 0x10, 2100, len(body), b".FIT")
    crc = Crc.calculate(header + body)
    return header + body + struct.pack("<H", crc)


def _definition(local: int, mesg_num: int, fields: list[tuple[int, int, int]]) -> bytes:
    """A little-endian definition message: (field number, size, base type) per field."""
    return bytes([0x40 | local, 0, 0]) + struct.pack("<HB", mesg_num, len(fields)) + b"".join(bytes(f) for f in fields)


def test_where_fitparse_fails_on_a_session_value_the_fast_path_stops_too():
    # A session whose avg_speed (uint16 with an enhanced_avg_speed component) is declared as
    # two uint8s, the second invalid: fitparse's component render adds None and raises,
    # and its reader keeps only what precedes that message.  Found by fuzzing without fallback.
    t0 = 1_000_000_000
    body = _definition(0, 0, [(0, 1, 0x00)]) + bytes([0, 4])  # file_id: activity
    body += _definition(1, 20, [(253, 4, 0x86), (3, 1, 0x02)])  # record: timestamp, heart_rate
    body += b"".join(bytes([1]) + struct.pack("<IB", t0 + i, 150) for i in range(3))
    body += _definition(2, 18, [(2, 4, 0x86), (14, 2, 0x02)]) + bytes([2]) + struct.pack("<I", t0) + bytes([5, 0xFF])
    body += b"".join(bytes([1]) + struct.pack("<IB", t0 + i, 150) for i in range(3, 6))
    data = _fit_file(body)
    msgs, error = read_fast(data, True)  # no Unsupported: the fast path handles it itself
    assert msgs.n_records == 3 and isinstance(error, TypeError)
    fast = decode_fit_fast(data, "stop.fit", fallback=False)
    assert fast.partial and "file damaged after 3 records (TypeError" in fast.problems[0]
    assert_same_result(decode_fit(data, "stop.fit"), fast)


def test_without_fallback_a_refusal_is_an_error_and_a_bug_is_raised(monkeypatch, real_data):
    definition = _definition(0, 20, [(3, 0, 2)])  # a zero-size field: refused on purpose
    res = decode_fit_fast(_fit_file(definition + bytes([0x00])), "zero-size.fit", fallback=False)
    assert res.error.startswith(UNSUPPORTED_PREFIX) and "zero-size field" in res.error and not res.activities

    def broken(*_args):
        raise IndexError("simulated bug")

    monkeypatch.setattr(fast_decoder, "assemble", broken)
    data = (real_data / "fit/fitparse__garmin-fenix-5-run.fit").read_bytes()
    with pytest.raises(IndexError, match="simulated bug"):
        decode_fit_fast(data, "run.fit", fallback=False)


def test_file_the_fast_path_refuses_falls_back_to_fitparse_and_says_so(caplog):
    # A record definition with a zero-size field: fitparse fails on its data message in
    # its own way; the fast path does not imitate that and hands the file over.
    definition = bytes([0x40, 0, 0]) + struct.pack("<HB", 20, 1) + bytes([3, 0, 2])
    data = _fit_file(definition + bytes([0x00]))
    with pytest.raises(Unsupported):
        read_fast(data, True)
    with caplog.at_level(logging.INFO, logger="gaitrisk.ingest.fit.fast"):
        fast = decode_fit_fast(data, "zero-size.fit")
    assert "fell back to fitparse for zero-size.fit" in caplog.text
    assert_same_result(decode_fit(data, "zero-size.fit"), fast)


def test_a_fast_path_bug_costs_speed_not_the_file(monkeypatch, caplog, real_data):
    data = (real_data / "fit/fitparse__garmin-fenix-5-run.fit").read_bytes()

    def broken(*_args):
        raise IndexError("simulated bug")

    monkeypatch.setattr(fast_decoder, "assemble", broken)
    with caplog.at_level(logging.INFO, logger="gaitrisk.ingest.fit.fast"):
        fast = decode_fit_fast(data, "run.fit")
    assert "IndexError: simulated bug" in caplog.text
    assert_same_result(decode_fit(data, "run.fit"), fast)


def test_crc_library_computes_fits_checksum(real_data):
    from fitparse.records import Crc

    data = (real_data / "fit/fitparse__garmin-fenix-5-run.fit").read_bytes()
    assert walk.crc16(data[:-2]) == Crc.calculate(data[:-2]) == int.from_bytes(data[-2:], "little")


def _messages_equal(a, b) -> None:
    """Two reads of one file hold the same record columns, bit for bit (NaN where NaN)."""
    assert a.n_records == b.n_records
    np.testing.assert_array_equal(a.record_time, b.record_time)
    assert sorted(a.record_fields) == sorted(b.record_fields)
    for name, values in a.record_fields.items():
        np.testing.assert_array_equal(b.record_fields[name], values, err_msg=name)
    assert [c for c, _ in a.dev_columns] == [c for c, _ in b.dev_columns]
    for (_, x), (_, y) in zip(a.dev_columns, b.dev_columns):
        np.testing.assert_array_equal(y, x)


@pytest.mark.realdata
@pytest.mark.parametrize("rel", [r for r in REAL_FIT if r.startswith("fit/")] or ["<absent>"])
def test_record_decode_one_message_at_a_time_equals_the_bulk_decode(rel, monkeypatch):
    # Record definitions with few messages are decoded in plain Python (_SMALL_RECORDS);
    # forcing every definition down each path must give the same columns on every real file.
    if rel == "<absent>":
        pytest.skip(f"real watch files not found at {REAL_DATA}")
    data = (REAL_DATA / rel).read_bytes()
    monkeypatch.setattr(record_columns, "_SMALL_RECORDS", 0)
    bulk, bulk_error = read_fast(data, True)
    monkeypatch.setattr(record_columns, "_SMALL_RECORDS", 10**9)
    small, small_error = read_fast(data, True)
    assert repr(small_error) == repr(bulk_error)
    _messages_equal(bulk, small)


def _tiny_run_with_developer_power() -> bytes:
    """Five records (invalid heart rate and speed in some, components, a developer power field) and a session."""
    t0 = 1_000_000_000
    body = _definition(0, 0, [(0, 1, 0x00)]) + bytes([0, 4])  # file_id: activity
    body += _definition(1, 207, [(3, 1, 0x02)]) + bytes([1, 0])  # developer_data_id: index 0
    name, units = b"Power\x00\x00\x00", b"Watts\x00\x00\x00"
    body += _definition(2, 206, [(0, 1, 0x02), (1, 1, 0x02), (2, 1, 0x02), (3, 8, 0x07), (8, 8, 0x07)])
    body += bytes([2, 0, 0, 0x84]) + name + units  # field_description: field 0 of index 0, uint16
    fields = [(253, 4, 0x86), (0, 4, 0x85), (3, 1, 0x02), (6, 2, 0x84), (2, 2, 0x84), (4, 1, 0x02), (53, 1, 0x02)]
    body += bytes([0x60 | 3, 0, 0]) + struct.pack("<HB", 20, len(fields)) + b"".join(bytes(f) for f in fields)
    body += bytes([1, 0, 2, 0])  # one developer field: number 0, 2 bytes, index 0
    rows = [(150, 3100, 2600, 85, 64, 250), (0xFF, 3150, 2610, 86, 0, 0xFFFF), (152, 0xFFFF, 2620, 0xFF, 128, 260),
            (153, 3200, 0xFFFF, 87, 0xFF, 265), (154, 3210, 2640, 88, 32, 270)]
    for i, (hr, speed, alt, cad, frac, power) in enumerate(rows):
        body += bytes([3]) + struct.pack("<IiBHHBBH", t0 + i, 400_000_000 + 1000 * i, hr, speed, alt, cad, frac, power)
    body += _definition(4, 18, [(2, 4, 0x86), (7, 4, 0x86), (5, 1, 0x00)])  # session: start, elapsed, running
    body += bytes([4]) + struct.pack("<IIB", t0, 4000, 1)
    return _fit_file(body)


@pytest.mark.parametrize("small_records", [0, 10**9])
def test_tiny_run_decodes_as_fitparse_does_on_either_record_path(small_records, monkeypatch):
    # Invalid values (NaN), scale/offset, components (enhanced speed/altitude) and a developer
    # power field, decoded one message at a time (10**9) or in bulk (0): fitparse's result both ways.
    data = _tiny_run_with_developer_power()
    monkeypatch.setattr(record_columns, "_SMALL_RECORDS", small_records)
    fast = decode_fit_fast(data, "tiny.fit", fallback=False)
    ref = decode_fit(data, "tiny.fit")
    assert len(ref.activities) == 1 and len(ref.activities[0].samples) == 5
    samples = ref.activities[0].samples  # the developer field filled the power column, invalids are NaN
    np.testing.assert_array_equal(samples["power_w"].to_numpy(float), [250, np.nan, 260, 265, 270])
    np.testing.assert_array_equal(samples["heart_rate_bpm"].to_numpy(float), [150, np.nan, 152, 153, 154])
    assert_same_result(ref, fast)


def test_first_record_field_present_wins_and_the_next_fills_its_gaps():
    # enhanced_speed where a record carries it, speed in its gaps; altitude's "no altitude"
    # sentinel (-500 m) is missing, not a place below sea level.
    from gaitrisk.ingest.fit.common import FitMessages, build_activities
    from gaitrisk.records import DecodeResult

    n = 4
    msgs = FitMessages(file_type="activity", n_records=n, record_time=1_000_000_000.0 + np.arange(n), record_fields={
        "enhanced_speed": np.array([3.0, np.nan, 3.2, np.nan]),
        "speed": np.array([9.0, 3.1, 9.0, np.nan]),
        "altitude": np.array([100.0, -500.0, 101.0, 102.0]),
    })
    kept = {k: v.copy() for k, v in msgs.record_fields.items()}
    res = DecodeResult()
    build_activities(msgs, res)
    samples = res.activities[0].samples
    np.testing.assert_array_equal(samples["speed_mps"].to_numpy(float), [3.0, 3.1, 3.2, np.nan])
    np.testing.assert_array_equal(samples["altitude_m"].to_numpy(float), [100.0, np.nan, 101.0, 102.0])
    for name, values in kept.items():  # the messages' columns are read, never written
        np.testing.assert_array_equal(msgs.record_fields[name], values, err_msg=name)


def test_the_same_messages_give_the_same_activities_twice():
    # The single-leg path hands the columns (a developer column as the messages hold it) to
    # the frame builder without a copy: a second build from the same messages must not see
    # anything the first one changed.
    from gaitrisk.ingest.fit.common import build_activities
    from gaitrisk.records import DecodeResult

    msgs, _ = read_fast(_tiny_run_with_developer_power(), True)
    assert msgs.dev_columns
    first, second = DecodeResult(), DecodeResult()
    build_activities(msgs, first)
    build_activities(msgs, second)
    assert_same_result(first, second)


def test_a_cold_definition_cache_reads_the_same_messages(real_data):
    # Definitions are cached across files; parsing them afresh (the first file of a watch)
    # must give the very same messages.
    from gaitrisk.ingest.fit import definitions

    data = (real_data / "fit/fitparse__garmin-fenix-5-run.fit").read_bytes()
    warm, warm_error = read_fast(data, True)
    definitions.clear_cache()
    cold, cold_error = read_fast(data, True)
    assert repr(cold_error) == repr(warm_error)
    _messages_equal(warm, cold)
