"""An independent synthetic cohort: runners, their watch files and pain diaries, from a known hazard.

This module imports nothing from gaitrisk (``tests/test_validation.py`` checks it): its runners,
its cadence model and its files are its own, so a model validated on it is not validated on the
formulas it measures with.  Only the file formats are shared: GPX 1.1 with the Garmin
TrackPointExtension (``hr``, ``cad``) and TCX with the ActivityExtension ``RunCadence``; in both
the cadence is per foot (strides/min, half the steps/min), as watches write it.

Each runner has a height (taller runners step less often), a cadence at 3 m/s that varies with
SD ≈ 8 spm across runners, an easy speed, runs per week, a weekly volume, route preferences (loops,
out-and-backs, hills, a 400 m track) and a pain-logging habit (daily, sporadic, or lapsing for
weeks).  Weeks bring day-to-day noise, occasional long-run spikes, blocks of low cadence and
breaks.

Pain onsets are drawn day by day from a known hazard: while the runner has been pain-free
(score < 3) for 7 days, the onset probability of day d is

    h(d) = baseline x HR_spike^[a run in d-SPIKE_DAYS..d-1 was > 1.1 x the longest of its 30 days before]
                    x HR_low_cadence^[a run in d-7..d-1 was >= 5 % below the runner's own cadence]
                    x HR_previous^[an onset in d-PREVIOUS_DAYS..d-1]

Hills, track, route and volume carry no effect.  ``--null`` sets every HR to 1: the same baseline
hazard for every runner every day.  After an onset the runner hurts (score >= 3) for 3-10 days,
then 2 and 1, and runs less; the diary records what the runner logged (an unlogged day has no row).

Output (``OUT``): ``<athlete>/runs/*.gpx|tcx``, ``<athlete>/pain.csv`` (docs/pain_csv.md),
``truth.json`` (the configuration, the planted HRs, per runner its traits, onsets and each file's
distance, duration and mean cadence) and ``truth_days.csv`` (per athlete-day: the planted hazard,
whether that day is an onset, whether the runner was at risk and logged, the exposures).

    python scripts/cohorts/independent.py OUT [--athletes 80] [--weeks 24] [--seed 1] [--null]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from xml.sax.saxutils import escape

EARTH_R = 6371008.8            # mean Earth radius, m (the haversine radius of GPX readers)
TRACK_STRAIGHT, TRACK_RADIUS = 84.39, 36.5   # a standard 400 m track, lane 1
SPIKE_RATIO = 1.10             # a run > 1.1 x the longest run of the 30 days before it
SPIKE_LOOKBACK = 30
LOW_CADENCE = -0.05            # a run >= 5 % below the runner's own cadence for its speed
PAIN_FREE_DAYS = 7             # at risk after 7 days with score < 3
TARGET_REGIONS = ("lateral_hip", "groin_front_hip", "buttock", "lateral_knee_itb")
GPX_NS = "http://www.topografix.com/GPX/1/1"
TPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
TCX_NS = "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"
AX_NS = "http://www.garmin.com/xmlschemas/ActivityExtension/v2"


@dataclass(frozen=True)
class Config:
    """Sizes, randomness and the planted hazard.  Hazards are per day; HRs multiply the baseline."""

    seed: int = 1
    athletes: int = 80
    weeks: int = 24
    start: str = "2025-01-06"          # a Monday
    sample_interval_s: int = 10
    baseline_hazard: float = 0.004     # ≈ 2.8 % per 7 days, ≈ 0.7 onsets per runner in 24 weeks
    hr_spike: float = 1.6
    hr_low_cadence: float = 1.5
    hr_previous: float = 2.0
    spike_days: int = 10               # the spike's raised hazard lasts this many days after the run
    previous_days: int = 180
    null: bool = False

    def hazard_ratios(self) -> dict[str, float]:
        if self.null:
            return {"spike": 1.0, "low_cadence": 1.0, "previous_onset": 1.0}
        return {"spike": self.hr_spike, "low_cadence": self.hr_low_cadence, "previous_onset": self.hr_previous}


@dataclass(frozen=True)
class Runner:
    name: str
    height_m: float
    cadence_3mps: float                # steps/min at 3 m/s on the flat, own baseline
    cadence_slope: float               # steps/min per m/s
    easy_speed: float
    runs_per_week: int
    weekly_m: float
    route_weights: tuple[float, float, float, float]   # loop, out_and_back, hill, track
    logging: str                       # daily, sporadic, lapsing
    log_prob: float
    home: tuple[float, float]


@dataclass
class Run:
    day: int
    distance_m: float
    speed_mps: float
    cadence_spm: float
    route: str
    low_cadence: bool
    spike: bool = False


@dataclass
class FileTruth:
    file: str
    date: str
    route: str
    distance_m: float
    duration_s: float
    avg_cadence_spm: float
    spike: bool
    low_cadence: bool


@dataclass
class Day:
    athlete: str
    date: str
    hazard: float
    at_risk: int
    onset: int
    pain: int
    logged: int
    spike_exposed: int
    low_cadence_exposed: int
    previous_exposed: int
    ran: int


@dataclass
class AthleteOut:
    runner: Runner
    runs: list[Run] = field(default_factory=list)
    files: list[FileTruth] = field(default_factory=list)
    days: list[Day] = field(default_factory=list)
    onsets: list[str] = field(default_factory=list)
    diary: list[tuple[str, int, str, str, str]] = field(default_factory=list)


def make_runner(index: int, rng: random.Random) -> Runner:
    height = min(max(rng.gauss(1.74, 0.09), 1.52), 2.00)
    # Height explains ≈ 6 spm of the ≈ 8 spm SD between runners; the rest is individual.
    cadence = 164.0 - 70.0 * (height - 1.74) + rng.gauss(0.0, 5.3)
    runs = rng.choices([3, 4, 5, 6], weights=[3, 4, 2, 1])[0]
    weekly = rng.uniform(4500, 9500) * runs * rng.uniform(0.8, 1.1)
    routes = tuple(rng.uniform(0.2, 1.0) * w for w in (3.0, 1.5, 1.0, 0.4))
    logging_style = rng.choices(["daily", "sporadic", "lapsing"], weights=[4, 3.5, 2.5])[0]
    log_prob = {"daily": 0.97, "sporadic": rng.uniform(0.25, 0.6), "lapsing": 0.9}[logging_style]
    home = (rng.uniform(44.0, 56.0), rng.uniform(-4.0, 16.0))
    return Runner(f"r{index:03d}", round(height, 3), round(cadence, 2), rng.uniform(6.0, 10.0),
                  rng.uniform(2.5, 3.6), runs, weekly, routes, logging_style, log_prob, home)


def cadence_for(runner: Runner, speed: float) -> float:
    """The runner's own cadence at ``speed`` on the flat, steps/min."""
    return runner.cadence_3mps + runner.cadence_slope * (speed - 3.0)


def _run_days(runner: Runner, rng: random.Random) -> list[int]:
    """Weekday offsets (0 = Monday) of the week's runs; the last one is the long run (weekend)."""
    long_day = rng.choice([5, 6])
    others = rng.sample([d for d in range(7) if d not in (long_day, long_day - 1 if long_day == 6 else 6)],
                        runner.runs_per_week - 1)
    return sorted(others) + [long_day]


def simulate(cfg: Config, runner: Runner, rng: random.Random) -> AthleteOut:
    """Runs, pain and the daily hazard of one runner over ``cfg.weeks`` weeks."""
    out = AthleteOut(runner)
    hrs = cfg.hazard_ratios()
    start = dt.date.fromisoformat(cfg.start)
    n_days = 7 * cfg.weeks
    week_days = _run_days(runner, rng)
    runs = out.runs
    scores = [0] * n_days
    pain_until = -1
    onset_days: list[int] = []
    break_until = -1
    low_until = -1
    lapse_until = -1
    level = 1.0
    for week in range(cfg.weeks):
        level = min(max(level * math.exp(rng.gauss(0.0, 0.08)), 0.6), 1.5)   # volume drifts week to week
        if rng.random() < 0.015:
            break_until = 7 * week + 7 * rng.randint(1, 5) - 1
        spike_week = rng.random() < 0.08
        if rng.random() < 0.05:
            low_until = 7 * week + 7 * rng.randint(1, 3) - 1
        if runner.logging == "lapsing" and rng.random() < 0.06:
            lapse_until = 7 * week + 7 * rng.randint(2, 6) - 1
        for wd in range(7):
            d = 7 * week + wd
            # --- the day's run -----------------------------------------------------------------
            hurting = d <= pain_until + 2
            if wd in week_days and d > break_until and not (hurting and rng.random() < 0.6):
                is_long = wd == week_days[-1]
                share = 0.32 if is_long else 0.68 / max(runner.runs_per_week - 1, 1)
                dist = max(3000.0, runner.weekly_m * level * share * rng.uniform(0.9, 1.1))
                if is_long and spike_week:
                    dist *= rng.uniform(1.25, 1.6)
                if hurting:
                    dist *= 0.7
                speed = runner.easy_speed * rng.uniform(0.93, 1.07) * (0.95 if is_long else 1.0)
                if not is_long and rng.random() < 0.2:
                    speed *= 1.12
                speed = min(max(speed, 2.3), 4.5)
                weights = list(runner.route_weights)
                if dist > 12000:
                    weights[3] = 0.0
                route = rng.choices(["loop", "out_and_back", "hill", "track"], weights=weights)[0]
                low = d <= low_until
                cad = cadence_for(runner, speed) + rng.gauss(0.0, 1.5)
                if low:
                    cad *= 1.0 - rng.uniform(0.06, 0.10)
                runs.append(Run(d, dist, speed, cad, route, low))
            # --- the hazard of day d: exposures from runs before d -----------------------------
            spike_exp = any(r.spike and d - cfg.spike_days <= r.day < d for r in runs)
            low_exp = any(r.low_cadence and d - 7 <= r.day < d for r in runs)
            prev_exp = any(d - cfg.previous_days <= o < d for o in onset_days)
            h = cfg.baseline_hazard
            h *= hrs["spike"] if spike_exp else 1.0
            h *= hrs["low_cadence"] if low_exp else 1.0
            h *= hrs["previous_onset"] if prev_exp else 1.0
            at_risk = d >= PAIN_FREE_DAYS and all(s < 3 for s in scores[max(d - PAIN_FREE_DAYS, 0):d])
            onset = at_risk and rng.random() < h
            if onset:
                onset_days.append(d)
                out.onsets.append((start + dt.timedelta(days=d)).isoformat())
                pain_until = _episode(scores, d, rng)
            # Spike status of today's run: against the longest run of the 30 days before it.
            if runs and runs[-1].day == d:
                before = [r.distance_m for r in runs[:-1] if d - SPIKE_LOOKBACK <= r.day < d]
                runs[-1].spike = bool(before) and runs[-1].distance_m > SPIKE_RATIO * max(before)
            # --- the diary ---------------------------------------------------------------------
            if scores[d] == 0 and rng.random() < 0.03:
                scores[d] = rng.randint(1, 2)          # a niggle below the pain threshold
            p = runner.log_prob if scores[d] < 3 else max(runner.log_prob, 0.85)
            logged = d > lapse_until and rng.random() < p
            out.days.append(Day(runner.name, (start + dt.timedelta(days=d)).isoformat(), round(h, 6), int(at_risk),
                                int(onset), scores[d], int(logged), int(spike_exp), int(low_exp), int(prev_exp),
                                int(bool(runs) and runs[-1].day == d)))
    region = rng.choice(TARGET_REGIONS)
    side = rng.choice(["L", "R"])
    for day in out.days:
        if day.logged:
            when = "next_morning" if day.pain < 3 else rng.choice(["during_run", "after_run", "next_morning"])
            out.diary.append((day.date, day.pain, region if day.pain else "lateral_hip",
                              side if day.pain else "both", when))
    return out


def _episode(scores: list[int], onset: int, rng: random.Random) -> int:
    """Scores >= 3 for 3-10 days from ``onset``, then 2 and 1; returns the last day >= 3."""
    peak, n_high = rng.randint(3, 7), rng.randint(3, 10)
    seq = [max(3, peak - k // 2) for k in range(n_high)] + [2, 1]
    for k, s in enumerate(seq):
        if onset + k < len(scores):
            scores[onset + k] = s
    return onset + n_high - 1


# -- the route geometry: (x east, y north, elevation) in metres at arc length s -------------------
def _point(route: str, s: float, total: float, bearing: float) -> tuple[float, float, float]:
    if route == "track":
        lap = 2 * TRACK_STRAIGHT + 2 * math.pi * TRACK_RADIUS
        u = s % lap
        bend = math.pi * TRACK_RADIUS
        if u < TRACK_STRAIGHT:
            x, y = u, 0.0
        elif u < TRACK_STRAIGHT + bend:
            a = (u - TRACK_STRAIGHT) / TRACK_RADIUS
            x, y = TRACK_STRAIGHT + TRACK_RADIUS * math.sin(a), TRACK_RADIUS * (1 - math.cos(a))
        elif u < 2 * TRACK_STRAIGHT + bend:
            x, y = TRACK_STRAIGHT - (u - TRACK_STRAIGHT - bend), 2 * TRACK_RADIUS
        else:
            a = (u - 2 * TRACK_STRAIGHT - bend) / TRACK_RADIUS
            x, y = -TRACK_RADIUS * math.sin(a), TRACK_RADIUS * (1 + math.cos(a))
        z = 50.0
    elif route == "out_and_back":
        half = total / 2
        along = s if s <= half else total - s
        x, y = along, (0.0 if s <= half else 6.0)    # back on the other side of the road
        z = 80.0 + 0.004 * along
    else:                                              # loop or hill: one circle
        r = total / (2 * math.pi)
        a = s / r
        x, y = r * math.sin(a), r * (1 - math.cos(a))
        z = 120.0 + (25.0 * math.sin(2 * math.pi * s / 1500.0) if route == "hill" else 0.0)
    c, sn = math.cos(bearing), math.sin(bearing)
    return x * c - y * sn, x * sn + y * c, z


def samples(run: Run, runner: Runner, cfg: Config, rng: random.Random):
    """(seconds, lat, lon, ele, hr, cadence steps/min, cumulative m) per sample; the first at 0 s."""
    # On a track bend a 10 s chord cuts ≈ 3 % off the arc: 3 s keeps the file's path within 0.3 % of it.
    step = min(cfg.sample_interval_s, 3) if run.route == "track" else cfg.sample_interval_s
    bearing = rng.uniform(0, 2 * math.pi)
    lat0, lon0 = runner.home
    out = []
    s, t = 0.0, 0
    while True:
        x, y, z = _point(run.route, min(s, run.distance_m), run.distance_m, bearing)
        lat = lat0 + math.degrees(y / EARTH_R)
        lon = lon0 + math.degrees(x / (EARTH_R * math.cos(math.radians(lat0))))
        v = run.speed_mps * (1.0 + rng.gauss(0.0, 0.03))
        cad = run.cadence_spm + runner.cadence_slope * (v - run.speed_mps) + rng.gauss(0.0, 2.0)
        hr = 120 + 18 * (run.speed_mps - 2.3) + min(t / 60.0, 15.0) + rng.gauss(0, 2)
        out.append((t, lat, lon, z + rng.gauss(0, 0.3), round(hr), cad, min(s, run.distance_m)))
        if s >= run.distance_m:
            return out
        s += v * step
        t += step


def _iso(start: dt.datetime, seconds: int) -> str:
    return (start + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def per_foot(spm: float) -> int:
    """Watches store whole strides per minute (per foot), half-up rounded."""
    return int(math.floor(spm / 2.0 + 0.5))


def write_gpx(path: Path, start: dt.datetime, pts) -> None:
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="independent-cohort" '
             f'xmlns="{GPX_NS}" xmlns:gpxtpx="{TPX_NS}">\n <metadata><time>{_iso(start, 0)}</time></metadata>\n'
             f' <trk>\n  <name>{escape(path.stem)}</name>\n  <type>running</type>\n  <trkseg>\n']
    for t, lat, lon, ele, hr, cad, _ in pts:
        lines.append(f'   <trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>{ele:.1f}</ele><time>{_iso(start, t)}</time>'
                     f'<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{hr}</gpxtpx:hr>'
                     f'<gpxtpx:cad>{per_foot(cad)}</gpxtpx:cad></gpxtpx:TrackPointExtension></extensions></trkpt>\n')
    lines.append("  </trkseg>\n </trk>\n</gpx>\n")
    path.write_text("".join(lines), encoding="utf-8")


def write_tcx(path: Path, start: dt.datetime, pts) -> None:
    total_s, total_m = pts[-1][0], pts[-1][6]
    lines = [f'<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase xmlns="{TCX_NS}" '
             f'xmlns:ns3="{AX_NS}">\n <Activities>\n  <Activity Sport="Running">\n   <Id>{_iso(start, 0)}</Id>\n'
             f'   <Lap StartTime="{_iso(start, 0)}">\n    <TotalTimeSeconds>{total_s:.1f}</TotalTimeSeconds>\n'
             f'    <DistanceMeters>{total_m:.1f}</DistanceMeters>\n    <Calories>0</Calories>\n'
             '    <Intensity>Active</Intensity>\n    <TriggerMethod>Manual</TriggerMethod>\n    <Track>\n']
    for t, lat, lon, ele, hr, cad, dist in pts:
        lines.append(f'     <Trackpoint><Time>{_iso(start, t)}</Time><Position><LatitudeDegrees>{lat:.7f}'
                     f'</LatitudeDegrees><LongitudeDegrees>{lon:.7f}</LongitudeDegrees></Position>'
                     f'<AltitudeMeters>{ele:.1f}</AltitudeMeters><DistanceMeters>{dist:.1f}</DistanceMeters>'
                     f'<HeartRateBpm><Value>{hr}</Value></HeartRateBpm><Extensions><ns3:TPX>'
                     f'<ns3:RunCadence>{per_foot(cad)}</ns3:RunCadence></ns3:TPX></Extensions></Trackpoint>\n')
    lines.append("    </Track>\n   </Lap>\n  </Activity>\n </Activities>\n</TrainingCenterDatabase>\n")
    path.write_text("".join(lines), encoding="utf-8")


def write_athlete(cfg: Config, a: AthleteOut, folder: Path, rng: random.Random) -> None:
    runs_dir = folder / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    start_day = dt.date.fromisoformat(cfg.start)
    for k, run in enumerate(a.runs):
        day = start_day + dt.timedelta(days=run.day)
        start = dt.datetime.combine(day, dt.time(rng.randint(6, 18), rng.randint(0, 59)))
        pts = samples(run, a.runner, cfg, rng)
        fmt = rng.choice(["gpx", "tcx"])
        path = runs_dir / f"{day.isoformat()}_{k:03d}.{fmt}"
        (write_gpx if fmt == "gpx" else write_tcx)(path, start, pts)
        # Time-weighted: each sample stands for the interval ending at it (equal intervals here).
        cadence = sum(p[5] for p in pts[1:]) / max(len(pts) - 1, 1)
        a.files.append(FileTruth(path.name, day.isoformat(), run.route, round(pts[-1][6], 2), float(pts[-1][0]),
                                 round(cadence, 2), run.spike, run.low_cadence))
    with open(folder / "pain.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "score", "region", "side", "when"])
        w.writerows(a.diary)


def generate(cfg: Config, out: str | Path) -> dict:
    """Write the cohort to ``out``; returns the truth (also in ``out/truth.json``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    master = random.Random(cfg.seed)
    athletes = []
    for i in range(cfg.athletes):
        rng = random.Random(master.getrandbits(64))
        runner = make_runner(i, rng)
        a = simulate(cfg, runner, rng)
        write_athlete(cfg, a, out / runner.name, rng)
        athletes.append(a)
    truth = {
        "config": asdict(cfg), "hazard_ratios": cfg.hazard_ratios(), "baseline_hazard": cfg.baseline_hazard,
        "athletes": {a.runner.name: {"runner": asdict(a.runner), "onsets": a.onsets,
                                     "files": [asdict(f) for f in a.files]} for a in athletes},
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    with open(out / "truth_days.csv", "w", encoding="utf-8", newline="") as f:
        names = list(Day.__dataclass_fields__)
        w = csv.writer(f)
        w.writerow(names)
        for a in athletes:
            w.writerows([[getattr(d, n) for n in names] for d in a.days])
    return truth


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--athletes", type=int, default=Config.athletes)
    ap.add_argument("--weeks", type=int, default=Config.weeks)
    ap.add_argument("--seed", type=int, default=Config.seed)
    ap.add_argument("--interval", type=int, default=Config.sample_interval_s, help="sample interval, s (5-10)")
    ap.add_argument("--null", action="store_true", help="every hazard ratio 1: the same risk for everyone")
    args = ap.parse_args(argv)
    cfg = replace(Config(), athletes=args.athletes, weeks=args.weeks, seed=args.seed,
                  sample_interval_s=args.interval, null=args.null)
    truth = generate(cfg, args.out)
    n = sum(len(a["onsets"]) for a in truth["athletes"].values())
    print(f"{cfg.athletes} athletes x {cfg.weeks} weeks, {n} onsets -> {args.out}")


if __name__ == "__main__":
    main()
