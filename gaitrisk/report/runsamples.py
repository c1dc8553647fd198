"""One run's stored samples as the per-run chart shows them: pace, heart rate, cadence, GCT, elevation over distance.

The samples are binned by distance (means per bin) so that a two-hour run at 1 Hz becomes a
few hundred points: the chart stays small, and one noisy GPS second does not draw a spike.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema as S

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


def _values(x: pd.Series) -> tuple[float, ...] | None:
    if x.notna().sum() == 0:
        return None
    return tuple(round(float(v), 2) if math.isfinite(v) else math.nan for v in x.to_numpy(float))


def run_samples(samples: pd.DataFrame, run_id: str, day: dt.date) -> RunSamples | None:
    """Bin ``samples`` (a stored run, :data:`gaitrisk.schema.SAMPLE_COLUMNS`) by distance; None without distance."""
    if S.DISTANCE not in samples:
        return None
    s = samples[samples[S.DISTANCE].notna()]
    if len(s) < 2:
        return None
    dist = s[S.DISTANCE].to_numpy(float)
    total = float(dist.max() - dist.min())
    if total <= 0:
        return None
    width = max(MIN_BIN_M, total / MAX_BINS)
    key = np.floor((dist - dist.min()) / width).astype(int)
    grouped = s.assign(_bin=key).groupby("_bin")

    def mean(col: str) -> pd.Series:
        return grouped[col].mean() if col in s else pd.Series(np.nan, index=grouped.size().index)

    centres = (grouped[S.DISTANCE].min() + grouped[S.DISTANCE].max()) / 2 - dist.min()
    if S.SPEED in s and s[S.SPEED].notna().any():
        speed = mean(S.SPEED)
    elif S.ELAPSED in s:   # no speed channel: distance over time within each bin
        span = grouped[S.ELAPSED].max() - grouped[S.ELAPSED].min()
        speed = (grouped[S.DISTANCE].max() - grouped[S.DISTANCE].min()) / span.where(span > 0)
    else:
        speed = pd.Series(np.nan, index=centres.index)
    pace = 1000.0 / speed.where(speed >= STOPPED_MPS)
    return RunSamples(run_id, day, tuple(round(float(c) / 1000, 3) for c in centres), _values(pace),
                      _values(mean(S.HEART_RATE)), _values(mean(S.CADENCE)), _values(mean(S.STANCE_TIME)),
                      _values(mean(S.ALTITUDE)))
