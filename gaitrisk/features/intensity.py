"""Intensity and surface: heart-rate zones, speed work, the long-run marker, surface class.

The questions a physio asks: did it hurt after intervals, after long runs,
after trails?  The zone and speed-work thresholds are conventions [D] (the evidence
base has no injury-linked intensity thresholds); each constant names its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .clean import CleanRun, rolling_median, weighted_mean

Surface = Literal["road", "track", "trail", "treadmill", "unknown"]

# Five heart-rate zones as fractions of maximum heart rate: the common 50-60-70-80-90 %
# scheme (Garmin's and most watch makers' default %HRmax zones) [D].  Time below 50 % is in
# no zone.
HR_ZONE_EDGES = (0.50, 0.60, 0.70, 0.80, 0.90)
# Five pace zones as fractions of the athlete's threshold speed: Friel's running pace zones
# (zone edges at 129 / 114 / 106 / 99 % of threshold pace, i.e. 77.5 / 87.7 / 94.3 / 101 % of
# threshold speed) [D].  Zone 1 is everything slower than the first edge while moving.
PACE_ZONE_EDGES = (1 / 1.29, 1 / 1.14, 1 / 1.06, 1 / 0.99)
# Threshold speed estimated from the data: the best 20 min of continuous moving time (the
# common field test for threshold pace) over the athlete's runs [D].
THRESHOLD_WINDOW_S = 20 * 60.0
# The athlete's max HR estimated from the data: the highest 30 s rolling mean over every run
# (a single-sample maximum is often a strap artefact) [D].
HR_MAX_WINDOW_S = 30.0
# Heart-rate spikes, removed before any maximum (despike_hr).  Outside 25-240 bpm is no
# runner's heart (240 is the profile's highest accepted maximum; 255 is a strap's "invalid").
# A sample more than 25 bpm off the median of the 61 s around it is an artefact: a real
# heart rate changes gradually, so the centred median follows any real rise or fall, while a
# spike shorter than half the window leaves it where it was [D].
HR_PLAUSIBLE_BPM = (25.0, 240.0)
HR_SPIKE_WINDOW_S = 61.0
HR_SPIKE_BPM = 25.0
# Speed work: a stretch of >= 20 s at >= 1.15 x the run's median running speed, at least twice
# in a run (strides are 15-30 s; intervals longer).  Project heuristic [D].
FAST_FACTOR = 1.15
FAST_MIN_S = 20.0
FAST_MIN_REPS = 2
# Long run: >= 90 min moving, or >= 25 % of the 7-day distance (this run included).
LONG_RUN_S = 90 * 60.0
LONG_RUN_WEEK_SHARE = 0.25
# Trail by elevation roughness: the SD of grade changes between 5 m grid points above this
# (percentage points) is rough, uneven ground.  Road loops with noisy barometers stay below
# 1 pp in the fixtures; project heuristic [D], to be tuned on labelled runs.
TRAIL_ROUGHNESS_PCT = 3.0
_TREADMILL_SUBSPORTS = {"treadmill", "indoor_running", "virtual_activity"}
_TRACK_SUBSPORTS = {"track", "indoor_track"}
_TRAIL_SUBSPORTS = {"trail", "mountain"}


@dataclass(frozen=True)
class Intensity:
    hr_avg_bpm: float | None
    hr_zone_s: list[float] | None  # seconds in zones 1-5 (moving time only)
    hr_zone_m: list[float] | None
    pace_zone_s: list[float] | None  # seconds in pace zones 1-5 (moving time only)
    pace_zone_m: list[float] | None
    speed_work_s: float | None
    speed_work_reps: int | None


def despike_hr(elapsed_s: np.ndarray, hr: np.ndarray | None) -> np.ndarray | None:
    """``hr`` with implausible values and short spikes set to NaN (see :data:`HR_SPIKE_BPM`)."""
    if hr is None:
        return None
    lo, hi = HR_PLAUSIBLE_BPM
    v = np.where((hr >= lo) & (hr <= hi), hr, np.nan)
    if not np.isfinite(v).any():
        return v
    import pandas as pd

    med = (pd.Series(v, index=pd.to_timedelta(elapsed_s, unit="s"))
           .rolling(pd.Timedelta(seconds=HR_SPIKE_WINDOW_S), center=True, min_periods=1).median().to_numpy())
    return np.where(np.abs(v - med) <= HR_SPIKE_BPM, v, np.nan)


def rolling_max_hr(elapsed_s: np.ndarray, hr: np.ndarray | None) -> float | None:
    """Highest ``HR_MAX_WINDOW_S`` rolling mean of heart rate (bpm) in one run.

    The window ending at each sample is (t - 30 s, t], as pandas' time-based ``rolling("30s")``
    has it; its mean is taken from cumulative sums of the finite values (no DataFrame per run).
    """
    if hr is None or not np.isfinite(hr).any():
        return None
    ok = np.isfinite(hr)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, hr, 0.0))])
    ccount = np.concatenate([[0], np.cumsum(ok)])
    end = np.arange(1, hr.size + 1)
    start = np.minimum(np.searchsorted(elapsed_s, elapsed_s - HR_MAX_WINDOW_S, side="right"), end - 1)
    count = ccount[end] - ccount[start]
    # Windows at the very start hold a sample or two: require half a window of data.
    full = (elapsed_s >= elapsed_s[0] + HR_MAX_WINDOW_S / 2) & (count > 0)
    if not full.any():
        return None
    return float(np.max((csum[end] - csum[start])[full] / count[full]))


def best_window_speed(run: CleanRun, window_s: float = THRESHOLD_WINDOW_S) -> float | None:
    """Highest mean speed (m/s) over ``window_s`` of continuous moving time, or None if shorter.

    Vectorised: for every start sample, the first sample ``window_s`` of moving time
    later is found with one ``searchsorted`` on cumulative moving time.
    """
    t = np.cumsum(np.where(run.moving, run.dt_s, 0.0))
    d = np.cumsum(np.where(run.moving, run.dist_m, 0.0))
    if t.size == 0 or t[-1] < window_s:
        return None
    end = np.searchsorted(t, t + window_s, side="left")
    ok = end < t.size
    if not ok.any():
        return None
    span_t = t[end[ok]] - t[ok]
    speed = (d[end[ok]] - d[ok]) / np.where(span_t > 0, span_t, np.nan)
    return float(np.nanmax(speed)) if np.isfinite(speed).any() else None


@dataclass(frozen=True)
class Histogram:
    """Moving time and distance per distinct value of a channel (sorted values): zones for any
    reference (maximum heart rate, threshold speed) follow without the samples."""

    values: np.ndarray
    time_s: np.ndarray
    dist_m: np.ndarray


def histogram(values: np.ndarray, weight_s: np.ndarray, dist_m: np.ndarray, ok: np.ndarray) -> Histogram:
    """The :class:`Histogram` of ``values`` where ``ok``, weighted by ``weight_s`` and ``dist_m``."""
    v, idx = np.unique(values[ok], return_inverse=True)
    return Histogram(v, np.bincount(idx, weights=weight_s[ok], minlength=v.size),
                     np.bincount(idx, weights=dist_m[ok], minlength=v.size))


def _zones(h: Histogram, reference: float, edges: tuple[float, ...]) -> tuple[list[float], list[float]]:
    """Seconds and metres in zones 1..len(edges)+1 of ``h.values / reference``."""
    z = np.digitize(h.values / reference, edges)
    k = len(edges) + 1
    return ([float(x) for x in np.bincount(z, weights=h.time_s, minlength=k)],
            [float(x) for x in np.bincount(z, weights=h.dist_m, minlength=k)])


def _runs_of(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the True stretches of ``mask`` (vectorised)."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


@dataclass(frozen=True)
class IntensityCore:
    """The part of :class:`Intensity` that needs the samples: the zones' references (maximum
    heart rate, threshold speed) may come from the athlete's other runs, so the heart rate and
    the interval speed are kept as histograms, and :func:`finish_intensity` applies them."""

    hr_avg_bpm: float | None
    hr: Histogram | None
    speed: Histogram
    speed_work_s: float | None
    speed_work_reps: int | None


def intensity_core(run: CleanRun, hr: np.ndarray | None) -> IntensityCore:
    w = np.where(run.moving, run.dt_s, 0.0)
    dm = np.where(run.moving, run.dist_m, 0.0)
    # Interval speed (distance / time of the interval ending at each sample): what the
    # runner covered, not the device's instantaneous speed channel.
    v = np.divide(run.dist_m, run.dt_s, out=np.full(run.dt_s.shape, np.nan), where=run.dt_s > 0)
    speed = histogram(v, w, dm, np.isfinite(v) & (w > 0))
    hr_avg = hr_hist = None
    if hr is not None and np.isfinite(hr).any():
        # The run's average over all timer-running time (stops included), as the device's
        # session average is; the zones count moving time only.
        hr_avg = weighted_mean(hr, run.dt_s)
        hr_hist = histogram(hr, w, dm, np.isfinite(hr) & (w > 0))
    speed_s = reps = None
    if run.running.any():
        v = rolling_median(run.speed_mps, 5)
        med = float(np.median(v[run.running]))
        fast = run.running & (v >= FAST_FACTOR * med)
        starts, ends = _runs_of(fast)
        t = np.cumsum(w)
        dur = t[np.maximum(ends - 1, 0)] - t[starts] + w[starts] if starts.size else np.zeros(0)
        long_enough = dur >= FAST_MIN_S
        reps = int(long_enough.sum())
        # A single fast stretch is no speed work: neither its time nor its rep counts.
        if reps < FAST_MIN_REPS:
            reps = 0
        speed_s = float(dur[long_enough].sum()) if reps else 0.0
    return IntensityCore(hr_avg_bpm=hr_avg, hr=hr_hist, speed=speed, speed_work_s=speed_s, speed_work_reps=reps)


def finish_intensity(core: IntensityCore, hr_max_bpm: float | None,
                     threshold_speed_mps: float | None = None) -> Intensity:
    """:class:`Intensity` from its sample-level part and the zones' references (either may be None)."""
    zones_s = zones_m = pace_s = pace_m = None
    if threshold_speed_mps:
        pace_s, pace_m = _zones(core.speed, threshold_speed_mps, PACE_ZONE_EDGES)
    if core.hr is not None and hr_max_bpm:
        # Bin 0 is below zone 1 (under 50 % of max) and counts in no zone.
        zones_s, zones_m = (z[1:] for z in _zones(core.hr, hr_max_bpm, HR_ZONE_EDGES))
    return Intensity(hr_avg_bpm=core.hr_avg_bpm, hr_zone_s=zones_s, hr_zone_m=zones_m, pace_zone_s=pace_s,
                     pace_zone_m=pace_m, speed_work_s=core.speed_work_s, speed_work_reps=core.speed_work_reps)


def intensity(run: CleanRun, hr: np.ndarray | None, hr_max_bpm: float | None,
              threshold_speed_mps: float | None = None) -> Intensity:
    """Intensity of one run: :func:`intensity_core` finished by :func:`finish_intensity`."""
    return finish_intensity(intensity_core(run, hr), hr_max_bpm, threshold_speed_mps)


def is_long_run(moving_s: float, distance_m: float | None, week_distance_m: float | None) -> bool:
    """Long run: >= 90 min moving or >= 25 % of the 7 days' distance ending with this run."""
    if moving_s >= LONG_RUN_S:
        return True
    return bool(distance_m and week_distance_m and distance_m >= LONG_RUN_WEEK_SHARE * week_distance_m
                and week_distance_m > distance_m)  # a lone run in its week is not "long" by share


def surface_class(sub_sport: str | None, has_positions: bool, is_track: bool | None,
                  grade_roughness_pct: float | None) -> tuple[Surface, str]:
    """Surface class and the reason (sub-sport first, then geometry, then elevation roughness)."""
    sub = (sub_sport or "").lower()
    if sub in _TREADMILL_SUBSPORTS:
        return "treadmill", f"sub-sport {sub}"
    if sub in _TRACK_SUBSPORTS:
        return "track", f"sub-sport {sub}"
    if sub in _TRAIL_SUBSPORTS:
        return "trail", f"sub-sport {sub}"
    if not has_positions:
        # Without GPS it may be a treadmill or an outdoor run with a foot pod: do not guess.
        return "unknown", "no GPS positions and no sub-sport saying where"
    if is_track:
        return "track", "400 m oval geometry"
    if grade_roughness_pct is not None and grade_roughness_pct > TRAIL_ROUGHNESS_PCT:
        return "trail", f"elevation roughness {grade_roughness_pct:.1f} pp > {TRAIL_ROUGHNESS_PCT:g}"
    return "road", "GPS route, not a track, smooth elevation"
