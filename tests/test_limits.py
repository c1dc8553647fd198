"""Absurd inputs end in one clear line, not a crash or wrong numbers."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from click.testing import CliRunner

from gaitrisk.cli import cli
from gaitrisk.store import Store

from .helpers.gpxgen import gpx_run
from .helpers.paths import FIXTURES

UTC = dt.timezone.utc


def _import(tmp_path, *paths):
    res = CliRunner().invoke(cli, ["--db", str(tmp_path / "g.db"), "import", *map(str, paths), "--json"])
    return res, json.loads(res.stdout)


def _gpx(tmp_path, name, start, minutes=3, **kw):
    path = tmp_path / name
    path.write_bytes(gpx_run(start, minutes=minutes, **kw))
    return path


@pytest.mark.slow
def test_a_2_gb_file_is_refused_before_reading(tmp_path):
    big = tmp_path / "huge.fit"
    with open(big, "wb") as f:
        f.truncate(2 * 1024**3)  # sparse: no disk, and reading it would take seconds and 2 GB
    good = _gpx(tmp_path, "good.gpx", dt.datetime(2024, 3, 1, 7, tzinfo=UTC))
    res, out = _import(tmp_path, big, good)
    assert out["imported"] == 1
    [failed] = out["failed"]
    assert failed == {"file": str(big),
                      "reason": "file is 2 GiB, over the 512 MiB limit (max_entry_bytes); skipped"}


def test_a_10_day_recording_is_refused(tmp_path):
    # Two runs' worth of points 10 days apart in one file: one "activity" of 10 days.
    a = gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=2).decode()
    b = gpx_run(dt.datetime(2024, 3, 11, 7, tzinfo=UTC), minutes=2).decode()
    points = re.findall(r"<trkpt.*?</trkpt>", b)
    ten_days = tmp_path / "ten_days.gpx"
    ten_days.write_text(a.replace("</trkseg>", "".join(points) + "</trkseg>"))
    res, out = _import(tmp_path, ten_days)
    assert out["imported"] == 0 and res.exit_code == 1
    [failed] = out["failed"]
    assert failed["reason"] == ("one recording spans 10.0 days (2024-03-01 07:00 to 2024-03-11 07:01 UTC), over the "
                                "4-day limit for an activity (a clock error?); not imported")


@pytest.mark.slow
def test_a_long_ultra_is_still_imported(tmp_path):
    ultra = _gpx(tmp_path, "ultra.gpx", dt.datetime(2024, 6, 1, 5, tzinfo=UTC), minutes=30 * 60)
    res, out = _import(tmp_path, ultra)
    assert out["imported"] == 1 and out["failed"] == []


@pytest.mark.parametrize("year, reason", [
    (1989, "starts 1989-12-31 07:00 UTC, before 2000 (the watch's clock was not set?); not imported"),
    (2100, "starts 2100-12-31 07:00 UTC, in the future (the watch's clock is wrong?); not imported"),
])
def test_timestamps_in_1989_or_2100_are_refused(tmp_path, year, reason):
    bad = _gpx(tmp_path, f"y{year}.gpx", dt.datetime(year, 12, 31, 7, tzinfo=UTC))
    good = _gpx(tmp_path, "good.gpx", dt.datetime(2024, 3, 1, 7, tzinfo=UTC))
    res, out = _import(tmp_path, bad, good)
    assert out["imported"] == 1
    assert out["failed"] == [{"file": str(bad), "reason": reason}]


def test_a_run_ending_in_the_future_is_refused(tmp_path):
    start = dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(days=3)
    bad = _gpx(tmp_path, "future.gpx", start)
    res, out = _import(tmp_path, bad)
    assert "in the future" in out["failed"][0]["reason"]


@pytest.mark.parametrize("fmt", ["gpx", "tcx"])
def test_all_zero_gps_positions_are_no_fix_not_zero_km(tmp_path, fmt):
    data = gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=3).decode()
    data = re.sub(r'lat="[^"]*" lon="[^"]*"', 'lat="0.0" lon="0.0"', data)
    if fmt == "tcx":
        times = re.findall(r"<time>(.*?)</time>", data)
        pts = "".join(f"<Trackpoint><Time>{t}</Time><Position><LatitudeDegrees>0</LatitudeDegrees>"
                      f"<LongitudeDegrees>0</LongitudeDegrees></Position><HeartRateBpm><Value>140</Value>"
                      f"</HeartRateBpm></Trackpoint>" for t in times)
        data = ('<TrainingCenterDatabase><Activities><Activity Sport="Running"><Lap StartTime="2024-03-01T07:00:00Z">'
                f"<Track>{pts}</Track></Lap></Activity></Activities></TrainingCenterDatabase>")
    path = tmp_path / f"zeros.{fmt}"
    path.write_text(data)
    res, out = _import(tmp_path, path)
    assert out["imported"] == 1
    with Store(tmp_path / "g.db") as st:
        [rec] = st.activities()
        assert rec.distance_m is None  # unknown, not 0 km
        assert any("90 of 90 positions are 0°N 0°E (no GPS fix); treated as missing" == p for p in rec.problems)
        samples = st.samples(rec.id)
        assert "latitude_deg" not in samples.columns and "heart_rate_bpm" in samples.columns


def test_zero_positions_among_real_ones_add_no_5000_km_jump(tmp_path):
    data = gpx_run(dt.datetime(2024, 3, 1, 7, tzinfo=UTC), minutes=10).decode()
    clean = tmp_path / "clean.gpx"
    clean.write_text(data)
    pts = data.split("<trkpt ")
    for i in (10, 11, 200):  # GPS dropouts written as 0/0
        pts[i] = re.sub(r'lat="[^"]*" lon="[^"]*"', 'lat="0" lon="0"', pts[i], count=1)
    dropouts = tmp_path / "dropouts.gpx"
    dropouts.write_text("<trkpt ".join(pts).replace("2024-03-01T07", "2024-03-02T07"))
    _import(tmp_path, clean, dropouts)
    with Store(tmp_path / "g.db") as st:
        a, b = st.activities()
        assert b.distance_m == pytest.approx(a.distance_m, rel=0.01)  # ~1.8 km, not 10 000 km
        assert "3 of 300 positions are 0°N 0°E (no GPS fix); treated as missing" in b.problems


def test_limits_apply_to_fit_too(tmp_path, monkeypatch):
    """The time checks run after decoding, for every format: a FIT leg from 1989 is refused."""
    from gaitrisk.ingest import pipeline, worker
    from gaitrisk.ingest.decoders import REFERENCE
    from gaitrisk.records import DecodeResult

    fixture = sorted((FIXTURES / "runs").glob("*.fit"))[0]
    real = REFERENCE.decode(  # decode once, then shift its clock back to the FIT epoch
        "fit", fixture.read_bytes(), str(fixture))
    act = real.activities[0]
    shift = act.samples["timestamp"].iloc[0] - dt.datetime(1989, 12, 31, tzinfo=UTC)
    act.samples["timestamp"] = act.samples["timestamp"] - shift
    monkeypatch.setattr(worker, "decode_job", lambda job: worker.Decoded(job, DecodeResult([act])))
    with Store(tmp_path / "g.db") as st:
        rep = pipeline.import_paths([str(fixture)], st, "ann")
    assert rep.imported == 0 and rep.failed[0]["reason"].startswith("starts 1989-12-31 00:00 UTC, before 2000")
