"""A distance from GPS positions leaves out glitches of several fixes and the way across a pause,
the same in the stored activity and in the features."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from click.testing import CliRunner

from gaitrisk.cli.main import cli
from gaitrisk.features.clean import clean
from gaitrisk.ingest.frame import totals
from gaitrisk.ingest.xml.gpx import decode_gpx

from .helpers.gpxgen import gpx_run
from .helpers.paths import real_data_or_skip

M_PER_DEG = 111_195.0
LAT0, LON0 = 46.0, 14.5
START = dt.datetime(2024, 5, 1, 7, 0, tzinfo=dt.timezone.utc)


def _gpx(east_m: np.ndarray, north_m: np.ndarray, t_s: np.ndarray) -> bytes:
    lat = LAT0 + north_m / M_PER_DEG
    lon = LON0 + east_m / (M_PER_DEG * np.cos(np.radians(LAT0)))
    pts = "".join(f'<trkpt lat="{a:.8f}" lon="{o:.8f}"><time>'
                  f'{(START + dt.timedelta(seconds=float(s))).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}</time></trkpt>'
                  for a, o, s in zip(lat, lon, t_s))
    return ('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="test" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>running</type><trkseg>'
            f"{pts}</trkseg></trk></gpx>").encode()


def _straight(n: int = 600, speed: float = 3.0, step_s: float = 2.0):
    t = np.arange(n) * step_s
    return np.zeros(n), t * speed, t  # north at ``speed``: true distance = speed * t[-1]


def _stored_and_features(data: bytes) -> tuple[float, float]:
    samples = decode_gpx(data, "t.gpx").activities[0].samples
    run = clean(samples)
    return totals(samples)["distance_m"], float(run.dist_m.sum())


def test_an_excursion_of_five_fixes_two_km_away_and_back_is_left_out():
    x, y, t = _straight()
    true = y[-1]
    x[300:305] += 2000.0  # five fixes 2 km east, consistent with each other, then back on the track
    stored, features = _stored_and_features(_gpx(x, y, t))
    assert stored == pytest.approx(true, rel=0.01)
    assert features == pytest.approx(true, rel=0.01)


def test_a_burst_of_fixes_at_200_m_per_s_is_left_out():
    x, y, t = _straight()
    true = y[-1]
    x[200:206] += 200.0 * 2.0 * np.arange(1, 7)  # six fixes racing away east at 200 m/s, then back
    stored, features = _stored_and_features(_gpx(x, y, t))
    assert stored == pytest.approx(true, rel=0.01)
    assert features == pytest.approx(true, rel=0.01)


def test_two_interleaved_position_streams_do_not_add_a_zigzag():
    # After a run, a standing recorder writes a fix every 15 s and a second stream 33 m away
    # 0.05 s after each: every hop into the second stream is 660 m/s, every hop out 2.2 m/s.
    x, y, t = _straight(300)
    true = y[-1]
    stand_t = t[-1] + 15.0 * np.arange(1, 81)
    ts = np.concatenate([t, stand_t, stand_t + 0.05])
    xs = np.concatenate([x, np.zeros(80), np.full(80, 33.0)])
    ys = np.concatenate([y, np.full(160, y[-1])])
    order = np.argsort(ts, kind="stable")
    stored, features = _stored_and_features(_gpx(xs[order], ys[order], ts[order]))
    assert stored == pytest.approx(true, rel=0.01)
    assert features == pytest.approx(true, rel=0.01)


def test_the_way_across_a_recording_hole_is_not_run():
    # 10 min running, the recorder off for 30 min while the runner is driven 20 km, 10 min more.
    x, y, t = _straight(600)
    y[300:] += 20_000.0
    t[300:] += 1800.0
    true = 3.0 * 2.0 * 598  # the two halves' steps, and about one step across the hole
    stored, features = _stored_and_features(_gpx(x, y, t))
    assert stored == pytest.approx(true, rel=0.01)
    assert features == pytest.approx(stored, rel=0.01)


def test_a_clean_run_keeps_its_distance():
    samples = decode_gpx(gpx_run(START, minutes=20), "c.gpx").activities[0].samples
    assert totals(samples)["distance_m"] == pytest.approx(3.0 * 2 * 599, rel=1e-3)
    assert clean(samples).distance_source == "positions"


REAL_GLITCHED = ("gpx/runpandas__session-720bf570-d855-4303-87c2-74d85429e52d.gpx",
                 "gpx/gpxpy__cerknicko-jezero.gpx")


@pytest.mark.realdata
@pytest.mark.parametrize("rel", REAL_GLITCHED)
def test_real_glitched_gpx_stores_the_features_distance(rel):
    data = (real_data_or_skip() / rel).read_bytes()
    samples = decode_gpx(data, rel).activities[0].samples
    run = clean(samples)
    assert run.distance_source == "positions"
    assert totals(samples)["distance_m"] == pytest.approx(float(run.dist_m.sum()), rel=0.05)


@pytest.mark.slow
@pytest.mark.realdata
def test_real_glitched_run_makes_no_load_spike(tmp_path):
    real = real_data_or_skip()
    runner = CliRunner()
    db = str(tmp_path / "g.db")
    res = runner.invoke(cli, ["--db", db, "import", str(real), "--athlete", "old"])
    assert res.exit_code in (0, 1), res.output
    res = runner.invoke(cli, ["--db", db, "load", "--json", "--athlete", "old", "--until", "2021-01-24"])
    assert res.exit_code == 0, res.output
    runs = [r for r in json.loads(res.output)["runs"] if r["start_time"].startswith("2021-01-17")]
    assert runs and all(r["spike_tier"] in ("none", "small") for r in runs), runs
    assert all(r["distance_m"] < 17_000 for r in runs), runs


def test_a_bad_first_fix_does_not_throw_away_the_run_after_it():
    x, y, t = _straight()
    true = y[-1] - y[1]
    x[0] += 3000.0  # the first fix 3 km off (a cold start), the rest on the track
    stored, features = _stored_and_features(_gpx(x, y, t))
    assert stored == pytest.approx(true, rel=0.01)
    assert features == pytest.approx(true, rel=0.01)


def test_a_ride_is_not_a_glitch():
    # Two minutes at 20 m/s after a 10-minute run: travel the plausibility screen must see.
    x, y, t = _straight(360)
    t_ride = t[-1] + 2.0 * np.arange(1, 61)
    ys = np.concatenate([y, y[-1] + 20.0 * (t_ride - t[-1])])
    stored, features = _stored_and_features(_gpx(np.zeros(ys.size), ys, np.concatenate([t, t_ride])))
    assert stored == pytest.approx(ys[-1], rel=0.05)
    assert features == pytest.approx(stored, rel=0.01)


def test_the_plausibility_screen_still_sees_a_ride_faster_than_the_gate(tmp_path):
    # 30 min at 14 m/s: every fix is out of a runner's reach of the one before, yet it is travel.
    t = np.arange(900) * 2.0
    (tmp_path / "ride.gpx").write_bytes(_gpx(np.zeros(t.size), t * 14.0, t))
    runner = CliRunner()
    db = str(tmp_path / "r.db")
    res = runner.invoke(cli, ["--db", db, "import", str(tmp_path / "ride.gpx")])
    assert "not a run?" in res.output and "faster than the world record" in res.output, res.output
    listing = runner.invoke(cli, ["--db", db, "activities"]).output
    assert "25.17" in listing, listing  # 899 steps of 28 m


def _gate_fix_by_fix(x, y, t, max_speed):
    """The speed gate as its rule reads, one fix at a time (the oracle for the fast gate)."""
    from gaitrisk.ingest.positions import GLITCH_MAX_S

    out = [False] * len(x)
    ax, ay, at, first = x[0], y[0], t[0], -1
    for i in range(1, len(x)):
        gap = t[i] - at
        if gap <= GLITCH_MAX_S and (x[i] - ax) ** 2 + (y[i] - ay) ** 2 > (max_speed * max(gap, 1e-3)) ** 2:
            out[i], first = True, (i if first < 0 else first)
            continue
        if first >= 0 and gap > GLITCH_MAX_S:
            out[first:i] = [False] * (i - first)
        ax, ay, at, first = x[i], y[i], t[i], -1
    if first >= 0 and t[-1] - at > GLITCH_MAX_S / 2:
        out[first:] = [False] * (len(x) - first)
    return np.array(out)


def test_the_speed_gate_that_jumps_between_impossible_steps_marks_what_the_fix_by_fix_gate_marks():
    """Random tracks with spikes, excursions, bursts, long gaps, repeated and missing times: the
    gate as built (vectorised between impossible steps) against the rule applied fix by fix."""
    from gaitrisk.ingest.positions import reject_excursions

    rng = np.random.default_rng(23)
    marked = 0
    for _ in range(3000):
        n = int(rng.integers(3, 70))
        t = np.cumsum(rng.choice([0.0, 1.0, 1.0, 2.0, 5.0, 31.0, 61.0, 200.0], size=n))
        if rng.random() < 0.05:
            t[int(rng.integers(0, n))] = np.nan
        step = rng.normal(0, 3, size=(n, 2))
        step[rng.random(n) < rng.choice([0.0, 0.05, 0.3, 0.7])] *= rng.choice([50, 500, 5000])
        pos = np.cumsum(step, axis=0)
        if rng.random() < 0.3:   # an excursion that comes back
            j = int(rng.integers(0, n))
            pos[j:j + int(rng.integers(1, 6))] += rng.normal(0, 2000, 2)
        x, y = pos[:, 0], pos[:, 1]
        got = reject_excursions(x, y, t)
        fwd = _gate_fix_by_fix(x.tolist(), y.tolist(), t.tolist(), 12.5)
        bwd = _gate_fix_by_fix(x[::-1].tolist(), y[::-1].tolist(), (-t[::-1]).tolist(), 12.5)[::-1]
        both = np.flatnonzero(~fwd & ~bwd)
        want = fwd.copy()
        if both.size:
            want[:both[0]] = bwd[:both[0]]
        else:
            want &= bwd
        np.testing.assert_array_equal(got, want)
        marked += int(got.sum())
    assert marked > 1000   # the tracks do exercise the gate
