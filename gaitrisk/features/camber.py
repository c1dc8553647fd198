"""Camber proxies: track direction, road-side exposure, out-and-back pairing.

Follows evidence.md section 5 (5.4 track direction, 5.5 the exposure variable,
5.6 the proxies and how plausible each is).  Every proxy carries a confidence:
track/turning direction is "high", road side from out-and-back geometry
"moderate", road side the athlete declared (as a habit or for one run) "declared", road
side from the profile's defaults "low" (an assumption, not a measurement).

Each run's ``road_low_side_source`` says which: out-and-back geometry, a declared side or
an assumed one.  Observed side evidence (:func:`side_evidence`) is the pairing or a
declaration; a side taken from defaults is only an assumption, shown as such and never
flagged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from .clean import CleanRun

log = logging.getLogger(__name__)

Side = Literal["left", "right"]
DeclaredSide = Literal["left", "right", "mixed"]   # the side kept to; "mixed": no one side
SideEvidence = Literal["observed", "assumed", "none"]

# road_low_side_source values (an assumed one reads "assumed: <which defaults>").
SOURCE_OUT_AND_BACK = "out-and-back geometry"
SOURCE_HABIT = "declared habit"
SOURCE_RUN = "declared for this run"
SOURCE_ASSUMED = "assumed"

GRID_M = 5.0
# Heading change is measured over +-10 m (4 grid steps in all): shorter windows turn GPS
# jitter into curvature, longer ones smear a 36.5 m bend.
CURVE_HALF_STEPS = 2
# evidence.md 5.6: "curve-metres with radius < 50 m".
CURVE_RADIUS_M = 50.0
# evidence.md 5.4 / 5.6: a standard outdoor track is a ~400 m oval with bends of radius ~36.5 m.
TRACK_LAP_M = 400.0
TRACK_BEND_RADIUS_RANGE_M = (30.0, 45.0)
# A point is "on a lap" when the point one lap along the path (either way) lies within this
# distance: GPS error is a few metres (evidence.md 4.1, 5.6); lane 8 is ~9 m out of lane 1.
TRACK_CLOSURE_M = 20.0
TRACK_MIN_SHARE = 0.5  # at least half the run's points must close a lap
# Out-and-back pairing (evidence.md 5.6): the same road in the opposite direction, within
# this distance, headings opposed (cos < -0.9, i.e. within ~25 degrees of anti-parallel),
# and at least a lap-like distance apart along the path (not the U-turn itself).
PAIR_MAX_M = 15.0
PAIR_MIN_COS = -0.9
PAIR_MIN_APART_M = 100.0
# evidence.md 5.6: use only sustained, consistent offsets averaged over >= 200-300 m; the two
# legs must be further apart than GPS jitter alone makes them (2 m) to name a side.
PAIR_MIN_M = 300.0
PAIR_MIN_SEPARATION_M = 2.0
PAIR_MIN_CONSISTENCY = 0.8


@dataclass(frozen=True)
class Camber:
    """Camber proxies of one run (metres); ``None`` = not computable (no positions)."""

    is_track: bool | None
    track_laps: float | None
    track_bend_radius_m: float | None
    track_ccw_m: float | None
    track_cw_m: float | None
    curve_ccw_m: float | None  # all curves of radius < 50 m, track or not
    curve_cw_m: float | None
    out_and_back_paired_m: float | None
    out_and_back_side: Side | None  # the runner's side of the road from the pairing geometry
    out_and_back_separation_m: float | None
    balance_out_pct: float | None  # GCT balance on the first and the second pass of paired road
    balance_back_pct: float | None
    road_m: float | None
    road_low_side: Side | None
    road_low_side_source: str | None
    road_left_low_m: float | None
    road_right_low_m: float | None
    camber_exposure_index: float | None  # (left-low - right-low) / (left-low + right-low), -1..1
    confidence: dict[str, str]


def _path_grid(run: CleanRun) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Positions resampled every GRID_M metres of moving distance: (s, x, y, sample index)."""
    ok = np.isfinite(run.x_m) & np.isfinite(run.y_m)
    if ok.sum() < 3:
        return None
    s = run.cum_dist_m
    s_u, first = np.unique(s[ok], return_index=True)
    idx = np.flatnonzero(ok)[first]
    if s_u[-1] < 4 * GRID_M:
        return None
    if s_u[-1] > run.plausible_path_m:
        log.info("path of %.0f km in %.0f s of recording: damaged positions; no path geometry",
                 s_u[-1] / 1000, run.dt_s.sum())
        return None
    grid = np.arange(0.0, s_u[-1], GRID_M)
    x = np.interp(grid, s_u, run.x_m[idx])
    y = np.interp(grid, s_u, run.y_m[idx])
    sample = np.clip(np.searchsorted(s, grid), 0, run.n - 1)
    return grid, x, y, sample


def _heading(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Unwrapped heading (rad, counter-clockwise from east) at each grid point."""
    h = np.arctan2(np.gradient(y), np.gradient(x))
    return np.unwrap(h)


@dataclass(frozen=True)
class PathGeometry:
    """The run's path every GRID_M metres: heading, signed curvature and the track test."""

    s: np.ndarray  # moving distance of each grid point, m
    x: np.ndarray
    y: np.ndarray
    sample: np.ndarray  # index of the sample at each grid point
    heading: np.ndarray  # rad, counter-clockwise from east, unwrapped
    curvature: np.ndarray  # 1/m, > 0 turning left (counter-clockwise)
    on_track: np.ndarray  # grid point on a detected track lap
    is_track: bool
    bend_radius_m: float | None


def path_geometry(run: CleanRun) -> PathGeometry | None:
    """Resample the path and run the 400 m-oval test (evidence.md 5.4, 5.6); ``None`` without positions."""
    pg = _path_grid(run)
    if pg is None:
        return None
    s, x, y, sample = pg
    n = s.size
    head = _heading(x, y)
    k = CURVE_HALF_STEPS
    curv = np.zeros(n)
    if n > 2 * k:
        curv[k:n - k] = (head[2 * k:] - head[:-2 * k]) / (2 * k * GRID_M)
    curve = np.abs(curv) >= 1.0 / CURVE_RADIUS_M
    # Track: points whose position one lap along the path (either way) is within reach.
    lap = int(round(TRACK_LAP_M / GRID_M))
    closes = np.zeros(n, dtype=bool)
    if n > lap:
        d = np.hypot(x[lap:] - x[:-lap], y[lap:] - y[:-lap]) <= TRACK_CLOSURE_M
        closes[:-lap] |= d
        closes[lap:] |= d
    radius = float(np.median(1.0 / np.abs(curv[curve]))) if curve.any() else None
    lo, hi = TRACK_BEND_RADIUS_RANGE_M
    on_track = closes & (radius is not None and lo <= radius <= hi)
    is_track = bool(on_track.mean() >= TRACK_MIN_SHARE)
    if not is_track:
        on_track = np.zeros(n, dtype=bool)
    return PathGeometry(s=s, x=x, y=y, sample=sample, heading=head, curvature=curv, on_track=on_track,
                        is_track=is_track, bend_radius_m=radius if is_track else None)


def _partners(g: PathGeometry) -> np.ndarray:
    """For each grid point, the nearest point of the path heading the other way (-1: none).

    Vectorised over all point pairs within PAIR_MAX_M (:func:`pairs_within`).
    """
    n = g.s.size
    partner = np.full(n, -1)
    pairs = pairs_within(g.x, g.y, PAIR_MAX_M)
    if pairs.size == 0:
        return partner
    # Both tests are symmetric in the pair: test each pair once, then list it both ways (in the
    # order the doubled list had, so that ties keep resolving the same way).
    a, b = pairs[:, 0], pairs[:, 1]
    ux, uy = np.cos(g.heading), np.sin(g.heading)
    keep = (np.abs(g.s[b] - g.s[a]) >= PAIR_MIN_APART_M) & (ux[a] * ux[b] + uy[a] * uy[b] <= PAIR_MIN_COS)
    a, b = a[keep], b[keep]
    i, j = np.concatenate([a, b]), np.concatenate([b, a])
    if i.size == 0:
        return partner
    d = np.hypot(g.x[j] - g.x[i], g.y[j] - g.y[i])
    order = np.lexsort((d, i))  # by point, nearest first
    first = np.unique(i[order], return_index=True)[1]
    partner[i[order][first]] = j[order][first]
    return partner


# The cells of pairs_within's grid are a hair wider than the reach, so that rounding in the cell
# arithmetic never puts two points within reach more than one cell apart.
_CELL_MARGIN = 1.0 + 1e-9
# Half of a cell's 3 x 3 neighbourhood (itself, and four of its eight neighbours): every two
# neighbouring cells are visited once, so every pair of points is found once.
_HALF_NEIGHBOURS = ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1))


def pairs_within(x: np.ndarray, y: np.ndarray, r: float) -> np.ndarray:
    """Every pair of points at most ``r`` apart, as rows ``(i, j)`` with ``i < j``, sorted.

    The pairs a k-d tree's ``query_pairs(r)`` finds, with numpy alone: the points are
    bucketed in a grid of cells ``r`` wide, and each point is tested only against the points
    of its own and the neighbouring cells.  A path visits each cell a few times, so the
    candidates stay a small multiple of the pairs.
    """
    n = x.size
    if n < 2:
        return np.empty((0, 2), dtype=np.intp)
    cell = r * _CELL_MARGIN
    cx = np.floor((x - x.min()) / cell).astype(np.int64)
    cy = np.floor((y - y.min()) / cell).astype(np.int64) + 1  # row -1 of a neighbour stays >= 0
    width = int(cy.max()) + 2
    key = cx * width + cy
    order = np.argsort(key, kind="stable")
    cells, first, size = np.unique(key[order], return_index=True, return_counts=True)
    # every point against each of the half-neighbourhood's cells, all offsets in one go
    offsets = np.array([dx * width + dy for dx, dy in _HALF_NEIGHBOURS])
    target = (key[None, :] + offsets[:, None]).ravel()
    at = np.minimum(np.searchsorted(cells, target), cells.size - 1)
    counts = np.where(cells[at] == target, size[at], 0)
    total = int(counts.sum())
    i = np.repeat(np.tile(np.arange(n), offsets.size), counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    j = order[np.repeat(first[at], counts) + within]
    keep = (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2 <= r * r
    own = int(counts[:n].sum())  # the first offset is the point's own cell: each pair there once
    keep[:own] &= i[:own] < j[:own]
    i, j = i[keep], j[keep]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    rank = np.argsort(lo * n + hi)
    return np.column_stack([lo[rank], hi[rank]])


def side_evidence(source: str | None) -> SideEvidence:
    """Whether a run's road side is observed (out-and-back pairing, or declared by the runner),
    only assumed (profile defaults), or unknown (no road metres)."""
    if not source:
        return "none"
    if source.startswith(("out-and-back", "declared")):
        return "observed"
    return "assumed"


def _road_split(road_m: float, low: Side | None) -> tuple[float, float, float | None]:
    """(left-low m, right-low m, exposure index) of ``road_m`` with ``low`` the low foot (None: mixed)."""
    left_m = road_m if low == "left" else 0.0
    right_m = road_m if low == "right" else 0.0
    index = (left_m - right_m) / road_m if road_m > 0 and low is not None else None
    return left_m, right_m, index


def with_run_side(c: Camber, side: DeclaredSide) -> Camber:
    """The run's camber with the road side the runner declared for this run: it wins over the
    pairing geometry and the habit (the runner's own word about this run).  No road metres: unchanged."""
    if c.road_m is None:
        return c
    low: Side | None = None if side == "mixed" else side
    left_m, right_m, index = _road_split(c.road_m, low)
    conf = dict(c.confidence) | {"road_side": "declared by the runner for this run"}
    return replace(c, road_low_side=low, road_low_side_source=SOURCE_RUN, road_left_low_m=left_m,
                   road_right_low_m=right_m, camber_exposure_index=index, confidence=conf)


def camber(run: CleanRun, *, surface_is_road: bool, habit_low_side: Side | None,
           habit_source: str = SOURCE_ASSUMED, balance: np.ndarray | None = None,
           geometry: PathGeometry | None = None) -> Camber:
    """Camber proxies from a cleaned run.

    ``surface_is_road``: the run's surface class is road (only then is there road
    exposure).  ``habit_low_side``: the low-side foot implied by the athlete's
    road-side habit and the driving side (:attr:`ResolvedProfile.low_side_foot`; ``None``:
    a declared "mixed" habit).  ``habit_source``: where that habit comes from
    (:attr:`ResolvedProfile.road_side_source`: declared, or assumed from defaults).
    ``balance``: per-sample GCT balance (left share, %) when recorded.
    ``geometry``: :func:`path_geometry` of the run, when the caller already has it.
    """
    conf = {"track": "high (turning direction from GPS; evidence.md 5.6)"}
    g = geometry if geometry is not None else path_geometry(run)
    if g is None:
        return Camber(None, None, None, None, None, None, None, None, None, None, None, None,
                      None, None, None, None, None, None, {"all": "no positions"})
    curve = np.abs(g.curvature) >= 1.0 / CURVE_RADIUS_M
    ccw, cw = curve & (g.curvature > 0), curve & (g.curvature < 0)
    on_track, s, x, y = g.on_track, g.s, g.x, g.y
    ux, uy = np.cos(g.heading), np.sin(g.heading)

    partner = _partners(g)
    paired = (partner >= 0) & ~on_track
    side: Side | None = None
    sep = None
    bal_out = bal_back = None
    paired_m = float(paired.sum() * GRID_M)
    if paired.any():
        i = np.flatnonzero(paired)
        j = partner[i]
        # Cross product: > 0 when the other pass lies to the runner's left, i.e. the runner
        # keeps to the right of the road (both passes on their own right-hand side).
        cross = ux[i] * (y[j] - y[i]) - uy[i] * (x[j] - x[i])
        sep = float(np.median(np.abs(cross)))
        right_share = float(np.mean(cross > 0))
        consistency = max(right_share, 1 - right_share)
        if paired_m >= PAIR_MIN_M and sep >= PAIR_MIN_SEPARATION_M and consistency >= PAIR_MIN_CONSISTENCY:
            side = "right" if right_share >= 0.5 else "left"
        if balance is not None:
            b = balance[g.sample]
            first = s[i] < s[j]
            with np.errstate(invalid="ignore"):
                bal_out = float(np.nanmean(b[i[first]])) if np.isfinite(b[i[first]]).any() else None
                bal_back = float(np.nanmean(b[i[~first]])) if np.isfinite(b[i[~first]]).any() else None

    road_m = low = source = left_m = right_m = index = None
    if surface_is_road:
        road_m = float((~on_track).sum() * GRID_M)
        if side is not None:
            # On a crowned road the surface falls towards the edge the runner is on.
            low, source = side, SOURCE_OUT_AND_BACK
            conf["road_side"] = "moderate (sustained lateral offset between the two passes; evidence.md 5.6)"
        else:
            low, source = habit_low_side, habit_source
            conf["road_side"] = ("declared (the athlete's road-side habit)" if side_evidence(source) == "observed"
                                 else "low (assumed from the profile's defaults: an assumption, not a measurement)")
        left_m, right_m, index = _road_split(road_m, low)
    if paired.any():
        conf["out_and_back"] = "moderate (needs GCT balance from a strap or pod to test a flip)"

    return Camber(is_track=g.is_track, track_laps=float(on_track.sum() * GRID_M / TRACK_LAP_M) if g.is_track else 0.0,
                  track_bend_radius_m=g.bend_radius_m,
                  track_ccw_m=float((ccw & on_track).sum() * GRID_M), track_cw_m=float((cw & on_track).sum() * GRID_M),
                  curve_ccw_m=float(ccw.sum() * GRID_M), curve_cw_m=float(cw.sum() * GRID_M),
                  out_and_back_paired_m=paired_m, out_and_back_side=side, out_and_back_separation_m=sep,
                  balance_out_pct=bal_out, balance_back_pct=bal_back, road_m=road_m, road_low_side=low,
                  road_low_side_source=source, road_left_low_m=left_m, road_right_low_m=right_m,
                  camber_exposure_index=index, confidence=conf)
