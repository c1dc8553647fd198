"""Positions that cannot be right: off the globe, or fixes no runner could reach.

Readers drop impossible coordinates when they decode a file; the import's distance and the
features' cleaning both leave GPS glitches out with :func:`glitches_of`, so that a run's
stored total and its feature record agree on what a glitch is.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), as gpxpy/geopy use
# A fix that implies more than this speed both into and out of it, while its neighbours
# are consistent with each other, is a GPS spike.  12.5 m/s is above the fastest human
# running speed (~12.4 m/s peak in a 100 m world record) [D].
SPIKE_SPEED_MPS = 12.5
# The longest a stretch of out-of-reach fixes can last and still be a glitch: GPS excursions and
# bursts last seconds.  Beyond this the fixes are travel (a bike, a car): their distance stays in,
# so that the plausibility screen sees the ride's speed.  Project convention [D].
GLITCH_MAX_S = 60.0


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


def _unreachable(x: list[float], y: list[float], t: list[float], max_speed: float) -> list[bool]:
    """One pass of the speed gate: a fix is unreachable when getting to it from the last reachable
    fix (the anchor; the first fix starts the pass) needs more than ``max_speed``.  A stretch of
    unreachable fixes that lasts beyond :data:`GLITCH_MAX_S` is travel, not a glitch: it is
    kept, and the pass goes on from the fix after it.

    While the anchor is the fix just before, a fix is unreachable exactly when its own step is
    impossible, which one vectorised test finds for all fixes: the pass jumps from one impossible
    step to the next and walks fix by fix only from there until the anchor follows again.
    """
    n = len(x)
    out = [False] * n
    xa, ya, ta = np.asarray(x, float), np.asarray(y, float), np.asarray(t, float)
    gap = np.diff(ta)
    # The test the loop below makes, in the same float operations, for the anchor one fix back.
    with np.errstate(invalid="ignore"):
        impossible = (gap <= GLITCH_MAX_S) & (np.diff(xa) ** 2 + np.diff(ya) ** 2
                                              > (max_speed * np.maximum(gap, 1e-3)) ** 2)
    starts = (np.flatnonzero(impossible) + 1).tolist()
    if not starts:
        return out
    k, i = 0, starts[0]
    ax, ay, at = x[i - 1], y[i - 1], t[i - 1]
    first = -1  # the first unreachable fix since the anchor, -1 for none
    while i < n:
        gap_i = t[i] - at
        if gap_i <= GLITCH_MAX_S and (x[i] - ax) ** 2 + (y[i] - ay) ** 2 > (max_speed * max(gap_i, 1e-3)) ** 2:
            out[i] = True
            first = i if first < 0 else first
            i += 1
            continue
        if first >= 0 and gap_i > GLITCH_MAX_S:
            out[first:i] = [False] * (i - first)
        first = -1
        while k < len(starts) and starts[k] <= i:
            k += 1
        if k == len(starts):
            ax, ay, at = x[-1], y[-1], t[-1]
            break
        i = starts[k]   # every fix up to it is reachable from the one before: the anchor follows
        ax, ay, at = x[i - 1], y[i - 1], t[i - 1]
    if first >= 0 and t[-1] - at > GLITCH_MAX_S / 2:
        # A trailing stretch cannot outlast the window: half of it running to the end is travel.
        out[first:] = [False] * (n - first)
    return out


def reject_excursions(x: np.ndarray, y: np.ndarray, t: np.ndarray,
                      max_speed: float = SPIKE_SPEED_MPS) -> np.ndarray:
    """Mask of fixes no runner could reach from the track around them: single spikes, runs of
    several fixes that jump away and come back, bursts of fixes at an impossible speed, and two
    position streams interleaved by the recorder (a zigzag between them at hundreds of m/s).

    A speed gate runs forward from the first fix: a fix is a glitch when it is farther from the
    last fix kept than ``max_speed`` allows over the time between them, and that fix is at most
    :data:`GLITCH_MAX_S` back (a longer stretch is travel, not a glitch).  A bad first fix would
    anchor that pass and refuse the good fixes after it until the allowance caught up, so before
    the first fix that a second pass, backward from the last fix, also keeps, the backward pass
    decides.  The gate is sequential (each decision moves the anchor); it runs only over tracks
    with an impossible step, so a clean track costs one vectorised pass.
    """
    out = np.zeros(len(x), dtype=bool)
    idx = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    if idx.size < 3:
        return out
    px, py, pt = x[idx], y[idx], np.asarray(t, float)[idx]
    step = np.hypot(np.diff(px), np.diff(py))
    if not (step > max_speed * np.maximum(np.diff(pt), 1e-3)).any():
        return out
    fwd = np.array(_unreachable(px.tolist(), py.tolist(), pt.tolist(), max_speed))
    bwd = np.array(_unreachable(px[::-1].tolist(), py[::-1].tolist(), (-pt[::-1]).tolist(), max_speed))[::-1]
    both = np.flatnonzero(~fwd & ~bwd)
    if both.size:
        fwd[:both[0]] = bwd[:both[0]]
    else:
        fwd &= bwd
    out[idx[fwd]] = True
    return out


def glitches(x: np.ndarray, y: np.ndarray, t: np.ndarray, max_speed: float = SPIKE_SPEED_MPS) -> np.ndarray:
    """Mask of the fixes a run's distance leaves out: :func:`reject_spikes` or :func:`reject_excursions`."""
    return reject_spikes(x, y, t, max_speed) | reject_excursions(x, y, t, max_speed)


def glitches_of(lat: np.ndarray, lon: np.ndarray, elapsed_s: np.ndarray) -> np.ndarray:
    """:func:`glitches` on positions in degrees: the mask both the import and the features use."""
    return glitches(*local_xy(np.asarray(lat, float), np.asarray(lon, float)), elapsed_s)
