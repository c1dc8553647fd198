"""Every input the fuzzers found crashing or hanging (tests/regressions/), replayed on every run.

File names are ``<target>-<crash|hang>-<what>-<hash>``; scripts/fuzz.py writes new ones there.
Each must now end cleanly, quickly, and -- for the known ones -- with the expected outcome.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .helpers.fuzzing import CLEAN, fuzz

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
FILES = sorted(p for p in REGRESSIONS.iterdir() if p.is_file() and not p.name.startswith("."))
# Each known finding, and the outcome its input must have.
EXPECTED = {
    "unknown-encoding": "error",      # expat LookupError for encoding="etf-8" escaped both XML readers
    "long-header": "error",           # csv.Sniffer is quadratic in a 54 kB header line: a 30 s hang
    "time-overflow": "imported",      # a TCX time ~300 years off overflowed pandas' nanoseconds
    "empty-member-name": "error",     # a zip entry with an empty name raised IndexError in zipfile
    # fast FIT decoder without fallback: fitparse's date_time processors raised TypeError inside the
    # fast path for a date/time field declared as an array or a string; refused up front
    # (with fallback the file goes to fitparse, which stops there)
    "datetime-array": "error",
    "datetime-string": "error",
    "local-datetime-array": "error",
}


def test_there_are_regressions_to_replay():
    assert {p.name.split("-")[0] for p in FILES} >= {"gpx", "tcx", "zip", "pain", "fit_fast"}


@pytest.mark.parametrize("path", [p for p in FILES if p.name.startswith("fit")], ids=lambda p: p.name)
def test_fit_regression_is_refused_without_fallback_and_read_as_fitparse_reads_it_with(path):
    from gaitrisk.ingest.fit.fast import UNSUPPORTED_PREFIX, decode_fit_fast
    from gaitrisk.ingest.fit.reference import decode_fit

    from .helpers.compare import assert_same_result

    data = path.read_bytes()
    assert decode_fit_fast(data, path.name, fallback=False).error.startswith(UNSUPPORTED_PREFIX)
    assert_same_result(decode_fit(data, path.name), decode_fit_fast(data, path.name))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_regression_input_ends_cleanly(path):
    target = path.name.split("-")[0]
    t0 = time.monotonic()
    outcome = fuzz.check(target, path.read_bytes(), timeout_s=10.0)
    assert outcome in CLEAN
    assert time.monotonic() - t0 < 5.0
    for key, expected in EXPECTED.items():
        if key in path.name:
            assert outcome == expected


def test_unknown_xml_encoding_is_a_one_line_error():
    from gaitrisk.ingest.decoders import REFERENCE

    for fmt in ("gpx", "tcx"):
        res = REFERENCE.decode(fmt, b'<?xml version="1.0" encoding="etf-8"?><gpx/>', f"x.{fmt}")
        assert res.error == "not well-formed XML: unknown encoding: etf-8"


def test_zip_entry_with_empty_name_is_reported_and_the_rest_read(tmp_path):
    import io
    import zipfile

    from gaitrisk.ingest.sources import SourceFile, SourceProblem, iter_sources

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a" * 5, b"x")
        zf.writestr("b.gpx", b"<gpx/>")
    data = buf.getvalue().replace(b"aaaaa", b"\0\0\0\0\0")  # a name that decodes to NULs...
    archive = tmp_path / "e.zip"
    archive.write_bytes(data)
    with zipfile.ZipFile(archive) as zf:  # ...which zipfile cuts at the first NUL: ""
        assert zf.infolist()[0].filename == ""
    items = list(iter_sources([archive]))
    assert [type(i) for i in items] == [SourceProblem, SourceFile]
    assert "empty name" in items[0].reason


def test_absurd_tcx_times_are_dropped_not_overflowed():
    from gaitrisk.ingest.decoders import REFERENCE

    pts = "".join(f"<Trackpoint><Time>{t}</Time><DistanceMeters>{i}</DistanceMeters></Trackpoint>"
                  for i, t in enumerate(["2024-05-01T07:00:00Z", "1500-01-01T00:00:00Z",
                                         "2024-05-01T07:00:02Z", "2024-05-01T07:00:04Z"]))
    doc = (f'<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap StartTime="2024-05-01T07:00:00Z">'
           f"<Track>{pts}</Track></Lap></Activity></Activities></TrainingCenterDatabase>")
    res = REFERENCE.decode("tcx", doc.encode(), "x.tcx")
    assert res.error is None and len(res.activities[0].samples) == 3
    assert any("1 track point(s) without a time" in p for p in res.problems)
