"""Positions that cannot be right: off the globe, or single fixes no runner could reach.

Readers drop impossible coordinates when they decode a file; the import's distance and the
features' cleaning both leave GPS spikes out with :func:`reject_spikes`, so that a run's
stored total and its feature record agree on what a spike is.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), as gpxpy/geopy use
# A fix that implies more than this speed both into and out of it, while its neighbours
# are consistent with each other, is a GPS spike.  12.5 m/s is above the fastest human
# running speed (~12.4 m/s peak in a 100 m world record) [D].
SPIKE_SPEED_MPS = 12.5


def impossible_positions(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Mask of the recorded positions that are no place on Earth.

    A position is impossible when either coordinate is there and the pair is not a finite
    latitude within +-90 degrees and longitude within +-180 (a bit flip, a corrupt file, an
    invalid-value marker read as a number).  A point with neither coordinate has no fix: it
    is missing, not impossible.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
    return ~ok & ~(np.isnan(lat) & np.isnan(lon))


def local_xy(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular east/north metres about the median fix (NaN stays NaN).

    Over a run's extent (tens of km) the scale error is far below GPS noise.
    """
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return np.full(lat.shape, np.nan), np.full(lat.shape, np.nan)
    lat0, lon0 = np.median(lat[ok]), np.median(lon[ok])
    x = np.radians(lon - lon0) * EARTH_RADIUS_M * np.cos(np.radians(lat0))
    y = np.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y


def reject_spikes(x: np.ndarray, y: np.ndarray, t: np.ndarray,
                  max_speed: float = SPIKE_SPEED_MPS) -> np.ndarray:
    """Mask of fixes that are single-sample GPS spikes (vectorised over all fixes).

    A fix is a spike when the speed implied into it *and* out of it exceeds
    ``max_speed`` while its two neighbours are consistent with each other (the
    path skipping it is plausible).  Runs of several bad fixes in a row are not
    caught by this test.
    """
    out = np.zeros(len(x), dtype=bool)
    idx = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if idx.size < 3:
        return out
    px, py, pt = x[idx], y[idx], t[idx]
    d = np.hypot(np.diff(px), np.diff(py))
    dt = np.maximum(np.diff(pt), 1e-3)
    v = d / dt
    skip = np.hypot(px[2:] - px[:-2], py[2:] - py[:-2]) / np.maximum(pt[2:] - pt[:-2], 1e-3)
    spike = (v[:-1] > max_speed) & (v[1:] > max_speed) & (skip <= max_speed)
    out[idx[1:-1][spike]] = True
    return out


def spikes_of(lat: np.ndarray, lon: np.ndarray, elapsed_s: np.ndarray) -> np.ndarray:
    """:func:`reject_spikes` on positions in degrees: the mask both the import and the features use."""
    return reject_spikes(*local_xy(np.asarray(lat, float), np.asarray(lon, float)), elapsed_s)
