"""The fast FIT decoder gives exactly what the fitparse reader gives, and falls back to it cleanly."""

from __future__ import annotations

import logging
import struct

import numpy as np
import pandas as pd
import pytest

from gaitrisk.ingest import fit_fast
from gaitrisk.ingest.fit_common import dev_target
from gaitrisk.ingest.fit_fast import (
    UNSUPPORTED_PREFIX,
    Unsupported,
    decode_fit_fast,
    read_fast,
)
from gaitrisk.ingest.fit_fitparse import decode_fit

from .conftest import FIXTURES, REAL_DATA, real_files

REAL_FIT = [r for r in real_files("fit") + real_files("corrupt") if r.endswith(".fit")]
FIXTURE_FIT = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.fit"))
# Channels that hold whole numbers in every FIT profile we read: compared exactly.
_EXACT = {"timestamp", "timer_segment", "heart_rate_bpm", "power_w"}


def assert_same_result(ref, fast) -> None:
    assert (fast.error, fast.skipped_reason, fast.partial) == (ref.error, ref.skipped_reason, ref.partial)
    assert fast.problems == ref.problems
    assert len(fast.activities) == len(ref.activities)
    for a, b in zip(ref.activities, fast.activities):
        assert (b.fmt, b.sport, b.sub_sport, b.device, b.start_time, b.leg_index, b.name) == \
               (a.fmt, a.sport, a.sub_sport, a.device, a.start_time, a.leg_index, a.name)
        assert b.summary == a.summary
        assert b.laps == a.laps
        assert list(b.samples.columns) == list(a.samples.columns)
        for col in a.samples.columns:
            x, y = a.samples[col], b.samples[col]
            if col in _EXACT:
                pd.testing.assert_series_equal(y, x, check_exact=True)
            else:
                np.testing.assert_allclose(y.to_numpy(float), x.to_numpy(float), rtol=1e-9, atol=0, equal_nan=True)


@pytest.mark.parametrize("rel", REAL_FIT or ["<absent>"])
def test_real_file_decodes_as_fitparse_does(rel, caplog):
    if rel == "<absent>":
        pytest.skip(f"real watch files not found at {REAL_DATA}")
    data = (REAL_DATA / rel).read_bytes()
    read_fast(data, True)  # the fast path itself reads every real file (no fallback hides a gap)
    with caplog.at_level(logging.INFO, logger="gaitrisk.ingest.fit_fast"):
        fast = decode_fit_fast(data, rel)
    assert "fell back" not in caplog.text
    assert_same_result(decode_fit(data, rel), fast)


@pytest.mark.parametrize("rel", FIXTURE_FIT or ["<absent>"])
def test_fixture_decodes_as_fitparse_does(rel):
    if rel == "<absent>":
        pytest.skip("no generated fixtures")
    data = (FIXTURES / rel).read_bytes()
    read_fast(data, True)
    assert_same_result(decode_fit(data, rel), decode_fit_fast(data, rel))


@pytest.mark.parametrize("fraction", [0.3, 0.61, 0.97])
def test_truncated_file_decodes_up_to_the_damage(fraction, real_data):
    data = (real_data / "fit/fitparse__activity-small-fenix2-run.fit").read_bytes()
    cut = data[: int(len(data) * fraction)]
    fast = decode_fit_fast(cut, "cut.fit")
    assert fast.partial and any("damaged after" in p for p in fast.problems)
    assert_same_result(decode_fit(cut, "cut.fit"), fast)


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
    import crcmod.predefined

    header = struct.pack("<BBHI4s", 12, 0x10, 2100, len(body), b".FIT")
    crc = crcmod.predefined.mkCrcFun("crc-16")(header + body)
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

    monkeypatch.setattr(fit_fast, "_assemble", broken)
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
    with caplog.at_level(logging.INFO, logger="gaitrisk.ingest.fit_fast"):
        fast = decode_fit_fast(data, "zero-size.fit")
    assert "fell back to fitparse for zero-size.fit" in caplog.text
    assert_same_result(decode_fit(data, "zero-size.fit"), fast)


def test_a_fast_path_bug_costs_speed_not_the_file(monkeypatch, caplog, real_data):
    data = (real_data / "fit/fitparse__garmin-fenix-5-run.fit").read_bytes()

    def broken(*_args):
        raise IndexError("simulated bug")

    monkeypatch.setattr(fit_fast, "_assemble", broken)
    with caplog.at_level(logging.INFO, logger="gaitrisk.ingest.fit_fast"):
        fast = decode_fit_fast(data, "run.fit")
    assert "IndexError: simulated bug" in caplog.text
    assert_same_result(decode_fit(data, "run.fit"), fast)


def test_crc_library_computes_fits_checksum(real_data):
    from fitparse.records import Crc

    data = (real_data / "fit/fitparse__garmin-fenix-5-run.fit").read_bytes()
    assert fit_fast._crc16(data[:-2]) == Crc.calculate(data[:-2]) == int.from_bytes(data[-2:], "little")
