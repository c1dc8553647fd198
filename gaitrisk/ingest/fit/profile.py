"""The FIT profile as the fast decoder needs it, taken from fitparse's profile module.

Message and field numbers, base types, scales, offsets, components and enum names
all come from ``fitparse.profile`` / ``fitparse.records`` (the reference decoder's
own tables), so the two decoders cannot disagree about the profile.  Only what
numpy needs on top is defined here: the numpy code of each base type, and the
base types' invalid-value sentinels (FIT SDK, "Base Types" table), checked
against fitparse's base-type formats at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from fitparse.profile import MESSAGE_TYPES
from fitparse.records import BASE_TYPE_BYTE, BASE_TYPES

# struct format letter (fitparse's BaseType.fmt) -> numpy kind and size.
_NUMPY_KIND = {"B": "u1", "b": "i1", "h": "i2", "H": "u2", "i": "i4", "I": "u4",
               "q": "i8", "Q": "u8", "f": "f4", "d": "f8", "s": "u1"}
# Invalid value per base type number (FIT SDK); None = NaN (floats); strings and
# byte arrays are handled as arrays (byte: invalid when every byte is 0xFF).
_INVALID: dict[int, int | None] = {
    0x00: 0xFF, 0x01: 0x7F, 0x02: 0xFF, 0x83: 0x7FFF, 0x84: 0xFFFF, 0x85: 0x7FFFFFFF,
    0x86: 0xFFFFFFFF, 0x88: None, 0x89: None, 0x0A: 0, 0x8B: 0, 0x8C: 0,
    0x8E: 0x7FFFFFFFFFFFFFFF, 0x8F: 0xFFFFFFFFFFFFFFFF, 0x90: 0,
}
BYTE = 0x0D
STRING = 0x07
TIMESTAMP_FIELD = 253

MESG_FILE_ID = next(m.mesg_num for m in MESSAGE_TYPES.values() if m.name == "file_id")
MESG_RECORD = next(m.mesg_num for m in MESSAGE_TYPES.values() if m.name == "record")
MESG_DEVELOPER_DATA_ID = next(m.mesg_num for m in MESSAGE_TYPES.values() if m.name == "developer_data_id")
MESG_FIELD_DESCRIPTION = next(m.mesg_num for m in MESSAGE_TYPES.values() if m.name == "field_description")
# Messages the activity builder reads as dicts (few per file), by number.
DICT_MESSAGES: dict[int, str] = {
    m.mesg_num: m.name for m in MESSAGE_TYPES.values()
    if m.name in ("file_id", "session", "lap", "event", "sport", "activity")
}
# The keys of those dicts that :mod:`.common` reads (``get_values()`` names).
# Decoding only these fields is what makes a 70-field session message cheap; a
# key missing here would silently read as absent, so keep it in step with common.py.
DICT_FIELDS: dict[str, frozenset[str]] = {
    "file_id": frozenset({"type", "manufacturer", "garmin_product", "product_name", "product"}),
    "session": frozenset({
        "start_time", "total_elapsed_time", "total_timer_time", "total_distance", "sport", "sub_sport",
        "avg_running_cadence", "avg_cadence", "avg_fractional_cadence", "enhanced_avg_speed", "avg_speed",
        "avg_heart_rate", "avg_stance_time", "total_ascent", "total_descent"}),
    "lap": frozenset({"start_time", "total_elapsed_time", "total_timer_time", "total_distance", "sport"}),
    "event": frozenset({"event", "event_type", "timestamp"}),
    "sport": frozenset({"sport", "sub_sport"}),
    "activity": frozenset({"local_timestamp", "timestamp"}),
}


@dataclass(frozen=True)
class BaseInfo:
    """A FIT base type as numpy reads it."""

    number: int          # the key fitparse uses (unknown numbers read as 'byte')
    fitparse: Any        # fitparse's BaseType (name, fmt, parse)
    kind: str            # numpy kind without byte order, e.g. 'u2'
    size: int
    invalid: int | None  # sentinel; None for floats (NaN) and arrays
    is_float: bool
    is_array_type: bool  # byte / string: read as arrays of uint8


@lru_cache(maxsize=None)
def base_info(number: int) -> BaseInfo:
    """The base type for a definition's base-type byte, as fitparse resolves it."""
    bt = BASE_TYPES.get(number, BASE_TYPE_BYTE)
    key = next(k for k, v in BASE_TYPES.items() if v is bt)
    kind = _NUMPY_KIND[bt.fmt]
    if np.dtype(kind).itemsize != bt.size:  # guards the two tables against drift
        raise AssertionError(f"base type {bt.name}: numpy size differs from fitparse's")
    return BaseInfo(number=key, fitparse=bt, kind=kind, size=bt.size, invalid=_INVALID.get(key),
                    is_float=bt.fmt in "fd", is_array_type=key in (BYTE, STRING))


def message_type(mesg_num: int) -> Any | None:
    """fitparse's MessageType for a global message number (None when unknown)."""
    return MESSAGE_TYPES.get(mesg_num)
