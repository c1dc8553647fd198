"""TCX reader (Garmin Training Center Database v2), safe-parsed with defusedxml.

Each ``<Activity>`` is one activity.  Devices start a new ``<Track>`` after a
pause (and at every lap), so a track boundary with a time hole is a pause.  Cadence comes from ``<Cadence>`` or the
ActivityExtension ``<RunCadence>`` (both per foot); speed from ``<Speed>``.
"""

from __future__ import annotations

import logging
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from .. import schema as S
from ..records import DecodedActivity, DecodeResult, Lap
from . import xmlsafe
from .frame import PAUSE_GAP_S, build_samples, null_island_count, per_foot_to_spm, plausible_year
from .sports import is_running, normalise_sport

log = logging.getLogger(__name__)

# Trackpoint child (local name, path of local names) -> canonical column.
_POINT_FIELDS = {
    S.LAT: ("Position", "LatitudeDegrees"),
    S.LON: ("Position", "LongitudeDegrees"),
    S.ALTITUDE: ("AltitudeMeters",),
    S.DISTANCE: ("DistanceMeters",),
    S.HEART_RATE: ("HeartRateBpm", "Value"),
}


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if xmlsafe.local(c.tag) == name]


def _find(el: Element, *path: str) -> Element | None:
    for name in path:
        nxt = next((c for c in el if xmlsafe.local(c.tag) == name), None)
        if nxt is None:
            return None
        el = nxt
    return el


def _float(el: Element | None) -> float:
    if el is None or el.text is None:
        return np.nan
    try:
        return float(el.text)
    except ValueError:
        return np.nan


def _ext(point: Element, name: str) -> float:
    ext = _find(point, "Extensions")
    if ext is None:
        return np.nan
    return next((_float(e) for e in ext.iter() if xmlsafe.local(e.tag) == name), np.nan)


def _time(text: str | None) -> pd.Timestamp | None:
    if not text:
        return None
    try:
        t = pd.Timestamp(text.strip()).tz_convert("UTC") if pd.Timestamp(text.strip()).tzinfo \
            else pd.Timestamp(text.strip()).tz_localize("UTC")
    except (ValueError, OverflowError):
        return None
    return t if plausible_year(t.year) else None  # else nanosecond arithmetic overflows


def decode_tcx(data: bytes, name: str = "<tcx>") -> DecodeResult:
    result = DecodeResult()
    try:
        root, _text, notes = xmlsafe.parse(data)
    except ValueError as exc:
        result.error = str(exc)
        return result
    except LookupError as exc:  # expat: an unknown encoding in the XML declaration
        result.error = f"not well-formed XML: {exc}"
        return result
    result.problems.extend(notes)
    root_name = xmlsafe.local(root.tag)
    if root_name == "Activities":
        # Seen in the wild: the <TrainingCenterDatabase> wrapper cut off by an editor.
        result.problems.append("the <TrainingCenterDatabase> root element is missing; read <Activities> directly")
        result.partial = True
        containers = [root]
    elif root_name == "TrainingCenterDatabase":
        containers = _children(root, "Activities")
    else:
        result.error = f"not a TCX file (root element <{root_name}>)"
        return result
    activities = [a for c in containers for a in _children(c, "Activity")]
    if not activities:
        result.skipped_reason = "no <Activity> in the file (a course or workout?)"
        return result
    skipped = []
    for act in activities:
        sport = normalise_sport(act.get("Sport"))
        if not is_running(sport):
            skipped.append(sport)
            continue
        decoded = _activity(act, sport, result)
        if decoded is not None:
            result.activities.append(decoded)
    if not result.activities and result.error is None:
        result.skipped_reason = (f"not a run (TCX Sport: {', '.join(skipped)})" if skipped
                                 else "no timed track points; nothing to import")
    return result


# Garmin starts a new <Track> in every <Lap>, so a track boundary alone is no pause:
# it is one only when the time hole there is clearly longer than the recording interval.
_PAUSE_MIN_GAP_S = 5.0


def _pause_segments(times: np.ndarray, track: np.ndarray) -> np.ndarray:
    """Timer segment per point: +1 at each track boundary that hides a pause."""
    if times.size < 2:
        return np.zeros(times.size, dtype=np.int64)
    gaps = np.diff(times).astype("timedelta64[ms]").astype(float) / 1000.0
    interval = float(np.median(gaps))
    pause = (np.diff(track) != 0) & (gaps > max(_PAUSE_MIN_GAP_S, 2.0 * interval))
    return np.concatenate([[0], np.cumsum(pause)]).astype(np.int64)


def _activity(act: Element, sport: str, result: DecodeResult) -> DecodedActivity | None:
    times: list[np.datetime64] = []
    values: dict[str, list[float]] = {k: [] for k in (*_POINT_FIELDS, S.SPEED, "cad", "runcad", S.TIMER_SEGMENT)}
    laps = []
    seg = 0
    untimed = 0
    for lap in _children(act, "Lap"):
        start = _time(lap.get("StartTime"))
        if start is not None:
            laps.append(Lap(start_time=start.to_pydatetime(), elapsed_s=_float(_find(lap, "TotalTimeSeconds")),
                            timer_s=_float(_find(lap, "TotalTimeSeconds")),
                            distance_m=_float(_find(lap, "DistanceMeters"))))
        for track in _children(lap, "Track"):
            for pt in _children(track, "Trackpoint"):
                t = _time((_find(pt, "Time").text if _find(pt, "Time") is not None else None))
                if t is None:
                    untimed += 1
                    continue
                times.append(np.datetime64(t.tz_convert(None).to_datetime64(), "ns"))
                for col, path in _POINT_FIELDS.items():
                    values[col].append(_float(_find(pt, *path)))
                values[S.SPEED].append(_ext(pt, "Speed"))
                values["cad"].append(_float(_find(pt, "Cadence")))
                values["runcad"].append(_ext(pt, "RunCadence"))
                values[S.TIMER_SEGMENT].append(seg)
            seg += 1
    if untimed:
        result.problems.append(f"{untimed} track point(s) without a time dropped")
    if len(times) < 2:
        return None
    columns = {k: np.asarray(values[k], dtype=float) for k in (*_POINT_FIELDS, S.SPEED)}
    if zeros := null_island_count(columns[S.LAT], columns[S.LON]):
        result.problems.append(f"{zeros} of {len(times)} positions are 0°N 0°E (no GPS fix); treated as missing")
    columns[S.TIMER_SEGMENT] = _pause_segments(np.asarray(times, dtype="datetime64[ns]"),
                                               np.asarray(values[S.TIMER_SEGMENT], dtype=np.int64))
    cad = np.asarray(values["runcad"], dtype=float)
    cad = np.where(np.isfinite(cad), cad, np.asarray(values["cad"], dtype=float))
    if np.isfinite(cad).any():
        columns[S.CADENCE] = per_foot_to_spm(cad)
    samples = build_samples(np.asarray(times, dtype="datetime64[ns]"), columns, pause_gap_s=PAUSE_GAP_S)
    creator = _find(act, "Creator", "Name")
    notes = _find(act, "Notes")
    return DecodedActivity(
        fmt="tcx", sport=sport, sub_sport=None,
        device=creator.text.strip() if creator is not None and creator.text else None,
        name=notes.text.strip() if notes is not None and notes.text else None,
        start_time=samples[S.TIMESTAMP].iloc[0].to_pydatetime(), samples=samples, laps=tuple(laps))
