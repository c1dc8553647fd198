"""Serialise a :class:`~gaitrisk.synth.runs.SyntheticRun` to real FIT, GPX and TCX files.

Each writer produces what a Garmin export of the same run would hold, in the
units and per-foot conventions of that format:

* FIT (via ``fit_tool``): cadence as strides/min per foot, ``cadence`` =
  floor(spm / 2) plus ``fractional_cadence`` = spm / 2 - floor (1/128 rpm
  resolution); timer start/stop_all events around pauses; one lap message per
  auto-lap; a session and an activity message.
* GPX 1.1 with the Garmin TrackPointExtension v1 (``hr``, ``cad`` per foot,
  rounded); one ``trkseg`` per timer segment.
* TCX v2 with the ActivityExtension v2 ``TPX`` (``Speed``, ``RunCadence`` per
  foot); one ``Lap`` per auto-lap and a new ``Track`` after every pause.

All writers are deterministic: the same run gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd

from .. import schema as S
from .runs import SyntheticRun

# The FIT epoch (1989-12-31T00:00:00Z) in Unix seconds: FIT local timestamps count from it.
_FIT_EPOCH_S = 631_065_600
_CREATOR = "gaitrisk.synth"


@dataclass(frozen=True)
class LapSlice:
    """One auto-lap: samples ``first..last`` (inclusive) and the boundary it starts at.

    ``start`` is the previous lap's last sample (0 for the first lap): a lap's
    time and distance run from that boundary, so the laps add up to the run.
    """

    start: int
    first: int
    last: int


def lap_slices(run: SyntheticRun) -> list[LapSlice]:
    """Split the run into auto-laps of ``run.lap_length_m`` of device distance."""
    d = run.samples[S.DISTANCE].to_numpy(dtype=float)
    # A sample exactly on a lap boundary closes that lap; the tolerance absorbs the
    # float error of L * i / n so that e.g. 5 track laps give 5 laps, not 6.
    lap_of = np.maximum(np.ceil(d / run.lap_length_m - 1e-9) - 1, 0).astype(int)
    lap_of[0] = 0
    ends = np.flatnonzero(np.diff(lap_of)).tolist() + [len(d) - 1]
    out: list[LapSlice] = []
    prev = 0
    for end in ends:
        out.append(LapSlice(start=prev, first=0 if not out else prev + 1, last=end))
        prev = end
    return out


def _per_foot(spm: float) -> tuple[int, float]:
    """Steps/min -> (whole strides/min per foot, fractional part) as FIT stores them."""
    half = spm / 2.0
    whole = math.floor(half)
    return whole, half - whole


def _nanmean(values: np.ndarray) -> float:
    """Mean of the finite values (callers check first that the channel was recorded)."""
    return float(np.nanmean(values))


def _unix_ms(ts: pd.Timestamp) -> int:
    return int(ts.value // 1_000_000)


def _iso_z(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- FIT --------------------------------------------------------------------------------

def write_fit(run: SyntheticRun, path: str | Path, *, sport: str = "running") -> Path:
    """Write ``run`` as a FIT activity file; ``sport`` is a FIT sport name (``running``, ``cycling``...).

    Running dynamics and the per-foot cadence split are written only for running;
    any other sport gets whole-rpm ``cadence`` (its natural unit) and no dynamics.
    """
    from fit_tool.fit_file_builder import FitFileBuilder
    from fit_tool.profile.messages.activity_message import ActivityMessage
    from fit_tool.profile.messages.event_message import EventMessage
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.messages.lap_message import LapMessage
    from fit_tool.profile.messages.record_message import RecordMessage
    from fit_tool.profile.messages.session_message import SessionMessage
    from fit_tool.profile.messages.sport_message import SportMessage
    from fit_tool.profile.profile_type import (
        Activity,
        Event,
        EventType,
        FileType,
        Intensity,
        LapTrigger,
        Manufacturer,
        SessionTrigger,
        Sport,
        SubSport,
    )

    fit_sport = Sport[sport.upper()]
    running = fit_sport == Sport.RUNNING
    if running:
        sub_sport = SubSport.TRACK if run.spec.route == "track" else SubSport.GENERIC
    else:
        sub_sport = SubSport.ROAD if fit_sport == Sport.CYCLING else SubSport.GENERIC

    df = run.samples
    ts_ms = [_unix_ms(t) for t in df[S.TIMESTAMP]]
    timer = run.timer_s
    cols = {c: df[c].to_numpy(dtype=float) for c in S.FLOAT_COLUMNS if c in df}
    has = {c: bool(np.isfinite(v).any()) for c, v in cols.items()}
    builder = FitFileBuilder(auto_define=True)

    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value  # honest: not a real device
    file_id.product = 0
    file_id.serial_number = 1_000_000 + run.spec.seed
    file_id.time_created = ts_ms[0]
    builder.add(file_id)

    sport_msg = SportMessage()
    sport_msg.sport = fit_sport
    sport_msg.sub_sport = sub_sport
    builder.add(sport_msg)

    def timer_event(t_ms: int, kind: EventType) -> EventMessage:
        m = EventMessage()
        m.timestamp = t_ms
        m.event = Event.TIMER
        m.event_type = kind
        m.event_group = 0
        return m

    def summarise(m: LapMessage | SessionMessage, start: int, last: int, rows: slice) -> None:
        """Fill the fields a lap and a session share, over samples ``rows``."""
        m.timestamp = ts_ms[last]
        m.start_time = ts_ms[start]
        m.sport = fit_sport
        m.sub_sport = sub_sport
        timer_s = float(timer[last] - timer[start])
        distance = float(cols[S.DISTANCE][last] - cols[S.DISTANCE][start])
        m.total_elapsed_time = (ts_ms[last] - ts_ms[start]) / 1000.0
        m.total_timer_time = timer_s
        m.total_distance = distance
        m.start_position_lat = float(cols[S.LAT][start])
        m.start_position_long = float(cols[S.LON][start])
        if timer_s > 0:
            # A device's average speed is distance over timer time, not a mean of samples.
            m.avg_speed = m.enhanced_avg_speed = distance / timer_s
        m.max_speed = m.enhanced_max_speed = float(np.nanmax(cols[S.SPEED][rows]))
        if has[S.HEART_RATE]:
            m.avg_heart_rate = int(round(_nanmean(cols[S.HEART_RATE][rows])))
            m.max_heart_rate = int(np.nanmax(cols[S.HEART_RATE][rows]))
        if has[S.CADENCE]:
            avg_spm = _nanmean(cols[S.CADENCE][rows])
            if running:
                m.avg_running_cadence, m.avg_fractional_cadence = _per_foot(avg_spm)
                m.max_running_cadence = int(np.nanmax(cols[S.CADENCE][rows]) // 2)
            else:
                m.avg_cadence = int(round(avg_spm / 2.0))
        if running and has[S.STANCE_TIME]:
            m.avg_stance_time = _nanmean(cols[S.STANCE_TIME][rows])
            m.avg_stance_time_balance = _nanmean(cols[S.STANCE_BALANCE][rows])
            m.avg_vertical_oscillation = _nanmean(cols[S.VERTICAL_OSCILLATION][rows])
            m.avg_vertical_ratio = _nanmean(cols[S.VERTICAL_RATIO][rows])
            m.avg_step_length = _nanmean(cols[S.STEP_LENGTH][rows])

    laps = lap_slices(run)
    lap_after = {lap.last: i for i, lap in enumerate(laps)}
    pause_after = dict(run.pauses)
    builder.add(timer_event(ts_ms[0], EventType.START))

    for i in range(len(df)):
        r = RecordMessage()
        r.timestamp = ts_ms[i]
        r.position_lat = float(cols[S.LAT][i])
        r.position_long = float(cols[S.LON][i])
        r.distance = float(cols[S.DISTANCE][i])
        r.enhanced_speed = float(cols[S.SPEED][i])
        if has[S.ALTITUDE]:
            r.enhanced_altitude = float(cols[S.ALTITUDE][i])
        if has[S.HEART_RATE]:
            r.heart_rate = int(cols[S.HEART_RATE][i])
        if has[S.CADENCE]:
            if running:
                r.cadence, r.fractional_cadence = _per_foot(float(cols[S.CADENCE][i]))
            else:
                r.cadence = int(round(cols[S.CADENCE][i] / 2.0))
        if running and has[S.STANCE_TIME]:
            r.stance_time = float(cols[S.STANCE_TIME][i])
            r.stance_time_balance = float(cols[S.STANCE_BALANCE][i])
            r.vertical_oscillation = float(cols[S.VERTICAL_OSCILLATION][i])
            r.vertical_ratio = float(cols[S.VERTICAL_RATIO][i])
            r.step_length = float(cols[S.STEP_LENGTH][i])
        builder.add(r)

        final = i == len(df) - 1
        if i in pause_after or final:
            builder.add(timer_event(ts_ms[i], EventType.STOP_ALL))
        if i in lap_after:
            lap = laps[lap_after[i]]
            m = LapMessage()
            m.message_index = lap_after[i]
            m.event = Event.LAP
            m.event_type = EventType.STOP
            m.lap_trigger = LapTrigger.SESSION_END if final else LapTrigger.DISTANCE
            m.intensity = Intensity.ACTIVE
            summarise(m, lap.start, lap.last, slice(lap.first, lap.last + 1))
            # Only laps: fitparse's profile predates the session's end position fields.
            m.end_position_lat = float(cols[S.LAT][i])
            m.end_position_long = float(cols[S.LON][i])
            builder.add(m)
        if i in pause_after:
            builder.add(timer_event(ts_ms[i] + 1000 * pause_after[i], EventType.START))

    last = len(df) - 1
    session = SessionMessage()
    session.message_index = 0
    session.event = Event.SESSION
    session.event_type = EventType.STOP
    session.trigger = SessionTrigger.ACTIVITY_END
    session.first_lap_index = 0
    session.num_laps = len(laps)
    summarise(session, 0, last, slice(None))
    if has[S.ALTITUDE]:
        # Ascent of the noiseless profile: what a device's hysteresis filter aims to report.
        session.total_ascent = int(round(run.truth["total_ascent_m"]))
        session.total_descent = int(round(run.truth["total_descent_m"]))
    builder.add(session)

    activity = ActivityMessage()
    activity.timestamp = ts_ms[last]
    activity.total_timer_time = float(timer[last])
    activity.num_sessions = 1
    activity.type = Activity.MANUAL
    activity.event = Event.ACTIVITY
    activity.event_type = EventType.STOP
    activity.local_timestamp = ts_ms[last] // 1000 - _FIT_EPOCH_S  # runs are generated in UTC
    builder.add(activity)

    path = Path(path)
    path.write_bytes(builder.build().to_bytes())
    return path


# --- GPX --------------------------------------------------------------------------------

_GPX_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.1" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/1"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"'
    ' xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd'
    ' http://www.garmin.com/xmlschemas/TrackPointExtension/v1'
    ' http://www.garmin.com/xmlschemas/TrackPointExtensionv1.xsd">\n'
)


def _run_name(run: SyntheticRun) -> str:
    return f"synthetic {run.spec.route} (seed {run.spec.seed})"


def _segments(run: SyntheticRun) -> Iterator[range]:
    """Sample index ranges of the timer segments (split after every pause)."""
    bounds = [0] + [i + 1 for i, _ in run.pauses] + [len(run.samples)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        yield range(a, b)


# The GPX flavours :func:`write_gpx` writes: the root element, its namespaces and how a point
# carries heart rate and per-foot cadence.
_GPX_10_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.0" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/0"'
    ' xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n'
)
_CLUETRUST_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<gpx version="1.1" creator="{creator}" xmlns="http://www.topografix.com/GPX/1/1"'
    ' xmlns:gpxdata="http://www.cluetrust.com/XML/GPXDATA/1/0">\n'
)
GPX_FLAVOURS = ("garmin", "gpx10", "cluetrust")


def _gpx_extensions(flavour: str, hr: float, cad: float) -> str:
    if flavour == "cluetrust":  # Cluetrust GPXDATA: children of <extensions> itself
        ext = ([f"<gpxdata:hr>{int(hr)}</gpxdata:hr>"] if np.isfinite(hr) else []) \
            + ([f"<gpxdata:cadence>{int(cad)}</gpxdata:cadence>"] if np.isfinite(cad) else [])
        return f"<extensions>{''.join(ext)}</extensions>" if ext else ""
    ext = ([f"<gpxtpx:hr>{int(hr)}</gpxtpx:hr>"] if np.isfinite(hr) else []) \
        + ([f"<gpxtpx:cad>{int(cad)}</gpxtpx:cad>"] if np.isfinite(cad) else [])
    if not ext:
        return ""
    return "<extensions><gpxtpx:TrackPointExtension>" + "".join(ext) + "</gpxtpx:TrackPointExtension></extensions>"


def write_gpx(run: SyntheticRun, path: str | Path, *, flavour: str = "garmin",
              positionless: Sequence[int] = ()) -> Path:
    """Write ``run`` as GPX; ``cad`` is strides/min per foot (spm / 2, rounded).

    ``flavour``: ``garmin`` (GPX 1.1, Garmin TrackPointExtension v1), ``gpx10`` (a GPX 1.0 file
    that uses the same TrackPointExtension, as some apps write) or ``cluetrust`` (GPX 1.1 with
    Cluetrust GPXDATA ``hr``/``cadence``).  The points at the indices in ``positionless`` are
    written without ``lat``/``lon`` (a point logged before the first fix).
    """
    if flavour not in GPX_FLAVOURS:
        raise ValueError(f"flavour must be one of {GPX_FLAVOURS}, not {flavour!r}")
    df = run.samples
    lat, lon = df[S.LAT].to_numpy(float), df[S.LON].to_numpy(float)
    alt = df[S.ALTITUDE].to_numpy(float)
    hr = df[S.HEART_RATE].to_numpy(float)
    # Half-up rounding (not Python's banker's rounding) as watches do.
    cad = np.floor(df[S.CADENCE].to_numpy(float) / 2.0 + 0.5)
    times = [_iso_z(t) for t in df[S.TIMESTAMP]]
    no_position = set(positionless)

    header = {"garmin": _GPX_HEADER, "gpx10": _GPX_10_HEADER, "cluetrust": _CLUETRUST_HEADER}[flavour]
    out = [header.format(creator=_CREATOR)]
    if flavour == "gpx10":  # 1.0 has no <metadata>: the time is the root's
        out.append(f" <time>{times[0]}</time>\n")
    else:
        out.append(f" <metadata><time>{times[0]}</time></metadata>\n")
    # 1.0 has no track <type>
    kind = "" if flavour == "gpx10" else "  <type>running</type>\n"
    out.append(f" <trk>\n  <name>{escape(_run_name(run))}</name>\n{kind}")
    for seg in _segments(run):
        out.append("  <trkseg>\n")
        for i in seg:
            where = "" if i in no_position else f' lat="{lat[i]:.8f}" lon="{lon[i]:.8f}"'
            pt = [f"   <trkpt{where}>"]
            if np.isfinite(alt[i]):
                pt.append(f"<ele>{alt[i]:.2f}</ele>")
            pt.append(f"<time>{times[i]}</time>")
            pt.append(_gpx_extensions(flavour, hr[i], cad[i]))
            pt.append("</trkpt>\n")
            out.append("".join(pt))
        out.append("  </trkseg>\n")
    out.append(" </trk>\n</gpx>\n")
    path = Path(path)
    path.write_text("".join(out), encoding="utf-8")
    return path


# --- TCX --------------------------------------------------------------------------------

_TCX_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"'
    ' xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xsi:schemaLocation="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2'
    ' http://www.garmin.com/xmlschemas/TrainingCenterDatabasev2.xsd">\n'
)


def write_tcx(run: SyntheticRun, path: str | Path, *, cadence_in_steps: bool = False) -> Path:
    """Write ``run`` as TCX v2 (Sport="Running"); cadences are strides/min per foot.

    ``TotalTimeSeconds`` is the lap's timer time, as Garmin writes it.  ``cadence_in_steps``
    writes ``<Cadence>``/``<RunCadence>`` in steps/min instead, as some third-party exports do.
    """
    return write_tcx_activities([(run, "Running")], path, cadence_in_steps=cadence_in_steps)


def write_tcx_activities(legs: Sequence[tuple[SyntheticRun, str]], path: str | Path, *,
                         multisport: bool = False, cadence_in_steps: bool = False) -> Path:
    """Write several activities into one TCX file: ``legs`` are (run, TCX Sport) pairs.

    As separate ``<Activity>`` elements under ``<Activities>`` (an export of several runs), or
    with ``multisport`` as one ``<MultiSportSession>``: the first leg in ``<FirstSport>``, each
    further one in a ``<NextSport>`` after a ``<Transition>`` lap.
    """
    out = [_TCX_HEADER, " <Activities>\n"]
    if multisport:
        out.append(f"  <MultiSportSession>\n   <Id>{_iso_z(legs[0][0].samples[S.TIMESTAMP].iloc[0])}</Id>\n")
        for n, (run, sport) in enumerate(legs):
            if n == 0:
                out.append("   <FirstSport>\n")
            else:
                start = _iso_z(run.samples[S.TIMESTAMP].iloc[0])
                out.append(f"   <NextSport>\n    <Transition StartTime={quoteattr(start)}><TotalTimeSeconds>60.0"
                           "</TotalTimeSeconds><DistanceMeters>0</DistanceMeters><Calories>0</Calories>"
                           "<Intensity>Active</Intensity><TriggerMethod>Manual</TriggerMethod></Transition>\n")
            out += _tcx_activity(run, sport, cadence_in_steps)
            out.append("   </FirstSport>\n" if n == 0 else "   </NextSport>\n")
        out.append("  </MultiSportSession>\n")
    else:
        for run, sport in legs:
            out += _tcx_activity(run, sport, cadence_in_steps)
    out.append(" </Activities>\n</TrainingCenterDatabase>\n")
    path = Path(path)
    path.write_text("".join(out), encoding="utf-8")
    return path


def _tcx_activity(run: SyntheticRun, sport: str, cadence_in_steps: bool) -> list[str]:
    """One ``<Activity>`` element's lines."""
    df = run.samples
    c = {col: df[col].to_numpy(float) for col in S.FLOAT_COLUMNS if col in df}
    cad = np.floor(c[S.CADENCE] / (1.0 if cadence_in_steps else 2.0) + 0.5)
    times = [_iso_z(t) for t in df[S.TIMESTAMP]]
    timer = run.timer_s
    new_track_at = {i + 1 for i, _ in run.pauses}  # Garmin starts a new Track after a pause
    laps = lap_slices(run)

    out = [f"  <Activity Sport={quoteattr(sport)}>\n", f"   <Id>{times[0]}</Id>\n"]
    for n, lap in enumerate(laps):
        rows = slice(lap.first, lap.last + 1)
        out.append(f"   <Lap StartTime={quoteattr(times[lap.start])}>\n")
        out.append(f"    <TotalTimeSeconds>{timer[lap.last] - timer[lap.start]:.1f}</TotalTimeSeconds>\n")
        out.append(f"    <DistanceMeters>{c[S.DISTANCE][lap.last] - c[S.DISTANCE][lap.start]:.2f}</DistanceMeters>\n")
        out.append(f"    <MaximumSpeed>{np.nanmax(c[S.SPEED][rows]):.3f}</MaximumSpeed>\n")
        out.append("    <Calories>0</Calories>\n")
        hr = c[S.HEART_RATE][rows]
        if np.isfinite(hr).any():
            out.append(f"    <AverageHeartRateBpm><Value>{int(round(np.nanmean(hr)))}</Value></AverageHeartRateBpm>\n")
            out.append(f"    <MaximumHeartRateBpm><Value>{int(np.nanmax(hr))}</Value></MaximumHeartRateBpm>\n")
        out.append("    <Intensity>Active</Intensity>\n")
        trigger = "Manual" if n == len(laps) - 1 else "Distance"
        out.append(f"    <TriggerMethod>{trigger}</TriggerMethod>\n")
        out.append("    <Track>\n")
        for i in range(lap.first, lap.last + 1):
            if i in new_track_at and i != lap.first:
                out.append("    </Track>\n    <Track>\n")
            out.append(_trackpoint(times[i], c, cad, i))
        out.append("    </Track>\n")
        lap_cad = cad[rows]
        lap_speed = (c[S.DISTANCE][lap.last] - c[S.DISTANCE][lap.start]) / max(timer[lap.last] - timer[lap.start], 1e-9)
        lx = [f"<ns3:AvgSpeed>{lap_speed:.3f}</ns3:AvgSpeed>"]
        if np.isfinite(lap_cad).any():
            avg_per_foot = int(np.floor(np.nanmean(c[S.CADENCE][rows]) / (1 if cadence_in_steps else 2) + 0.5))
            lx.append(f"<ns3:AvgRunCadence>{avg_per_foot}</ns3:AvgRunCadence>")
            lx.append(f"<ns3:MaxRunCadence>{int(np.nanmax(lap_cad))}</ns3:MaxRunCadence>")
        out.append(f"    <Extensions><ns3:LX>{''.join(lx)}</ns3:LX></Extensions>\n")
        out.append("   </Lap>\n")
    out.append(f"   <Notes>{escape(_run_name(run))}</Notes>\n")
    out.append("  </Activity>\n")
    return out


def _trackpoint(time: str, c: dict[str, np.ndarray], cad: np.ndarray, i: int) -> str:
    """One TCX Trackpoint, children in the order the v2 schema requires."""
    p = [f"     <Trackpoint><Time>{time}</Time>"]
    p.append(f"<Position><LatitudeDegrees>{c[S.LAT][i]:.8f}</LatitudeDegrees>"
             f"<LongitudeDegrees>{c[S.LON][i]:.8f}</LongitudeDegrees></Position>")
    if np.isfinite(c[S.ALTITUDE][i]):
        p.append(f"<AltitudeMeters>{c[S.ALTITUDE][i]:.2f}</AltitudeMeters>")
    p.append(f"<DistanceMeters>{c[S.DISTANCE][i]:.2f}</DistanceMeters>")
    if np.isfinite(c[S.HEART_RATE][i]):
        p.append(f"<HeartRateBpm><Value>{int(c[S.HEART_RATE][i])}</Value></HeartRateBpm>")
    if np.isfinite(cad[i]):
        p.append(f"<Cadence>{int(cad[i])}</Cadence>")
    tpx = [f"<ns3:Speed>{c[S.SPEED][i]:.3f}</ns3:Speed>"]
    if np.isfinite(cad[i]):
        tpx.append(f"<ns3:RunCadence>{int(cad[i])}</ns3:RunCadence>")
    p.append(f"<Extensions><ns3:TPX>{''.join(tpx)}</ns3:TPX></Extensions></Trackpoint>\n")
    return "".join(p)


# --- FIT streams with recorder faults ----------------------------------------------------

@dataclass(frozen=True)
class FitStream:
    """A FIT activity spelled out record by record, to reproduce what devices get wrong.

    ``times_s`` are the records' Unix times exactly as the device stamped them (a clock
    jump is a jump here); ``fields`` maps FIT record field names (``distance``,
    ``enhanced_speed``, ``heart_rate``, ``cadence``, ``enhanced_altitude``...) to one value
    per record (NaN: not written); ``dev_fields`` maps a developer field's (name, units) to
    its whole-number values; ``timer_events`` are (Unix time, ``"start"`` or ``"stop_all"``).
    The session spans ``session_elapsed_s`` from the first record's time, or is left out
    (with the activity message) when None, as in a recording the device never closed.
    """

    times_s: tuple[float, ...]
    fields: dict[str, tuple[float, ...]]
    timer_events: tuple[tuple[float, str], ...] = ()
    dev_fields: dict[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)
    session_elapsed_s: float | None = None
    session_timer_s: float | None = None
    session_distance_m: float | None = None
    sport: str = "running"


def write_fit_stream(stream: FitStream, path: str | Path, *, unfinished: bool = False) -> Path:
    """Write ``stream`` as a FIT file; ``unfinished`` gives the header data size 0 and no checksum.

    That is what a device leaves behind when a recording is cut off before the file is
    closed (the size and the checksum are written last).
    """
    from fit_tool.base_type import BaseType
    from fit_tool.developer_field import DeveloperField
    from fit_tool.fit_file_builder import FitFileBuilder
    from fit_tool.profile.messages.activity_message import ActivityMessage
    from fit_tool.profile.messages.developer_data_id_message import DeveloperDataIdMessage
    from fit_tool.profile.messages.event_message import EventMessage
    from fit_tool.profile.messages.field_description_message import FieldDescriptionMessage
    from fit_tool.profile.messages.file_id_message import FileIdMessage
    from fit_tool.profile.messages.record_message import RecordMessage
    from fit_tool.profile.messages.session_message import SessionMessage
    from fit_tool.profile.profile_type import Event, EventType, FileType, Manufacturer, Sport

    builder = FitFileBuilder(auto_define=True, min_string_size=16)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = 0
    file_id.serial_number = 1_000_001
    file_id.time_created = int(stream.times_s[0] * 1000)
    builder.add(file_id)

    dev_keys = list(stream.dev_fields)
    if dev_keys:
        dev_id = DeveloperDataIdMessage()
        dev_id.application_id = bytes(range(16))
        dev_id.developer_data_index = 0
        builder.add(dev_id)
        for number, (name, units) in enumerate(dev_keys):
            desc = FieldDescriptionMessage()
            desc.developer_data_index = 0
            desc.field_definition_number = number
            desc.fit_base_type_id = BaseType.UINT16
            desc.field_name = name
            desc.units = units
            builder.add(desc)

    events = sorted(stream.timer_events)
    ev = 0

    def add_event(t_s: float, kind: str) -> None:
        m = EventMessage()
        m.timestamp = int(t_s * 1000)
        m.event = Event.TIMER
        m.event_type = EventType.START if kind == "start" else EventType.STOP_ALL
        m.event_group = 0
        builder.add(m)

    for i, t in enumerate(stream.times_s):
        # Events go in at their time in the stream of records, as a device logs them.
        while ev < len(events) and events[ev][0] <= t:
            add_event(*events[ev])
            ev += 1
        devs = []
        for number, key in enumerate(dev_keys):
            value = stream.dev_fields[key][i]
            if np.isfinite(value):
                d = DeveloperField(developer_data_index=0, field_id=number, size=2, base_type=BaseType.UINT16)
                d.set_value(0, int(value))
                devs.append(d)
        r = RecordMessage(developer_fields=devs) if devs else RecordMessage()
        r.timestamp = int(t * 1000)
        for name, values in stream.fields.items():
            if np.isfinite(values[i]):
                setattr(r, name, float(values[i]))
        builder.add(r)
    for t, kind in events[ev:]:
        add_event(t, kind)

    if stream.session_elapsed_s is not None:
        start, last = stream.times_s[0], max(stream.times_s)
        session = SessionMessage()
        session.timestamp = int(last * 1000)
        session.start_time = int(start * 1000)
        session.sport = Sport[stream.sport.upper()]
        session.total_elapsed_time = stream.session_elapsed_s
        session.total_timer_time = (stream.session_timer_s if stream.session_timer_s is not None
                                    else stream.session_elapsed_s)
        if stream.session_distance_m is not None:
            session.total_distance = stream.session_distance_m
        builder.add(session)
        activity = ActivityMessage()
        activity.timestamp = int(last * 1000)
        activity.num_sessions = 1
        builder.add(activity)

    data = builder.build().to_bytes()
    if unfinished:
        header_size = data[0]
        header = bytearray(data[:header_size])
        header[4:8] = bytes(4)
        if header_size >= 14:
            header[12:14] = bytes(2)
        data = bytes(header) + data[header_size:-2]
    path = Path(path)
    path.write_bytes(data)
    return path
