"""Per-kilometre splits and per-lap figures of one run, from its stored samples.

Times are timer time (pauses between timer segments do not count), as a watch shows its
splits.  A split's heart rate and cadence are time-weighted means over its samples; its
elevation change is the altitude at its end minus the altitude at its start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..records import Lap

# A last partial kilometre shorter than this is no split of its own (GPS noise at the stop).
MIN_LAST_SPLIT_M = 50.0


@dataclass(frozen=True)
class Split:
    """One kilometre (or lap) of a run; ``None`` where the samples do not carry the value."""

    index: int                  # 1-based
    distance_m: float
    time_s: float
    pace_s_per_km: float | None
    heart_rate_bpm: float | None
    cadence_spm: float | None
    elevation_change_m: float | None

    def as_json(self) -> dict:
        return asdict(self)


def _column(samples: pd.DataFrame, name: str) -> np.ndarray:
    if name not in samples.columns:
        return np.full(len(samples), np.nan)
    return pd.to_numeric(samples[name], errors="coerce").to_numpy(dtype=float)


def _timer_time(samples: pd.DataFrame) -> np.ndarray:
    """Cumulative timer seconds per sample: a gap between two timer segments adds nothing."""
    elapsed = _column(samples, "elapsed_s")
    step = np.diff(elapsed, prepend=elapsed[:1])
    if "timer_segment" in samples.columns:
        seg = samples["timer_segment"].to_numpy()
        step[1:][seg[1:] != seg[:-1]] = 0.0
    step[~(step > 0)] = 0.0  # NaN and clock steps backwards add nothing
    return np.cumsum(step)


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float | None:
    ok = ~np.isnan(values) & (weights > 0)
    if not ok.any():
        return None
    return float(np.average(values[ok], weights=weights[ok]))


def _at(position: float, where: np.ndarray, values: np.ndarray) -> float | None:
    ok = ~np.isnan(values)
    if not ok.any():
        return None
    return float(np.interp(position, where[ok], values[ok]))


def _split(index: int, mask: np.ndarray, distance_m: float, time_s: float, weights: np.ndarray,
           hr: np.ndarray, cadence: np.ndarray, elev_change: float | None) -> Split:
    pace = time_s / (distance_m / 1000.0) if distance_m > 0 and time_s > 0 else None
    return Split(index, distance_m, time_s, pace, _weighted_mean(hr[mask], weights[mask]),
                 _weighted_mean(cadence[mask], weights[mask]), elev_change)


def km_splits(samples: pd.DataFrame, split_m: float = 1000.0) -> list[Split]:
    """The run's splits every ``split_m`` metres of recorded distance (the last one partial)."""
    dist = _column(samples, "distance_m")
    have = ~np.isnan(dist)
    if have.sum() < 2:
        return []
    timer = _timer_time(samples)[have]
    rows = samples.loc[have]
    dist = np.maximum.accumulate(dist[have])  # a distance that steps back is a GPS correction
    dist = dist - dist[0]
    total = float(dist[-1])
    weights = np.diff(timer, append=timer[-1:])
    hr, cadence, alt = _column(rows, "heart_rate_bpm"), _column(rows, "cadence_spm"), _column(rows, "altitude_m")
    bounds = list(np.arange(split_m, total, split_m))
    if not bounds or total - bounds[-1] >= MIN_LAST_SPLIT_M:
        bounds.append(total)
    else:
        bounds[-1] = total  # a last stub joins the split before it
    out, start = [], 0.0
    for i, end in enumerate(bounds, start=1):
        mask = (dist >= start) & ((dist < end) if i < len(bounds) else (dist <= end))
        time_s = float(np.interp(end, dist, timer) - np.interp(start, dist, timer))
        a0, a1 = _at(start, dist, alt), _at(end, dist, alt)
        out.append(_split(i, mask, float(end - start), time_s, weights, hr, cadence,
                          None if a0 is None or a1 is None else a1 - a0))
        start = end
    return out


def lap_splits(samples: pd.DataFrame, laps: Sequence[Lap]) -> list[Split]:
    """One :class:`Split` per lap the device recorded (its own distance and timer time when it
    has them); heart rate, cadence and elevation change from the samples inside the lap."""
    if not laps or "timestamp" not in samples.columns:
        return []
    times = pd.to_datetime(samples["timestamp"], utc=True)
    timer = _timer_time(samples)
    weights = np.diff(timer, append=timer[-1:])
    hr, cadence, alt = (_column(samples, c) for c in ("heart_rate_bpm", "cadence_spm", "altitude_m"))
    dist = _column(samples, "distance_m")
    out = []
    for i, lap in enumerate(laps, start=1):
        end_time = lap.start_time + dt.timedelta(seconds=lap.elapsed_s or 0.0)
        mask = ((times >= pd.Timestamp(lap.start_time)) & (times < pd.Timestamp(end_time))).to_numpy()
        inside = np.flatnonzero(mask)
        if lap.distance_m is not None:
            distance = float(lap.distance_m)
        elif inside.size and not np.isnan(dist[inside]).all():
            distance = float(np.nanmax(dist[inside]) - np.nanmin(dist[inside]))
        else:
            distance = 0.0
        time_s = lap.timer_s if lap.timer_s is not None else (lap.elapsed_s or 0.0)
        ok_alt = inside[~np.isnan(alt[inside])] if inside.size else inside
        elev = float(alt[ok_alt[-1]] - alt[ok_alt[0]]) if ok_alt.size >= 2 else None
        out.append(_split(i, mask, distance, float(time_s), weights, hr, cadence, elev))
    return out
