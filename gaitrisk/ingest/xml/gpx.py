"""GPX reader built on gpxpy (the reference), after a safe parse by defusedxml.

One GPX file is one activity: all tracks and segments in document order,
each segment a timer segment (apps start a new segment after a pause).
Garmin's TrackPointExtension ``hr``/``cad`` and Cluetrust's ``hr``/``cadence`` are read, in
GPX 1.0 files too; cadence is per foot.  A point without a position (logged before the first
fix) is skipped, and so reported, instead of failing the file.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np

from ... import schema as S
from ...records import DecodedActivity, DecodeResult
from ..frame import (PAUSE_GAP_S, build_samples, impossible_position_problem, null_island_count, per_foot_to_spm,
                    plausible_year)
from ..sports import is_running, normalise_sport, sub_sport_of
from . import safe

log = logging.getLogger(__name__)


def _ext_value(extensions, name: str) -> float:
    """An extension value by local name (below the point's ``<extensions>``), NaN when absent."""
    for ext in extensions or ():
        for el in ext.iter():
            if safe.local(el.tag) == name and el.text:
                try:
                    return float(el.text)
                except ValueError:
                    return np.nan
    return np.nan


def extension_hr_cad(hr: float, cad: float, cadence: float) -> tuple[float, float]:
    """Heart rate and per-foot cadence from the extension values: Garmin's ``cad``, else
    Cluetrust's ``cadence``."""
    return hr, cad if np.isfinite(cad) else cadence


def has_position(lat: str | None, lon: str | None) -> bool:
    """Whether a point's ``lat``/``lon`` attributes are there (a point logged before the first fix has none)."""
    return bool(lat and lat.strip() and lon and lon.strip())


# Where gpxpy looks for points that must have a position (it rejects the whole file otherwise).
_POSITIONED = (("gpx", "trk", "trkseg", "trkpt"), ("gpx", "rte", "rtept"), ("gpx", "wpt"))


def _without_positionless(root, text: bytes) -> tuple[bytes, int]:
    """The text without the points that have no position; how many track points went."""
    if all(has_position(el.get("lat"), el.get("lon")) for el in root.iter()
           if isinstance(el.tag, str) and safe.local(el.tag) in ("trkpt", "rtept", "wpt")):
        return text, 0
    track_points = 0
    for path in _POSITIONED:
        text, n = safe.without_elements(text, path, lambda a: not has_position(a.get("lat"), a.get("lon")))
        track_points += n if path[-1] == "trkpt" else 0
    return text, track_points


def _point_extensions(gpx, text: str, version: str | None) -> list:
    """Each track point's extension elements.  gpxpy reads them only by the GPX 1.1 rules,
    but GPX 1.0 files carry them too (a TrackPointExtension or Cluetrust values): those are
    read by parsing the file again by the 1.1 rules, which find the same points."""
    import gpxpy
    import gpxpy.gpx

    points = [p for t in gpx.tracks for s in t.segments for p in s.points]
    if version == "1.1" or "extensions" not in text:
        return [p.extensions for p in points]
    try:
        as_11 = gpxpy.parse(text, version="1.1")
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        log.info("extensions of a GPX %s file not read: %s", version, str(exc).splitlines()[0] if str(exc) else "")
        return [None] * len(points)
    again = [p.extensions for t in as_11.tracks for s in t.segments for p in s.points]
    return again if len(again) == len(points) else [None] * len(points)


def decode_gpx(data: bytes, name: str = "<gpx>") -> DecodeResult:
    import gpxpy
    import gpxpy.gpx

    result = DecodeResult()
    parsed = safe.parse_or_problem(safe.parse, data)
    if isinstance(parsed, str):
        result.error = parsed
        return result
    root, text, notes = parsed
    result.problems.extend(notes)
    text, positionless = _without_positionless(root, text)
    try:
        decoded = text.decode("utf-8", errors="replace")
        gpx = gpxpy.parse(decoded)
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        result.error = f"not a readable GPX file: {str(exc).splitlines()[0]}"
        return result

    rows: list[tuple] = []
    seg_index = 0
    extensions = iter(_point_extensions(gpx, decoded, root.get("version")))
    for track in gpx.tracks:
        for segment in track.segments:
            if not segment.points:
                continue
            for p in segment.points:
                ext = next(extensions)
                hr, cad = extension_hr_cad(_ext_value(ext, "hr"), _ext_value(ext, "cad"), _ext_value(ext, "cadence"))
                rows.append((p.time, p.latitude, p.longitude, p.elevation, hr, cad, seg_index))
            seg_index += 1
    meta = GpxMeta(
        track_types=[t.type for t in gpx.tracks], track_names=[t.name for t in gpx.tracks], name=gpx.name,
        creator=gpx.creator, has_routes=bool(gpx.routes), has_waypoints=bool(gpx.waypoints),
        positionless=positionless)
    if not rows:
        return build_result(result, None, np.empty((0, 6)), meta)
    times = np.array([utc_naive(r[0]) if r[0] is not None else np.datetime64("NaT", "ns") for r in rows],
                     dtype="datetime64[ns]")
    return build_result(result, times, np.array([r[1:] for r in rows], dtype=float), meta)


@dataclass
class GpxMeta:
    """What a GPX reader reports besides the points (gpxpy's names for them)."""

    track_types: list[str | None]
    track_names: list[str | None]
    name: str | None
    creator: str | None
    has_routes: bool
    has_waypoints: bool
    positionless: int = 0  # track points without a position, skipped


def build_result(result: DecodeResult, times: np.ndarray | None, cols: np.ndarray, meta: GpxMeta) -> DecodeResult:
    """Points -> the activity, shared by the gpxpy reader and the fast one.

    ``times``: datetime64[ns] UTC per point (NaT = no time); ``cols``: one row per
    point of lat, lon, elevation, hr, cad (per foot), segment index (NaN = absent).
    """
    if meta.positionless:
        n = meta.positionless
        result.problems.append(f"{n} point{'' if n == 1 else 's'} without a position skipped")
    if times is None or not len(times):
        kind = "a route" if meta.has_routes else ("waypoints only" if meta.has_waypoints else "no points")
        result.skipped_reason = f"no track points ({kind}); nothing to import"
        return result
    timed = ~np.isnat(times)
    if not timed.any():
        result.skipped_reason = "track points carry no timestamps; the run cannot be placed in time"
        return result
    if not timed.all():
        result.problems.append(f"{len(times) - int(timed.sum())} of {len(times)} points have no timestamp; dropped")
    times, cols = times[timed], cols[timed]
    if zeros := null_island_count(cols[:, 0], cols[:, 1]):
        result.problems.append(f"{zeros} of {len(cols)} positions are 0°N 0°E (no GPS fix); treated as missing")
    if off := impossible_position_problem(cols[:, 0], cols[:, 1]):
        result.problems.append(off)
    ele = cols[:, 2]
    if np.isfinite(ele).any() and np.all(np.nan_to_num(ele[np.isfinite(ele)]) == 0.0):
        # An all-zero elevation column is a placeholder written by some tools, not sea level.
        ele = np.full_like(ele, np.nan)
        result.problems.append("all elevations are 0 (placeholder); altitude treated as missing")
    columns = {S.LAT: cols[:, 0], S.LON: cols[:, 1], S.ALTITUDE: ele,
               S.HEART_RATE: cols[:, 3], S.TIMER_SEGMENT: cols[:, 5].astype(np.int64)}
    if np.isfinite(cols[:, 4]).any():
        columns[S.CADENCE] = per_foot_to_spm(cols[:, 4])
    samples = build_samples(times, columns, pause_gap_s=PAUSE_GAP_S)
    if len(samples) < 2:
        result.skipped_reason = "fewer than 2 timed points; nothing to import"
        return result

    track_type = next((t for t in meta.track_types if t), None)
    sport = normalise_sport(track_type)
    if not is_running(sport):
        result.skipped_reason = f"not a run (GPX type: {sport})"
        return result
    name_ = next((t for t in meta.track_names if t), None) or meta.name
    result.activities.append(DecodedActivity(
        fmt="gpx", sport=sport, sub_sport=sub_sport_of(track_type), device=meta.creator, name=name_,
        start_time=samples[S.TIMESTAMP].iloc[0].to_pydatetime(), samples=samples))
    return result


def utc_naive(t: dt.datetime) -> np.datetime64:
    """A GPX time as naive UTC nanoseconds, NaT when its year is not plausible."""
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if not plausible_year(t.year):  # else year 9999 silently wraps to 1815 in nanoseconds
        return np.datetime64("NaT", "ns")
    return np.datetime64(t, "ns")
