"""Real GPX/TCX files read as their reference parsers do; damaged files give the expected outcome."""

from __future__ import annotations

import pytest

from gaitrisk.ingest.frame import totals

from .helpers.paths import manifest, real_files
from .helpers.reference import decode_real

pytestmark = pytest.mark.realdata

XML_FILES = real_files("gpx") + real_files("tcx")


@pytest.mark.parametrize("rel", XML_FILES or ["<absent>"])
def test_every_gpx_tcx_file_reads_without_error(rel):
    if rel == "<absent>":
        pytest.skip("real-data folder absent")
    res = decode_real(rel)
    assert res.error is None, res.error
    assert res.activities or res.skipped_reason


@pytest.mark.parametrize("rel", real_files("gpx") or ["<absent>"])
def test_gpx_points_match_gpxpy(rel):
    if rel == "<absent>":
        pytest.skip("real-data folder absent")
    import gpxpy

    from gaitrisk.ingest.xml.safe import clean_prefix

    from .helpers.paths import REAL_DATA

    gpx = gpxpy.parse(clean_prefix((REAL_DATA / rel).read_bytes())[0].decode())
    timed = [p for t in gpx.tracks for s in t.segments for p in s.points if p.time is not None]
    res = decode_real(rel)
    if not res.activities:
        assert len(timed) < 2
        return
    s = res.activities[0].samples
    assert len(s) == len({p.time for p in timed})
    assert s["lat_deg"].iloc[0] == pytest.approx(min(timed, key=lambda p: p.time).latitude)


def test_gpx_garmin_extension_cadence_and_hr(real_data):
    act = decode_real("gpx/runpandas__stopped_example.gpx").activities[0]
    s = act.samples
    assert 160 < s["cadence_spm"][s["cadence_spm"] > 0].median() < 190  # gpxtpx:cad is per foot
    assert 100 < s["heart_rate_bpm"].median() < 200


def test_tcx_runcadence_speed_and_pauses(real_data):
    act = decode_real("tcx/runpandas__run_garmin.tcx").activities[0]
    s = act.samples
    assert {"speed_mps", "cadence_spm", "heart_rate_bpm"} <= set(s.columns)
    assert 150 < s["cadence_spm"][s["cadence_spm"] > 0].median() < 200
    lap_distance = sum(lp.distance_m for lp in act.laps)
    assert totals(s)["distance_m"] == pytest.approx(lap_distance, rel=0.01)


def test_tcx_lap_totals_match_samples(real_data):
    # TCX laps are the device's own summary; their time adds up to our timer time.
    for rel in real_files("tcx"):
        res = decode_real(rel)
        for act in res.activities:
            lap_time = sum(lp.timer_s for lp in act.laps)
            if lap_time and len(act.samples) > 500:
                assert totals(act.samples)["moving_time_s"] == pytest.approx(lap_time, rel=0.02), rel


def test_bom_and_missing_elevation_and_times(real_data):
    assert "byte-order mark" in " ".join(decode_real("gpx/gpxpy__unicode_with_bom.gpx").problems)
    no_ele = decode_real("gpx/gpxpy__cerknicko-jezero-without-elevations.gpx").activities[0].samples
    assert "altitude_m" not in no_ele.columns
    zero_ele = decode_real("gpx/gpxpy__cerknicko-jezero-with-elevations-zero.gpx")
    assert "altitude_m" not in zero_ele.activities[0].samples.columns
    partial_times = decode_real("gpx/gpxpy__korita-zbevnica.gpx")
    assert any("no timestamp" in p for p in partial_times.problems)
    assert decode_real("gpx/gpxpy__route.gpx").skipped_reason.startswith("no track points")


# file -> (expected outcome, activities imported).  "partial": imported up to the damage
# with a warning; "skipped": readable but not a run.
CORRUPT_EXPECTED = {
    "fitparse__activity-filecrc.fit": ("partial", 1),
    "fitparse__activity-activity-filecrc.fit": ("partial", 1),
    "fitparse__activity-settings-corruptheader.fit": ("partial", 1),
    "fitparse__activity-settings-nodata.fit": ("partial", 1),
    "fitparse__activity-unexpected-eof.fit": ("partial", 1),
    "fitparse__strava-android-app-201.10-b1218918.fit": ("partial", 1),
    "fitparse__coros-pace-2-cycling-misaligned-fields.fit": ("partial", 1),
    "muktihari__activity_truncated.fit": ("partial", 1),
    "runpandas__malformed.tcx": ("partial", 1),
    "fitparse__nick.fit": ("skipped", 0),
    "fitparse__elemnt-bolt-no-application-id-inside-developer-data-id.fit": ("skipped", 0),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CORRUPT_EXPECTED))
def test_corrupt_file_outcome(name, real_data):
    outcome, n = CORRUPT_EXPECTED[name]
    res = decode_real(f"corrupt/{name}")
    assert res.error is None
    assert len(res.activities) == n
    if outcome == "partial":
        assert res.partial and res.problems
    else:
        assert res.skipped_reason


def test_every_corrupt_file_has_an_expectation(real_data):
    assert {r.split("/")[-1] for r in real_files("corrupt")} == set(CORRUPT_EXPECTED)


def test_durations_match_the_manifest_inspection(real_data):
    # manifest.json was written by an independent inspection (gpxpy / ElementTree):
    # the span from the first to the last timed point must be ours too.
    checked = 0
    for rel in real_files("tcx") + real_files("gpx"):
        info = manifest()[rel]["inspection"]
        span = info.get("record_span_s") or info.get("duration_s")
        res = decode_real(rel)
        if res.activities and span:
            assert totals(res.activities[0].samples)["duration_s"] == pytest.approx(span, abs=1.0), rel
            checked += 1
    assert checked >= 40
