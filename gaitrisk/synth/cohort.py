"""A seeded synthetic cohort with planted pain mechanisms: the test bed of the risk model.

Each athlete trains for ``weeks`` weeks on fixed weekdays.  After ``warmup_weeks`` of
ordinary training, every athlete with a mechanism goes through *exposure blocks*
(1-2 weeks) of exactly one planted mechanism:

=================  ============================================================  ==================
mechanism          exposure                                                       evidence base
=================  ============================================================  ==================
``session_spike``  the block's long run is 1.8-2.3 x the longest run of 30 days  Frandsen 2025
``low_cadence``    level runs at 10-13 % below the speed-expected cadence         Heiderscheit 2011
``camber``         every run an out-and-back road (one low side, the right foot)  evidence table: camber_exposure
``downhill``       every run on a hill route (8 % grade, ~1/3 of it downhill)     Gottschall 2005, Telhan 2010
``none``           never hurt: ordinary training, no pain at all                  --
=================  ============================================================  ==================

Pain onsets are drawn day by day: while an athlete is at risk (>= 7 pain-free days,
so that pain does not predict pain) the daily onset probability is ``noise_rate`` plus ``hazard_per_exposure``
for each exposure run of *their* mechanism in the last 7 days (the label horizon, a
design choice after Lövdal 2021).  An onset starts a pain episode in the mechanism's region (the low side for
camber) with scores >= 3 for a few days, falling to 1-2; running is cut back during
it (reverse causation).  Noise: low scores (1-2) in target regions and
pain in non-target regions (shin, foot) that must never become labels.

Everything is generated from ``seed``: the same config gives the same files.  Runs
are written through the real writers (:mod:`gaitrisk.synth.writers`) as TCX/GPX at a
coarse sample interval; the pain log is a CSV that ``gaitrisk pain import`` reads
(docs/pain_csv.md); ``truth.json`` names each athlete's mechanism, side and onsets.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .runs import RunSpec, generate_run
from .writers import write_fit, write_gpx, write_tcx

log = logging.getLogger(__name__)

MECHANISMS: tuple[str, ...] = ("session_spike", "low_cadence", "camber", "downhill", "none")
# The pain region each mechanism produces (Aderem 2015, Gottschall 2005, Grimaldi 2015: ITBS/lateral knee with downhill and
# distance jumps; gluteal tendinopathy (lateral hip) with low cadence; camber -> lateral hip/knee).
MECHANISM_REGION = {"session_spike": "lateral_knee_itb", "low_cadence": "lateral_hip", "camber": "lateral_hip",
                    "downhill": "lateral_knee_itb"}
# The flag (and model feature group, gaitrisk.model.dataset.FEATURE_GROUPS) that speaks for each
# mechanism: what the model's top contributions should name for an athlete with that mechanism.
MECHANISM_GROUP = {"session_spike": "session_spike", "low_cadence": "overstriding", "camber": "camber_exposure",
                   "downhill": "downhill_load"}
# The out-and-back route keeps the right-hand side of the road, which the features measure as the
# right foot on the low side (docs/features.md, camber proxies).
CAMBER_SIDE = "R"
SPIKE_WEIGHT = 3.0
WRITERS = {"tcx": write_tcx, "gpx": write_gpx, "fit": write_fit}


@dataclass(frozen=True)
class CohortConfig:
    """Size and randomness of the cohort.  Units: days, weeks, seconds, per-day probabilities."""

    seed: int = 7
    athletes: int = 30
    weeks: int = 20
    warmup_weeks: int = 5           # ordinary training first: load metrics need 28-30 days
    run_weekdays: tuple[int, ...] = (1, 3, 6)   # Tue, Thu, Sun (the long run)
    sample_interval_s: int = 20     # coarse: features stay usable, files stay small
    formats: tuple[str, ...] = ("tcx", "gpx")
    start: dt.date = dt.date(2024, 1, 1)
    hazard_per_exposure: float = 0.07
    noise_rate: float = 0.003       # onsets a mechanism athlete gets without any exposure
    block_gap_weeks: tuple[int, int] = (2, 4)   # weeks of ordinary training between blocks

    @property
    def days(self) -> int:
        return 7 * self.weeks


@dataclass
class PlannedRun:
    day: dt.date
    route: str
    distance_m: float
    speed_mps: float
    cadence_spm: float
    exposure: bool              # an exposure run of the athlete's planted mechanism
    seed: int


@dataclass
class PainRow:
    day: dt.date
    score: int
    region: str
    side: str
    when: str
    behaviour: str = ""


@dataclass
class AthletePlan:
    name: str
    mechanism: str
    side: str | None
    runs: list[PlannedRun] = field(default_factory=list)
    pain: list[PainRow] = field(default_factory=list)
    onsets: list[dt.date] = field(default_factory=list)


def expected_cadence(speed_mps: float) -> float:
    """Population speed-expected cadence on level ground, steps/min (VU wearable study)."""
    return 150.0 + 6.01 * speed_mps


def plan_cohort(cfg: CohortConfig) -> list[AthletePlan]:
    """Plan every athlete's runs, exposures and pain (no files written)."""
    rng = np.random.default_rng(cfg.seed)
    return [_plan_athlete(cfg, i, MECHANISMS[i % len(MECHANISMS)], np.random.default_rng(rng.integers(2**32)))
            for i in range(cfg.athletes)]


def _exposure_days(cfg: CohortConfig, rng: np.random.Generator) -> set[int]:
    """Day offsets inside exposure blocks (1-2 weeks each, 2-4 weeks apart)."""
    days: set[int] = set()
    week = cfg.warmup_weeks + int(rng.integers(0, 2))
    while week < cfg.weeks - 1:
        length = int(rng.integers(1, 3))
        days.update(range(7 * week, 7 * min(week + length, cfg.weeks)))
        week += length + int(rng.integers(cfg.block_gap_weeks[0], cfg.block_gap_weeks[1] + 1))
    return days


def _plan_athlete(cfg: CohortConfig, index: int, mechanism: str, rng: np.random.Generator) -> AthletePlan:
    name = f"a{index:02d}_{mechanism}"
    plan = AthletePlan(name, mechanism, CAMBER_SIDE if mechanism == "camber" else None)
    speed = float(rng.uniform(2.7, 3.4))
    cadence = expected_cadence(speed) * (1.0 + float(rng.normal(0.02, 0.012)))
    easy_m = float(rng.uniform(5000, 7500))
    long_m = easy_m * float(rng.uniform(1.3, 1.6))
    exposure_days = _exposure_days(cfg, rng) if mechanism != "none" else set()
    spike_done: set[int] = set()  # one spike per block (the block's first long run)
    recent_exposures: list[int] = []
    pain_until = -1          # last day of the current episode with score >= 3
    last_pain_day = -10**6   # last day with score >= 3
    for d in range(cfg.days):
        day = cfg.start + dt.timedelta(days=d)
        in_episode = d <= pain_until + 3
        # --- the run of the day ----------------------------------------------------------
        if day.weekday() in cfg.run_weekdays and not (in_episode and rng.random() < 0.5):
            is_long = day.weekday() == cfg.run_weekdays[-1]
            dist = (long_m if is_long else easy_m) * float(rng.uniform(0.92, 1.05))
            route = str(rng.choice(["road_loop", "road_loop", "road_loop", "out_and_back", "hill"],
                                   p=[0.3, 0.3, 0.25, 0.075, 0.075]))
            cad = cadence + float(rng.normal(0, 1.0))
            exposure = False
            block = d in exposure_days and not in_episode
            if block and mechanism == "session_spike" and is_long and (d // 7) - 1 not in spike_done:
                dist, exposure = long_m * float(rng.uniform(1.8, 2.3)), True
                spike_done.add(d // 7)
            elif block and mechanism == "low_cadence":
                route, cad, exposure = "road_loop", expected_cadence(speed) * (1 - float(rng.uniform(0.10, 0.13))), True
            elif block and mechanism == "camber":
                route, exposure = "out_and_back", True
            elif block and mechanism == "downhill":
                route, exposure = "hill", True
            if in_episode:
                dist *= 0.7
            plan.runs.append(PlannedRun(day, route, round(dist, 1), speed, round(cad, 2), exposure,
                                        int(rng.integers(2**31))))
            if exposure:
                recent_exposures.append(d)
        # --- onset draw (the day's runs count; the onset shows from the next day) -----------
        at_risk = d - last_pain_day > 7 and d >= 7
        # A spike is one session, a block holds several exposure runs: weight it to match (Frandsen 2025, HRR 2.28).
        n_exp = sum(1 for e in recent_exposures if d - 7 < e <= d) * (SPIKE_WEIGHT if mechanism == "session_spike" else 1)
        if mechanism != "none" and at_risk and d + 1 < cfg.days:
            p = cfg.noise_rate + cfg.hazard_per_exposure * n_exp
            if rng.random() < p:
                onset = d + 1 + int(rng.integers(0, 3))
                if onset < cfg.days:
                    pain_until = last_pain_day = _episode(cfg, plan, rng, onset)
                    plan.onsets.append(cfg.start + dt.timedelta(days=onset))
                    recent_exposures.clear()
        # --- noise: sub-threshold target pain, non-target pain --------------------------------
        if rng.random() < 0.03:
            plan.pain.append(PainRow(day, int(rng.integers(1, 3)), str(rng.choice(list(MECHANISM_REGION.values()))),
                                     str(rng.choice(["L", "R"])), "after_run"))
        if rng.random() < 0.015:
            plan.pain.append(PainRow(day, int(rng.integers(3, 5)), str(rng.choice(["shin", "foot"])),
                                     str(rng.choice(["L", "R"])), "after_run"))
    plan.pain.sort(key=lambda r: (r.day, r.region))
    return plan


def _episode(cfg: CohortConfig, plan: AthletePlan, rng: np.random.Generator, onset: int) -> int:
    """Scores >= 3 for 3-8 days from ``onset``, then 2 and 1 (0-10 NRS, Farrar 2001); returns the last day >= 3."""
    region = MECHANISM_REGION[plan.mechanism]
    side = plan.side or str(rng.choice(["L", "R"]))
    peak = int(rng.integers(3, 7))
    n_high = int(rng.integers(3, 9))
    scores = [max(3, peak - k // 2) for k in range(n_high)] + [2, 1]
    for k, s in enumerate(scores):
        if onset + k >= cfg.days:
            break
        when = "during_run" if k == 0 else ("next_morning" if k % 2 else "after_run")
        plan.pain.append(PainRow(cfg.start + dt.timedelta(days=onset + k), s, region, side, when))
    return onset + n_high - 1


def write_cohort(cfg: CohortConfig, out: str | Path) -> dict:
    """Write ``out/<athlete>/runs/*``, ``out/<athlete>/pain.csv`` and ``out/truth.json``; return the truth."""
    out = Path(out)
    plans = plan_cohort(cfg)
    truth: dict = {"config": _jsonable(asdict(cfg)), "athletes": {}}
    for plan in plans:
        runs_dir = out / plan.name / "runs"
        runs_dir.mkdir(parents=True, exist_ok=True)
        fmt_rng = np.random.default_rng(cfg.seed * 1000 + len(plan.runs))
        for k, r in enumerate(plan.runs):
            start = dt.datetime.combine(r.day, dt.time(6, 30), tzinfo=dt.UTC)
            spec = RunSpec(seed=r.seed, start_time=start, sample_interval_s=cfg.sample_interval_s, route=r.route,
                           distance_m=r.distance_m, speed_mps=r.speed_mps, cadence_spm=r.cadence_spm,
                           include_dynamics=False, hill_grade=0.08, lateral_offset_m=3.0,
                           bearing_deg=float(r.seed % 360))
            fmt = str(fmt_rng.choice(list(cfg.formats)))
            WRITERS[fmt](generate_run(spec), runs_dir / f"{r.day.isoformat()}_{k:03d}.{fmt}")
        lines = ["date,score,region,side,when,behaviour"]
        lines += [f"{p.day.isoformat()},{p.score},{p.region},{p.side},{p.when},{p.behaviour}" for p in plan.pain]
        (out / plan.name / "pain.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        truth["athletes"][plan.name] = {
            "mechanism": plan.mechanism, "side": plan.side,
            "region": MECHANISM_REGION.get(plan.mechanism),
            "onsets": [d.isoformat() for d in plan.onsets],
            "runs": len(plan.runs), "exposure_runs": sum(r.exposure for r in plan.runs),
            "exposure_days": sorted({r.day.isoformat() for r in plan.runs if r.exposure}),
        }
        log.info("%s: %d runs, %d onsets", plan.name, len(plan.runs), len(plan.onsets))
    (out / "truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True), encoding="utf-8")
    return truth


def _jsonable(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else list(v) if isinstance(v, tuple) else v)
            for k, v in d.items()}
