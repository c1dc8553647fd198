"""Seeded synthetic runs whose truth is known exactly.

A :class:`RunSpec` describes a run (route, pace, gait, pauses, sensor quirks);
:func:`generate_run` turns it into a samples frame with the canonical columns of
:mod:`gaitrisk.schema` plus a ``truth`` dict of the values an importer or a
feature extractor should recover.  The writers in :mod:`gaitrisk.synth.writers`
serialise a run to real FIT, GPX and TCX files.

Model, and the conventions every truth value follows:

* The route is a chain of straight and circular-arc segments in a local
  east/north plane (metres), rotated to ``bearing_deg`` and placed at
  ``base_lat``/``base_lon``.  ``s`` is the horizontal arc length along it, so
  ``truth["distance_m"]`` is the horizontal (2-D) path length, as a GPS device
  and a haversine sum measure it.
* The runner moves at one constant speed.  The speed is nudged (by far less
  than 0.1 % for any run longer than a few minutes) so that the route ends
  exactly on a sample; ``truth["speed_mps"]`` is that effective speed.
* The timer runs from the first sample to the last.  A pause of ``D`` seconds
  after sample ``p`` stops the timer at that sample's time and restarts it
  ``D`` seconds later; the next sample follows one interval after the restart.
  So the wall-clock gap across a pause is ``D + interval`` of which ``interval``
  is timer time, and ``elapsed = moving_time + pause``.
* Channel noise is zero-mean *in the sample*, not only in expectation: the
  mean of ``cadence_spm`` over the samples equals ``truth["cadence_spm"]``
  before any file-format rounding.  Step length is derived per sample as
  ``speed * 60 / cadence`` so the channels are mutually consistent.
* The GPS spike moves one recorded position; the device distance channel and
  ``truth["distance_m"]`` exclude it (the distance is what the runner ran).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import schema as S

RouteKind = Literal["road_loop", "hill", "track", "out_and_back"]
Direction = Literal["ccw", "cw"]

ROUTE_KINDS: tuple[str, ...] = ("road_loop", "hill", "track", "out_and_back")

# IUGG mean Earth radius (m): the sphere on which local metres become degrees.
EARTH_RADIUS_M = 6_371_008.8

# Standard 400 m track (World Athletics): kerb radius 36.5 m and 84.39 m straights.
# The 400 m is measured 0.30 m outside the kerb, which is where the runner's line is.
TRACK_KERB_RADIUS_M = 36.5
TRACK_STRAIGHT_M = 84.39
TRACK_MEASURE_OFFSET_M = 0.30
TRACK_LINE_RADIUS_M = TRACK_KERB_RADIUS_M + TRACK_MEASURE_OFFSET_M
TRACK_LAP_M = 2 * TRACK_STRAIGHT_M + 2 * math.pi * TRACK_LINE_RADIUS_M  # 400.001 m

# Per-sample noise SDs at noise_scale = 1: what a watch/HRM typically shows on a steady run.
_CADENCE_SD_SPM = 1.2
_STANCE_SD_MS = 5.0
_BALANCE_SD_PCT = 0.4
_VO_SD_MM = 2.5
_HR_SD_BPM = 1.5
# Truth values are rounded to this many decimals so truth.json is stable across platforms.
_TRUTH_DECIMALS = 6


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a synthetic run; same spec, same bytes.

    Units: seconds, metres, m/s, steps/min, milliseconds, millimetres, percent,
    degrees.  ``distance_m`` sets the length of every route but ``"track"``,
    whose length is ``laps`` x 400 m.
    """

    seed: int
    start_time: dt.datetime = dt.datetime(2024, 4, 1, 6, 30, tzinfo=dt.UTC)
    sample_interval_s: int = 1
    route: RouteKind = "road_loop"
    distance_m: float = 5000.0
    speed_mps: float = 3.2
    # Gait truth (means over the samples).
    cadence_spm: float = 172.0
    stance_time_ms: float = 250.0
    stance_balance_pct: float = 50.0  # left foot's share of ground contact
    vertical_oscillation_mm: float = 85.0
    heart_rate_bpm: float = 148.0
    hr_drift_bpm: float = 6.0  # linear cardiac drift over the run, centred on the mean
    noise_scale: float = 1.0  # 0 gives noiseless channels
    # Route geometry.
    bearing_deg: float = 30.0  # compass bearing of the first straight
    direction: Direction = "ccw"  # turning sense of "track" and "road_loop"
    laps: int = 5  # "track" only
    loop_size_m: tuple[float, float] = (800.0, 400.0)  # "road_loop" rectangle, corner to corner
    loop_corner_radius_m: float = 20.0
    loop_relief_m: float = 4.0  # "road_loop" altitude undulates +-this once per loop
    hill_grade: float = 0.06  # "hill": rise over horizontal run
    hill_length_m: float = 200.0  # horizontal length of each climb (and of each descent)
    hill_flat_m: float = 100.0  # flat before each climb and after each descent
    lateral_offset_m: float = 3.0  # "out_and_back": distance right of the road's centre line
    base_lat: float = 46.0
    base_lon: float = 14.5
    base_altitude_m: float = 300.0
    altitude_noise_sd_m: float = 0.0  # barometric noise, independent per sample
    # Events.
    pauses: tuple[tuple[float, float], ...] = ()  # (wall-clock elapsed s at the stop, duration s)
    gps_spike_at_s: float | None = None  # elapsed s of the one displaced fix
    gps_spike_m: float = 200.0
    auto_lap_m: float = 1000.0  # device auto-lap distance (the track laps at one lap)
    # Recorded channels.
    include_heart_rate: bool = True
    include_cadence: bool = True
    include_dynamics: bool = True  # stance time, balance, vertical oscillation/ratio, step length
    include_altitude: bool = True

    def __post_init__(self) -> None:
        if self.route not in ROUTE_KINDS:
            raise ValueError(f"route must be one of {ROUTE_KINDS}, not {self.route!r}")
        if self.direction not in ("ccw", "cw"):
            raise ValueError(f"direction must be 'ccw' or 'cw', not {self.direction!r}")
        if self.start_time.tzinfo is None:
            raise ValueError("start_time must be timezone-aware")
        # FIT stores whole seconds, so every timestamp must be one.
        if self.start_time.microsecond:
            raise ValueError("start_time must be a whole second")
        if int(self.sample_interval_s) != self.sample_interval_s or self.sample_interval_s < 1:
            raise ValueError("sample_interval_s must be a positive whole number of seconds")
        if self.speed_mps <= 0 or self.cadence_spm <= 0:
            raise ValueError("speed_mps and cadence_spm must be positive")
        if self.route == "track" and self.laps < 1:
            raise ValueError("a track run needs at least one lap")
        for _, duration in self.pauses:
            if duration <= 0 or int(duration) != duration:
                raise ValueError("pause durations must be positive whole seconds")


@dataclass
class SyntheticRun:
    """A generated run: canonical samples, the truth, and what the writers need."""

    spec: RunSpec
    samples: pd.DataFrame
    truth: dict[str, Any]
    # (index of the last sample before the stop, pause duration s), in time order.
    pauses: tuple[tuple[int, int], ...] = ()
    lap_length_m: float = 1000.0
    # Noiseless altitude (m) per sample: the profile the barometer noise sits on.
    clean_altitude_m: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def timer_s(self) -> np.ndarray:
        """Timer (moving) time of each sample, s: elapsed minus the pauses before it."""
        elapsed = self.samples[S.ELAPSED].to_numpy(dtype=float)
        paused_before = np.zeros(len(elapsed))
        for index, duration in self.pauses:
            paused_before[index + 1:] += duration
        return elapsed - paused_before


# --- route geometry ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Path:
    """A chain of straights (curvature 0) and arcs in the local plane, metres / radians."""

    x0: np.ndarray
    y0: np.ndarray
    heading0: np.ndarray  # radians from +x, counter-clockwise
    start: np.ndarray  # arc length at each segment's start
    length: np.ndarray
    curvature: np.ndarray  # 1/m, positive turns left

    @property
    def total(self) -> float:
        return float(self.start[-1] + self.length[-1])

    def at(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (x, y) at arc lengths ``s`` (vectorised, clipped to the path)."""
        s = np.clip(s, 0.0, self.total)
        i = np.clip(np.searchsorted(self.start, s, side="right") - 1, 0, len(self.start) - 1)
        u = s - self.start[i]
        h0, k = self.heading0[i], self.curvature[i]
        straight = k == 0.0
        k_safe = np.where(straight, 1.0, k)  # avoids 0-division in the branch np.where discards
        h = h0 + k * u
        x = np.where(straight, self.x0[i] + u * np.cos(h0), self.x0[i] + (np.sin(h) - np.sin(h0)) / k_safe)
        y = np.where(straight, self.y0[i] + u * np.sin(h0), self.y0[i] - (np.cos(h) - np.cos(h0)) / k_safe)
        return x, y


def _chain(pieces: list[tuple[float, float]], x: float = 0.0, y: float = 0.0, heading: float = 0.0) -> _Path:
    """Chain (length m, curvature 1/m) pieces end to end from (x, y) along ``heading``."""
    cols: dict[str, list[float]] = {k: [] for k in ("x0", "y0", "heading0", "start", "length", "curvature")}
    s = 0.0
    for length, k in pieces:
        for name, value in zip(cols, (x, y, heading, s, length, k), strict=True):
            cols[name].append(value)
        if k == 0.0:
            x, y = x + length * math.cos(heading), y + length * math.sin(heading)
        else:
            h1 = heading + k * length
            x, y = x + (math.sin(h1) - math.sin(heading)) / k, y - (math.cos(h1) - math.cos(heading)) / k
            heading = h1
        s += length
    return _Path(**{k: np.asarray(v, dtype=float) for k, v in cols.items()})


def _rounded_rectangle(width: float, height: float, radius: float, direction: Direction) -> _Path:
    """A closed loop: ``width`` x ``height`` outer size, corners of ``radius``; starts on a long side."""
    turn = (1.0 if direction == "ccw" else -1.0) / radius
    quarter = 0.5 * math.pi * radius
    pieces: list[tuple[float, float]] = []
    for side in (width, height, width, height):
        if side - 2 * radius > 0:
            pieces.append((side - 2 * radius, 0.0))
        pieces.append((quarter, turn))
    return _chain(pieces)


def _route_path(spec: RunSpec) -> tuple[_Path, float, bool]:
    """The route's path, its run length (m) and whether the path repeats (a loop)."""
    if spec.route == "track":
        # A track is a rounded rectangle whose short sides are all bend.
        r = TRACK_LINE_RADIUS_M
        loop = _rounded_rectangle(TRACK_STRAIGHT_M + 2 * r, 2 * r, r, spec.direction)
        return loop, spec.laps * loop.total, True
    if spec.route == "road_loop":
        w, h = spec.loop_size_m
        return _rounded_rectangle(w, h, spec.loop_corner_radius_m, spec.direction), spec.distance_m, True
    if spec.route == "out_and_back":
        # Out along +x on the right-hand side (-y), a left U-turn of radius d across the
        # road, back along -x on what is then again the runner's right-hand side (+y).
        d = spec.lateral_offset_m
        leg = 0.5 * (spec.distance_m - math.pi * d)
        if leg <= 0:
            raise ValueError("out_and_back distance_m is too short for its lateral offset")
        return _chain([(leg, 0.0), (math.pi * d, 1.0 / d), (leg, 0.0)], y=-d), spec.distance_m, False
    return _chain([(spec.distance_m, 0.0)]), spec.distance_m, False  # "hill": a straight road


def _profile_m(spec: RunSpec, s: np.ndarray, loop_length: float) -> np.ndarray:
    """Noiseless altitude above ``base_altitude_m`` (m) at arc lengths ``s``."""
    if spec.route == "hill":
        # Repeating unit: flat, climb at +grade, descent at -grade, flat.
        f, h = spec.hill_flat_m, spec.hill_length_m
        u = np.mod(s, 2 * (f + h))
        up = np.clip(u - f, 0.0, h)
        down = np.clip(u - f - h, 0.0, h)
        return spec.hill_grade * (up - down)
    if spec.route == "road_loop":
        return spec.loop_relief_m * np.sin(2 * np.pi * s / loop_length)
    return np.zeros_like(s)


def _to_lat_lon(spec: RunSpec, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local plane (x = first straight) -> WGS84 degrees, on the mean-radius sphere.

    The plane is an azimuthal equidistant projection about the base point: its
    scale error is about (r / R)^2 / 6, i.e. 1e-7 at 5 km, so plane lengths equal
    haversine lengths to far better than any test tolerance.
    """
    # Rotate so that +x points along the compass bearing (clockwise from north).
    a = math.radians(90.0 - spec.bearing_deg)
    east = x * math.cos(a) - y * math.sin(a)
    north = x * math.sin(a) + y * math.cos(a)
    c = np.hypot(east, north) / EARTH_RADIUS_M  # angular distance from the base point
    azimuth = np.arctan2(east, north)
    lat0, lon0 = math.radians(spec.base_lat), math.radians(spec.base_lon)
    lat = np.arcsin(math.sin(lat0) * np.cos(c) + math.cos(lat0) * np.sin(c) * np.cos(azimuth))
    lon = lon0 + np.arctan2(np.sin(azimuth) * np.sin(c) * math.cos(lat0), np.cos(c) - math.sin(lat0) * np.sin(lat))
    return np.degrees(lat), np.degrees(lon)


def _ascent_descent(spec: RunSpec, length: float, loop_length: float) -> tuple[float, float]:
    """Total ascent and descent (m) of the noiseless profile, on a 0.5 m grid."""
    s = np.append(np.arange(0.0, length, 0.5), length)
    d = np.diff(_profile_m(spec, s, loop_length))
    return float(d[d > 0].sum()), float(abs(d[d < 0].sum()))  # abs: no -0.0 in truth.json


# --- timing ----------------------------------------------------------------------------

def _pause_indices(spec: RunSpec, n_steps: int) -> tuple[tuple[int, int], ...]:
    """Map (elapsed s, duration) pauses to (last sample before the stop, duration)."""
    dt_s = spec.sample_interval_s
    out: list[tuple[int, int]] = []
    paused = 0.0
    for at_elapsed, duration in sorted(spec.pauses):
        timer_at = at_elapsed - paused  # the timer does not run during earlier pauses
        index = int(round(timer_at / dt_s))
        if not 1 <= index <= n_steps - 1:
            raise ValueError(f"pause at {at_elapsed} s is not inside the run")
        if out and index <= out[-1][0]:
            raise ValueError(f"pauses at {spec.pauses} overlap or share a sample")
        out.append((index, int(duration)))
        paused += duration
    return tuple(out)


def _zero_mean(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    """Gaussian noise whose *sample* mean is exactly zero, so truth = sample mean."""
    e = rng.standard_normal(n) * sd
    return e - e.mean()


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return round(float(value), _TRUTH_DECIMALS)
    return value


def generate_run(spec: RunSpec) -> SyntheticRun:
    """Generate the samples and the truth of ``spec`` (deterministic for its seed)."""
    rng = np.random.default_rng(spec.seed)
    path, length, is_loop = _route_path(spec)
    loop_length = path.total

    # Timing: whole samples end exactly at the route's end.
    dt_s = spec.sample_interval_s
    n_steps = max(2, int(round(length / (spec.speed_mps * dt_s))))
    moving_s = float(n_steps * dt_s)
    speed = length / moving_s
    steps = np.arange(n_steps + 1)
    timer = steps * float(dt_s)
    s = length * steps / n_steps  # exact at both ends
    pauses = _pause_indices(spec, n_steps)
    paused_before = np.zeros(n_steps + 1)
    segment = np.zeros(n_steps + 1, dtype=np.int64)
    for index, duration in pauses:
        paused_before[index + 1:] += duration
        segment[index + 1:] += 1
    elapsed = timer + paused_before
    n = len(steps)

    # Geometry.
    x, y = path.at(np.mod(s, loop_length) if is_loop else s)
    clean_alt = spec.base_altitude_m + _profile_m(spec, s, loop_length)

    # Noise: always drawn in this order and size, so switching a channel off does not
    # change the values of the others for the same seed.
    k = spec.noise_scale
    cadence = spec.cadence_spm + _zero_mean(rng, n, _CADENCE_SD_SPM * k)
    stance = spec.stance_time_ms + _zero_mean(rng, n, _STANCE_SD_MS * k)
    balance = spec.stance_balance_pct + _zero_mean(rng, n, _BALANCE_SD_PCT * k)
    vo = spec.vertical_oscillation_mm + _zero_mean(rng, n, _VO_SD_MM * k)
    hr_noise = _zero_mean(rng, n, _HR_SD_BPM * k)
    alt_noise = rng.standard_normal(n) * spec.altitude_noise_sd_m
    spike_bearing = rng.uniform(0.0, 2 * np.pi)

    spike: dict[str, Any] | None = None
    if spec.gps_spike_at_s is not None:
        i = int(np.clip(np.argmin(np.abs(elapsed - spec.gps_spike_at_s)), 1, n - 2))
        x, y = x.copy(), y.copy()
        x[i] += spec.gps_spike_m * math.cos(spike_bearing)
        y[i] += spec.gps_spike_m * math.sin(spike_bearing)
        spike = {"sample_index": i, "elapsed_s": elapsed[i], "offset_m": spec.gps_spike_m}
    lat, lon = _to_lat_lon(spec, x, y)

    step_length_mm = speed * 60.0 / cadence * 1000.0
    drift = spec.hr_drift_bpm * (timer / moving_s - 0.5)
    hr = np.round(spec.heart_rate_bpm + drift + hr_noise)  # straps report whole beats/min
    nan = np.full(n, np.nan)

    start = pd.Timestamp(spec.start_time).tz_convert("UTC")
    samples = pd.DataFrame({
        S.TIMESTAMP: (start + pd.to_timedelta(elapsed, unit="s")).astype("datetime64[ns, UTC]"),
        S.ELAPSED: elapsed,
        S.LAT: lat,
        S.LON: lon,
        S.ALTITUDE: clean_alt + alt_noise if spec.include_altitude else nan,
        S.DISTANCE: s,
        S.SPEED: np.full(n, speed),
        S.HEART_RATE: hr if spec.include_heart_rate else nan,
        S.CADENCE: cadence if spec.include_cadence else nan,
        S.STANCE_TIME: stance if spec.include_dynamics else nan,
        S.STANCE_BALANCE: balance if spec.include_dynamics else nan,
        S.VERTICAL_OSCILLATION: vo if spec.include_dynamics else nan,
        S.VERTICAL_RATIO: vo / step_length_mm * 100.0 if spec.include_dynamics else nan,
        S.STEP_LENGTH: step_length_mm if spec.include_dynamics else nan,
        S.TIMER_SEGMENT: segment,
    })

    ascent, descent = _ascent_descent(spec, length, loop_length)
    step_length_m = speed * 60.0 / spec.cadence_spm
    pause_s = float(sum(d for _, d in pauses))
    truth: dict[str, Any] = {
        "seed": spec.seed,
        "route": spec.route,
        "start_time": start.isoformat(),
        "sample_interval_s": dt_s,
        "n_samples": n,
        "distance_m": length,
        "moving_time_s": moving_s,
        "elapsed_s": float(elapsed[-1]),
        "pause_s": pause_s,
        "pauses": [{"after_sample": i, "at_elapsed_s": float(elapsed[i]), "duration_s": d} for i, d in pauses],
        "timer_segments": len(pauses) + 1,
        "speed_mps": speed,
        "cadence_spm": spec.cadence_spm,
        "step_length_m": step_length_m,
        "gct_ms": spec.stance_time_ms,
        "gct_balance_pct": spec.stance_balance_pct,
        "vertical_oscillation_mm": spec.vertical_oscillation_mm,
        "vertical_ratio_pct": spec.vertical_oscillation_mm / (step_length_m * 1000.0) * 100.0,
        "heart_rate_bpm": spec.heart_rate_bpm,
        "total_ascent_m": ascent,
        "total_descent_m": descent,
        "altitude_noise_sd_m": spec.altitude_noise_sd_m,
        "gps_spike": spike,
        "lap_length_m": TRACK_LAP_M if spec.route == "track" else spec.auto_lap_m,
        # Which channels the files carry; the physical truth above holds either way.
        "recorded": {
            "heart_rate": spec.include_heart_rate,
            "cadence": spec.include_cadence,
            "dynamics": spec.include_dynamics,
            "altitude": spec.include_altitude,
        },
    }
    if spec.route == "track":
        truth |= {"track_direction": spec.direction, "track_laps": spec.laps}
    if spec.route == "road_loop":
        truth |= {"loop_direction": spec.direction, "loop_length_m": loop_length}
    if spec.route == "hill":
        period = 2 * (spec.hill_flat_m + spec.hill_length_m)
        truth |= {
            "hill_grade": spec.hill_grade,
            "hill_length_m": spec.hill_length_m,
            "hill_flat_m": spec.hill_flat_m,
            # Complete climbs: the k-th spans [flat + k*period, flat + k*period + length].
            "n_climbs": int(max(0.0, (length - spec.hill_flat_m - spec.hill_length_m) // period + 1)),
        }
    if spec.route == "out_and_back":
        truth |= {
            "out_and_back_side": "right",
            "lateral_offset_m": spec.lateral_offset_m,
            "turnaround_distance_m": 0.5 * length,
        }

    return SyntheticRun(
        spec=spec,
        samples=samples,
        truth=_rounded(truth),
        pauses=pauses,
        lap_length_m=truth["lap_length_m"],
        clean_altitude_m=clean_alt,
    )
