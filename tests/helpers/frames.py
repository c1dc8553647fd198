"""Sample frames built in the test, with exact truth by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gaitrisk import schema as S
from gaitrisk.ingest.frame import cumulative_distance

M_PER_DEG_LAT = 6_371_008.8 * np.pi / 180


def line_frame(speeds: np.ndarray, segments: np.ndarray | None = None, gaps: dict[int, float] | None = None):
    """A 1 Hz run due north at the given per-second speeds; exact truth by construction.

    ``gaps``: sample index -> extra wall-clock seconds before it (a timer pause when the
    segment changes there).
    """
    n = len(speeds) + 1
    step = np.concatenate([[0.0], np.asarray(speeds, float)])
    el = np.arange(n, dtype=float)
    for i, extra in (gaps or {}).items():
        el[i:] += extra
    north = np.cumsum(step)
    lat = 46.0 + north / M_PER_DEG_LAT
    lon = np.full(n, 14.5)
    t0 = pd.Timestamp("2024-04-01T06:30:00Z")
    return pd.DataFrame({
        S.TIMESTAMP: t0 + pd.to_timedelta(el, unit="s"), S.ELAPSED: el, S.LAT: lat, S.LON: lon,
        S.DISTANCE: cumulative_distance(lat, lon), S.SPEED: step,
        S.TIMER_SEGMENT: segments if segments is not None else np.zeros(n, dtype=np.int64),
    })
