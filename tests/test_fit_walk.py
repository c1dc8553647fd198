"""The FIT message walk in C (gaitrisk/ingest/fit/_fitwalk.c) finds exactly the messages the Python walk finds.

The C walk is built at install where a compiler is present (setup.py, optional); where it
is absent the decoder walks in Python and these tests skip, saying so.
"""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaitrisk.ingest.fit import walk as fit_walk
from gaitrisk.ingest.fit.errors import Unsupported
from gaitrisk.ingest.fit.fast import decode_fit_fast

from .helpers.paths import FIXTURES, REAL_DATA, real_files

needs_c = pytest.mark.skipif(
    fit_walk._fitwalk is None,
    reason=f"the C walk (gaitrisk.ingest.fit._fitwalk) is not built in {fit_walk.__file__.rsplit('/', 1)[0]}: "
           "pip install -e . builds it there (needs a C compiler and the Python headers)")

REAL_FIT = [r for r in real_files("fit") + real_files("corrupt") if ".fit" in r]
FIXTURE_FIT = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.glob("*/*.fit"))


def _bytes(path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _walk_or_refusal(data: bytes, native: bool):
    try:
        return fit_walk.walk_messages(data, True, native=native)
    except Unsupported as exc:  # a file the fast path hands to fitparse
        return f"Unsupported: {exc}"


def assert_same_walk(data: bytes) -> None:
    py, c = _walk_or_refusal(data, native=False), _walk_or_refusal(data, native=True)
    if isinstance(py, str) or isinstance(c, str):
        assert c == py
        return
    np.testing.assert_array_equal(c.pos, py.pos)
    np.testing.assert_array_equal(c.def_index, py.def_index)
    np.testing.assert_array_equal(c.seg, py.seg)
    assert (c.pos.dtype, c.def_index.dtype, c.seg.dtype) == (py.pos.dtype, py.def_index.dtype, py.seg.dtype)
    assert c.n_records == py.n_records
    assert c.record_resets == py.record_resets
    assert [d.mesg_num for d in c.defs] == [d.mesg_num for d in py.defs]
    assert repr(c.error) == repr(py.error)
    assert {k: sorted(v) for k, v in c.dev_types.items()} == {k: sorted(v) for k, v in py.dev_types.items()}


@needs_c
@pytest.mark.realdata
@pytest.mark.parametrize("rel", REAL_FIT or ["<absent>"])
def test_c_walk_equals_python_walk_on_real_files(rel):
    if rel == "<absent>":
        pytest.skip(f"real watch files not found at {REAL_DATA}")
    data = _bytes(REAL_DATA / rel)
    assert_same_walk(data)
    for cut in (len(data) // 3, len(data) - 3):  # damaged: both stop at the same message with the same error
        assert_same_walk(data[:cut])


@needs_c
@pytest.mark.parametrize("rel", FIXTURE_FIT)
def test_c_walk_equals_python_walk_on_fixtures(rel):
    assert_same_walk((FIXTURES / rel).read_bytes())


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.data())
def test_c_walk_equals_python_walk_on_mutated_files(data):
    """Random byte changes, cuts and insertions in a fixture: same messages, same first error."""
    base = bytearray((FIXTURES / FIXTURE_FIT[0]).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(base) - 1))
        what = data.draw(st.sampled_from(["set", "cut", "insert"]))
        if what == "set":
            base[i] = data.draw(st.integers(0, 255))
        elif what == "cut":
            del base[i:i + data.draw(st.integers(1, 40))]
        else:
            base[i:i] = data.draw(st.binary(min_size=1, max_size=40))
    assert_same_walk(bytes(base))


@needs_c
def test_output_full_returns_and_the_walk_goes_on_where_it_stopped():
    table = np.zeros(256, np.int64)
    table[0x00] = 3 | 1 << 24 | 7 << 32  # local 0: 3-byte records, definition 7
    table[0x01] = 2 | 2 << 24 | 8 << 32  # local 1: 2-byte messages to read first, definition 8
    buf = bytes([0, 9, 9, 1, 9, 0, 9, 9, 0, 9, 9, 0x40, 0, 9, 9])  # stops at the definition header 0x40
    pos, defs = np.empty(2, np.int64), np.empty(2, np.int32)
    assert fit_walk._fitwalk.scan(buf, 0, len(buf), table, pos, defs, 0) == (5, 2, 1, 1)
    assert pos.tolist() == [0, 3] and defs.tolist() == [7, 8]
    pos2, defs2 = np.empty(8, np.int64), np.empty(8, np.int32)
    assert fit_walk._fitwalk.scan(buf, 5, len(buf), table, pos2, defs2, 0) == (11, 2, 2, 0)
    assert pos2[:2].tolist() == [5, 8]
    # ``end`` before the buffer's end, and a message that would run past the buffer
    assert fit_walk._fitwalk.scan(buf, 0, 4, table, pos2, defs2, 0)[:2] == (5, 2)
    assert fit_walk._fitwalk.scan(buf[:10], 5, 10, table, pos2, defs2, 0)[:2] == (8, 1)


@needs_c
def test_a_walk_into_a_full_sink_grows_it(monkeypatch):
    data = _bytes(FIXTURES / FIXTURE_FIT[0])
    monkeypatch.setattr(fit_walk._Sink, "__init__", _tiny_sink)
    assert_same_walk(data)


def _tiny_sink(self, n_bytes: int) -> None:
    self.pos, self.defs, self.count = np.empty(1, np.int64), np.empty(1, np.int32), 0


@needs_c
@pytest.mark.parametrize("args", [
    (b"\0", 0, 1, np.zeros(255, np.int64), np.empty(4, np.int64), np.empty(4, np.int32), 0),  # short table
    (b"\0", -1, 1, np.zeros(256, np.int64), np.empty(4, np.int64), np.empty(4, np.int32), 0),  # negative position
    (b"\0", 0, 1, np.zeros(256, np.int64), np.empty(4, np.int64), np.empty(4, np.int32), 5),  # count past the end
    (b"\0", 0, 1, np.zeros(256, np.int64), np.empty(4, np.int64)[::2], np.empty(4, np.int32), 0),  # not contiguous
    (b"\0", 0, 1, np.zeros(256, np.int64), b"read-only", np.empty(4, np.int32), 0),  # output not writable
])
def test_bad_arguments_are_refused_not_trusted(args):
    with pytest.raises((ValueError, TypeError, BufferError)):
        fit_walk._fitwalk.scan(*args)


def test_without_the_c_walk_the_decoder_walks_in_python(monkeypatch):
    data = _bytes(FIXTURES / FIXTURE_FIT[0])
    expected = fit_walk.walk_messages(data, True, native=False)
    monkeypatch.setattr(fit_walk, "_fitwalk", None)
    walk = fit_walk.walk_messages(data, True)
    np.testing.assert_array_equal(walk.pos, expected.pos)
    assert decode_fit_fast(data, "run.fit").activities
