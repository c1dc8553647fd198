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

import numpy as np

from .. import schema as S
from ..records import DecodedActivity, DecodeResult, DeviceSummary, Lap
from .frame import build_samples, impossible_position_problem, per_foot_to_spm
from .sports import is_running, normalise_sport

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
}


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
        result.skipped_reason = "no record carries a usable timestamp; the samples cannot be placed in time"
        return
    columns = _record_columns(msgs)
    if off := impossible_position_problem(columns[S.LAT][keep], columns[S.LON][keep]):
        result.problems.append(off)
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


def _record_columns(msgs: FitMessages) -> dict[str, np.ndarray]:
    n = msgs.n_records
    fields = msgs.record_fields

    def column(*names: str) -> np.ndarray:
        out = np.full(n, np.nan)
        for nm in names:  # the first name present in a record wins
            values = fields.get(nm)
            if values is not None:
                out = np.where(np.isnan(out), values, out)
        return out

    cols = {k: column(*names) for k, names in RECORD_FIELDS.items()}
    cols[S.LAT] = column("position_lat") * _SEMICIRCLE_TO_DEG
    cols[S.LON] = column("position_long") * _SEMICIRCLE_TO_DEG
    cad = column("cadence")
    if np.isfinite(cad).any():
        cols[S.CADENCE] = per_foot_to_spm(cad, column("fractional_cadence"))
    for column_name, values in msgs.dev_columns:
        if (~np.isnan(values)).any() and not np.isfinite(cols.get(column_name, np.full(n, np.nan))).any():
            cols[column_name] = values
    return cols


def _timer_segments(ts: np.ndarray, events: list[tuple[Any, str]], offset: dt.timedelta | None) -> np.ndarray:
    """Segment index per record: +1 after every timer stop followed by a start."""
    seg = np.zeros(ts.shape[0], dtype=np.int64)
    starts = []
    stopped = False
    for when, kind in events:
        t = to_utc(when, offset)
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
