"""The synthetic-run generator keeps its truth, and each writer's file reads back right.

Files are read with the reference decoders (fitparse, gpxpy, defusedxml), not
with gaitrisk's own readers, so a bug shared by writer and reader cannot hide.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
from pathlib import Path

import defusedxml.ElementTree as DET
import fitparse
import gpxpy
import numpy as np
import pandas as pd
import pytest

from gaitrisk import schema as S
from gaitrisk.synth import TRACK_LAP_M, RunSpec, SyntheticRun, generate_run, lap_slices, write_fit, write_gpx, write_tcx
from gaitrisk.synth.runs import Direction

REPO = Path(__file__).resolve().parents[1]
R_EARTH = 6_371_008.8
SEMICIRCLE_DEG = 180.0 / 2**31
TCX_NS = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2",
          "x": "http://www.garmin.com/xmlschemas/ActivityExtension/v2"}
TPX_NS = "{http://www.garmin.com/xmlschemas/TrackPointExtension/v1}"

# One run with every channel, two pauses (one inside a lap, one not) and noise: the
# round-trip subject for all three writers.
RICH = RunSpec(seed=7, route="road_loop", distance_m=2500.0, speed_mps=3.1, altitude_noise_sd_m=0.3,
               pauses=((200.0, 45.0), (500.0, 30.0)))


def haversine_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle lengths (m) of consecutive steps; an independent re-implementation."""
    p1, p2 = np.radians(lat[:-1]), np.radians(lat[1:])
    dp, dl = p2 - p1, np.radians(np.diff(lon))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R_EARTH * np.arcsin(np.sqrt(a))


def local_xy(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """East/north metres from the first fix (equirectangular; fine over a few km)."""
    east = np.radians(lon - lon[0]) * R_EARTH * np.cos(np.radians(lat[0]))
    north = np.radians(lat - lat[0]) * R_EARTH
    return east, north


@pytest.fixture(scope="module")
def rich() -> SyntheticRun:
    return generate_run(RICH)


def _naive_utc(run: SyntheticRun) -> list[dt.datetime]:
    return [t.to_pydatetime() for t in run.samples[S.TIMESTAMP].dt.tz_convert(None)]


# --- the generator ----------------------------------------------------------------------

def test_same_seed_same_run_and_other_seed_other_noise() -> None:
    a, b = generate_run(RICH), generate_run(RICH)
    pd.testing.assert_frame_equal(a.samples, b.samples)
    assert a.truth == b.truth
    c = generate_run(RunSpec(**{**RICH.__dict__, "seed": 8}))
    assert not np.allclose(a.samples[S.CADENCE], c.samples[S.CADENCE])
    # The route does not depend on the seed: only the noise does.
    np.testing.assert_array_equal(a.samples[S.LAT], c.samples[S.LAT])


def test_columns_and_dtypes_follow_schema(rich: SyntheticRun) -> None:
    for name, dtype in rich.samples.dtypes.items():
        assert name in S.COLUMNS_BY_NAME
        assert str(dtype) == S.COLUMNS_BY_NAME[name].dtype, name
    assert rich.samples[S.TIMESTAMP].dt.tz is not None
    json.loads(json.dumps(rich.truth))  # truth is plain JSON


def test_channels_left_out_are_nan_not_zero() -> None:
    run = generate_run(RunSpec(seed=1, distance_m=600, include_cadence=False, include_heart_rate=False,
                               include_dynamics=False, include_altitude=False))
    for col in (S.CADENCE, S.HEART_RATE, S.STANCE_TIME, S.STANCE_BALANCE, S.VERTICAL_OSCILLATION,
                S.VERTICAL_RATIO, S.STEP_LENGTH, S.ALTITUDE):
        assert run.samples[col].isna().all(), col
    assert run.samples[S.LAT].notna().all()
    # Switching channels off does not change the other channels' values for a seed.
    full = generate_run(RunSpec(seed=1, distance_m=600))
    np.testing.assert_array_equal(run.samples[S.LON], full.samples[S.LON])


@pytest.mark.parametrize("spec", [
    RICH,
    RunSpec(seed=2, route="track", laps=3, speed_mps=4.3),
    RunSpec(seed=3, route="hill", distance_m=1800, sample_interval_s=2, altitude_noise_sd_m=0.5),
    RunSpec(seed=4, route="out_and_back", distance_m=3000, sample_interval_s=5, direction="cw"),
], ids=lambda s: s.route)
def test_truth_is_the_mean_of_consistent_samples(spec: RunSpec) -> None:
    run = generate_run(spec)
    df, t = run.samples, run.truth
    assert len(df) == t["n_samples"]
    assert df[S.CADENCE].mean() == pytest.approx(t["cadence_spm"], abs=1e-6)
    assert df[S.STANCE_TIME].mean() == pytest.approx(t["gct_ms"], abs=1e-6)
    assert df[S.STANCE_BALANCE].mean() == pytest.approx(t["gct_balance_pct"], abs=1e-6)
    assert df[S.VERTICAL_OSCILLATION].mean() == pytest.approx(t["vertical_oscillation_mm"], abs=1e-6)
    assert df[S.HEART_RATE].mean() == pytest.approx(t["heart_rate_bpm"], abs=0.5)
    assert 0.5 < df[S.CADENCE].std() < 2.0  # realistic noise, not a flat line
    # Self-consistency, sample by sample.
    np.testing.assert_allclose(df[S.STEP_LENGTH], df[S.SPEED] * 60 / df[S.CADENCE] * 1000, rtol=1e-12)
    np.testing.assert_allclose(df[S.VERTICAL_RATIO], df[S.VERTICAL_OSCILLATION] / df[S.STEP_LENGTH] * 100,
                               rtol=1e-12)
    assert df[S.STEP_LENGTH].mean() / 1000 == pytest.approx(t["step_length_m"], rel=1e-3)
    assert t["step_length_m"] == pytest.approx(t["speed_mps"] * 60 / t["cadence_spm"], rel=1e-6)
    # Timing: moving + paused = elapsed; the timer advances one interval per sample.
    assert t["moving_time_s"] + t["pause_s"] == t["elapsed_s"] == df[S.ELAPSED].iloc[-1]
    np.testing.assert_allclose(np.diff(run.timer_s), t["sample_interval_s"])
    # Distance: cumulative along the path, one interval's worth per sample.
    np.testing.assert_allclose(np.diff(df[S.DISTANCE]), t["speed_mps"] * t["sample_interval_s"], rtol=1e-6)
    assert df[S.DISTANCE].iloc[-1] == pytest.approx(t["distance_m"], abs=1e-6)
    # ...and the positions agree with it: chords of the bends are within 1 %.
    path = haversine_m(df[S.LAT].to_numpy(), df[S.LON].to_numpy()).sum()
    assert path == pytest.approx(t["distance_m"], rel=0.01)
    assert path <= t["distance_m"] * (1 + 1e-6)  # a chord is never longer than its arc


def test_pause_leaves_a_gap_and_a_new_timer_segment(rich: SyntheticRun) -> None:
    df, t = rich.samples, rich.truth
    assert t["pause_s"] == 75 and t["timer_segments"] == 3
    gaps = np.diff(df[S.TIMESTAMP].astype("int64").to_numpy()) / 1e9
    for pause in t["pauses"]:
        i = pause["after_sample"]
        assert gaps[i] == pause["duration_s"] + t["sample_interval_s"]
        assert df[S.TIMER_SEGMENT].iloc[i + 1] == df[S.TIMER_SEGMENT].iloc[i] + 1
    assert (gaps == 1).sum() == len(gaps) - 2
    # The first pause was asked for at 200 s wall clock, the second at 500 s.
    assert [p["at_elapsed_s"] for p in t["pauses"]] == [200.0, 500.0]


@pytest.mark.parametrize("direction,sign", [("ccw", 1.0), ("cw", -1.0)])
def test_track_laps_turn_the_right_way(direction: Direction, sign: float) -> None:
    run = generate_run(RunSpec(seed=5, route="track", laps=5, direction=direction, speed_mps=4.0, bearing_deg=77))
    df, t = run.samples, run.truth
    assert t["track_direction"] == direction and t["track_laps"] == 5
    assert t["distance_m"] == pytest.approx(5 * 400.0, abs=0.01)
    x, y = local_xy(df[S.LAT].to_numpy(), df[S.LON].to_numpy())
    # Shoelace over the closed laps: area of the stadium, positive for counter-clockwise.
    area = 0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) / t["track_laps"]
    r, straight = 36.8, 84.39
    assert sign * area == pytest.approx(2 * r * straight + math.pi * r**2, rel=0.01)
    heading = np.unwrap(np.arctan2(np.diff(y), np.diff(x)))
    assert sign * (heading[-1] - heading[0]) == pytest.approx(2 * math.pi * 5, abs=0.2)
    laps = lap_slices(run)
    assert len(laps) == 5
    for lap in laps:
        d = df[S.DISTANCE].iloc[lap.last] - df[S.DISTANCE].iloc[lap.start]
        assert d == pytest.approx(TRACK_LAP_M, abs=4.0 * 1.01)  # within one sample of 400 m


def test_out_and_back_runs_on_the_right_both_ways() -> None:
    run = generate_run(RunSpec(seed=6, route="out_and_back", distance_m=2000, lateral_offset_m=3.0,
                               bearing_deg=123))
    df, t = run.samples, run.truth
    x, y = local_xy(df[S.LAT].to_numpy(), df[S.LON].to_numpy())
    d = df[S.DISTANCE].to_numpy()
    leg = 0.5 * (t["distance_m"] - math.pi * t["lateral_offset_m"])
    out, back = d < leg, d > t["distance_m"] - leg
    u = np.array([x[out][-1], y[out][-1]])
    u /= np.linalg.norm(u)  # direction of the way out
    # Left of the outbound direction is positive.
    lateral_out = u[0] * y[out] - u[1] * x[out]
    lateral_back = u[0] * y[back] - u[1] * x[back]
    # 5 cm: local_xy's equirectangular frame bends a 1 km straight by about a centimetre.
    np.testing.assert_allclose(lateral_out, 0.0, atol=0.05)
    # Back lies 2 x offset to the left of the way out: each leg keeps right of the centre.
    np.testing.assert_allclose(lateral_back, 2 * t["lateral_offset_m"], atol=0.05)
    assert t["out_and_back_side"] == "right"
    assert np.hypot(x[-1], y[-1]) == pytest.approx(2 * t["lateral_offset_m"], abs=0.05)


def test_hill_profile_grade_and_barometric_noise() -> None:
    spec = RunSpec(seed=9, route="hill", distance_m=600, hill_flat_m=100, hill_length_m=200, hill_grade=0.06,
                   speed_mps=3.0, altitude_noise_sd_m=0.3)
    run = generate_run(spec)
    df, t = run.samples, run.truth
    assert t["n_climbs"] == 1
    assert t["total_ascent_m"] == pytest.approx(12.0) and t["total_descent_m"] == pytest.approx(12.0)
    d, alt = df[S.DISTANCE].to_numpy(), df[S.ALTITUDE].to_numpy()
    up, down = (d > 105) & (d < 295), (d > 305) & (d < 495)
    assert np.polyfit(d[up], alt[up], 1)[0] == pytest.approx(0.06, abs=0.005)
    assert np.polyfit(d[down], alt[down], 1)[0] == pytest.approx(-0.06, abs=0.005)
    noise = alt - run.clean_altitude_m
    assert noise.std() == pytest.approx(0.3, rel=0.25)
    assert run.clean_altitude_m.max() - run.clean_altitude_m.min() == pytest.approx(12.0, abs=0.2)


def test_gps_spike_moves_one_fix_only() -> None:
    run = generate_run(RunSpec(seed=10, distance_m=1000, speed_mps=3.3, gps_spike_at_s=150))
    df, spike = run.samples, run.truth["gps_spike"]
    i = spike["sample_index"]
    assert df[S.ELAPSED].iloc[i] == 150
    step = haversine_m(df[S.LAT].to_numpy(), df[S.LON].to_numpy())
    jumps = np.flatnonzero(step > 10 * run.truth["speed_mps"])
    assert jumps.tolist() == [i - 1, i]
    assert step[i - 1] == pytest.approx(200, abs=5)
    # The device distance and the truth ignore the spike.
    assert run.truth["distance_m"] == pytest.approx(df[S.DISTANCE].iloc[-1])
    assert step.sum() == pytest.approx(run.truth["distance_m"] + 2 * 200, rel=0.02)


# --- FIT --------------------------------------------------------------------------------

def _fit_messages(path: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for m in fitparse.FitFile(str(path)).get_messages():  # check_crc is on by default
        out.setdefault(m.name, []).append(m.get_values())
    return out


@pytest.mark.slow
def test_fit_reads_back_with_fitparse(rich: SyntheticRun, tmp_path: Path) -> None:
    msgs = _fit_messages(write_fit(rich, tmp_path / "rich.fit"))
    df, t = rich.samples, rich.truth
    rec = pd.DataFrame(msgs["record"])
    assert len(rec) == len(df)
    assert rec["timestamp"].tolist() == _naive_utc(rich)
    np.testing.assert_allclose(rec["position_lat"] * SEMICIRCLE_DEG, df[S.LAT], atol=1e-6)
    np.testing.assert_allclose(rec["position_long"] * SEMICIRCLE_DEG, df[S.LON], atol=1e-6)
    # Cadence is per foot: whole strides/min plus a 1/128 fraction.
    assert rec["cadence"].between(80, 92).all()
    spm = 2 * (rec["cadence"] + rec["fractional_cadence"])
    np.testing.assert_allclose(spm, df[S.CADENCE], atol=2 / 128 / 2 + 1e-9)
    np.testing.assert_allclose(rec["stance_time"], df[S.STANCE_TIME], atol=0.05 + 1e-9)
    np.testing.assert_allclose(rec["stance_time_balance"], df[S.STANCE_BALANCE], atol=0.005 + 1e-9)
    np.testing.assert_allclose(rec["vertical_oscillation"], df[S.VERTICAL_OSCILLATION], atol=0.05 + 1e-9)
    np.testing.assert_allclose(rec["vertical_ratio"], df[S.VERTICAL_RATIO], atol=0.005 + 1e-9)
    np.testing.assert_allclose(rec["step_length"], df[S.STEP_LENGTH], atol=0.05 + 1e-9)
    np.testing.assert_allclose(rec["distance"], df[S.DISTANCE], atol=0.005 + 1e-9)
    np.testing.assert_allclose(rec["enhanced_speed"], df[S.SPEED], atol=0.0005 + 1e-9)
    np.testing.assert_allclose(rec["enhanced_altitude"], df[S.ALTITUDE], atol=0.1 + 1e-9)
    np.testing.assert_array_equal(rec["heart_rate"], df[S.HEART_RATE])

    # Timer events bracket each pause.
    events = [(e["event_type"], e["timestamp"]) for e in msgs["event"] if e["event"] == "timer"]
    ts = _naive_utc(rich)
    expected = [("start", ts[0])]
    for p in t["pauses"]:
        stop = ts[p["after_sample"]]
        expected += [("stop_all", stop), ("start", stop + dt.timedelta(seconds=p["duration_s"]))]
    assert events == expected + [("stop_all", ts[-1])]

    (session,) = msgs["session"]
    assert session["sport"] == "running"
    assert session["total_distance"] == pytest.approx(t["distance_m"], rel=0.005)
    assert session["total_timer_time"] == pytest.approx(t["moving_time_s"], rel=0.005)
    assert session["total_elapsed_time"] == pytest.approx(t["elapsed_s"], rel=0.005)
    assert 2 * (session["avg_running_cadence"] + session["avg_fractional_cadence"]) == pytest.approx(
        t["cadence_spm"], abs=1.0)
    assert session["avg_stance_time"] == pytest.approx(t["gct_ms"], abs=1.0)
    assert session["avg_step_length"] / 1000 == pytest.approx(t["step_length_m"], rel=0.005)
    assert session["total_ascent"] == round(t["total_ascent_m"])
    laps = msgs["lap"]
    assert len(laps) == session["num_laps"] == math.ceil(t["distance_m"] / 1000)
    assert sum(lap["total_distance"] for lap in laps) == pytest.approx(session["total_distance"], abs=0.05)
    assert sum(lap["total_timer_time"] for lap in laps) == pytest.approx(t["moving_time_s"])
    assert sum(lap["total_elapsed_time"] for lap in laps) == pytest.approx(t["elapsed_s"])
    assert msgs["file_id"][0]["type"] == "activity"
    assert msgs["activity"][0]["num_sessions"] == 1


@pytest.mark.slow
def test_fit_without_dynamics_and_cycling(tmp_path: Path) -> None:
    run = generate_run(RunSpec(seed=11, distance_m=3000, speed_mps=8.0, include_dynamics=False))
    msgs = _fit_messages(write_fit(run, tmp_path / "ride.fit", sport="cycling"))
    assert msgs["session"][0]["sport"] == "cycling"
    assert msgs["sport"][0]["sport"] == "cycling"
    rec = msgs["record"][0]
    assert "stance_time" not in rec and "step_length" not in rec and "fractional_cadence" not in rec
    assert rec["cadence"] == round(run.samples[S.CADENCE].iloc[0] / 2)


# --- GPX --------------------------------------------------------------------------------

def test_gpx_reads_back_with_gpxpy(rich: SyntheticRun, tmp_path: Path) -> None:
    path = write_gpx(rich, tmp_path / "rich.gpx")
    gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
    (track,) = gpx.tracks
    assert track.type == "running"
    assert len(track.segments) == rich.truth["timer_segments"]
    points = [p for seg in track.segments for p in seg.points]
    df = rich.samples
    assert len(points) == len(df)
    np.testing.assert_allclose([p.latitude for p in points], df[S.LAT], atol=1e-6)
    np.testing.assert_allclose([p.longitude for p in points], df[S.LON], atol=1e-6)
    np.testing.assert_allclose(np.array([p.elevation for p in points], dtype=float), df[S.ALTITUDE], atol=0.005 + 1e-9)
    assert [p.time for p in points] == df[S.TIMESTAMP].dt.to_pydatetime().tolist()
    hr, cad = [], []
    for p in points:
        (ext,) = p.extensions
        hr.append(int(ext.find(f"{TPX_NS}hr").text))
        cad.append(int(ext.find(f"{TPX_NS}cad").text))
    np.testing.assert_array_equal(hr, df[S.HEART_RATE])
    np.testing.assert_allclose(2 * np.array(cad), df[S.CADENCE], atol=1.0)
    # Segment boundaries are the pauses.
    sizes = np.cumsum([len(s.points) for s in track.segments])[:-1] - 1
    assert sizes.tolist() == [p["after_sample"] for p in rich.truth["pauses"]]
    assert gpx.length_2d() == pytest.approx(rich.truth["distance_m"] - rich.truth["speed_mps"] * 2, rel=0.01)


def test_gpx_without_channels_has_no_extensions(tmp_path: Path) -> None:
    run = generate_run(RunSpec(seed=12, distance_m=600, include_cadence=False, include_heart_rate=False,
                               include_dynamics=False, include_altitude=False))
    gpx = gpxpy.parse(write_gpx(run, tmp_path / "bare.gpx").read_text(encoding="utf-8"))
    points = gpx.tracks[0].segments[0].points
    assert len(points) == len(run.samples)
    assert all(p.extensions == [] and p.elevation is None for p in points)


# --- TCX --------------------------------------------------------------------------------

def test_tcx_reads_back_with_defusedxml(rich: SyntheticRun, tmp_path: Path) -> None:
    root = DET.parse(write_tcx(rich, tmp_path / "rich.tcx")).getroot()
    (activity,) = root.findall("t:Activities/t:Activity", TCX_NS)
    assert activity.get("Sport") == "Running"
    df, t = rich.samples, rich.truth
    tps = activity.findall(".//t:Trackpoint", TCX_NS)
    assert len(tps) == len(df)

    def values(xpath: str, cast=float) -> list:
        return [cast(tp.find(xpath, TCX_NS).text) for tp in tps]

    times = [dt.datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values("t:Time", str)]
    assert times == df[S.TIMESTAMP].dt.to_pydatetime().tolist()
    np.testing.assert_allclose(values("t:Position/t:LatitudeDegrees"), df[S.LAT], atol=1e-6)
    np.testing.assert_allclose(values("t:Position/t:LongitudeDegrees"), df[S.LON], atol=1e-6)
    np.testing.assert_allclose(values("t:AltitudeMeters"), df[S.ALTITUDE], atol=0.005 + 1e-9)
    np.testing.assert_allclose(values("t:DistanceMeters"), df[S.DISTANCE], atol=0.005 + 1e-9)
    np.testing.assert_array_equal(values("t:HeartRateBpm/t:Value", int), df[S.HEART_RATE])
    np.testing.assert_allclose(2 * np.array(values("t:Cadence", int)), df[S.CADENCE], atol=1.0)
    run_cad = values("t:Extensions/x:TPX/x:RunCadence", int)
    np.testing.assert_allclose(2 * np.array(run_cad), df[S.CADENCE], atol=1.0)
    np.testing.assert_allclose(values("t:Extensions/x:TPX/x:Speed"), df[S.SPEED], atol=0.0005 + 1e-9)

    laps = activity.findall("t:Lap", TCX_NS)
    assert len(laps) == len(lap_slices(rich))
    total_time = sum(float(lap.find("t:TotalTimeSeconds", TCX_NS).text) for lap in laps)
    total_dist = sum(float(lap.find("t:DistanceMeters", TCX_NS).text) for lap in laps)
    assert total_time == pytest.approx(t["moving_time_s"], rel=0.005)
    assert total_dist == pytest.approx(t["distance_m"], rel=0.005)
    # A new Track after each pause (neither pause falls on a lap boundary here).
    assert len(activity.findall("t:Lap/t:Track", TCX_NS)) == len(laps) + len(t["pauses"])


# --- the committed fixtures -------------------------------------------------------------

@pytest.mark.slow
def test_committed_fixtures_match_the_generator(tmp_path: Path) -> None:
    """Regenerate into tmp_path: the committed fixtures/ must be byte-identical."""
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_fixtures.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, cwd=REPO)
    committed = REPO / "fixtures"
    fresh_files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert fresh_files, "the script wrote nothing"
    # The script owns runs/ and truth/ whole (other folders under fixtures/ are not its business).
    owned = sorted(p.relative_to(committed) for d in ("runs", "truth") for p in (committed / d).glob("*")
                   if p.is_file())
    assert owned == [f for f in fresh_files if f.parts[0] in ("runs", "truth")], \
        "fixtures/ lists other files than the script writes: run scripts/make_fixtures.py"
    stale = [str(f) for f in fresh_files if (committed / f).read_bytes() != (tmp_path / f).read_bytes()]
    assert not stale, f"fixtures drifted from scripts/make_fixtures.py: {stale}"
    total = sum((tmp_path / f).stat().st_size for f in fresh_files)
    assert total < 1_100_000  # keep the repository small: twelve weeks of demo season plus the truth runs
    truth = json.loads((committed / "truth" / "truth.json").read_text())
    assert set(truth) == {f.name for f in fresh_files if f.parts[0] == "truth" and f.suffix != ".json"}
