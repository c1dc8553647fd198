"""Regenerate ``fixtures/`` from fixed seeds: same bytes on every run.

    python scripts/make_fixtures.py [--out fixtures]

Writes ``runs/`` (a twelve-week demo season of one athlete), ``truth/`` (single
runs with known truth, plus ``truth.json`` and ``season.json``), ``pain/demo_pain.csv``
(the demo athlete's pain log), ``pain/demo_ostrc.csv`` (its weekly OSTRC answers),
``pain/demo_gaps.csv`` (the declared data gap) and ``README.md``.  Only those are touched:
other folders under ``--out`` are left alone.
``tests/test_synth.py`` regenerates into a temporary folder and fails if the committed
files differ, so edit this script, never the fixtures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import gaitrisk  # noqa: F401
except ImportError:  # run as a file from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gaitrisk.synth import RunSpec, SyntheticRun, generate_run, write_fit, write_gpx, write_tcx

log = logging.getLogger("make_fixtures")

_UTC = dt.UTC
# GPX and TCX writers take no sport: both formats are written as running.
_TEXT_WRITERS = {".gpx": write_gpx, ".tcx": write_tcx}


@dataclass(frozen=True)
class Fixture:
    """One run and the files (name -> extra writer kwargs) it is written to."""

    spec: RunSpec
    files: tuple[str, ...]
    about: str
    sport: str = "running"


def _at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """Season day ``day`` (0 = Monday 2024-04-01) at hh:mm UTC."""
    return dt.datetime(2024, 4, 1, hour, minute, tzinfo=_UTC) + dt.timedelta(days=day)


def _minutes(speed_mps: float, minutes: float) -> float:
    return speed_mps * minutes * 60.0


def _home(**kwargs: Any) -> RunSpec:
    """A season run: the demo athlete starts every run from the same place."""
    return RunSpec(base_lat=46.05, base_lon=14.47, **kwargs)


# The first three weeks are sampled every 5 s (3 s on the track, for its bends): Garmin's
# "smart recording" writes at 1-7 s.  The weeks after the gap use 10 s on the road (older
# watches' smart recording; it keeps the folder small) and 3 s on the track.
FIRST_WEEKS: tuple[Fixture, ...] = (
    Fixture(_home(seed=101, start_time=_at(0, 6, 30), route="road_loop", sample_interval_s=5,
                    speed_mps=3.0, distance_m=_minutes(3.0, 30), cadence_spm=170, stance_time_ms=255,
                    altitude_noise_sd_m=0.3),
            ("2024-04-01_easy_loop.fit",), "easy 30 min road loop"),
    Fixture(_home(seed=102, start_time=_at(2, 17, 0), route="track", sample_interval_s=3, laps=15,
                    direction="ccw", speed_mps=4.2, cadence_spm=180, stance_time_ms=225,
                    vertical_oscillation_mm=80, heart_rate_bpm=162),
            ("2024-04-03_track_ccw.fit",), "track session, 15 laps counter-clockwise"),
    Fixture(_home(seed=103, start_time=_at(4, 6, 30), route="hill", sample_interval_s=5,
                    speed_mps=2.9, distance_m=_minutes(2.9, 35), hill_grade=0.06, hill_length_m=200,
                    cadence_spm=168, stance_time_ms=262, heart_rate_bpm=152, altitude_noise_sd_m=0.4),
            ("2024-04-05_hills.fit",), "hilly run: repeats of 200 m at +6 % then down"),
    Fixture(_home(seed=104, start_time=_at(6, 8, 0), route="out_and_back", sample_interval_s=5,
                    speed_mps=3.1, distance_m=_minutes(3.1, 30), lateral_offset_m=3.0, cadence_spm=171,
                    heart_rate_bpm=146),
            ("2024-04-07_out_and_back.gpx",),
            "30 min road out-and-back on the right-hand side (GPX: no running dynamics)"),
    Fixture(_home(seed=105, start_time=_at(9, 6, 30), route="road_loop", sample_interval_s=5,
                    speed_mps=3.2, distance_m=_minutes(3.2, 20), pauses=((720.0, 90.0),)),
            ("2024-04-10_loop_with_pause.tcx",), "20 min road loop with a 90 s pause at 12 min (TCX)"),
    Fixture(_home(seed=106, start_time=_at(11, 17, 30), route="road_loop", sample_interval_s=5,
                    speed_mps=3.6, distance_m=_minutes(3.6, 25), cadence_spm=176, stance_time_ms=238,
                    heart_rate_bpm=158),
            ("2024-04-12_tempo_loop.fit", "2024-04-12_tempo_loop.gpx"),
            "tempo loop written twice, as FIT and as GPX: a cross-format duplicate"),
    Fixture(_home(seed=107, start_time=_at(15, 6, 30), route="road_loop", sample_interval_s=5,
                    direction="cw", speed_mps=3.0, distance_m=_minutes(3.0, 30), cadence_spm=169,
                    stance_time_ms=258, stance_balance_pct=50.8),
            ("2024-04-16_easy_loop_cw.fit",), "easy loop run clockwise"),
    Fixture(_home(seed=108, start_time=_at(18, 6, 30), route="road_loop", sample_interval_s=5,
                    speed_mps=3.0, distance_m=_minutes(3.0, 40), cadence_spm=166, stance_time_ms=266,
                    stance_balance_pct=51.4, heart_rate_bpm=151),
            ("2024-04-19_long_loop.fit",), "40 min loop; longer contact time and a left-side imbalance"),
)

# The watch stays at home from Saturday 2024-04-20 to Sunday 2024-05-12 (the runner keeps
# running and keeps the pain log): a declared data gap, so the first run back is no return
# from a break.  ``gaitrisk demo`` declares it as `gaitrisk gap add` would.
GAP = (dt.date(2024, 4, 20), dt.date(2024, 5, 12), "watch left at home")
ROAD_S, TRACK_S = 10, 3           # sample intervals after the gap
# Barometric noise SD (m) after the gap: the feature's 5 s median filter leaves 10 s samples
# unfiltered, so a quieter barometer keeps the measured descent within 15 % of the profile's.
BARO_SD_M = 0.2
LONG_M = 7500.0                   # the steady Sunday long run: the 30-day longest before the spike
SPIKE_M = 12000.0                 # the last Sunday's long run: 1.6 x LONG_M
# The runner's steady cadence (steps/min) on each kind of run: 0-3 % above the population
# model 150 + 6.01 v (VU wearable study; gaitrisk.model.dataset.expected_cadence) at its
# speed, about +1 % as a median.  In the last week every run is 7 % below that usual +1 %:
# more than the 5 % of a drop from the runner's own baseline, and 10-11 steps/min below the
# population model, inside the population fallback's 12 (so only the personal drop flags).
CADENCE = {"easy": 170.0, "out_and_back": 171.0, "hills": 168.0, "long": 169.0, "track": 180.0}
USUAL_RESIDUAL, CADENCE_DROP = 0.01, 0.07


def _dropped(speed_mps: float) -> float:
    """The last week's cadence at ``speed_mps``: 7 % below the runner's usual residual."""
    return float(round((150.0 + 6.01 * speed_mps) * (1 + USUAL_RESIDUAL) * (1 - CADENCE_DROP)))


def _week_day(week: int, weekday: int, hour: int, minute: int = 0) -> dt.datetime:
    """Season week ``week`` (0 = the week of 2024-04-01), ``weekday`` 0 = Monday."""
    return _at(7 * week + weekday, hour, minute)


def _name(when: dt.datetime, what: str) -> str:
    """The file name of a later-weeks run: all FIT (the first weeks hold the GPX and TCX files)."""
    return f"{when.date().isoformat()}_{what}.fit"


def _easy(seed: int, when: dt.datetime, cadence: float, about: str = "easy 30 min road loop") -> Fixture:
    return Fixture(_home(seed=seed, start_time=when, route="road_loop", sample_interval_s=ROAD_S, speed_mps=3.0,
                         distance_m=_minutes(3.0, 30), cadence_spm=cadence, stance_time_ms=255,
                         altitude_noise_sd_m=BARO_SD_M),
                   (_name(when, "easy_loop"),), about)


def _out_and_back(seed: int, when: dt.datetime, cadence: float, about: str = "") -> Fixture:
    return Fixture(_home(seed=seed, start_time=when, route="out_and_back", sample_interval_s=ROAD_S,
                         speed_mps=3.1, distance_m=_minutes(3.1, 30), lateral_offset_m=3.0, bearing_deg=75.0,
                         cadence_spm=cadence, stance_time_ms=250, heart_rate_bpm=146),
                   (_name(when, "out_and_back"),),
                   about or "30 min out-and-back on the right-hand edge of a cambered road (right foot low)")


def _hills(seed: int, when: dt.datetime, cadence: float, *, grade: float = 0.06, length_m: float = 200.0,
           distance_m: float = _minutes(2.9, 35), about: str = "") -> Fixture:
    return Fixture(_home(seed=seed, start_time=when, route="hill", sample_interval_s=ROAD_S, speed_mps=2.9,
                         distance_m=distance_m, hill_grade=grade, hill_length_m=length_m, cadence_spm=cadence,
                         stance_time_ms=262, heart_rate_bpm=152, altitude_noise_sd_m=BARO_SD_M, bearing_deg=120.0),
                   (_name(when, "hills"),),
                   about or f"hilly run: repeats of {length_m:.0f} m at +{grade:.0%} then down")


def _long(seed: int, when: dt.datetime, cadence: float, distance_m: float = LONG_M, what: str = "long_loop",
          about: str = "") -> Fixture:
    return Fixture(_home(seed=seed, start_time=when, route="road_loop", sample_interval_s=ROAD_S, speed_mps=3.0,
                         distance_m=distance_m, cadence_spm=cadence, stance_time_ms=262, heart_rate_bpm=150,
                         altitude_noise_sd_m=BARO_SD_M),
                   (_name(when, what),), about or f"{distance_m / 1000:.1f} km Sunday long road loop")


def _track(seed: int, when: dt.datetime, cadence: float, laps: int = 16, about: str = "") -> Fixture:
    return Fixture(_home(seed=seed, start_time=when, route="track", sample_interval_s=TRACK_S, laps=laps,
                         direction="ccw", speed_mps=4.2, cadence_spm=cadence, stance_time_ms=225,
                         vertical_oscillation_mm=80, heart_rate_bpm=162),
                   (_name(when, "track_ccw"),),
                   about or f"track session, {laps} laps counter-clockwise (left leg inside)")


def _later_weeks() -> tuple[Fixture, ...]:
    """Season weeks 6-14 (2024-05-13 .. 2024-07-14), after the watch gap.

    Weeks 6-10 build a steady base (out-and-backs on a cambered road, hills, the
    Sunday long run); weeks 11-13 are a track block (two sessions a week, well over
    30 % of the distance); week 14 is the week the report is about: every run about
    7 % below the runner's usual cadence, a hill session with far more descent than the
    weeks before, and a long run 1.6 x the 30-day longest.
    """
    c = CADENCE
    runs: list[Fixture] = [
        _easy(301, _week_day(6, 0, 6, 30), c["easy"], about="first run with the watch again after the gap"),
        _out_and_back(302, _week_day(6, 2, 7, 0), c["out_and_back"]),
        _long(303, _week_day(6, 6, 8, 0), c["long"]),
    ]
    seed = 310
    for week in range(7, 11):
        runs.append(_out_and_back(seed, _week_day(week, 1, 7, 0), c["out_and_back"] + (week % 2) - 0.5))
        if week == 9:
            runs.append(_easy(seed + 1, _week_day(week, 3, 18, 0), c["easy"] - 1))
        else:
            runs.append(_hills(seed + 1, _week_day(week, 3, 18, 0), c["hills"]))
        runs.append(_long(seed + 2, _week_day(week, 6, 8, 0), c["long"] + (week % 3) - 1))
        seed += 10
    for week in range(11, 14):
        runs.append(_track(seed, _week_day(week, 1, 18, 0), c["track"] + (week % 2)))
        runs.append(_track(seed + 1, _week_day(week, 3, 18, 0), c["track"] - (week % 2)))
        runs.append(_out_and_back(seed + 2, _week_day(week, 5, 8, 0), c["out_and_back"] - 0.5))
        runs.append(_long(seed + 3, _week_day(week, 6, 8, 0), c["long"]))
        seed += 10
    runs += [
        _track(seed, _week_day(14, 0, 18, 0), _dropped(4.2),
               about="track session, 16 laps counter-clockwise, cadence 7 % below the runner's usual"),
        _hills(seed + 1, _week_day(14, 2, 18, 0), _dropped(2.9), grade=0.08, length_m=300.0,
               distance_m=7000.0, about="hill session: repeats of 300 m at +8 % then down, far more descent "
                                        "than any week before"),
        _out_and_back(seed + 2, _week_day(14, 4, 7, 0), _dropped(3.1),
                      about="out-and-back on the cambered road, cadence 7 % below the runner's usual"),
        _long(seed + 3, _week_day(14, 6, 8, 0), _dropped(3.0), distance_m=SPIKE_M, what="long_spike",
              about="12 km long run: 1.6 x the 30-day longest (a single-run spike), cadence 7 % low"),
    ]
    return tuple(runs)


SEASON: tuple[Fixture, ...] = FIRST_WEEKS + _later_weeks()

TRUTH: tuple[Fixture, ...] = (
    Fixture(RunSpec(seed=201, route="hill", distance_m=600.0, hill_flat_m=100.0, hill_length_m=200.0,
                    hill_grade=0.06, speed_mps=3.0, altitude_noise_sd_m=0.3),
            ("hill.fit",), "100 m flat, 200 m at +6 %, 200 m at -6 %, 100 m flat; barometric noise SD 0.3 m"),
    Fixture(RunSpec(seed=202, route="track", laps=5, direction="ccw", speed_mps=4.0),
            ("track_ccw.fit",), "5 laps of a 400 m track, counter-clockwise, 1 s samples"),
    Fixture(RunSpec(seed=203, route="out_and_back", distance_m=1600.0, lateral_offset_m=3.0, speed_mps=3.2,
                    sample_interval_s=2),
            ("out_and_back.gpx",), "800 m out and back, 3 m right of the road centre both ways, 2 s samples"),
    Fixture(RunSpec(seed=204, route="road_loop", distance_m=1200.0, speed_mps=3.0, sample_interval_s=2,
                    pauses=((300.0, 120.0),)),
            ("paused.tcx",), "road loop with one 120 s timer pause at 300 s (two Tracks)"),
    Fixture(RunSpec(seed=205, route="road_loop", distance_m=1000.0, speed_mps=3.3, gps_spike_at_s=150.0),
            ("spike.fit",), "road loop with one GPS fix displaced 200 m at 150 s"),
    Fixture(RunSpec(seed=206, route="road_loop", distance_m=1200.0, speed_mps=3.0, sample_interval_s=2,
                    include_cadence=False, include_heart_rate=False, include_dynamics=False),
            ("no_dynamics.gpx",), "positions, elevation and time only: no heart rate, cadence or dynamics"),
    Fixture(RunSpec(seed=207, route="road_loop", distance_m=5000.0, speed_mps=8.0, sample_interval_s=2,
                    cadence_spm=170.0, include_dynamics=False),
            ("cycling.fit",), "a bike ride (FIT sport cycling): the importer must skip it", sport="cycling"),
)

# The demo athlete's pain log (docs/pain_csv.md), times in UTC, with the gaps a real diary has
# (nothing from 04-20 to 05-07, nor from 05-24 to 06-05).  Left lateral hip pain: the left leg
# is the inside leg on the counter-clockwise track and the up-slope leg on the out-and-back road
# (the runner keeps to the right-hand edge, where a crowned road falls to the right: right foot
# low, left foot up-slope; evidence.md 5.3).
# The first weeks: low for two weeks, 5/10 during the long run of 04-19 (pain_rising on 04-19:
# 5/10 against a mean of 2.3 over the 3 logged days of the 7 before; no red flag).  After the
# gap it stays at 1-2/10 through the base weeks, climbs to 3/10 in the track block and to 4/10
# in the last week; on the last Sunday's long run it is 6/10 and worsening (pain_rising: above
# 5/10 during a run, 2+ points over the logged days of the 7 before).  The red flag: right shin
# pain 5/10 at night after the big hill session (see_a_clinician: night pain >= 3/10).
DEMO_PAIN_ZONE = "UTC"
DEMO_PAIN: tuple[tuple[str, str, int, str, str, str, str, str], ...] = (
    # date, time, score, region, side, when, behaviour, note
    ("2024-04-01", "18:00", 1, "lateral_hip", "L", "after_run", "", ""),
    ("2024-04-03", "19:00", 2, "lateral_hip", "L", "after_run", "", "after the track session"),
    ("2024-04-04", "07:30", 1, "lateral_hip", "L", "next_morning", "", ""),
    ("2024-04-07", "10:00", 2, "lateral_hip", "L", "after_run", "", ""),
    ("2024-04-10", "08:00", 1, "lateral_hip", "L", "after_run", "", ""),
    ("2024-04-12", "19:00", 3, "lateral_hip", "L", "after_run", "warms_up", "stairs hurt"),
    ("2024-04-13", "07:30", 2, "lateral_hip", "L", "next_morning", "", ""),
    ("2024-04-16", "08:00", 2, "lateral_hip", "L", "after_run", "", ""),
    ("2024-04-19", "07:05", 5, "lateral_hip", "L", "during_run", "worsens", "last 10 minutes of the long run"),
    ("2024-05-08", "19:00", 1, "lateral_hip", "L", "after_run", "", "ran without the watch"),
    ("2024-05-11", "09:00", 1, "lateral_hip", "L", "next_morning", "", ""),
    ("2024-05-13", "18:00", 1, "lateral_hip", "L", "after_run", "", ""),
    ("2024-05-15", "19:00", 2, "lateral_hip", "L", "after_run", "", "out-and-back"),
    ("2024-05-19", "11:00", 1, "lateral_hip", "L", "after_run", "", ""),
    ("2024-05-21", "19:00", 1, "lateral_hip", "L", "after_run", "", ""),
    ("2024-05-23", "21:00", 2, "lateral_hip", "L", "after_run", "", "hills"),
    ("2024-06-06", "21:00", 1, "lateral_hip", "L", "after_run", "", ""),
    ("2024-06-09", "11:00", 2, "lateral_hip", "L", "after_run", "", ""),
    ("2024-06-11", "19:00", 1, "lateral_hip", "L", "after_run", "", ""),
    ("2024-06-16", "11:00", 2, "lateral_hip", "L", "after_run", "", ""),
    ("2024-06-18", "20:00", 2, "lateral_hip", "L", "after_run", "", "first track session of the block"),
    ("2024-06-19", "07:30", 2, "lateral_hip", "L", "next_morning", "", ""),
    ("2024-06-20", "20:00", 3, "lateral_hip", "L", "after_run", "", "track: on the bends"),
    ("2024-06-23", "11:00", 2, "lateral_hip", "L", "after_run", "", ""),
    ("2024-06-25", "20:00", 3, "lateral_hip", "L", "after_run", "warms_up", "track"),
    ("2024-06-26", "07:30", 2, "lateral_hip", "L", "next_morning", "", ""),
    ("2024-06-29", "10:00", 2, "lateral_hip", "L", "after_run", "", ""),
    ("2024-07-02", "20:00", 3, "lateral_hip", "L", "after_run", "warms_up", "track"),
    ("2024-07-04", "20:00", 3, "lateral_hip", "L", "after_run", "", "stairs hurt"),
    ("2024-07-06", "10:00", 2, "lateral_hip", "L", "after_run", "", ""),
    ("2024-07-07", "11:00", 3, "lateral_hip", "L", "after_run", "", ""),
    ("2024-07-08", "20:00", 3, "lateral_hip", "L", "after_run", "", "track"),
    ("2024-07-09", "07:30", 3, "lateral_hip", "L", "next_morning", "", ""),
    ("2024-07-10", "20:30", 4, "lateral_hip", "L", "after_run", "", "hill repeats"),
    ("2024-07-11", "02:30", 5, "shin", "R", "at_night", "", "woke me up"),
    ("2024-07-12", "09:00", 4, "lateral_hip", "L", "after_run", "", ""),
    ("2024-07-14", "09:30", 6, "lateral_hip", "L", "during_run", "worsens", "last 20 minutes of the long run"),
)

# The demo athlete's weekly OSTRC-O2 answers for the left lateral hip (docs/pain_csv.md), in step
# with the pain log: no problem in the first two weeks, a minor one in the week of the 5/10 long
# run, none while the base weeks stay at 1-2/10, a problem that grows through the track block
# (full participation, training and performance affected to a minor extent: not substantial),
# and the last week a substantial problem (performance affected to a moderate extent: the pain
# worsened during the long run).  Weeks without a diary entry (the watch gap's first two weeks,
# the diary's hole around 2024-05-27) are left unanswered, as a real questionnaire series has them.
DEMO_OSTRC: tuple[tuple[str, str, int, int | None, int | None, int | None, str], ...] = (
    # week (Monday), area, participation, training, performance, symptoms, note
    ("2024-04-01", "lateral_hip", 0, None, None, None, ""),
    ("2024-04-08", "lateral_hip", 0, None, None, None, ""),
    ("2024-04-15", "lateral_hip", 1, 0, 1, 2, "sore at the end of the long run"),
    ("2024-05-06", "lateral_hip", 0, None, None, None, ""),
    ("2024-05-13", "lateral_hip", 0, None, None, None, ""),
    ("2024-05-20", "lateral_hip", 0, None, None, None, ""),
    ("2024-06-03", "lateral_hip", 0, None, None, None, ""),
    ("2024-06-10", "lateral_hip", 0, None, None, None, ""),
    ("2024-06-17", "lateral_hip", 1, 0, 0, 1, "track bends"),
    ("2024-06-24", "lateral_hip", 1, 1, 1, 1, ""),
    ("2024-07-01", "lateral_hip", 1, 1, 1, 2, "stairs hurt"),
    ("2024-07-08", "lateral_hip", 1, 1, 2, 2, "worse during the long run"),
)


def _ostrc_csv() -> str:
    rows = ["week,area,participation,training,performance,symptoms,note"]
    rows += [",".join("" if v is None else str(v) for v in row) for row in DEMO_OSTRC]
    return "\n".join(rows) + "\n"


# Declared data gaps (`gaitrisk gap add`): first day, last day (inclusive), reason.
DEMO_GAPS: tuple[tuple[dt.date, dt.date, str], ...] = (GAP,)


def _gaps_csv() -> str:
    rows = ["from,to,reason"] + [f"{a.isoformat()},{b.isoformat()},{why}" for a, b, why in DEMO_GAPS]
    return "\n".join(rows) + "\n"


def _pain_csv() -> str:
    rows = ["date,time,score,region,side,when,behaviour,note"]
    rows += [",".join(str(v) for v in row) for row in DEMO_PAIN]
    return "\n".join(rows) + "\n"


def _write(run: SyntheticRun, path: Path, sport: str) -> None:
    if path.suffix == ".fit":
        write_fit(run, path, sport=sport)
    else:
        _TEXT_WRITERS[path.suffix](run, path)
    log.info("wrote %s (%d bytes)", path, path.stat().st_size)


def _truth_entry(run: SyntheticRun, name: str, fx: Fixture) -> dict[str, Any]:
    """The run's truth plus what this file's format and sport can carry."""
    fmt = Path(name).suffix[1:]
    recorded = dict(run.truth["recorded"])
    # GPX and TCX have no fields for running dynamics, and the FIT writer drops them off running.
    if fmt != "fit" or fx.sport != "running":
        recorded["dynamics"] = False
    return dict(run.truth, format=fmt, sport=fx.sport, about=fx.about, recorded=recorded)


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True) + "\n"


def _clear(folder: Path) -> None:
    """Remove the files this script writes in ``folder`` so renamed fixtures leave no stale copy."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in folder.iterdir():
        if f.is_file() and f.suffix in {".fit", ".gpx", ".tcx", ".json"}:
            f.unlink()


def build(out: Path) -> list[Path]:
    """Write every fixture under ``out``; returns the written paths."""
    written: list[Path] = []
    runs_dir, truth_dir = out / "runs", out / "truth"
    _clear(runs_dir)
    _clear(truth_dir)

    season: dict[str, Any] = {}
    for fx in SEASON:
        run = generate_run(fx.spec)
        for i, name in enumerate(fx.files):
            _write(run, runs_dir / name, fx.sport)
            entry = _truth_entry(run, name, fx)
            if i:
                entry["duplicate_of"] = fx.files[0]
            season[f"runs/{name}"] = entry
            written.append(runs_dir / name)

    truth: dict[str, Any] = {}
    for fx in TRUTH:
        run = generate_run(fx.spec)
        for name in fx.files:
            _write(run, truth_dir / name, fx.sport)
            truth[name] = _truth_entry(run, name, fx)
            written.append(truth_dir / name)

    for path, obj in ((truth_dir / "truth.json", truth), (truth_dir / "season.json", season)):
        path.write_text(_json(obj), encoding="utf-8")
        written.append(path)
    pain = out / "pain" / "demo_pain.csv"
    pain.parent.mkdir(parents=True, exist_ok=True)
    pain.write_text(_pain_csv(), encoding="utf-8")
    written.append(pain)
    gaps = out / "pain" / "demo_gaps.csv"
    gaps.write_text(_gaps_csv(), encoding="utf-8")
    written.append(gaps)
    ostrc = out / "pain" / "demo_ostrc.csv"
    ostrc.write_text(_ostrc_csv(), encoding="utf-8")
    written.append(ostrc)
    readme = out / "README.md"
    readme.write_text(_readme(), encoding="utf-8")
    written.append(readme)
    return written


def _readme() -> str:
    lines = [
        "# Test fixtures",
        "",
        "**Generated, not hand-edited**: `python scripts/make_fixtures.py` rewrites `runs/`, `truth/`",
        "and this file from fixed seeds (byte-identical every time), using `gaitrisk.synth`.",
        "`tests/test_synth.py` regenerates them and fails if these files drift; change the script instead.",
        "",
        "All runs are synthetic (FIT manufacturer `development`), so every true value is known:",
        "`truth/truth.json` and `truth/season.json` map each file to its truth (distance, moving/elapsed",
        "time, pauses, cadence in steps/min, step length, ground-contact time and balance, ascent, ...).",
        "Files store cadence per foot (strides/min): steps/min = 2 x (cadence + fractional_cadence).",
        "",
        "## runs/ - a twelve-week demo season of one athlete",
        "",
        "2024-04-01 .. 2024-07-14: three weeks of runs, a declared three-week data gap (the watch",
        f"stayed at home {GAP[0]:%d %b} .. {GAP[1]:%d %b}; `pain/demo_gaps.csv`), then nine weeks: a base of",
        "out-and-backs, hills and a Sunday long run, a counter-clockwise track block, and a last week",
        "that holds every planted pattern (below). FIT, GPX and TCX; one run is written twice.",
        "",
        "| file | what |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {fx.about} |" for fx in SEASON for name in fx.files]
    lines += ["", "## truth/ - single runs with known truth", "", "| file | what |", "|---|---|"]
    lines += [f"| `{name}` | {fx.about} |" for fx in TRUTH for name in fx.files]
    lines += ["| `truth.json` | file name -> truth dict for the files above |",
              "| `season.json` | `runs/<file>` -> truth dict for the season |", ""]
    lines += [
        "## pain/ - the demo athlete's pain log, weekly OSTRC answers and data gap",
        "",
        f"`demo_pain.csv` (docs/pain_csv.md; times in {DEMO_PAIN_ZONE}): {len(DEMO_PAIN)} entries from "
        f"{DEMO_PAIN[0][0]} to {DEMO_PAIN[-1][0]},",
        "not every day, with an 18-day and a 13-day hole. Left lateral hip pain: low for two weeks and",
        "5/10 during the long run of 2024-04-19 (the first weeks' planted flag: `pain_rising` on",
        "2024-04-19, 5/10 against a mean of 2.3 over the 3 logged days of the 7 before, no red flag);",
        "after the gap 1-2/10 through the base weeks, 3/10 in the track block, 4/10 and then 6/10",
        "(during the last long run) in the last week, and right shin pain 5/10 at night after the big",
        "hill session. `demo_gaps.csv` (`from,to,reason`) holds the declared gap `gaitrisk demo` adds",
        "as `gaitrisk gap add` would.",
        "",
        f"`demo_ostrc.csv` (docs/pain_csv.md): {len(DEMO_OSTRC)} weekly OSTRC-O2 answers for the left lateral hip, "
        "weeks of",
        f"{DEMO_OSTRC[0][0]} to {DEMO_OSTRC[-1][0]}, imported by `gaitrisk demo` as `gaitrisk pain week-import` would.",
        "No problem in the first two weeks; a minor one (severity 33/100) in the week of the 5/10 long run;",
        "none through the base weeks; a growing problem through the track block (16, 32, 41/100: full",
        "participation, training and performance affected to a minor extent, not substantial); and in",
        "the last week a substantial problem (50/100: performance affected to a moderate extent). Weeks",
        "without a diary entry are left unanswered (unknown). With these answers the model's label for",
        "the demo athlete is the OSTRC substantial-problem onset (docs/model.md), not the pain-log onset:",
        "one onset, the Monday of the last week, after an answered week without a substantial problem.",
        "",
        "## What the season plants (the last week, 2024-07-08 .. 2024-07-14, unless said)",
        "",
        "| capability | planted as | in the report |",
        "|---|---|---|",
        f"| single-run spike | the last Sunday's {SPIKE_M / 1000:.0f} km run, {SPIKE_M / LONG_M:.1f} x the "
        f"30-day longest ({LONG_M / 1000:.1f} km) | `session_spike` |",
        "| downhill | hill runs every other week (+6 %, 200 m repeats); the last week's +8 %, 300 m session | "
        "`downhill_load` (descent ~4 x the mean week of the 28 days before) |",
        "| cadence drop | 35 earlier level runs at the runner's usual cadence (about +1 % on the population "
        "model 150 + 6.01 v); every run of the last week 7 % below it, 10-11 steps/min under the "
        "population model | `overstriding` (personal baseline) |",
        "| track block | 16-lap sessions counter-clockwise on a 400 m oval, two a week from 2024-06-17: "
        "about 41 % of the last 28 days' distance (bend metres: about 21 %) | `track_direction`: left leg inside, "
        "left lateral hip pain |",
        "| camber | 30 min out-and-backs on the right-hand edge of a crowned road, weekly; out-and-back "
        "pairing observes the side | `camber_exposure`: up-slope leg left, left lateral hip pain |",
        "| pain rising | left lateral hip 6/10 during the last long run (mean of the 7 days before: 3.7) | "
        "`pain_rising` |",
        "| red flag | right shin 5/10 at night on 2024-07-11 | `see_a_clinician` with its referral |",
        "| declared gap | 2024-04-20 .. 2024-05-12, watch at home; the first run back is 75 % of the "
        "longest before | no `return_from_break` |",
        "| OSTRC week | weekly answers for the left lateral hip: severity 16, 32, 41/100 through the track "
        "block, a substantial problem (50/100) in the last week | the report's OSTRC lines (HTML: the weekly "
        "severity chart); the model's label |",
        "",
        "Which leg is up-slope: a crowned road falls from its centre line to both edges. A runner on the",
        "right-hand edge (as on every out-and-back here, both ways) has the road falling to the right:",
        "the right foot is low and the **left leg is up-slope** (gaitrisk.features.camber names the low",
        "side `right`). The up-slope leg is the hypothesised side (evidence.md 5.3: up-slope hip",
        "adduction), so the planted left lateral hip pain is on the up-slope side, and on the inside",
        "leg of the counter-clockwise track. The road loops carry only the profile's assumed side.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("fixtures"), help="output folder (default: fixtures)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    written = build(args.out)
    total = sum(p.stat().st_size for p in written)
    log.info("%d files, %.0f kB in %s", len(written), total / 1000, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
