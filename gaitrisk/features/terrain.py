"""Terrain: robust grade, elevation gain/loss, grade bins, downhill exposure and GAP.

Follows evidence.md section 4 (4.2 robust grade, 4.3 GAP, 4.4 downhill exposure) and
table 0 rows 15-17.  Grade is a fraction in the arrays and percent in the record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .clean import CleanRun, rolling_median

log = logging.getLogger(__name__)

# evidence.md 4.2 step 2: a point more than 50 m off its neighbours' median is an outlier.
OUTLIER_M = 50.0
# A wide window: real files start with several glitched fixes in a row (fenix 2: three at +87 m).
OUTLIER_MEDIAN_SAMPLES = 31
# evidence.md 4.2 step 3: median filter of 5 samples at 1 Hz -- i.e. over 5 s, so files that
# log every few seconds ("smart recording") get fewer samples, not a wider filter that would
# flatten crests -- then resample every 5 m.
MEDIAN_WINDOW_S = 5.0
MEDIAN_SAMPLES = 5  # also the fewest altitude samples worth a grade
GRID_M = 5.0
# evidence.md 4.2 step 4 / table 0 #15: least-squares slope over a centred 50-100 m distance
# window, never over less than 20 m.  50 m, the short end, blurs grade changes least
# (a 200 m hill keeps most of its length at full grade); see docs/features.md for the noise.
GRADE_WINDOW_M = 50.0
MIN_WINDOW_M = 20.0
# evidence.md 4.2 step 5: hysteresis ~1.5 m for gain and loss after smoothing.
HYSTERESIS_M = 1.5
# evidence.md 4.2 step 6 (Chan 2025): level -2..+2 %, up/down to +-15 %, steep beyond.
LEVEL_GRADE = 0.02
STEEP_GRADE = 0.15
# evidence.md 4.4 / table 0 #17: downhill exposure at <= -5 % and <= -10 %.
DOWNHILL_GRADES = (-0.05, -0.10)
# evidence.md 4.3 / table 0 #16: Minetti 2002 cost polynomial, grade clamped to +-0.45.
MINETTI_CLAMP = 0.45


# Its coefficients, highest power first: 155.4 i^5 - 30.4 i^4 - 43.3 i^3 + 46.3 i^2 + 19.5 i + 3.6.
MINETTI_POLY = (155.4, -30.4, -43.3, 46.3, 19.5, 3.6)


def minetti_cost(i: np.ndarray) -> np.ndarray:
    """Minetti et al. 2002 energy cost of running, J/kg/m, at grade fraction ``i`` (clamped +-0.45)."""
    # Horner's scheme (np.polyval): 20x faster than the powers, the same to 1e-15.
    return np.polyval(MINETTI_POLY, np.clip(np.asarray(i, dtype=float), -MINETTI_CLAMP, MINETTI_CLAMP))


@dataclass(frozen=True)
class Terrain:
    """Terrain features of one run (metres, seconds, grade in percent); ``None`` = not computable."""

    grade: np.ndarray  # per sample, fraction; NaN without altitude
    ascent_m: float | None
    descent_m: float | None
    grade_stats: dict[str, float] | None
    grade_bins_m: dict[str, float] | None
    grade_bins_s: dict[str, float] | None
    distance_m_grade_le_minus5: float | None
    distance_m_grade_le_minus10: float | None
    time_s_grade_le_minus5: float | None
    time_s_grade_le_minus10: float | None
    gap_distance_m: float | None
    gap_pace_s_per_km: float | None
    grade_roughness_pct: float | None  # SD of grade changes between 5 m grid points


def lsq_slope(y: np.ndarray, half: int, min_points: int) -> np.ndarray:
    """Least-squares slope of ``y`` per index step over centred windows of +-``half`` points.

    Vectorised with correlations; windows are truncated at the ends, and a window
    with fewer than ``min_points`` points gives NaN.
    """
    m = np.isfinite(y).astype(float)
    my = np.where(m > 0, y, 0.0)
    j = np.arange(-half, half + 1, dtype=float)
    pad = lambda a: np.pad(a, half)  # noqa: E731
    n = np.correlate(pad(m), np.ones_like(j), "valid")
    sx = np.correlate(pad(m), j, "valid")
    sxx = np.correlate(pad(m), j * j, "valid")
    sy = np.correlate(pad(my), np.ones_like(j), "valid")
    sxy = np.correlate(pad(my), j, "valid")
    den = n * sxx - sx * sx
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (n * sxy - sx * sy) / den
    return np.where((n >= min_points) & (den > 0), slope, np.nan)


def gain_loss(alt: np.ndarray, hysteresis: float = HYSTERESIS_M) -> tuple[float, float]:
    """Elevation gain and loss (m) with a hysteresis band (zig-zag on turning points).

    The profile is first reduced to its turning points (vectorised), so the loop
    runs over reversals, not samples.
    """
    a = alt[np.isfinite(alt)]
    if a.size < 2:
        return 0.0, 0.0
    d = np.diff(a)
    nz = np.flatnonzero(d)
    if nz.size == 0:
        return 0.0, 0.0
    s = np.sign(d[nz])
    turns = nz[np.flatnonzero(np.diff(s))] + 1  # indices in a where the direction reverses
    x = a[np.concatenate([[0], turns, [a.size - 1]])]
    gain = loss = 0.0
    pivot = ext = float(x[0])
    trend = 0
    for v in x[1:]:
        if trend == 0:
            if v - pivot >= hysteresis:
                trend, ext = 1, v
            elif pivot - v >= hysteresis:
                trend, ext = -1, v
        elif trend == 1:
            if v > ext:
                ext = v
            elif ext - v >= hysteresis:
                gain += ext - pivot
                pivot, ext, trend = ext, v, -1
        else:
            if v < ext:
                ext = v
            elif v - ext >= hysteresis:
                loss += pivot - ext
                pivot, ext, trend = ext, v, 1
    if trend == 1:
        gain += ext - pivot
    elif trend == -1:
        loss += pivot - ext
    return float(gain), float(loss)


def _none(n: int) -> Terrain:
    return Terrain(np.full(n, np.nan), None, None, None, None, None, None, None, None, None, None, None, None)


def terrain(run: CleanRun, altitude: np.ndarray | None) -> Terrain:
    """Terrain features from a cleaned run and its altitude channel (m; ``None`` if absent).

    Grade is altitude over the horizontal distance covered while the timer runs, slow
    stretches included: on a steep climb walked below the stop speed the altitude still
    rises, and leaving its distance out would put the whole climb on a few metres.
    """
    s = np.cumsum(run.dist_m)
    if altitude is None or np.isfinite(altitude).sum() < MEDIAN_SAMPLES or s[-1:].sum() < MIN_WINDOW_M:
        return _none(run.n)
    if s[-1] > run.plausible_path_m:
        log.info("distance of %.0f km in %.0f s of recording: damaged data; no terrain", s[-1] / 1000,
                 run.dt_s.sum())
        return _none(run.n)
    alt = altitude.astype(float)
    ok = np.isfinite(alt)
    alt = np.interp(run.elapsed_s, run.elapsed_s[ok], alt[ok])  # fill holes in time
    med = rolling_median(alt, OUTLIER_MEDIAN_SAMPLES)
    alt = np.where(np.abs(alt - med) > OUTLIER_M, med, alt)
    interval = float(np.median(np.diff(run.elapsed_s))) if run.n > 1 else 1.0
    k = max(1, int(round(MEDIAN_WINDOW_S / max(interval, 1e-3))))
    alt = rolling_median(alt, k + 1 - k % 2)  # odd, so the window is centred

    # Resample on a distance grid: altitude where the runner first reached each distance.
    s_u, first = np.unique(s, return_index=True)
    grid = np.arange(0.0, s_u[-1] + 1e-9, GRID_M)
    if grid.size < 2:
        return _none(run.n)
    g_alt = np.interp(grid, s_u, alt[first])
    half = int(round(GRADE_WINDOW_M / 2 / GRID_M))
    g_grade = lsq_slope(g_alt, half, int(MIN_WINDOW_M / GRID_M) + 1) / GRID_M
    valid = np.isfinite(g_grade)
    if not valid.any():
        return _none(run.n)
    grade = np.interp(s, grid[valid], g_grade[valid])

    ascent, descent = gain_loss(g_alt)
    w_t = np.where(run.moving, run.dt_s, 0.0)
    w_d = np.where(run.moving, run.dist_m, 0.0)
    bins = {
        "level": np.abs(grade) <= LEVEL_GRADE,
        "up": (grade > LEVEL_GRADE) & (grade <= STEEP_GRADE),
        "down": (grade < -LEVEL_GRADE) & (grade >= -STEEP_GRADE),
        "steep_up": grade > STEEP_GRADE,
        "steep_down": grade < -STEEP_GRADE,
    }
    bins_m = {k: float(w_d[m].sum()) for k, m in bins.items()}
    bins_s = {k: float(w_t[m].sum()) for k, m in bins.items()}
    gp = g_grade[valid] * 100.0
    p05, p95 = np.percentile(gp, [5, 95])
    stats = {"mean_abs_pct": float(np.mean(np.abs(gp))), "min_pct": float(gp.min()), "max_pct": float(gp.max()),
             "p05_pct": float(p05), "p95_pct": float(p95)}
    le5, le10 = (grade <= DOWNHILL_GRADES[0]), (grade <= DOWNHILL_GRADES[1])
    factor = minetti_cost(grade) / minetti_cost(np.zeros(1))[0]
    # Grade-adjusted distance over all timer-running distance (like the run's distance_m);
    # the pace over moving time and moving distance only.
    gap_d = float(np.sum(run.dist_m * factor))
    gap_moving = float(np.sum(w_d * factor))
    moving_s = float(w_t.sum())
    gap_pace = moving_s / (gap_moving / 1000.0) if gap_moving > 0 else None
    rough = float(np.std(np.diff(gp))) if gp.size > 2 else None
    return Terrain(grade=grade, ascent_m=ascent, descent_m=descent, grade_stats=stats, grade_bins_m=bins_m,
                   grade_bins_s=bins_s, distance_m_grade_le_minus5=float(w_d[le5].sum()),
                   distance_m_grade_le_minus10=float(w_d[le10].sum()), time_s_grade_le_minus5=float(w_t[le5].sum()),
                   time_s_grade_le_minus10=float(w_t[le10].sum()), gap_distance_m=gap_d,
                   gap_pace_s_per_km=gap_pace, grade_roughness_pct=rough)
