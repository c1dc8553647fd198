"""TCX reader (Garmin Training Center Database v2), safe-parsed (:func:`.safe.parse_fast`).

Each ``<Activity>`` is one activity, with its own leg index (in document order, counting the
legs of a ``<MultiSportSession>``); activities of other sports are skipped with a reason.
Devices start a new ``<Track>`` after a pause (and at every lap), so a track boundary with a
time hole is a pause.  Cadence comes from ``<Cadence>`` or the ActivityExtension
``<RunCadence>`` (per foot, or steps/min in some exports: :func:`.frame.per_foot_to_spm` tells
by the step length); speed from ``<Speed>``.

Elements are matched by local name (exports disagree on namespaces).  When each name the
track points are read by has one namespace in the file (every real file), the points are
read a column at a time with ElementTree's C ``find`` and converted in bulk; otherwise
point by point.  Both give the same values.
"""

from __future__ import annotations

import logging
import re
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ... import schema as S
from ...records import DecodedActivity, DecodeResult, Lap
from ..frame import (
    PAUSE_GAP_S,
    build_samples,
    cumulative_distance,
    impossible_position_problem,
    null_island_count,
    per_foot_to_spm,
    plausible_year,
    speed_between,
)
from ..sports import is_running, normalise_sport
from . import safe

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
    return [c for c in el if safe.local(c.tag) == name]


def _find(el: Element, *path: str) -> Element | None:
    for name in path:
        nxt = next((c for c in el if safe.local(c.tag) == name), None)
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
    return next((_float(e) for e in ext.iter() if safe.local(e.tag) == name), np.nan)


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
    parsed = safe.parse_or_problem(safe.parse_fast, data)
    if isinstance(parsed, str):
        result.error = parsed
        return result
    root, _text, notes = parsed
    result.problems.extend(notes)
    root_name = safe.local(root.tag)
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
    activities = _activities(containers)
    if not activities:
        result.skipped_reason = "no <Activity> in the file (a course or workout?)"
        return result
    skipped = []
    tags = _point_tags(root)
    for leg, act in enumerate(activities):
        sport = normalise_sport(act.get("Sport"))
        if not is_running(sport):
            skipped.append(sport)
            if len(activities) > 1:
                result.problems.append(f"activity {leg + 1} of {len(activities)} skipped: not a run "
                                       f"(TCX Sport: {act.get('Sport')})")
            continue
        decoded = _activity(act, sport, result, tags)
        if decoded is not None:
            decoded.leg_index = leg  # one id per activity; a one-activity file keeps leg 0
            result.activities.append(decoded)
    if not result.activities and result.error is None:
        result.skipped_reason = (f"not a run (TCX Sport: {', '.join(skipped)})" if skipped
                                 else "no timed track points; nothing to import")
    return result


def _activities(containers: list[Element]) -> list[Element]:
    """Every ``<Activity>`` in document order, the legs of a ``<MultiSportSession>`` included.

    A multisport session holds its legs as ``<FirstSport><Activity>`` and
    ``<NextSport><Activity>`` (after a ``<Transition>``).
    """
    out = []
    for container in containers:
        for child in container:
            name = safe.local(child.tag) if isinstance(child.tag, str) else None
            if name == "Activity":
                out.append(child)
            elif name == "MultiSportSession":
                out += [a for sport in child if safe.local(sport.tag) in ("FirstSport", "NextSport")
                        for a in _children(sport, "Activity")]
    return out


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


# Local names the track point columns are read by.
_POINT_NAMES = frozenset(("Trackpoint", "Time", "Position", "LatitudeDegrees", "LongitudeDegrees", "AltitudeMeters",
                          "DistanceMeters", "HeartRateBpm", "Value", "Cadence", "Extensions", "Speed", "RunCadence"))
_ABSENT = "\0absent"  # a tag no element has: ``find`` gives None


def _point_tags(root: Element) -> dict[str, str] | None:
    """The one full tag of each point name in this document, or None when a name has several.

    With one tag per local name, ``el.find(tag)`` is exactly "the first child of that
    local name" and ``el.iter(tag)`` "the first descendant of that local name".
    """
    tags: dict[str, str] = {}
    for tag in {el.tag for el in root.iter()}:
        name = safe.local(tag) if isinstance(tag, str) else None
        if name in _POINT_NAMES and tags.setdefault(name, tag) != tag:
            return None
    return {name: tags.get(name, _ABSENT) for name in _POINT_NAMES}


# UTC times pandas and numpy read alike, inside the plausible years (frame.FIRST_YEAR..END_YEAR).
_PLAIN_UTC = r"(?:19[7-9]\d|20\d\d|21\d\d)-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?Z"
_ALL_PLAIN_UTC = re.compile(f"(?:{_PLAIN_UTC}\n)*")


def _times(texts: list[str | None]) -> np.ndarray:
    """UTC datetime64[ns] per point, NaT where :func:`_time` gives None."""
    joined = "\n".join(texts) + "\n" if texts and None not in texts else ""
    if joined and joined.count("\n") == len(texts) and _ALL_PLAIN_UTC.fullmatch(joined):
        try:
            return np.array([t[:-1] for t in texts], dtype="datetime64[ns]")
        except ValueError:  # a day that does not exist: pandas' verdict, point by point
            pass
    out = np.full(len(texts), np.datetime64("NaT", "ns"))
    for i, text in enumerate(texts):
        t = _time(text)
        if t is not None:
            out[i] = np.datetime64(t.tz_convert(None).to_datetime64(), "ns")
    return out


def _text(el: Element | None) -> str | None:
    return el.text if el is not None else None


def _point_columns(points: list[Element], tags: dict[str, str]) -> tuple[list[str | None], dict[str, np.ndarray]]:
    """Time texts and float columns of the track points, a column at a time (see :func:`_point_tags`).

    ``findtext`` is find + text in one C call; it says "" for an element without text,
    which :func:`_times` and the lenient float conversion read as they read None.
    """
    def child(els: list[Element | None], name: str) -> list[Element | None]:
        tag = tags[name]
        return [e.find(tag) if e is not None else None for e in els]

    def text(els: list[Element | None], name: str) -> list[str | None]:
        tag = tags[name]
        return [e.findtext(tag) if e is not None else None for e in els]

    no_text = Element(_ABSENT)  # what ext() takes when there is no such element

    def ext(name: str) -> list[str | None]:
        tag = tags[name]  # as _ext: the first such element below <Extensions>, text or not
        return [next(x.iter(tag), no_text).text if x is not None else None for x in exts]

    def values(texts: list[str | None]) -> np.ndarray:
        return safe.floats(texts, lenient=True)

    pts: list[Element | None] = list(points)
    position = child(pts, "Position")
    exts = child(pts, "Extensions")
    cols = {S.LAT: values(text(position, "LatitudeDegrees")), S.LON: values(text(position, "LongitudeDegrees")),
            S.ALTITUDE: values(text(pts, "AltitudeMeters")), S.DISTANCE: values(text(pts, "DistanceMeters")),
            S.HEART_RATE: values(text(child(pts, "HeartRateBpm"), "Value")),
            S.SPEED: values(ext("Speed")), "cad": values(text(pts, "Cadence")), "runcad": values(ext("RunCadence"))}
    return text(pts, "Time"), cols


def _point_columns_by_local_name(points: list[Element]) -> tuple[list[str | None], dict[str, np.ndarray]]:
    """As :func:`_point_columns`, point by point, for files that mix namespaces."""
    texts = []
    values: dict[str, list[float]] = {k: [] for k in (*_POINT_FIELDS, S.SPEED, "cad", "runcad")}
    for pt in points:
        texts.append(_text(_find(pt, "Time")))
        for col, path in _POINT_FIELDS.items():
            values[col].append(_float(_find(pt, *path)))
        values[S.SPEED].append(_ext(pt, "Speed"))
        values["cad"].append(_float(_find(pt, "Cadence")))
        values["runcad"].append(_ext(pt, "RunCadence"))
    return texts, {k: np.asarray(v, dtype=float) for k, v in values.items()}


def _speed(times: np.ndarray, columns: dict[str, np.ndarray]) -> np.ndarray:
    """The recorded speed, else the speed along the recorded distance, else along the positions."""
    if np.isfinite(columns[S.SPEED]).any():
        return columns[S.SPEED]
    distance = columns[S.DISTANCE]
    if not np.isfinite(distance).any():
        distance = cumulative_distance(columns[S.LAT], columns[S.LON])
    return speed_between(times, distance)


def _activity(act: Element, sport: str, result: DecodeResult, tags: dict[str, str] | None) -> DecodedActivity | None:
    laps = []
    points: list[Element] = []
    per_track: list[int] = []  # points per <Track>: a point's track index
    for lap in _children(act, "Lap"):
        start = _time(lap.get("StartTime"))
        if start is not None:
            laps.append(Lap(start_time=start.to_pydatetime(), elapsed_s=_float(_find(lap, "TotalTimeSeconds")),
                            timer_s=_float(_find(lap, "TotalTimeSeconds")),
                            distance_m=_float(_find(lap, "DistanceMeters"))))
        for track in _children(lap, "Track"):
            # One tag per name (see _point_tags): the C findall finds the same children.
            found = track.findall(tags["Trackpoint"]) if tags is not None else _children(track, "Trackpoint")
            points += found
            per_track.append(len(found))
    texts, values = _point_columns(points, tags) if tags is not None else _point_columns_by_local_name(points)
    all_times = _times(texts)
    timed = ~np.isnat(all_times)
    if untimed := len(points) - int(timed.sum()):
        result.problems.append(f"{untimed} track point(s) without a time dropped")
    if timed.sum() < 2:
        return None
    times = all_times[timed]
    values = {k: v[timed] for k, v in values.items()}
    track = np.repeat(np.arange(len(per_track)), per_track)[timed]
    columns = {k: values[k] for k in (*_POINT_FIELDS, S.SPEED)}
    if zeros := null_island_count(columns[S.LAT], columns[S.LON]):
        result.problems.append(f"{zeros} of {len(times)} positions are 0°N 0°E (no GPS fix); treated as missing")
    if off := impossible_position_problem(columns[S.LAT], columns[S.LON]):
        result.problems.append(off)
    columns[S.TIMER_SEGMENT] = _pause_segments(times, track)
    cad = values["runcad"]
    cad = np.where(np.isfinite(cad), cad, values["cad"])
    if np.isfinite(cad).any():
        columns[S.CADENCE] = per_foot_to_spm(cad, speed_mps=_speed(times, columns))
    samples = build_samples(times, columns, pause_gap_s=PAUSE_GAP_S)
    creator = _find(act, "Creator", "Name")
    notes = _find(act, "Notes")
    return DecodedActivity(
        fmt="tcx", sport=sport, sub_sport=None,
        device=creator.text.strip() if creator is not None and creator.text else None,
        name=notes.text.strip() if notes is not None and notes.text else None,
        start_time=samples[S.TIMESTAMP].iloc[0].to_pydatetime(), samples=samples, laps=tuple(laps))
