"""FIT reader built on fitparse, the reference decoder.

Handles chained FIT containers, compressed-timestamp headers and developer
fields (fitparse does the byte work), multisport files (split into their
running legs by the session messages), timer pauses (timer events become
``timer_segment``), device-relative timestamps, and damaged files: a bad CRC
is retried without the check, a truncated or corrupt body keeps every message
read before the damage.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import schema as S
from ..records import DecodedActivity, DecodeResult, DeviceSummary, Lap
from .frame import build_samples, per_foot_to_spm
from .sports import is_running, normalise_sport

log = logging.getLogger(__name__)

_SEMICIRCLE_TO_DEG = 180.0 / 2**31
# FIT timestamps below this are seconds since the device powered on, not since the
# FIT epoch (FIT SDK, "date_time" type: values < 0x10000000 are system time).
_FIT_MIN_ABSOLUTE = 0x10000000
_UTC = dt.timezone.utc
# Fewer samples than this cannot describe a run (no duration, no pace).
_MIN_SAMPLES = 2

# fitparse record field -> canonical column.  The first name present wins, so the
# enhanced (32-bit, barometric) fields are preferred over the 16-bit legacy ones.
_RECORD_FIELDS: dict[str, tuple[str, ...]] = {
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
# Developer fields (Stryd, RunScribe) that fill a canonical column the device did
# not record natively: (field name, units) as the developer declared them -> column, scale.
_DEV_FIELDS: dict[tuple[str, str], tuple[str, float]] = {
    ("power", "watts"): (S.POWER, 1.0),
    ("ground time", "milliseconds"): (S.STANCE_TIME, 1.0),
    ("vertical oscillation", "centimeters"): (S.VERTICAL_OSCILLATION, 10.0),
}


@dataclass
class _Messages:
    file_type: str | None = None
    device: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    # (developer key, canonical column, scale) -> values aligned with records
    dev_values: dict[tuple[int, int], tuple[str, float, dict[int, float]]] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    laps: list[dict[str, Any]] = field(default_factory=list)
    timer_events: list[tuple[Any, str]] = field(default_factory=list)
    sport: dict[str, Any] | None = None
    activity: dict[str, Any] | None = None


def _read_messages(data: bytes, check_crc: bool) -> tuple[_Messages, Exception | None]:
    """Collect the messages we need; on an error keep what was read before it."""
    import fitparse

    msgs = _Messages()
    try:
        ff = fitparse.FitFile(io.BytesIO(data), check_crc=check_crc)
        for m in ff.get_messages():
            name = m.name
            if name == "record":
                values: dict[str, Any] = {}
                i = len(msgs.records)
                for fd in m.fields:
                    if type(fd.field).__name__ == "DevField":
                        _collect_dev_field(msgs, fd, i)
                    elif fd.value is not None:
                        values[fd.name] = fd.value
                msgs.records.append(values)
            elif name == "event":
                v = m.get_values()
                if v.get("event") == "timer" and v.get("timestamp") is not None:
                    msgs.timer_events.append((v["timestamp"], str(v.get("event_type"))))
            elif name == "session":
                msgs.sessions.append(m.get_values())
            elif name == "lap":
                msgs.laps.append(m.get_values())
            elif name == "file_id" and msgs.file_type is None:
                v = m.get_values()
                msgs.file_type = str(v.get("type")) if v.get("type") is not None else None
                product = v.get("garmin_product") or v.get("product_name") or v.get("product")
                parts = [str(p) for p in (v.get("manufacturer"), product) if p is not None]
                msgs.device = " ".join(parts) or None
            elif name == "sport" and msgs.sport is None:
                msgs.sport = m.get_values()
            elif name == "activity":
                msgs.activity = m.get_values()
    except Exception as exc:  # fitparse raises many types for damaged input
        return msgs, exc
    return msgs, None


def _collect_dev_field(msgs: _Messages, fd: Any, row: int) -> None:
    # Keyed by (developer index, field number), never by name alone, so that a
    # developer field called "speed" can never overwrite the device's speed.
    fdef = fd.field_def
    key = (int(getattr(fdef, "dev_data_index", -1)), int(getattr(fdef, "def_num", -1)))
    entry = msgs.dev_values.get(key)
    if entry is None:
        target = _DEV_FIELDS.get((str(fd.name).lower(), str(fd.units or "").lower()))
        if target is None:
            return
        entry = (target[0], target[1], {})
        msgs.dev_values[key] = entry
    if isinstance(fd.value, (int, float)):
        entry[2][row] = float(fd.value) * entry[1]


def decode_fit(data: bytes, name: str = "<fit>") -> DecodeResult:
    """Decode FIT bytes into running activities, never raising for bad input."""
    result = DecodeResult()
    msgs, exc = _read_messages(data, check_crc=True)
    if exc is not None and type(exc).__name__ == "FitCRCError":
        result.problems.append(f"file checksum wrong ({exc}); data read without verification")
        result.partial = True
        msgs, exc = _read_messages(data, check_crc=False)
    if exc is not None:
        if not msgs.records and not msgs.sessions:
            result.error = f"not a readable FIT file: {_one_line(exc)}"
            return result
        result.partial = True
        result.problems.append(
            f"file damaged after {len(msgs.records)} records ({_one_line(exc)}); kept what precedes the damage")

    if not msgs.records:
        kind = msgs.file_type or "unknown"
        result.skipped_reason = (f"not an activity file (FIT file type: {kind})" if kind != "activity"
                                 else "activity file without any samples")
        return result

    _build_activities(msgs, result)
    return result


def _one_line(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _to_utc(value: Any, offset: dt.timedelta | None) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    if isinstance(value, int) and offset is not None:
        return (dt.datetime(1989, 12, 31, tzinfo=_UTC) + offset + dt.timedelta(seconds=value))
    return None


def _relative_time_offset(msgs: _Messages, result: DecodeResult) -> dt.timedelta | None:
    """Anchor device-relative timestamps (old FR70-style files) on the activity's local time."""
    first = next((r.get("timestamp") for r in msgs.records if r.get("timestamp") is not None), None)
    if not isinstance(first, int) or first >= _FIT_MIN_ABSOLUTE:
        return None
    act = msgs.activity or {}
    local, ts = act.get("local_timestamp"), act.get("timestamp")
    if isinstance(local, dt.datetime) and isinstance(ts, int):
        result.problems.append("timestamps are relative to device power-on; anchored on the device's "
                               "local clock (time zone unknown, treated as UTC)")
        return (local.replace(tzinfo=_UTC) - dt.datetime(1989, 12, 31, tzinfo=_UTC)) - dt.timedelta(seconds=ts)
    result.problems.append("timestamps are relative to device power-on and cannot be placed in time")
    return None


def _build_activities(msgs: _Messages, result: DecodeResult) -> None:
    offset = _relative_time_offset(msgs, result)
    times = [_to_utc(r.get("timestamp"), offset) for r in msgs.records]
    keep = np.array([t is not None for t in times])
    if not keep.any():
        result.skipped_reason = "no record carries a usable timestamp; the samples cannot be placed in time"
        return
    ts = np.array([np.datetime64(t.replace(tzinfo=None), "ns") if t else np.datetime64("NaT", "ns")
                   for t in times])
    columns = _record_columns(msgs)
    columns[S.TIMER_SEGMENT] = _timer_segments(ts, msgs.timer_events, offset)

    legs = _legs(msgs, offset)
    if not legs:
        # No session message (truncated or minimal file): one leg of unknown sport
        # unless a sport/lap message says otherwise.
        sport = (msgs.sport or {}).get("sport") or next((lp.get("sport") for lp in msgs.laps if lp.get("sport")), None)
        legs = [(None, None, {"sport": sport, "sub_sport": (msgs.sport or {}).get("sub_sport")})]
        result.problems.append("no session summary in the file (truncated before the end?)")
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
        mask = keep.copy()
        if start is not None:
            t64 = ts.astype("datetime64[s]")
            mask &= (t64 >= np.datetime64(start.replace(tzinfo=None), "s"))
            if end is not None:
                mask &= (t64 <= np.datetime64(end.replace(tzinfo=None), "s"))
        if not mask.any():
            result.problems.append(f"{sport} leg {leg_index} has no samples")
            continue
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


def _record_columns(msgs: _Messages) -> dict[str, np.ndarray]:
    recs = msgs.records
    n = len(recs)

    def column(*names: str) -> np.ndarray:
        out = np.full(n, np.nan)
        for i, r in enumerate(recs):
            for nm in names:
                v = r.get(nm)
                if isinstance(v, (int, float)):
                    out[i] = v
                    break
        return out

    cols = {k: column(*names) for k, names in _RECORD_FIELDS.items()}
    cols[S.LAT] = column("position_lat") * _SEMICIRCLE_TO_DEG
    cols[S.LON] = column("position_long") * _SEMICIRCLE_TO_DEG
    cad = column("cadence")
    if np.isfinite(cad).any():
        cols[S.CADENCE] = per_foot_to_spm(cad, column("fractional_cadence"))
    for column_name, _scale, values in msgs.dev_values.values():
        if values and not np.isfinite(cols.get(column_name, np.full(n, np.nan))).any():
            dev = np.full(n, np.nan)
            dev[list(values)] = list(values.values())
            cols[column_name] = dev
    return cols


def _timer_segments(ts: np.ndarray, events: list[tuple[Any, str]], offset: dt.timedelta | None) -> np.ndarray:
    """Segment index per record: +1 after every timer stop followed by a start."""
    seg = np.zeros(ts.shape[0], dtype=np.int64)
    starts = []
    stopped = False
    for when, kind in events:
        t = _to_utc(when, offset)
        if t is None:
            continue
        if kind.startswith("stop"):
            stopped = True
        elif kind == "start" and stopped:
            starts.append(np.datetime64(t.replace(tzinfo=None), "ns"))
            stopped = False
    if starts:
        seg = np.searchsorted(np.array(starts), ts, side="right").astype(np.int64)
    return seg


def _legs(msgs: _Messages, offset: dt.timedelta | None) -> list[tuple[dt.datetime, dt.datetime | None, dict]]:
    legs = []
    for s in msgs.sessions:
        start = _to_utc(s.get("start_time"), offset)
        if start is None:
            continue
        elapsed = s.get("total_elapsed_time")
        end = start + dt.timedelta(seconds=float(elapsed) + 1.0) if isinstance(elapsed, (int, float)) else None
        legs.append((start, end, s))
    legs.sort(key=lambda leg: leg[0])
    return legs


def _laps(msgs: _Messages, offset, start, end) -> tuple[Lap, ...]:
    out = []
    for lp in msgs.laps:
        t = _to_utc(lp.get("start_time"), offset)
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
        start_time=_to_utc(s.get("start_time"), offset),
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
