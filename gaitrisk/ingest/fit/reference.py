"""FIT reader built on fitparse, the reference decoder.

Handles chained FIT containers, compressed-timestamp headers and developer
fields (fitparse does the byte work), multisport files (split into their
running legs by the session messages), timer pauses (timer events become
``timer_segment``), device-relative timestamps, and damaged files: a bad CRC
is retried without the check, a truncated or corrupt body keeps every message
read before the damage.  Everything after the byte work is shared with the
fast decoder (:mod:`.common`).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...records import DecodeResult
from .common import RECORD_FIELD_NAMES, FitMessages, decode_with, dev_target, device_name

log = logging.getLogger(__name__)

_FIT_EPOCH_NAIVE = dt.datetime(1989, 12, 31)


@dataclass
class _Messages:
    """Messages as fitparse yields them, before they become columns."""

    file_type: str | None = None
    device: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    # (developer index, field number) -> (canonical column, scale, {record row: value})
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
                msgs.device = device_name(v)
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
        target = dev_target(fd.name, fd.units)
        if target is None:
            return
        entry = (target[0], target[1], {})
        msgs.dev_values[key] = entry
    if isinstance(fd.value, (int, float)):
        entry[2][row] = float(fd.value) * entry[1]


def _columns(msgs: _Messages) -> FitMessages:
    """fitparse's per-record dicts -> the column form :mod:`.common` works on."""
    recs = msgs.records
    n = len(recs)

    def column(name: str) -> np.ndarray:
        out = np.full(n, np.nan)
        for i, r in enumerate(recs):
            v = r.get(name)
            if isinstance(v, (int, float)):
                out[i] = v
        return out

    times = np.full(n, np.nan)
    for i, r in enumerate(recs):
        t = r.get("timestamp")
        if isinstance(t, dt.datetime):  # fitparse turns absolute FIT times into naive UTC datetimes
            times[i] = (t - _FIT_EPOCH_NAIVE).total_seconds()
        elif isinstance(t, int):
            times[i] = t
    dev_columns = []
    for column_name, _scale, values in msgs.dev_values.values():
        dev = np.full(n, np.nan)
        dev[list(values)] = list(values.values())
        dev_columns.append((column_name, dev))
    return FitMessages(
        file_type=msgs.file_type, device=msgs.device, n_records=n, record_time=times,
        record_fields={name: column(name) for name in RECORD_FIELD_NAMES},
        dev_columns=dev_columns, sessions=msgs.sessions, laps=msgs.laps,
        timer_events=msgs.timer_events, sport=msgs.sport, activity=msgs.activity,
    )


def read_fitparse(data: bytes, check_crc: bool) -> tuple[FitMessages, Exception | None]:
    """Read with fitparse into the shared column form, keeping what precedes any error."""
    msgs, exc = _read_messages(data, check_crc)
    return _columns(msgs), exc


def decode_fit(data: bytes, name: str = "<fit>") -> DecodeResult:
    """Decode FIT bytes into running activities, never raising for bad input."""
    return decode_with(read_fitparse, data)
