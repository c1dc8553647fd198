"""What every FIT decoder shares: decoded messages (record fields as columns) -> activities.

A decoder (fitparse-based or the fast numpy one) only has to fill :class:`FitMessages`
and report the first error it met; legs from sessions, timer segments from events,
device-relative clocks, summaries, laps, skip reasons and the damage/CRC-retry policy
live here once, so the two decoders cannot drift apart.

Record fields are float64 columns named as fitparse names them (NaN = the message did
not carry a usable number); record timestamps are raw FIT seconds (NaN = absent).
Non-record messages (sessions, laps, activity, sport) are few and stay as
fitparse-style ``get_values()`` dicts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import anycrc
import numpy as np

from ... import schema as S
from ...records import DecodedActivity, DecodeResult, DeviceSummary, Lap
from ..frame import build_samples, impossible_position_problem, per_foot_to_spm
from ..sports import is_running, normalise_sport

log = logging.getLogger(__name__)

_SEMICIRCLE_TO_DEG = 180.0 / 2**31
# FIT timestamps below this are seconds since the device powered on, not since the
# FIT epoch (FIT SDK, "date_time" type: values < 0x10000000 are system time).
FIT_MIN_ABSOLUTE = 0x10000000
FIT_EPOCH = dt.datetime(1989, 12, 31, tzinfo=dt.timezone.utc)
# The FIT epoch as seconds since the Unix epoch (fitparse's UTC_REFERENCE).
FIT_EPOCH_UNIX_S = 631065600
_UTC = dt.timezone.utc
# Fewer samples than this cannot describe a run (no duration, no pace).
_MIN_SAMPLES = 2
# The fixed part of a FIT file header (a 14-byte header adds its own checksum).
_HEADER_MIN = 12
# FIT's checksum is CRC-16/ARC.
_crc16 = anycrc.Model("CRC16-ARC").calc

# record field -> canonical column.  The first name present wins, so the enhanced
# (32-bit, barometric) fields are preferred over the 16-bit legacy ones.
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    S.ALTITUDE: ("enhanced_altitude", "altitude"),
    S.DISTANCE: ("distance",),
    S.SPEED: ("enhanced_speed", "speed"),
    S.HEART_RATE: ("heart_rate",),
    S.STANCE_TIME: ("stance_time",),
    S.STANCE_BALANCE: ("stance_time_balance",),
    S.VERTICAL_OSCILLATION: ("vertical_oscillation",),
    S.VERTICAL_RATIO: ("vertical_ratio",),
    S.STEP_LENGTH: ("step_length",),
    S.POWER: ("power",),
}
# Every record field (fitparse name) a decoder has to deliver as a column.
RECORD_FIELD_NAMES: frozenset[str] = frozenset(
    {n for names in RECORD_FIELDS.values() for n in names}
    | {"position_lat", "position_long", "cadence", "fractional_cadence"})
# Developer fields (Stryd, RunScribe) that fill a canonical column the device did
# not record natively: (field name, units) as the developer declared them -> column, scale.
DEV_FIELDS: dict[tuple[str, str], tuple[str, float]] = {
    ("power", "watts"): (S.POWER, 1.0),
    ("ground time", "milliseconds"): (S.STANCE_TIME, 1.0),
    ("vertical oscillation", "centimeters"): (S.VERTICAL_OSCILLATION, 10.0),
    ("heart rate", "bpm"): (S.HEART_RATE, 1.0),
    # Running power from the Connect IQ "Running Power" app (its session carries RP_AvgPower).
    ("rp_power", "watts"): (S.POWER, 1.0),
    ("rp_power", "w"): (S.POWER, 1.0),
}
# Altitude's raw 0 (-500 m after the profile's offset) is what devices write for "no
# altitude" (a barometer not yet settled, no GPS fix), not a place 500 m below sea level.
INVALID_ALTITUDE_M = -500.0
# A record time step longer than this many recording intervals (and at least
# JUMP_MIN_S), or any step back in time, is a clock jump unless a timer pause explains it.
JUMP_INTERVALS = 100
JUMP_MIN_S = 600.0
# Across a repairable clock jump the distance moves on by no more than this many
# recording intervals at the run's fastest recorded speed (plus GPS slack).
JUMP_CONTINUITY_INTERVALS = 3
JUMP_CONTINUITY_SLACK_M = 10.0


def dev_target(name: Any, units: Any) -> tuple[str, float] | None:
    """The canonical column (and scale) a developer field fills, matched on its declared name and units."""
    return DEV_FIELDS.get((str(name).lower(), str(units or "").lower()))


@dataclass
class FitMessages:
    """The messages an activity is built from, whichever decoder read them."""

    file_type: str | None = None
    device: str | None = None
    n_records: int = 0
    # Raw FIT seconds per record (NaN where the record has no timestamp).
    record_time: np.ndarray = field(default_factory=lambda: np.empty(0))
    # fitparse field name -> float64 values aligned with records (NaN = absent).
    record_fields: dict[str, np.ndarray] = field(default_factory=dict)
    # (canonical column, values aligned with records), in the order the developer
    # fields (keyed by developer index and field number) were first met.
    dev_columns: list[tuple[str, np.ndarray]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    laps: list[dict[str, Any]] = field(default_factory=list)
    timer_events: list[tuple[Any, str]] = field(default_factory=list)
    sport: dict[str, Any] | None = None
    activity: dict[str, Any] | None = None


# (data, check_crc) -> messages read and the first error met (None when the file read cleanly).
ReadFn = Callable[[bytes, bool], tuple[FitMessages, Exception | None]]


def device_name(file_id: dict[str, Any]) -> str | None:
    product = file_id.get("garmin_product") or file_id.get("product_name") or file_id.get("product")
    parts = [str(p) for p in (file_id.get("manufacturer"), product) if p is not None]
    return " ".join(parts) or None


def decode_with(read: ReadFn, data: bytes) -> DecodeResult:
    """Decode FIT bytes into running activities with ``read``, never raising for bad input.

    A wrong checksum is retried without the check; a damaged body keeps what precedes it.
    """
    result = DecodeResult()
    data, unfinished = complete_unfinished(data)
    if unfinished:
        result.problems.append(unfinished)
        result.partial = True
    msgs, exc = read(data, True)
    if exc is not None and type(exc).__name__ == "FitCRCError":
        result.problems.append(f"file checksum wrong ({exc}); data read without verification")
        result.partial = True
        msgs, exc = read(data, False)
    if exc is not None:
        if not msgs.n_records and not msgs.sessions:
            result.error = f"not a readable FIT file: {one_line(exc)}"
            return result
        result.partial = True
        result.problems.append(
            f"file damaged after {msgs.n_records} records ({one_line(exc)}); kept what precedes the damage")

    if not msgs.n_records:
        kind = msgs.file_type or "unknown"
        result.skipped_reason = (f"not an activity file (FIT file type: {kind})" if kind != "activity"
                                 else "activity file without any samples")
        return result

    build_activities(msgs, result)
    return result


def complete_unfinished(data: bytes) -> tuple[bytes, str | None]:
    """A file whose header says "0 bytes of data" (a recording the device never closed) made whole.

    The header is rewritten to cover every byte that follows it and a checksum is
    appended, so either decoder reads the data that is there up to any cut-off message.
    Returns the bytes to read and the problem line (None when the header is complete).
    """
    if len(data) < _HEADER_MIN or data[8:12] != b".FIT" or int.from_bytes(data[4:8], "little") != 0:
        return data, None
    header_size = data[0]
    body = len(data) - header_size
    if header_size < _HEADER_MIN or body <= 0:
        return data, None
    header = bytearray(data[:header_size])
    header[4:8] = body.to_bytes(4, "little")
    if header_size >= _HEADER_MIN + 2:
        header[_HEADER_MIN:_HEADER_MIN + 2] = b"\0\0"  # "header checksum not computed"
    whole = bytes(header) + data[header_size:]
    whole += _crc16(whole).to_bytes(2, "little")
    return whole, (f"the file header gives no data size (a recording that was never closed); "
                   f"read the {body} bytes that follow it")


def one_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def to_utc(value: Any, offset: dt.timedelta | None) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    if isinstance(value, int) and offset is not None:
        return FIT_EPOCH + offset + dt.timedelta(seconds=value)
    return None


def _relative_time_offset(msgs: FitMessages, result: DecodeResult) -> dt.timedelta | None:
    """Anchor device-relative timestamps (old FR70-style files) on the activity's local time."""
    present = msgs.record_time[~np.isnan(msgs.record_time)]
    if not present.size or present[0] >= FIT_MIN_ABSOLUTE:
        return None
    act = msgs.activity or {}
    local, ts = act.get("local_timestamp"), act.get("timestamp")
    if isinstance(local, dt.datetime) and isinstance(ts, int):
        result.problems.append("timestamps are relative to device power-on; anchored on the device's "
                               "local clock (time zone unknown, treated as UTC)")
        return (local.replace(tzinfo=_UTC) - FIT_EPOCH) - dt.timedelta(seconds=ts)
    result.problems.append("timestamps are relative to device power-on and cannot be placed in time")
    return None


def _record_times(raw: np.ndarray, offset: dt.timedelta | None) -> np.ndarray:
    """Raw FIT seconds -> UTC datetime64[ns]; relative clocks need ``offset``, else NaT."""
    out = np.full(raw.shape, np.datetime64("NaT", "ns"))
    present = ~np.isnan(raw)
    absolute = present & (raw >= FIT_MIN_ABSOLUTE)
    secs = np.where(present, raw, 0).astype(np.int64)
    out[absolute] = (secs[absolute] + FIT_EPOCH_UNIX_S).astype("datetime64[s]").astype("datetime64[ns]")
    if offset is not None:
        rel = present & ~absolute
        shift = FIT_EPOCH_UNIX_S + int(offset.total_seconds())
        out[rel] = (secs[rel] + shift).astype("datetime64[s]").astype("datetime64[ns]")
    return out


def build_activities(msgs: FitMessages, result: DecodeResult) -> None:
    offset = _relative_time_offset(msgs, result)
    ts = _record_times(msgs.record_time, offset)
    keep = ~np.isnat(ts)
    if not keep.any():
        # A pool swim keeps its lengths, not timed records: what the file is matters more than why it cannot be read.
        sports = sorted({str(x.get("sport")) for x in [*msgs.sessions, msgs.sport or {}] if x.get("sport")})
        if sports and not any(is_running(x) for x in sports):
            result.skipped_reason = f"not a run ({', '.join(sports)})"
        else:
            result.skipped_reason = "no record carries a usable timestamp; the samples cannot be placed in time"
        return
    columns = _record_columns(msgs)
    if off := impossible_position_problem(columns[S.LAT][keep], columns[S.LON][keep]):
        result.problems.append(off)
    interval_s = recording_interval_s(ts[keep])
    # Segments come from the record times as stamped, in the clock the timer events share.
    columns[S.TIMER_SEGMENT] = _timer_segments(ts, msgs.timer_events, offset, interval_s)
    legs = _legs(msgs, offset)
    adrift = np.zeros(ts.shape[0], dtype=bool)
    if len(legs) <= 1:
        # Several sessions place their records by their own time spans; chained files
        # restart the clock at each part, which is no jump.
        ts, adrift = _repair_clock_jumps(ts, keep, columns, interval_s, result)
    if not legs:
        # No session message (truncated or minimal file): one leg of unknown sport
        # unless a sport/lap message says otherwise.
        sport = (msgs.sport or {}).get("sport") or next((lp.get("sport") for lp in msgs.laps if lp.get("sport")), None)
        legs = [(None, None, {"sport": sport, "sub_sport": (msgs.sport or {}).get("sub_sport")})]
        result.problems.append("no session summary in the file (truncated before the end?)")
        result.partial = True

    masks = _leg_masks(ts, keep, adrift, legs)
    unplaced = keep & ~np.logical_or.reduce(masks)
    if unplaced.any():
        result.problems.append(
            f"{int(unplaced.sum())} of {int(keep.sum())} records lie outside every session's time span "
            f"(start + elapsed time); not imported")
        result.partial = True

    seen_starts: set[dt.datetime | None] = set()
    running_legs = 0
    for leg_index, (start, end, sess) in enumerate(legs):
        # Chained containers sometimes repeat the same activity; one copy is enough.
        if start is not None and start in seen_starts:
            continue
        seen_starts.add(start)
        sport = normalise_sport(str(sess.get("sport") or ""))
        sub = sess.get("sub_sport")
        # In a multisport file only the legs that say "running" are runs; a lone
        # session of unknown/generic sport is kept (the user imported it).
        if not (sport == "running" or (len(legs) == 1 and is_running(sport))):
            continue
        running_legs += 1
        mask = masks[leg_index]
        if not mask.any():
            result.problems.append(f"{sport} leg {leg_index} has no samples")
            continue
        if mask.all():  # the usual single leg: no copy of every column
            samples = build_samples(ts, columns)
        else:
            samples = build_samples(ts[mask], {k: v[mask] for k, v in columns.items()})
        if len(samples) < _MIN_SAMPLES:
            result.problems.append(f"{sport} leg {leg_index} has only {len(samples)} sample(s); not imported")
            continue
        result.activities.append(DecodedActivity(
            fmt="fit", sport=sport, sub_sport=str(sub) if sub else None,
            device=msgs.device, start_time=samples[S.TIMESTAMP].iloc[0].to_pydatetime(),
            samples=samples, laps=_laps(msgs, offset, start, end),
            summary=_summary(sess, offset) if start is not None else None,
            leg_index=leg_index if len(legs) > 1 else 0,
        ))
    if result.activities or result.error or result.skipped_reason:
        return
    if running_legs:
        result.skipped_reason = "no run with enough samples to import"
    else:
        sports = sorted({str(s.get("sport")) for _, _, s in legs})
        result.skipped_reason = f"not a run (sport: {', '.join(sports)})"


def _record_columns(msgs: FitMessages) -> dict[str, np.ndarray]:
    n = msgs.n_records
    fields = msgs.record_fields

    def column(*names: str, invalid: float | None = None) -> np.ndarray:
        out = None
        for nm in names:  # the first name present in a record wins
            values = fields.get(nm)
            if values is not None:
                if invalid is not None:
                    values = np.where(values == invalid, np.nan, values)
                out = np.array(values, dtype=float) if out is None else np.where(np.isnan(out), values, out)
        return np.full(n, np.nan) if out is None else out

    cols = {k: column(*names, invalid=INVALID_ALTITUDE_M if k == S.ALTITUDE else None)
            for k, names in RECORD_FIELDS.items()}
    cols[S.LAT] = column("position_lat") * _SEMICIRCLE_TO_DEG
    cols[S.LON] = column("position_long") * _SEMICIRCLE_TO_DEG
    cad = column("cadence")
    if np.isfinite(cad).any():
        cols[S.CADENCE] = per_foot_to_spm(cad, column("fractional_cadence"), speed_mps=cols.get(S.SPEED))
    for column_name, values in msgs.dev_columns:
        if (~np.isnan(values)).any() and not np.isfinite(cols.get(column_name, np.full(n, np.nan))).any():
            cols[column_name] = values
    return cols


def recording_interval_s(ts: np.ndarray) -> float:
    """The file's usual time between records (s): the median positive step, 1 s when there is none."""
    t = np.sort(ts[~np.isnat(ts)]).astype("datetime64[ns]").astype(np.int64)
    steps = np.diff(t)
    steps = steps[steps > 0]
    return float(np.median(steps)) / 1e9 if steps.size else 1.0


def _timer_segments(ts: np.ndarray, events: list[tuple[Any, str]], offset: dt.timedelta | None,
                    interval_s: float) -> np.ndarray:
    """Segment index per record: a new segment after every timer stop followed by a start.

    Devices stamp the first record after a pause up to one recording interval before the
    start event (a fenix 2 stamps it 1 s early): it opens the new segment, else the whole
    pause would count as moving.  Each record stamped deeper inside the pause (after the
    stop, earlier than that) is a segment of its own, so no part of the hole is moving.
    """
    stops, starts = [], []
    stop = None
    for when, kind in events:
        t = to_utc(when, offset)
        if t is None:
            continue
        t64 = np.datetime64(t.replace(tzinfo=None), "ns")
        if kind.startswith("stop"):
            stop = t64 if stop is None else stop
        elif kind == "start" and stop is not None:
            stops.append(stop)
            starts.append(t64)
            stop = None
    if not starts:
        return np.zeros(ts.shape[0], dtype=np.int64)
    stop_at = np.sort(np.array(stops))
    lead = np.timedelta64(int(round(interval_s * 1e9)), "ns")
    resume = np.sort(np.maximum(np.array(starts) - lead, np.array(stops) + np.timedelta64(1, "ns")))
    stopped = np.searchsorted(stop_at, ts, side="left")
    resumed = np.searchsorted(resume, ts, side="right")
    paused = stopped > resumed
    n = ts.shape[0]
    key = (stopped + resumed) * (n + 1) + np.where(paused, np.arange(1, n + 1), 0)
    return np.unique(key, return_inverse=True)[1].astype(np.int64).reshape(-1)


def _repair_clock_jumps(ts: np.ndarray, keep: np.ndarray, columns: dict[str, np.ndarray], interval_s: float,
                        result: DecodeResult) -> tuple[np.ndarray, np.ndarray]:
    """Undo the device clock's jumps between records; returns (repaired times, records adrift).

    A jump is a step back in time, or a step far longer than the recording interval
    that no timer pause explains.  Where the distance carries on across it as if one
    interval had passed, the later records are shifted back to follow on; otherwise the
    jump is reported and the records after it are "adrift" (their times are not the run's).
    """
    adrift = np.zeros(ts.shape[0], dtype=bool)
    idx = np.flatnonzero(keep)
    if idx.size < 2:
        return ts, adrift
    t = ts[idx].astype("datetime64[ns]").astype(np.int64)
    step = np.diff(t)
    seg = columns[S.TIMER_SEGMENT][idx]
    interval_ns = int(round(interval_s * 1e9))
    long_ns = max(JUMP_INTERVALS * interval_s, JUMP_MIN_S) * 1e9
    jumps = np.flatnonzero((step < 0) | ((step > long_ns) & (np.diff(seg) == 0)))
    if not jumps.size:
        return ts, adrift
    dist = _filled(columns[S.DISTANCE][idx])
    speed = columns[S.SPEED][idx]
    top = float(np.nanmax(speed)) if np.isfinite(speed).any() else np.nan
    if not np.isfinite(top) and np.isfinite(dist).any() and step[step > 0].size:
        top = float(np.nanmax(np.diff(dist)[step > 0] / (step[step > 0] / 1e9)))
    reach = JUMP_CONTINUITY_INTERVALS * interval_s * top + JUMP_CONTINUITY_SLACK_M
    shift = np.zeros(t.size, dtype=np.int64)
    for j in jumps:
        moved = dist[j + 1] - dist[j] if j + 1 < dist.size else np.nan
        by = _duration(step[j] - interval_ns)
        if np.isfinite(moved) and np.isfinite(reach) and 0.0 <= moved <= reach:
            shift[j + 1:] += step[j] - interval_ns
            result.problems.append(f"the clock jumps {by} after record {idx[j] + 1} while the distance "
                                   f"carries on; the later records are moved back to follow on")
        else:
            adrift[idx[j + 1]:] = True
            result.problems.append(f"the clock jumps {by} after record {idx[j] + 1} and the distance does not "
                                   f"carry on across it; the later records keep their times")
    out = ts.copy()
    out[idx] = (t - shift).astype("datetime64[ns]")
    return out, adrift


def _filled(v: np.ndarray) -> np.ndarray:
    """Each value, or the last finite one before it (NaN before the first)."""
    ok = np.isfinite(v)
    last = np.maximum.accumulate(np.where(ok, np.arange(v.size), -1))
    return np.where(last >= 0, v[np.maximum(last, 0)], np.nan)


def _duration(ns: int) -> str:
    """A signed clock step for a problem line: "forward 20 days 0:00:00", "back 0:05:00"."""
    way = "back" if ns < 0 else "forward"
    return f"{way} {dt.timedelta(seconds=round(abs(int(ns)) / 1e9))}"


def _leg_masks(ts: np.ndarray, keep: np.ndarray, adrift: np.ndarray,
               legs: list[tuple[dt.datetime | None, dt.datetime | None, dict]]) -> list[np.ndarray]:
    """Which records each leg holds.

    A leg holds the records inside its session's time span.  The only session of a file
    holds every record, except one adrift after an unrepaired clock jump outside its span:
    a session's elapsed time is not always where its records end (a Suunto ends it at
    the last lap), and cropping there would drop real samples.
    """
    t64 = ts.astype("datetime64[s]")
    masks = []
    for start, end, _sess in legs:
        inside = keep.copy()
        if start is not None:
            inside &= t64 >= np.datetime64(start.replace(tzinfo=None), "s")
            if end is not None:
                inside &= t64 <= np.datetime64(end.replace(tzinfo=None), "s")
        masks.append(keep & (inside | ~adrift) if len(legs) == 1 else inside)
    return masks


def _legs(msgs: FitMessages, offset: dt.timedelta | None) -> list[tuple[dt.datetime, dt.datetime | None, dict]]:
    legs = []
    for s in msgs.sessions:
        start = to_utc(s.get("start_time"), offset)
        if start is None:
            continue
        elapsed = s.get("total_elapsed_time")
        end = start + dt.timedelta(seconds=float(elapsed) + 1.0) if isinstance(elapsed, (int, float)) else None
        legs.append((start, end, s))
    legs.sort(key=lambda leg: leg[0])
    return legs


def _laps(msgs: FitMessages, offset, start, end) -> tuple[Lap, ...]:
    out = []
    for lp in msgs.laps:
        t = to_utc(lp.get("start_time"), offset)
        if t is None or (start is not None and t < start) or (end is not None and t > end):
            continue
        out.append(Lap(start_time=t, elapsed_s=_num(lp.get("total_elapsed_time")),
                       timer_s=_num(lp.get("total_timer_time")), distance_m=_num(lp.get("total_distance"))))
    return tuple(out)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _summary(s: dict[str, Any], offset) -> DeviceSummary:
    cad = _num(s.get("avg_running_cadence")) or _num(s.get("avg_cadence"))
    cad_spm = None
    if cad is not None:
        cad_spm = 2.0 * (cad + (_num(s.get("avg_fractional_cadence")) or 0.0))
    return DeviceSummary(
        sport=str(s.get("sport")) if s.get("sport") else None,
        sub_sport=str(s.get("sub_sport")) if s.get("sub_sport") else None,
        start_time=to_utc(s.get("start_time"), offset),
        total_distance_m=_num(s.get("total_distance")),
        total_elapsed_s=_num(s.get("total_elapsed_time")),
        total_timer_s=_num(s.get("total_timer_time")),
        avg_speed_mps=_num(s.get("enhanced_avg_speed")) or _num(s.get("avg_speed")),
        avg_heart_rate_bpm=_num(s.get("avg_heart_rate")),
        avg_cadence_spm=cad_spm,
        avg_stance_time_ms=_num(s.get("avg_stance_time")),
        total_ascent_m=_num(s.get("total_ascent")),
        total_descent_m=_num(s.get("total_descent")),
    )
