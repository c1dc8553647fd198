"""One run's stored samples as the per-run chart shows them: pace, heart rate, cadence, GCT, elevation over distance.

The samples are binned by distance (means per bin) so that a two-hour run at 1 Hz becomes a
few hundred points: the chart stays small, and one noisy GPS second does not draw a spike.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .. import schema as S
from ..grouped import reduce_groups

MAX_BINS = 300           # points per line: enough for a 42 km run at 150 m
MIN_BIN_M = 25.0         # below this a bin holds a step or two at most
STOPPED_MPS = 0.5        # slower than this is standing, not a pace
SERIES = (("pace_s_per_km", "pace, min/km"), ("heart_rate_bpm", "heart rate, bpm"),
          ("cadence_spm", "cadence, steps/min"), ("gct_ms", "GCT, ms"), ("altitude_m", "elevation, m"))


@dataclass(frozen=True)
class RunSamples:
    """Binned samples of one run; a series is None when the file did not record it."""

    id: str
    day: dt.date
    distance_km: tuple[float, ...]           # bin centres
    pace_s_per_km: tuple[float, ...] | None
    heart_rate_bpm: tuple[float, ...] | None
    cadence_spm: tuple[float, ...] | None
    gct_ms: tuple[float, ...] | None
    altitude_m: tuple[float, ...] | None

    def present(self) -> list[tuple[str, str, tuple[float, ...]]]:
        """(field, label, values) of the series that hold data, in chart order."""
        return [(name, label, getattr(self, name)) for name, label in SERIES if getattr(self, name) is not None]


def _values(x: np.ndarray) -> tuple[float, ...] | None:
    if np.isnan(x).all():
        return None
    return tuple(round(float(v), 2) if math.isfinite(v) else math.nan for v in x)


def run_samples(samples: Mapping[str, Any], run_id: str, day: dt.date) -> RunSamples | None:
    """Bin ``samples`` (a stored run, :data:`gaitrisk.schema.SAMPLE_COLUMNS`: one array per column, or
    a DataFrame) by distance; None without distance."""
    if S.DISTANCE not in samples:
        return None
    dist_all = np.asarray(samples[S.DISTANCE], float)
    keep = ~np.isnan(dist_all)
    if keep.sum() < 2:
        return None

    def column(name: str) -> np.ndarray:
        return np.asarray(samples[name], float)[keep]

    dist = dist_all[keep]
    total = float(dist.max() - dist.min())
    if total <= 0:
        return None
    width = max(MIN_BIN_M, total / MAX_BINS)
    key = np.floor((dist - dist.min()) / width).astype(int)
    used, bins = np.unique(key, return_inverse=True)   # the bins that hold samples, in order
    n = len(used)

    def mean(name: str) -> np.ndarray:
        return reduce_groups(bins, column(name), n, "mean") if name in samples else np.full(n, np.nan)

    low, high = reduce_groups(bins, dist, n, "min"), reduce_groups(bins, dist, n, "max")
    centres = (low + high) / 2 - dist.min()
    with np.errstate(invalid="ignore", divide="ignore"):
        if S.SPEED in samples and not np.isnan(column(S.SPEED)).all():
            speed = mean(S.SPEED)
        elif S.ELAPSED in samples:   # no speed channel: distance over time within each bin
            elapsed = column(S.ELAPSED)
            span = reduce_groups(bins, elapsed, n, "max") - reduce_groups(bins, elapsed, n, "min")
            speed = (high - low) / np.where(span > 0, span, np.nan)
        else:
            speed = np.full(n, np.nan)
        pace = 1000.0 / np.where(speed >= STOPPED_MPS, speed, np.nan)
    return RunSamples(run_id, day, tuple(round(float(c) / 1000, 3) for c in centres), _values(pace),
                      _values(mean(S.HEART_RATE)), _values(mean(S.CADENCE)), _values(mean(S.STANCE_TIME)),
                      _values(mean(S.ALTITUDE)))
