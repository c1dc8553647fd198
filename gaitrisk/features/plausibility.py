"""Plausibility screening: is a stored "run" plainly not running? (pure)

An activity the screening rejects is stored as "not a run?" with the reason
(:mod:`gaitrisk.review`) and kept out of baselines, thresholds and load until the
user confirms it (``gaitrisk activity include ID``).  Each rule catches only what
no runner produces, so that a real run is never set aside on a guess; what is
merely unusual (a walk, a very fast race) is kept.  The thresholds are design
choices, each with its reason:

======================  ==========================================  ============================================
rule                    threshold                                   why
======================  ==========================================  ============================================
no movement             < 200 m and no cadence (or a cadence of 0)  a run leaves distance or steps; a heart-rate-
                                                                    only recording leaves neither (200 m: half a
                                                                    track lap, beyond GPS drift while standing)
speed                   average moving speed above the men's        nobody runs faster than the world record
                        world-record speed of the longest standard  held over a race that long; a bike, a car or
                        race not longer than the moving time        a train does
cadence                 < 50 spm                                    a slow walk counted per foot is ~50; rowing
                                                                    strokes (~20-40/min) and pedal turns read as
                                                                    steps fall below
step length             > 2.2 m at >= 100 spm                       elite 5000 m runners take ~2.0 m steps at
                                                                    6.5 m/s; below 100 spm the cadence may be
                                                                    per foot (steps twice as long as they seem),
                                                                    so only a step rate that is surely per step
                                                                    is judged
======================  ==========================================  ============================================

A ride without a cadence channel at a runner's speed is not caught: nothing in it
separates it from a run.  The speed judged is the features' (:mod:`.clean`): GPS glitches are
out of it, so a glitch does not make a run look like a ride, while travel at a glitch's speed
for over a minute stays in it (:data:`gaitrisk.ingest.positions.GLITCH_MAX_S`).
"""

from __future__ import annotations

from ..records import ActivityRecord
from .record import RunFeatures

MIN_DISTANCE_M = 200.0
MIN_CADENCE_SPM = 50.0
MAX_STEP_LENGTH_M = 2.2
STEP_LENGTH_MIN_CADENCE_SPM = 100.0
# (race duration s, average speed m/s) of the men's world records (World Athletics), shortest
# race first: 1500 m 3:26.00, 3000 m 7:20.67, 5000 m 12:35.36, 10,000 m 26:11.00,
# half marathon 57:31, marathon 2:00:35.
WORLD_RECORDS: tuple[tuple[float, float], ...] = (
    (206.0, 1500 / 206.0), (440.67, 3000 / 440.67), (755.36, 5000 / 755.36), (1571.0, 10000 / 1571.0),
    (3451.0, 21097.5 / 3451.0), (7235.0, 42195 / 7235.0))


def speed_limit_mps(moving_time_s: float) -> float | None:
    """The fastest average a runner has held for ``moving_time_s``: the world-record speed of the
    longest race that is not longer; ``None`` below the shortest (a sprint is not judged)."""
    fit = [v for t, v in WORLD_RECORDS if t <= moving_time_s]
    return fit[-1] if fit else None


def screen(f: RunFeatures, rec: ActivityRecord) -> str | None:
    """Why the run is plainly not running, or ``None`` when it may be a run.

    The no-movement rule also asks the file's own totals (``rec``): sparse samples (one a
    minute) can leave the features without distance or running time where the device has both.
    """
    reasons: list[str] = []
    cadence = f.gait.cadence_spm
    distances = [d for d in (f.distance_m, rec.distance_m) if d is not None]
    # A cadence of 0 is no step at all: devices write it for a cadence they did not measure.
    stepped = any(c is not None and c > 0 for c in (cadence, rec.avg_cadence_spm))
    if not stepped and max(distances, default=0.0) < MIN_DISTANCE_M:
        dist = f"{max(distances):.0f} m" if distances else "no distance"
        reasons.append(f"{dist} and no cadence: nothing in it shows running")
    limit = speed_limit_mps(f.moving_time_s)
    if f.avg_speed_mps is not None and limit is not None and f.avg_speed_mps > limit:
        reasons.append(f"average speed {f.avg_speed_mps:.2f} m/s over {f.moving_time_s / 60:.0f} min: faster than "
                       f"the world record over that time ({limit:.2f} m/s)")
    if cadence is not None and cadence < MIN_CADENCE_SPM:
        reasons.append(f"cadence {cadence:.0f} spm: below any step rate (under {MIN_CADENCE_SPM:.0f})")
    step = f.gait.step_length_m
    if (step is not None and cadence is not None and cadence >= STEP_LENGTH_MIN_CADENCE_SPM
            and step > MAX_STEP_LENGTH_M):
        reasons.append(f"step length {step:.2f} m at {cadence:.0f} spm: longer than any runner's "
                       f"(over {MAX_STEP_LENGTH_M} m)")
    return "; ".join(reasons) or None
