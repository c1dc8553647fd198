"""Build the canonical samples frame and the run-level totals every reader shares.

Readers hand over plain column arrays; this module owns the unit rules that
apply to all formats (per-foot cadence to steps/min, absent-not-zero, time
ordering) so that FIT, GPX and TCX cannot drift apart.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Mapping

import numpy as np

from .. import schema as S
from .positions import EARTH_RADIUS_M, glitches_of, impossible_positions

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

# Without a speed to check against, a "cadence" channel whose median is above this already
# counts both feet: per-foot running cadence is 75-100 strides/min and nobody runs at 240+ spm
# (evidence.md 1.6; real-data README).
_ALREADY_SPM_MEDIAN = 120.0
# A walking or running step is 0.5-2.2 m long (a slow walker's short step to a sprinter's long one).
STEP_LENGTH_M = (0.5, 2.2)
# Below this speed the runner stands or shuffles: step lengths there say nothing about the unit.
_MOVING_MPS = 1.0
# Fewer moving samples with both speed and cadence than this: too few to judge the unit by.
_MIN_JUDGED = 10
# GPX and TCX carry no timer events, and auto-pause often just stops logging: there a
# recording hole longer than this is taken as a pause.  Smart recording logs at least
# every ~16 s while moving and auto-pause holes of 58 s occur (both seen in the
# real-data TCX files), so 30 s separates the two.  FIT files use their timer events
# instead (an FR110 logs 52 s holes with the timer running).
PAUSE_GAP_S = 30.0
# Sample times outside these years are garbage (a damaged file), not a clock that is off:
# they are dropped, so that time arithmetic cannot overflow nanoseconds (± 292 years).
# Plausible-but-wrong clocks (1989, 2100) are refused later, with a reason, by the pipeline.
FIRST_YEAR, END_YEAR = 1970, 2200


def plausible_year(year: int) -> bool:
    return FIRST_YEAR <= year < END_YEAR


def usual_step_length_m(speed_mps: np.ndarray) -> np.ndarray:
    """The step length usual at a speed: about 0.65 m walking at 1.4 m/s, 0.95 m at 2.5 m/s and
    1.6 m at 5 m/s (cadences of about 130, 160 and 185 steps/min)."""
    return 0.27 + 0.27 * np.asarray(speed_mps, dtype=float)


def cadence_counts_steps(cadence: np.ndarray, speed_mps: np.ndarray | None = None) -> bool:
    """Whether a cadence channel already counts both feet (steps/min) rather than one (strides/min).

    Decided by what each reading makes of the step length (speed * 60 / steps per minute) while
    moving: a reading whose step length is no human step (outside :data:`STEP_LENGTH_M`) is
    wrong; when both give a human step, the one nearer the step length usual at that speed
    (:func:`usual_step_length_m`) is right.  Without a usable speed, or when neither reading
    fits (not a run on foot), a median above 120 means steps/min.
    """
    cad = np.asarray(cadence, dtype=float)
    if speed_mps is not None:
        speed = np.asarray(speed_mps, dtype=float)
        moving = np.isfinite(cad) & (cad > 0) & np.isfinite(speed) & (speed >= _MOVING_MPS)
        if np.count_nonzero(moving) >= _MIN_JUDGED:
            if_steps = float(np.median(speed[moving] * 60.0 / cad[moving]))
            if_strides = if_steps / 2.0
            low, high = STEP_LENGTH_M
            fits_steps, fits_strides = bool(low <= if_steps <= high), bool(low <= if_strides <= high)
            if fits_steps != fits_strides:
                return fits_steps
            if fits_steps:
                usual = float(np.median(usual_step_length_m(speed[moving])))
                return bool(abs(np.log(if_steps / usual)) < abs(np.log(if_strides / usual)))
    nonzero = cad[np.isfinite(cad) & (cad > 0)]
    return bool(nonzero.size) and float(np.median(nonzero)) > _ALREADY_SPM_MEDIAN


def per_foot_to_spm(cadence: np.ndarray, fractional: np.ndarray | None = None,
                    speed_mps: np.ndarray | None = None) -> np.ndarray:
    """Convert a per-foot cadence channel (strides/min) to steps/min.

    Files that already store steps/min (some third-party apps) are detected by
    :func:`cadence_counts_steps` (given the speed, by the step length each reading implies) and
    passed through unchanged.
    """
    cad = np.asarray(cadence, dtype=float)
    if fractional is not None:
        frac = np.nan_to_num(np.asarray(fractional, dtype=float), nan=0.0)
        cad = cad + frac
    if cadence_counts_steps(cad, speed_mps):
        log.debug("cadence channel already in steps/min")
        return cad
    return 2.0 * cad


def speed_between(times: np.ndarray, distance_m: np.ndarray) -> np.ndarray:
    """Speed (m/s) into each sample from the one before (NaN for the first, and where time stands still)."""
    t = np.asarray(times, dtype="datetime64[ns]").astype("int64") / 1e9
    d = np.asarray(distance_m, dtype=float)
    out = np.full(d.shape, np.nan)
    if d.size > 1:
        dt_s = np.diff(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[1:] = np.where(dt_s > 0, np.diff(d) / dt_s, np.nan)
    return out


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres between arrays of points in degrees."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def cumulative_distance(lat: np.ndarray, lon: np.ndarray, timer_segment: np.ndarray | None = None,
                        elapsed_s: np.ndarray | None = None) -> np.ndarray:
    """Cumulative path length (m) along positions; points without a fix add nothing.

    With ``timer_segment`` and ``elapsed_s``, the step from the last fix of one timer segment to
    the first fix of the next adds at most what the runner covers in one sample interval at the
    run's median speed: wherever they went while the timer was stopped or the recorder was off
    (a drive home, a walk to the car) is not run, as a device's own distance leaves it out.  The
    one interval is what the recorder ran on after the stop; the features' cleaning credits the
    same.
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    out = np.full(lat.shape, np.nan)
    ok = np.isfinite(lat) & np.isfinite(lon)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    steps = np.concatenate([[0.0], haversine_m(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])])
    if timer_segment is not None and elapsed_s is not None and idx.size > 1:
        seg = np.asarray(timer_segment)[idx]
        dt = np.diff(np.asarray(elapsed_s, float)[idx])
        same = (seg[1:] == seg[:-1]) & (dt > 0)
        interval = float(np.median(dt[same])) if same.any() else 0.0
        typical = float(np.median(steps[1:][same] / dt[same])) if same.any() else 0.0
        cross = seg[1:] != seg[:-1]
        steps[1:] = np.where(cross, np.minimum(steps[1:], typical * np.minimum(dt, interval)), steps[1:])
    out[idx] = np.cumsum(steps)
    # Samples without a fix inherit the distance reached so far (0 before the first fix).
    last_fix = np.maximum.accumulate(np.where(ok, np.arange(lat.size), -1))
    return np.where(last_fix >= 0, out[np.maximum(last_fix, 0)], 0.0)


def null_island_count(lat, lon) -> int:
    """How many positions are exactly 0 deg N 0 deg E: what some devices write when they have no fix."""
    return int(np.count_nonzero((np.asarray(lat, float) == 0.0) & (np.asarray(lon, float) == 0.0)))


def impossible_position_problem(lat, lon) -> str | None:
    """The problem line for positions that are no place on Earth (dropped by :func:`build_samples`), if any."""
    bad = int(np.count_nonzero(impossible_positions(lat, lon)))
    if not bad:
        return None
    return (f"{bad} of {len(np.asarray(lat))} positions are off the globe (latitude beyond ±90°, longitude "
            f"beyond ±180° or not a number); those positions dropped")


def mask_bad_positions(columns: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    """Positions at exactly 0/0 or off the globe become missing (the rest of their sample stays).

    Nobody runs at 0/0 (what some devices write without a fix), and one such point adds a 5000 km
    jump; a latitude of 95° is a damaged file, and its distances would be anything.
    """
    if S.LAT not in columns or S.LON not in columns:
        return columns
    lat, lon = np.asarray(columns[S.LAT], float), np.asarray(columns[S.LON], float)
    bad = ((lat == 0.0) & (lon == 0.0)) | impossible_positions(lat, lon)
    if not bad.any():
        return columns
    return {**columns, S.LAT: np.where(bad, np.nan, lat), S.LON: np.where(bad, np.nan, lon)}


def build_samples(timestamps: np.ndarray, columns: Mapping[str, np.ndarray],
                  pause_gap_s: float | None = None) -> pd.DataFrame:
    """Assemble the canonical frame from a UTC timestamp array and named columns.

    Rows are sorted by time (stable) and exact duplicate timestamps dropped;
    columns that hold no finite value are left out (absent, never zero); positions at
    exactly 0/0 or off the globe are no fix (:func:`mask_bad_positions`).  With
    ``pause_gap_s``, a recording hole longer than that starts a new timer segment
    (for formats without timer events).  A distance derived from the positions leaves out
    GPS glitches (:func:`.positions.glitches_of`: spikes, excursions, impossible bursts), as the
    features' cleaning does, and across a pause (a new timer segment) adds only the one
    interval the recorder ran on (:func:`cumulative_distance`).
    """
    import pandas as pd

    # Everything is done on numpy arrays and the frame is built once at the end: each
    # pandas step (filter, sort, dedup, insert) costs ~0.1-1 ms whatever the row count,
    # which would be most of the frame's cost for a one-hour run and nearly all of a small file's.
    for name in columns:
        if name not in S.COLUMNS_BY_NAME:
            raise KeyError(f"unknown sample column {name!r}; add it to gaitrisk.schema first")
    ts = np.asarray(timestamps, dtype="datetime64[ns]")
    keep = (ts >= np.datetime64(f"{FIRST_YEAR}-01-01", "ns")) & (ts < np.datetime64(f"{END_YEAR}-01-01", "ns"))
    rows = None if keep.all() else np.flatnonzero(keep)  # NaT compares False: dropped too
    if rows is not None:
        ts = ts[rows]
    order = np.argsort(ts, kind="stable") if ts.size > 1 and not (ts[1:] > ts[:-1]).all() else None
    if order is not None:
        ts = ts[order]
        first = np.concatenate([[True], ts[1:] != ts[:-1]])  # stable sort: the file's first of equal times
        order, ts = order[first], ts[first]
        rows = order if rows is None else rows[order]
    data: dict[str, np.ndarray] = {}
    for name, values in mask_bad_positions(columns).items():
        arr = np.asarray(values)
        arr = arr.astype(np.int64) if name == S.TIMER_SEGMENT else arr.astype(float)
        if rows is not None:
            arr = arr[rows]
        # Only after rows without a time are gone can a column turn out empty.
        if name == S.TIMER_SEGMENT or np.isfinite(arr).any():
            data[name] = arr
    seg = data.get(S.TIMER_SEGMENT)
    if seg is None:
        seg = np.zeros(ts.size, dtype=np.int64)
    delta = ts - ts[0] if ts.size else ts.astype("timedelta64[ns]")
    # pandas' own seconds (it splits whole and fractional seconds to round exactly once).
    elapsed = pd.TimedeltaIndex(delta).total_seconds().to_numpy(dtype=float)
    if pause_gap_s is not None and ts.size > 1:
        # A hole where the reader already starts a new segment is the same pause, not a second one.
        hole = (np.diff(elapsed) > pause_gap_s) & (np.diff(seg) == 0)
        seg = seg + np.concatenate([[0], np.cumsum(hole)])
    data[S.TIMER_SEGMENT] = seg
    data[S.ELAPSED] = elapsed
    if S.DISTANCE not in data and S.LAT in data and S.LON in data:
        spikes = glitches_of(data[S.LAT], data[S.LON], elapsed)
        data[S.DISTANCE] = cumulative_distance(np.where(spikes, np.nan, data[S.LAT]),
                                               np.where(spikes, np.nan, data[S.LON]), seg, elapsed)
    data[S.TIMESTAMP] = pd.DatetimeIndex(ts).tz_localize("UTC")
    return pd.DataFrame({c.name: data[c.name] for c in S.SAMPLE_COLUMNS if c.name in data})


def totals(samples: pd.DataFrame) -> dict[str, float | None]:
    """Run-level totals from samples: what ``gaitrisk activities`` shows.

    ``moving_time_s`` is the time the recorder was running: the sample
    intervals inside one timer segment (readers mark pauses as segment changes).
    The averages are time-weighted over that timer time: each sample stands for the
    interval that ends at it (capped at :data:`PAUSE_GAP_S`), so a "smart recording"
    file's few samples on a steady stretch weigh what the stretch lasted.
    ``avg_cadence_spm`` keeps zero-cadence time (standing with the timer running):
    that is Garmin's session average, within 0.6 spm on every real-data Garmin file
    since 2013 (docs/conventions.md lists the devices that differ); gait features
    compute their own running-only cadence.  ``avg_stance_time_ms`` skips zeros, as
    the devices do (no ground contact is measured while standing).
    """
    n = len(samples)
    if n == 0:
        return dict(duration_s=0.0, moving_time_s=0.0, distance_m=None,
                    avg_cadence_spm=None, avg_stance_time_ms=None)
    el = samples[S.ELAPSED].to_numpy()
    duration = float(el[-1] - el[0])
    dt = np.diff(el)
    same_seg = np.diff(samples[S.TIMER_SEGMENT].to_numpy()) == 0
    moving = float(dt[same_seg].sum())
    distance = None
    if S.DISTANCE in samples:
        d = samples[S.DISTANCE].to_numpy()
        if np.isfinite(d).any():
            distance = float(np.nanmax(d) - np.nanmin(d))

    weight = np.concatenate([[0.0], np.where(same_seg, np.minimum(dt, PAUSE_GAP_S), 0.0)])

    def mean(col: str, skip_zeros: bool) -> float | None:
        if col not in samples:
            return None
        v = samples[col].to_numpy()
        ok = np.isfinite(v) & ((v > 0) if skip_zeros else True)
        if not ok.any():
            return None
        w = weight[ok]
        # A file of single-sample segments has no interval to weigh by: every sample counts once.
        return float(np.average(v[ok], weights=w)) if w.sum() > 0 else float(v[ok].mean())

    return dict(duration_s=duration, moving_time_s=moving, distance_m=distance,
                avg_cadence_spm=mean(S.CADENCE, skip_zeros=False),
                avg_stance_time_ms=mean(S.STANCE_TIME, skip_zeros=True))
