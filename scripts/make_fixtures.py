"""Regenerate ``fixtures/`` from fixed seeds: same bytes on every run.

    python scripts/make_fixtures.py [--out fixtures]

Writes ``runs/`` (a three-week demo season of one athlete), ``truth/`` (single
runs with known truth, plus ``truth.json`` and ``season.json``), ``pain/demo_pain.csv``
(the demo athlete's pain log) and ``README.md``.  Only those are touched: other folders under ``--out`` are left
alone.  ``tests/test_synth.py`` regenerates into a temporary folder and fails
if the committed files differ, so edit this script, never the fixtures.
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


# Season runs are sampled every 5 s (3 s on the track, for its bends): Garmin's
# "smart recording" writes at 1-7 s, and it keeps the folder small.
SEASON: tuple[Fixture, ...] = (
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

# The demo athlete's pain log (docs/pain_csv.md), times in UTC: left lateral hip pain
# that stays low for two weeks and reaches 5/10 during the long run.  Planted so that
# the demo's flags are known: pain_rising on 04-19 (5/10 against a 7-day mean of 1.0,
# §0 rows 19-20) and no see_a_clinician (the after/during-run scores never rise three
# runs in a row).  The left-side pain matches the season's left-foot-low road camber,
# but camber_exposure and track_direction need 28 days of history the season lacks.
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
)


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
        "## runs/ - a three-week demo season of one athlete",
        "",
        "| file | what |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {fx.about} |" for fx in SEASON for name in fx.files]
    lines += ["", "## truth/ - single runs with known truth", "", "| file | what |", "|---|---|"]
    lines += [f"| `{name}` | {fx.about} |" for fx in TRUTH for name in fx.files]
    lines += ["| `truth.json` | file name -> truth dict for the files above |",
              "| `season.json` | `runs/<file>` -> truth dict for the season |", ""]
    lines += ["## pain/ - the demo athlete's pain log", "",
              f"`demo_pain.csv` (docs/pain_csv.md; times in {DEMO_PAIN_ZONE}): left lateral hip pain, low for two",
              "weeks, 5/10 during the long run of 2024-04-19. `gaitrisk demo` imports it with the runs; the",
              "planted flag is `pain_rising` on 2024-04-19 (5/10 against a 7-day mean of 1.0), no red flag.", ""]
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
