"""Cleaning: pauses, stops and GPS spikes removed; steady-state windows for gait metrics.

Every later module works on a :class:`CleanRun`: per-sample arrays in which a
sample's *interval* (``dt_s``, ``dist_m``) is the stretch that ends at it, and
intervals that span a timer pause are zero -- so pause time and the distance
moved while the timer was stopped never enter a sum (evidence.md 1.5, step 1:
"drop stops").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import schema as S
from ..ingest.frame import cumulative_distance
from ..ingest.positions import SPIKE_SPEED_MPS, local_xy, reject_excursions, reject_spikes

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

# Below this (smoothed) speed the runner is standing or milling about: the sample is a
# stop and leaves moving time.  Slowest purposeful walking is ~1 m/s (3.6 km/h);
# project convention [D].
STOP_SPEED_MPS = 1.0
# Below this speed a sample counts as walking and is left out of gait averages: the lower
# validity bound of the speed-expected cadence model (evidence.md 1.3, VU Garmin data,
# valid 1.64-4.68 m/s).
RUN_SPEED_MPS = 1.64
# Samples of the centred rolling median that smooths speed before the stop test.
SPEED_MEDIAN_SAMPLES = 5
# Steady-state windows (evidence.md 1.5, step 1): 30-60 s; 2.0-5.0 m/s; speed CV <= 10 %;
# the first 5 min dropped.
WINDOW_S = 30.0
WINDOW_MIN_COVER = 0.8  # a window must hold >= 80 % of its length of running time
STEADY_SPEED_RANGE_MPS = (2.0, 5.0)
STEADY_MAX_CV = 0.10
WARMUP_S = 300.0
# Nobody covers more than this in one recording (the 6-day record is about 1,000 km, and the
# import refuses recordings over 4 days).  A longer path is a damaged file, and the features'
# 5 m distance grids over it would take gigabytes.
MAX_PATH_M = 1_000_000.0


@dataclass(frozen=True)
class CleanRun:
    """Per-sample arrays of one run after cleaning (length = number of samples).

    ``dt_s``/``dist_m``: time (s) and distance (m) of the interval ending at each
    sample, zero across pauses and for the first sample.  ``moving``: the
    interval counts as moving (not a pause, not a stop).  ``running``: moving at
    running speed.  ``timer_s``: cumulative moving time at each sample.  ``x_m``,
    ``y_m``: local east/north metres (NaN without a fix), spikes replaced.
    """

    elapsed_s: np.ndarray
    dt_s: np.ndarray
    dist_m: np.ndarray
    speed_mps: np.ndarray
    moving: np.ndarray
    running: np.ndarray
    timer_s: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    spikes: np.ndarray
    speed_smooth_mps: np.ndarray
    pause_s: float
    stopped_s: float
    distance_source: str  # "device", "positions" or "speed" or "none"

    @property
    def n(self) -> int:
        return len(self.elapsed_s)

    @property
    def has_positions(self) -> bool:
        return bool(np.isfinite(self.x_m).sum() >= 2)

    @property
    def timer_running(self) -> np.ndarray:
        """The interval ending at each sample had the timer running (stops included)."""
        return self.dt_s > 0

    @property
    def cum_dist_m(self) -> np.ndarray:
        """Cumulative moving distance (m) at each sample."""
        return np.cumsum(np.where(self.moving, self.dist_m, 0.0))

    @property
    def plausible_path_m(self) -> float:
        """The longest path this run can have covered: its timer time at the GPS spike speed
        (faster than anyone runs), never over MAX_PATH_M.  What the features allocate per metre
        of path is bounded by it."""
        return min(float(self.dt_s.sum()) * SPIKE_SPEED_MPS, MAX_PATH_M)


def finite_column(samples: pd.DataFrame, name: str) -> np.ndarray | None:
    """A sample column as floats, ``None`` when the file has no finite value in it (absent, never zero)."""
    if name not in samples:
        return None
    v = samples[name].to_numpy(dtype=float)
    return v if np.isfinite(v).any() else None


# The first samples decide most "was the distance channel derived from the positions?" tests:
# a device's own distance differs from the haversine path within a few samples.
_DERIVED_PREFIX = 32


def _derived_from_positions(dev: np.ndarray, lat: np.ndarray, lon: np.ndarray, spikes: np.ndarray,
                            single: np.ndarray | None = None,
                            seg: tuple[np.ndarray, np.ndarray] | None = None) -> bool:
    """The distance channel equals the cumulative haversine distance of the positions without
    their glitches, nothing added across a pause (to 1e-6 m): what the import derives when a
    file has no distance channel.

    Runs imported while the import counted the steps across pauses and left out only single-fix
    spikes (``single``), or counted every fix, have that distance in the channel: those count as
    derived too.
    """
    # Without a pause the import's credit rule changes nothing: the prefix test below decides.
    paused = seg is not None and bool(np.any(np.diff(seg[0]) != 0))
    if paused and _equals_path(dev, np.where(spikes, np.nan, lat), np.where(spikes, np.nan, lon), seg):
        return True
    for mask in (spikes, single if single is not None else spikes):
        if mask.any() and _equals_path(dev, np.where(mask, np.nan, lat), np.where(mask, np.nan, lon)):
            return True
    return _equals_path(dev, lat, lon)


def _equals_path(dev: np.ndarray, lat: np.ndarray, lon: np.ndarray,
                 seg: tuple[np.ndarray, np.ndarray] | None = None) -> bool:
    """``dev`` is the cumulative haversine distance of the positions (to 1e-6 m); with ``seg``
    (timer segments, elapsed seconds), as the import credits steps across a pause.

    The prefix (up to the first pause) is tested first: the cumulative distance of a prefix is
    the prefix of the cumulative distance, so a mismatch there settles it without the whole
    run's haversine (after a pause, the credit depends on the whole run's medians).
    """
    k = _DERIVED_PREFIX
    if seg is not None:
        # Before the first pause the credit rule has not come in: that prefix settles most runs.
        change = np.flatnonzero(np.diff(seg[0]) != 0)
        k = min(k, int(change[0]) + 1) if change.size else k
    if dev.size > k > 1 and not np.allclose(dev[:k], cumulative_distance(lat[:k], lon[:k]),
                                            rtol=0, atol=1e-6, equal_nan=True):
        return False
    path = cumulative_distance(lat, lon) if seg is None else cumulative_distance(lat, lon, *seg)
    return bool(np.allclose(dev, path, rtol=0, atol=1e-6, equal_nan=True))


def forward_filled(v: np.ndarray) -> np.ndarray:
    """``pd.Series(v).ffill().fillna(0.0)``: each NaN takes the last value before it, 0 before any."""
    last = np.maximum.accumulate(np.where(np.isnan(v), -1, np.arange(v.size)))
    return np.where(last >= 0, v[np.maximum(last, 0)], 0.0)


def interpolated(v: np.ndarray) -> np.ndarray:
    """``pd.Series(v).interpolate(limit_direction="both")``: NaNs linear between their neighbours,
    the ends held at the first and last value; all NaN stays all NaN."""
    nan = np.isnan(v)
    if not nan.any() or nan.all():
        return v
    idx = np.arange(v.size)
    out = v.copy()
    out[nan] = np.interp(idx[nan], idx[~nan], v[~nan])
    return out


def clean(samples: pd.DataFrame) -> CleanRun:
    """Clean one run's samples (canonical columns of :mod:`gaitrisk.schema`)."""
    n = len(samples)
    el = samples[S.ELAPSED].to_numpy(dtype=float) if n else np.zeros(0)
    seg = samples[S.TIMER_SEGMENT].to_numpy() if S.TIMER_SEGMENT in samples else np.zeros(n, dtype=np.int64)
    same_seg = np.concatenate([[False], np.diff(seg) == 0]) if n else np.zeros(0, bool)
    raw_dt = np.concatenate([[0.0], np.diff(el)]) if n else np.zeros(0)
    # Across a timer stop the recorder still ran for up to one sample interval (the first
    # sample after the restart follows one interval after it): credit that, not the hole.
    interval = float(np.median(raw_dt[1:][same_seg[1:]])) if same_seg[1:].any() else 0.0
    boundary = ~same_seg
    boundary[:1] = False
    dt = np.where(same_seg, raw_dt, np.where(boundary, np.minimum(raw_dt, interval), 0.0))
    pause_s = float((raw_dt - dt).sum()) if n else 0.0

    lat, lon = finite_column(samples, S.LAT), finite_column(samples, S.LON)
    if lat is not None and lon is not None:
        x, y = local_xy(lat, lon)
    else:
        x = y = np.full(n, np.nan)
    single = reject_spikes(x, y, el)
    spikes = single | reject_excursions(x, y, el)
    if spikes.any():
        log.info("rejected %d GPS glitch fix(es)", int(spikes.sum()))
        good = np.isfinite(x) & ~spikes
        x = np.where(spikes, np.interp(el, el[good], x[good]), x)
        y = np.where(spikes, np.interp(el, el[good], y[good]), y)

    # Distance: the device's channel when it has one (it already ignores spikes and is what
    # the session summary reports); positions when the channel was itself derived from them.
    dev = finite_column(samples, S.DISTANCE)
    source = "none"
    inc = np.zeros(n)
    if dev is not None:
        derived = lat is not None and lon is not None and _derived_from_positions(dev, lat, lon, spikes, single, (seg, el))
        if derived:
            ok = np.isfinite(x)
            seg_d = np.hypot(np.diff(x), np.diff(y))
            inc = np.concatenate([[0.0], np.where(np.isfinite(seg_d), seg_d, 0.0)])
            inc[~ok] = 0.0
            source = "positions"
        else:
            filled = forward_filled(dev)
            inc = np.concatenate([[0.0], np.clip(np.diff(filled), 0.0, None)])
            source = "device"
    dev_speed = finite_column(samples, S.SPEED)
    if source == "none" and dev_speed is not None:
        inc = np.nan_to_num(dev_speed) * dt
        source = "speed"
    inc = np.where(dt > 0, inc, 0.0)
    if boundary.any():
        # Across a pause, at most what the runner covers in the credited interval counts
        # (a position-derived step would include wherever they walked while stopped).
        typical = float(np.median(inc[same_seg] / np.maximum(dt[same_seg], 1e-9))) if same_seg.any() else 0.0
        inc = np.where(boundary, np.minimum(inc, typical * dt), inc)

    with np.errstate(invalid="ignore", divide="ignore"):
        derived_speed = np.where(dt > 0, inc / np.where(dt > 0, dt, 1.0), np.nan)
    speed = dev_speed.copy() if dev_speed is not None else derived_speed
    if dev_speed is not None:
        speed = np.where(np.isfinite(speed), speed, derived_speed)
    speed = interpolated(speed)
    if not np.isfinite(speed).any():
        speed = np.zeros(n)
    smooth = rolling_median(speed, SPEED_MEDIAN_SAMPLES)

    moving = (dt > 0) & (smooth >= STOP_SPEED_MPS)
    running = moving & (smooth >= RUN_SPEED_MPS)
    stopped_s = float(dt[(dt > 0) & ~moving].sum())
    timer = np.cumsum(np.where(moving, dt, 0.0))
    return CleanRun(elapsed_s=el, dt_s=dt, dist_m=inc, speed_mps=speed, moving=moving, running=running,
                    timer_s=timer, x_m=x, y_m=y, spikes=spikes, speed_smooth_mps=smooth, pause_s=pause_s,
                    stopped_s=stopped_s,
                    distance_source=source)


def rolling_median(v: np.ndarray, k: int) -> np.ndarray:
    """``pd.Series(v).rolling(k, center=True, min_periods=1).median()``, the same values, faster.

    For an odd ``k`` over finite data (every caller's case) the windows that fit take their
    middle value by a partial sort of a strided view (2-3x faster than pandas' rolling median,
    and no scipy to import: 0.35 s a process); the first and last ``k // 2`` values take the
    median of their truncated windows, as pandas does.  Anything else goes to pandas.
    """
    v = np.asarray(v, dtype=float)
    n, h = v.size, k // 2
    if k % 2 == 0 or n < k or not np.isfinite(v).all():
        import pandas as pd

        return pd.Series(v).rolling(k, center=True, min_periods=1).median().to_numpy()
    out = np.empty(n)
    out[h:n - h] = np.partition(np.lib.stride_tricks.sliding_window_view(v, k), h, axis=1)[:, h]
    if h:
        rows = np.arange(h)
        count = rows + h + 1  # row i: the window [0, i + h]
        keep = np.arange(2 * h)[None, :] < count[:, None]

        def ends(x: np.ndarray) -> np.ndarray:
            srt = np.sort(np.where(keep, x[None, :2 * h], np.nan), axis=1)  # NaN (outside) sorts last
            return (srt[rows, (count - 1) // 2] + srt[rows, count // 2]) / 2.0

        out[:h] = ends(v)
        out[n - h:] = ends(v[::-1])[::-1]
    return out


def weighted_mean(values: np.ndarray | None, weights: np.ndarray, mask: np.ndarray | None = None) -> float | None:
    """Time-weighted mean of the finite values (``None`` when nothing is left)."""
    if values is None:
        return None
    ok = np.isfinite(values) & (weights > 0)
    if mask is not None:
        ok &= mask
    w = weights[ok]
    if w.sum() <= 0:
        return None
    return float(np.sum(values[ok] * w) / w.sum())


def window_arrays(run: CleanRun, channels: dict[str, np.ndarray | None],
                  window_s: float = WINDOW_S) -> dict[str, np.ndarray]:
    """:func:`windows` as a dict of numpy arrays (what the feature code uses: no DataFrame per run)."""
    w = np.where(run.running, run.dt_s, 0.0)
    wid = np.floor(run.timer_s / window_s).astype(np.int64)
    k = int(wid.max()) + 1 if run.n else 0
    tot = np.bincount(wid, weights=w, minlength=k)

    def mean(v: np.ndarray) -> np.ndarray:
        ok = np.isfinite(v) & (w > 0)
        num = np.bincount(wid, weights=np.where(ok, v * w, 0.0), minlength=k)
        den = np.bincount(wid, weights=np.where(ok, w, 0.0), minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan)

    with np.errstate(invalid="ignore", divide="ignore"):
        v_mean = mean(run.speed_mps)
        v_sq = mean(run.speed_mps ** 2)
        cv = np.sqrt(np.clip(v_sq - v_mean ** 2, 0.0, None)) / v_mean
    t0 = np.arange(k) * window_s
    out = {"window": np.arange(k), "t0_s": t0, "run_s": tot, "speed_mps": v_mean, "speed_cv": cv}
    for name, values in channels.items():
        out[name] = mean(values) if values is not None else np.full(k, np.nan)
    warmup = WARMUP_S if run.timer_s[-1:].sum() > 2 * WARMUP_S else 0.0
    lo, hi = STEADY_SPEED_RANGE_MPS
    out["steady"] = ((tot >= WINDOW_MIN_COVER * window_s) & (cv <= STEADY_MAX_CV)
                     & (v_mean >= lo) & (v_mean <= hi) & (t0 >= warmup))
    return out


def windows(run: CleanRun, channels: dict[str, np.ndarray | None],
            window_s: float = WINDOW_S) -> pd.DataFrame:
    """Running time cut into ``window_s`` windows with their time-weighted channel means.

    Columns: ``window``, ``t0_s`` (moving time at the start), ``run_s`` (running
    seconds inside), ``speed_mps``, ``speed_cv``, one column per channel, and
    ``steady`` (evidence.md 1.5, step 1: speed 2-5 m/s, CV <= 10 %, the first
    5 min dropped -- when the run is long enough to keep windows after it).
    """
    import pandas as pd

    return pd.DataFrame(window_arrays(run, channels, window_s))
