"""Gait: cadence, step length, ground-contact time (measured or Hoyt-estimated), balance,
vertical oscillation/ratio, the speed-matched cadence residual, drift and an overstride score.

Follows evidence.md section 1 (1.3 cadence vs speed, 1.5 the recommended detection
method) and section 2 (2.2 GCT estimation, 2.3 balance).  Averages are
time-weighted over *running* samples (see :mod:`.clean`): unlike the device's
session average they leave out stops and walking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from .. import schema as S
from ..ingest.frame import PAUSE_GAP_S
from .clean import CleanRun, weighted_mean, window_arrays

if TYPE_CHECKING:
    import pandas as pd

# evidence.md table 0 #1 and 1.3: population speed-expected cadence, steps/min, v in m/s.
POP_CADENCE_INTERCEPT = 150.0
POP_CADENCE_SLOPE = 6.01
POP_CADENCE_SD = 8.0  # evidence.md table 0 #2: between-runner SD at a fixed speed
# Evidence table overstriding_personal: the runner's own baseline once >= 10 earlier level runs exist
# (the cold-start limit of evidence.md 1.5 step 3).
MIN_PERSONAL_RUNS = 10
# evidence.md 1.5 step 2: the personal baseline uses the rolling 60-90 days before the run.
BASELINE_DAYS = 90
# evidence.md table 0 #3 / 1.5 step 2: residual <= -5 % notable, <= -10 % marked (Heiderscheit 2011).
RESIDUAL_NOTABLE_PCT = -5.0
RESIDUAL_MARKED_PCT = -10.0
# Evidence table overstriding_population: without a personal baseline a window is low only below
# the population model - 12 steps/min (about -1.5 between-runner SD, about -7 %).
POP_LOW_SPM = 12.0
# evidence.md 10 (cadence_low_for_speed): sustained for >= 10 % of level running time.
LOW_SHARE = 0.10
# evidence.md table 0 #4 / 10 (cadence_abs_low): < 153 spm (Garmin red) at >= 2.5 m/s.
ABS_LOW_CADENCE_SPM = 153.0
ABS_LOW_MIN_SPEED_MPS = 2.5
# evidence.md 1.5 step 1: level ground is |grade| <= 2 %.
LEVEL_GRADE = 0.02
# evidence.md 2.2 / table 0 #6: Hoyt et al. 2000, tc = 0.80 L^0.84 / v^0.87 (s; L, v in m, m/s).
HOYT_A, HOYT_L_EXP, HOYT_V_EXP = 0.80, 0.84, 0.87
# Hoyt's relation describes running contact: below the walk-run transition (~2 m/s) the
# gait is a walk and the formula gives 400+ ms; above the steady-running band's top
# (evidence.md 1.5 step 1) it is sprinting or riding (131 ms at bike speed).  Outside this
# band no estimate is made.
HOYT_SPEED_RANGE_MPS = (2.0, 5.0)
# The estimate needs at least this share of the running time inside that band.
HOYT_MIN_SHARE = 0.5

GctSource = Literal["measured", "estimated", "out of range"]


@dataclass(frozen=True)
class CadenceBaseline:
    """Expected cadence ``a + b*v`` (steps/min) and where it came from.

    ``n_runs``: the earlier level runs the baseline was judged on (also for the population
    model, which stands in while there are fewer than :data:`MIN_PERSONAL_RUNS`);
    ``residual_pct``: a personal baseline's median level residual against the population model.
    """

    a: float = POP_CADENCE_INTERCEPT
    b: float = POP_CADENCE_SLOPE
    source: Literal["population", "personal"] = "population"
    n_runs: int = 0
    residual_pct: float | None = None

    def expected(self, v: np.ndarray | float) -> np.ndarray:
        return self.a + self.b * np.asarray(v, dtype=float)


def level_residual_pct(level_speed: np.ndarray | float, level_cadence: np.ndarray | float) -> np.ndarray:
    """A run's level-ground cadence residual against the population model, %."""
    v = np.asarray(level_speed, float)
    return (np.asarray(level_cadence, float) / (POP_CADENCE_INTERCEPT + POP_CADENCE_SLOPE * v) - 1.0) * 100.0


def fit_personal_baseline(level_speed: np.ndarray, level_cadence: np.ndarray) -> CadenceBaseline:
    """The runner's own cadence for speed from earlier runs' level-ground means: the population
    line scaled by the median of their residuals against it (evidence table overstriding_personal).

    A runner's level runs mostly span a narrow band of speeds, so a slope fitted to ten of them
    is noise; the median residual is the runner's own preferred rate relative to the population
    at any speed, and one odd run (intervals, a tired day) does not move it.  The population
    model stands in with fewer than :data:`MIN_PERSONAL_RUNS` runs.
    """
    r = level_residual_pct(level_speed, level_cadence)
    r = r[np.isfinite(r)]
    if r.size < MIN_PERSONAL_RUNS:
        return CadenceBaseline(n_runs=int(r.size))
    m = float(np.median(r))
    k = 1.0 + m / 100.0
    return CadenceBaseline(a=POP_CADENCE_INTERCEPT * k, b=POP_CADENCE_SLOPE * k, source="personal",
                           n_runs=int(r.size), residual_pct=m)


def low_windows(cadence: np.ndarray, expected: np.ndarray, baseline: CadenceBaseline) -> np.ndarray:
    """Which level windows are low for speed by the baseline's own cut: <= -5 % against a personal
    baseline (Heiderscheit 2011's smallest change from the runner's own preferred rate), more
    than :data:`POP_LOW_SPM` under the population model without one."""
    low: np.ndarray
    if baseline.source == "personal":
        low = (cadence / expected - 1.0) * 100.0 <= RESIDUAL_NOTABLE_PCT
    else:
        low = cadence < expected - POP_LOW_SPM
    return low


def hoyt_gct_ms(speed_mps: np.ndarray | float, leg_length_m: float) -> np.ndarray:
    """Hoyt et al. 2000 contact time (ms) at ``speed_mps`` for leg length ``leg_length_m`` (evidence.md 2.2)."""
    v = np.asarray(speed_mps, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        gct: np.ndarray = 1000.0 * HOYT_A * leg_length_m**HOYT_L_EXP / np.where(v > 0, v, np.nan) ** HOYT_V_EXP
    return gct


@dataclass(frozen=True)
class Gait:
    """Gait features of one run; ``None`` = not computable (channel absent, no running)."""

    cadence_spm: float | None
    step_length_m: float | None
    step_length_source: str | None  # "speed/cadence", or "measured" for a run without cadence
    step_length_per_height: float | None
    gct_ms: float | None
    gct_source: GctSource | None
    gct_estimated_ms: float | None  # the Hoyt estimate, also where GCT is measured (for calibration)
    gct_balance_pct: float | None
    vertical_oscillation_mm: float | None
    vertical_ratio_pct: float | None
    level_speed_mps: float | None  # level steady-state windows: for the personal baseline
    level_cadence_spm: float | None
    cadence_expected_spm: float | None
    cadence_residual_pct: float | None
    cadence_low_share: float | None  # share of level steady time below the baseline's cut (low_windows)
    cadence_baseline: str | None
    cadence_baseline_runs: int | None  # earlier level runs the baseline was judged on
    cadence_baseline_pct: float | None  # a personal baseline's median residual against the population
    level_time_s: float | None  # level steady-state time the residual is taken over
    drift: dict[str, float | None]
    overstride_score: float | None
    overstride_flags: tuple[str, ...]


def _channel(samples: pd.DataFrame, name: str, positive: bool = True) -> np.ndarray | None:
    if name not in samples:
        return None
    v = samples[name].to_numpy(dtype=float)
    if positive:
        # Zero means "not measured" for gait channels (no ground contact while standing).
        v = np.where(v > 0, v, np.nan)
    return v if np.isfinite(v).any() else None


def _drift(run: CleanRun, values: np.ndarray | None) -> float | None:
    """Last third minus first third of running time (evidence.md 1.5 step 5)."""
    if values is None:
        return None
    t = np.cumsum(np.where(run.running, run.dt_s, 0.0))
    total = t[-1] if t.size else 0.0
    if total <= 0:
        return None
    first = weighted_mean(values, run.dt_s, run.running & (t <= total / 3))
    last = weighted_mean(values, run.dt_s, run.running & (t > 2 * total / 3))
    return None if first is None or last is None else last - first


@dataclass(frozen=True)
class GaitCore:
    """The part of :class:`Gait` that needs the run's samples: everything but the cadence
    baseline and the GCT calibration, which depend on the athlete's other runs.

    Small (no per-sample arrays): a worker computes it and ships it back, and
    :func:`finish_gait` completes it once the athlete's history is known.
    """

    cadence_spm: float | None
    step_length_m: float | None
    step_length_source: str | None
    step_length_per_height: float | None
    gct_measured_ms: float | None
    gct_hoyt_ms: float | None  # the uncalibrated Hoyt estimate; None outside HOYT_SPEED_RANGE_MPS
    gct_out_of_range: bool  # the runner moved, but too little of it inside HOYT_SPEED_RANGE_MPS
    gct_balance_pct: float | None
    vertical_oscillation_mm: float | None
    vertical_ratio_pct: float | None
    level_speed_mps: float | None
    level_cadence_spm: float | None
    # The level steady-state windows the residual is taken over (evidence.md 1.5 steps 1-3).
    window_speed_mps: np.ndarray | None
    window_cadence_spm: np.ndarray | None
    window_run_s: np.ndarray | None
    no_altitude: bool
    drift: dict[str, float | None]


def gait_core(samples: pd.DataFrame, run: CleanRun, grade: np.ndarray, *, height_m: float,
              leg_length_m: float) -> GaitCore:
    """The sample-level gait work of one run (see :class:`GaitCore`)."""
    # A recording hole with the timer running weighs no more than the pause threshold, as in
    # the session totals (frame.totals).
    w = np.minimum(run.dt_s, PAUSE_GAP_S)
    runm = run.running
    cad = _channel(samples, S.CADENCE)
    cadence = weighted_mean(cad, w, runm)
    # Step length, one definition: distance / steps over the running samples with cadence,
    # i.e. speed * 60 / cadence with both time-weighted alike, so that it always agrees with
    # cadence_spm and the speed.  A device's step-length channel is used only without cadence.
    step_len, step_src = None, None
    if cad is not None:
        ok = runm & np.isfinite(cad) & np.isfinite(run.speed_mps)
        steps = float(np.sum(cad[ok] / 60.0 * w[ok]))
        if steps > 0:
            step_len, step_src = float(np.sum(run.speed_mps[ok] * w[ok]) / steps), "speed/cadence"
    else:
        measured = weighted_mean(_channel(samples, S.STEP_LENGTH), w, runm)
        if measured is not None:
            step_len, step_src = measured / 1000.0, "measured"

    # The smoothed speed: a single slow GPS sample would blow up v^-0.87.
    lo, hi = HOYT_SPEED_RANGE_MPS
    v = run.speed_smooth_mps
    in_range = runm & (v >= lo) & (v <= hi)
    run_s = float(w[runm].sum())
    gct_hoyt = None
    if run_s > 0 and float(w[in_range].sum()) >= HOYT_MIN_SHARE * run_s:
        gct_hoyt = weighted_mean(hoyt_gct_ms(v, leg_length_m), w, in_range)
    stance = _channel(samples, S.STANCE_TIME)
    balance_ch = _channel(samples, S.STANCE_BALANCE)

    level_v = level_c = win_v = win_c = win_w = None
    no_altitude = False
    if cad is not None:
        win = window_arrays(run, {"cadence": cad, "grade": grade})
        no_altitude = not np.isfinite(win["grade"]).any()
        sel = win["steady"] & np.isfinite(win["cadence"])
        if not no_altitude:
            sel &= np.abs(win["grade"]) <= LEVEL_GRADE
        if sel.any():
            win_w, win_v, win_c = win["run_s"][sel], win["speed_mps"][sel], win["cadence"][sel]
            level_v = float(np.average(win_v, weights=win_w))
            level_c = float(np.average(win_c, weights=win_w))

    drift = {"cadence_spm": _drift(run, cad), "gct_ms": _drift(run, stance),
             "gct_balance_pct": _drift(run, balance_ch)}
    return GaitCore(cadence_spm=cadence, step_length_m=step_len, step_length_source=step_src,
                    step_length_per_height=step_len / height_m if step_len else None,
                    gct_measured_ms=weighted_mean(stance, w, runm), gct_hoyt_ms=gct_hoyt,
                    gct_out_of_range=gct_hoyt is None and float(w[run.moving].sum()) > 0,
                    gct_balance_pct=weighted_mean(balance_ch, w, runm),
                    vertical_oscillation_mm=weighted_mean(_channel(samples, S.VERTICAL_OSCILLATION), w, runm),
                    vertical_ratio_pct=weighted_mean(_channel(samples, S.VERTICAL_RATIO), w, runm),
                    level_speed_mps=level_v, level_cadence_spm=level_c, window_speed_mps=win_v,
                    window_cadence_spm=win_c, window_run_s=win_w, no_altitude=no_altitude, drift=drift)


def finish_gait(core: GaitCore, *, baseline: CadenceBaseline | None = None, gct_scale: float = 1.0) -> Gait:
    """:class:`Gait` from its sample-level part, the cadence baseline and the GCT calibration.

    ``gct_scale`` is the athlete's measured/Hoyt ratio from runs with a sensor
    (1.0 = the uncalibrated Hoyt prior; evidence.md 2.2 "calibrate per athlete").
    """
    baseline = baseline or CadenceBaseline()
    gct_est = core.gct_hoyt_ms * gct_scale if core.gct_hoyt_ms is not None else None
    gct_meas = core.gct_measured_ms
    gct_src: GctSource | None
    gct, gct_src = (gct_meas, "measured") if gct_meas is not None else (gct_est, "estimated" if gct_est else None)
    if gct_src is None and core.gct_out_of_range:
        gct_src = "out of range"

    # Cadence residual on level steady-state windows (evidence.md 1.5 steps 1-3).
    flags: list[str] = []
    if core.no_altitude:
        flags.append("no altitude: cadence residual over all steady windows, not level ground only")
    expected = residual = low_share = None
    if core.window_run_s is not None and core.window_speed_mps is not None and core.window_cadence_spm is not None:
        wt, speed = core.window_run_s, core.window_speed_mps
        exp_w = baseline.expected(speed)
        r = (core.window_cadence_spm / exp_w - 1.0) * 100.0
        residual = float(np.average(r, weights=wt))
        expected = float(np.average(exp_w, weights=wt))
        low_share = float(wt[low_windows(core.window_cadence_spm, exp_w, baseline)].sum() / wt.sum())

    # Overstride score (0-1): the evidence's flags, each worth one point of four.
    cadence, level_c, level_v = core.cadence_spm, core.level_cadence_spm, core.level_speed_mps
    score = None
    if residual is not None or cadence is not None:
        points = 0
        if residual is not None and low_share is not None and low_share >= LOW_SHARE:
            points += 1
            cut = (f"residual <= {RESIDUAL_NOTABLE_PCT:g} % against your own baseline" if baseline.source == "personal"
                   else f"more than {POP_LOW_SPM:g} steps/min under the population model")
            flags.append(f"cadence {cut} for >= {LOW_SHARE:.0%} of level time")
        if residual is not None and residual <= RESIDUAL_MARKED_PCT:
            points += 1
            flags.append(f"mean level cadence residual <= {RESIDUAL_MARKED_PCT:g} % (marked)")
        if level_c is not None and level_v is not None and level_c < ABS_LOW_CADENCE_SPM \
                and level_v >= ABS_LOW_MIN_SPEED_MPS:
            points += 1
            flags.append(f"level cadence < {ABS_LOW_CADENCE_SPM:g} spm at >= {ABS_LOW_MIN_SPEED_MPS} m/s")
        dc = core.drift["cadence_spm"]
        if dc is not None and cadence and dc / cadence * 100.0 <= RESIDUAL_NOTABLE_PCT:
            points += 1
            flags.append("cadence fell >= 5 % from the first to the last third")
        score = points / 4.0

    return Gait(cadence_spm=cadence, step_length_m=core.step_length_m, step_length_source=core.step_length_source,
                step_length_per_height=core.step_length_per_height,
                gct_ms=gct, gct_source=gct_src, gct_estimated_ms=gct_est, gct_balance_pct=core.gct_balance_pct,
                vertical_oscillation_mm=core.vertical_oscillation_mm, vertical_ratio_pct=core.vertical_ratio_pct,
                level_speed_mps=level_v, level_cadence_spm=level_c, cadence_expected_spm=expected,
                cadence_residual_pct=residual, cadence_low_share=low_share,
                cadence_baseline=baseline.source if residual is not None else None,
                cadence_baseline_runs=baseline.n_runs if residual is not None else None,
                cadence_baseline_pct=baseline.residual_pct if residual is not None else None,
                level_time_s=float(core.window_run_s.sum()) if core.window_run_s is not None else None,
                drift=dict(core.drift), overstride_score=score, overstride_flags=tuple(flags))


def gait(samples: pd.DataFrame, run: CleanRun, grade: np.ndarray, *, height_m: float, leg_length_m: float,
         baseline: CadenceBaseline | None = None, gct_scale: float = 1.0) -> Gait:
    """Gait features of one run: :func:`gait_core` finished by :func:`finish_gait`.

    ``grade`` is the per-sample grade (fraction; NaN without altitude: the
    residual then uses every steady window and says so in the flags).
    """
    return finish_gait(gait_core(samples, run, grade, height_m=height_m, leg_length_m=leg_length_m),
                       baseline=baseline, gct_scale=gct_scale)
