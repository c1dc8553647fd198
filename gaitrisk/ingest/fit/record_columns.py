"""Record messages in bulk: one definition's records at a time, into float64 columns.

Each definition's records are one structured array (a strided view, or one gather when
records interleave with other messages): invalid-value sentinels to NaN, scale/offset,
components (``enhanced_*``, compressed speed/distance with its accumulated distance),
in fitparse's field order.  A definition with only a few records is decoded message by
message in plain Python instead, with the same float64 operations in the same order.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from fitparse.records import BaseType

from . import profile as P
from .common import RECORD_FIELD_NAMES, dev_target
from .definitions import Def, Field, dev_key
from .errors import Unsupported
from .walk import Walk

# Files (or definitions) with at most this many data messages are grouped in plain Python:
# a tiny file's decode is otherwise a few dozen numpy calls of ~1 µs each.
SMALL_GROUP = 64


def _unwrap(raw: np.ndarray, acc: int, bits: int) -> np.ndarray:
    """fitparse's rollover accumulation of ``bits``-bit values, vectorised (one run from ``acc``)."""
    top = 1 << bits
    mask = top - 1
    first = int(raw[0]) + (acc & ~mask) + (top if int(raw[0]) < (acc & mask) else 0)
    steps = np.diff(raw.astype(np.int64)) % top
    return first + np.concatenate(([0], np.cumsum(steps))).astype(np.int64)


def _valid(values: np.ndarray, base: P.BaseInfo) -> np.ndarray:
    if base.is_float:
        return ~np.isnan(values)
    return values != base.invalid


def scalar_int(values: np.ndarray, base: P.BaseInfo, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, valid mask) of a one-value integer field."""
    if base.is_float or base.is_array_type or values.ndim != 1:
        raise Unsupported(f"{what} is not a single integer")
    ok = _valid(values, base)
    if base.kind == "u8" and (values[ok] >= 2**63).any():
        raise Unsupported(f"{what} beyond int64")
    return values.astype(np.int64), ok


def messages_of(buf: bytes, d: Def, pos: np.ndarray) -> np.ndarray:
    """The structured array of one definition's messages at ``pos`` (a view when evenly spaced)."""
    if len(pos) <= SMALL_GROUP:  # plain Python: a few numpy calls would cost more
        p = pos.tolist()
        stride = p[1] - p[0] if len(p) > 1 else d.size
        even = stride > 0 and all(b - a == stride for a, b in zip(p, p[1:]))
    else:
        stride = int(pos[1] - pos[0])
        even = stride > 0 and bool((np.diff(pos) == stride).all())
    if even:
        return np.ndarray((len(pos),), d.dtype, buf, int(pos[0]), (stride,))
    heads = np.frombuffer(buf, np.uint8)
    gathered = heads[pos[:, None] + np.arange(d.size)]
    return np.ascontiguousarray(gathered).reshape(-1).view(d.dtype)



@dataclass
class RecordColumns:
    """Record columns being filled, one row per record message in file order."""

    n: int
    time: np.ndarray
    fields: dict[str, np.ndarray]
    # component field number -> (raw int64, valid, component) awaiting accumulation in file order
    pending: dict[int, tuple[np.ndarray, np.ndarray, Any]] = field(default_factory=dict)
    dev: dict[tuple[int, int], tuple[str, float, np.ndarray, Any]] = field(default_factory=dict)


def _component_raw(values: np.ndarray, f: Field, comp: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A component's raw values (masked and shifted) and valid mask; None where fitparse skips it."""
    if f.base.number == P.BYTE:
        if comp.bit_offset and comp.bit_offset >= f.size * 8:
            return None  # fitparse: ValueError -> component skipped
        if f.size > 7:
            raise Unsupported("component of a byte array wider than 56 bits")
        b = values.astype(np.int64)
        whole = np.zeros(len(values), dtype=np.int64)
        for j in range(f.size):
            whole |= b[:, j] << (8 * j)  # the byte array read as a little-endian number
        ok = ~(values == 0xFF).all(axis=1)
    else:
        whole, ok = scalar_int(values, f.base, f"component source {f.profile.name}")
    return (whole >> comp.bit_offset) & ((1 << comp.bits) - 1), ok


def _scaled(values: np.ndarray, ok: np.ndarray, prof: Any) -> np.ndarray:
    out = values.astype(float)
    if prof.scale:
        out = out / prof.scale
    if prof.offset:
        out = out - prof.offset
    return np.where(ok, out, np.nan)


def _accumulated_components(d: Def) -> tuple[tuple[int, Field, Any], ...]:
    """(field index, field, component) of the accumulated components this definition feeds a column with."""
    if d.accumulated is None:
        d.accumulated = tuple(
            (i, f, comp) for i, f in enumerate(d.fields)
            for comp in (f.profile.components if f.profile is not None else None) or ()
            if comp.accumulate and d.mesg_type.fields[comp.def_num].name in RECORD_FIELD_NAMES)
    return d.accumulated


def _collect_accumulated(recs: np.ndarray, d: Def, rows: np.ndarray, cols: RecordColumns) -> None:
    """First pass: raw accumulated components, to be unwrapped across definitions in file order."""
    for i, f, comp in _accumulated_components(d):
        got = _component_raw(recs[f"f{i}"], f, comp)
        if got is None:
            continue
        pending = cols.pending.setdefault(comp.def_num, (np.zeros(cols.n, np.int64), np.zeros(cols.n, bool), comp))
        if pending[2] is not comp:
            raise Unsupported("two accumulated components feed one field")
        pending[0][rows], pending[1][rows] = got


# Steps of a record definition's decode (see _record_steps).
_TIME, _ACCUMULATED, _COMPONENT, _VALUE = range(4)


def _record_steps(d: Def) -> tuple[tuple[Any, ...], ...]:
    """What :func:`_decode_record_def` does with each field of a record definition, in fitparse's order.

    Depends on the definition alone, so it is worked out once per (cached) definition.
    """
    if d.record_steps is not None:
        return d.record_steps
    mesg_type = d.mesg_type
    steps: list[tuple[Any, ...]] = []
    for i, f in enumerate(d.fields):
        prof = f.profile
        if prof is None:
            continue
        if f.num == P.TIMESTAMP_FIELD:
            steps.append((_TIME, f"f{i}", f))
            continue
        for comp in prof.components or ():
            target = mesg_type.fields[comp.def_num]
            if target.name not in RECORD_FIELD_NAMES:
                continue
            if comp.accumulate:
                steps.append((_ACCUMULATED, target.name, comp.def_num))
            else:
                steps.append((_COMPONENT, target.name, f"f{i}", f, comp))
        if prof.name not in RECORD_FIELD_NAMES or f.base.is_array_type or f.count != 1:
            continue  # arrays and strings are not numbers to fitparse's reader either
        if not isinstance(prof.type, BaseType):
            raise Unsupported(f"record field {prof.name} has a typed (enum/bool/time) value")
        steps.append((_VALUE, prof.name, f"f{i}", f, prof))
    d.record_steps = tuple(steps)
    return d.record_steps


def _decode_record_def(recs: np.ndarray, d: Def, rows: np.ndarray, cols: RecordColumns,
                       accumulated: dict[int, np.ndarray]) -> None:
    """Decode every record message of one definition and scatter it into the columns."""
    outputs: list[tuple[str, np.ndarray]] = []  # in fitparse's FieldData order; later non-NaN wins
    for step in _record_steps(d):
        kind = step[0]
        if kind == _TIME:
            t, ok = scalar_int(recs[step[1]], step[2].base, "record timestamp")
            cols.time[rows] = np.where(ok, t.astype(float), np.nan)
        elif kind == _ACCUMULATED:
            if step[2] in accumulated:
                outputs.append((step[1], accumulated[step[2]][rows]))
        elif kind == _COMPONENT:
            got = _component_raw(recs[step[2]], step[3], step[4])
            if got is not None:
                outputs.append((step[1], _scaled(got[0], got[1], step[4])))
        else:
            values = recs[step[2]]
            outputs.append((step[1], _scaled(values, _valid(values, step[3].base), step[4])))
    merged: dict[str, np.ndarray] = {}
    for name, values in outputs:
        merged[name] = values if name not in merged else np.where(np.isnan(values), merged[name], values)
    fields, n = cols.fields, cols.n
    for name, values in merged.items():
        column = fields.get(name)
        if column is None:  # columns no record carries stay absent (all NaN to common.py)
            column = fields[name] = np.full(n, np.nan)
        column[rows] = values
    if d.dev_fields:
        _decode_dev_fields(recs, d, rows, cols)


# A record definition with at most this many messages (and no accumulated
# components) is decoded message by message in plain Python: a few dozen
# numpy calls per definition are most of a tiny file's decode.
_SMALL_RECORDS = 12
_NAN = float("nan")
_COMPONENT_TIME = _VALUE + 1  # a 64-bit record timestamp, checked value by value


def _decodes_small(d: Def, count: int) -> bool:
    return count <= _SMALL_RECORDS and not _accumulated_components(d)


def _small_plan(d: Def) -> tuple[Any, ...]:
    """(struct.Struct of the whole message, steps), once per definition.

    The steps are :func:`_record_steps` with field indices and what a value needs
    spelled out: (kind, column name, field index, invalid sentinel (None: float), scale,
    offset) for values, (kind, column name, field index, field, component, None) for components.
    """
    if d.small_plan is None:
        codes = "".join(f"{f.size}s" if f.base.is_array_type or f.count != 1 else f.base.fitparse.fmt
                        for f in d.fields + d.dev_fields)
        index = {f"f{i}": i for i in range(len(d.fields))}
        steps: list[tuple[Any, ...]] = []
        for step in _record_steps(d):
            if step[0] == _TIME:
                f = step[2]
                if f.base.kind == "u8":  # may hold values beyond int64: the checked path
                    steps.append((_COMPONENT_TIME, None, index[step[1]], f, None, None))
                else:
                    _int1(0, f, "record timestamp")  # raises here if it is not a single integer
                    steps.append((_TIME, None, index[step[1]], f.base.invalid, None, None))
            elif step[0] == _VALUE:
                f, prof = step[3], step[4]
                steps.append((_VALUE, step[1], index[step[2]], None if f.base.is_float else f.base.invalid,
                              prof.scale, prof.offset))
            elif step[0] == _COMPONENT:
                steps.append((_COMPONENT, step[1], index[step[2]], step[3], step[4], None))
        d.small_plan = (struct.Struct(d.endian + "x" + codes), tuple(steps))
    return d.small_plan


def _int1(v: Any, f: Field, what: str) -> tuple[int, bool]:
    """:func:`scalar_int` for one value."""
    base = f.base
    if base.is_float or base.is_array_type or f.count != 1:
        raise Unsupported(f"{what} is not a single integer")
    ok = v != base.invalid
    if ok and base.kind == "u8" and v >= 2**63:
        raise Unsupported(f"{what} beyond int64")
    return v, ok


def _scaled1(v: float, ok: bool, prof: Any) -> float:
    """:func:`_scaled` for one value (the same float64 operations in the same order)."""
    if not ok:
        return _NAN
    out = float(v)
    if prof.scale:
        out = out / prof.scale
    if prof.offset:
        out = out - prof.offset
    return out


def _component1(v: Any, f: Field, comp: Any) -> tuple[int, bool] | None:
    """:func:`_component_raw` for one value."""
    if f.base.number == P.BYTE:
        if comp.bit_offset and comp.bit_offset >= f.size * 8:
            return None
        if f.size > 7:
            raise Unsupported("component of a byte array wider than 56 bits")
        whole, ok = int.from_bytes(v, "little"), v != b"\xff" * f.size
    else:
        whole, ok = _int1(v, f, f"component source {f.profile.name}")
    return (whole >> comp.bit_offset) & ((1 << comp.bits) - 1), ok


def _decode_record_small(buf: bytes, d: Def, pos: list[int], rows: list[int], cols: RecordColumns) -> None:
    """:func:`_decode_record_def` for a few messages, one at a time (see :data:`_SMALL_RECORDS`).

    The same float64 operations in the same order as :func:`_scaled`, so the values are identical.
    """
    unpack, steps = _small_plan(d)
    fields, n, time = cols.fields, cols.n, cols.time
    nan = _NAN
    dev = [(i, None if f.base.is_float else f.base.invalid, entry[1], entry[2])
           for i, f, entry in _dev_entries(d, cols)] if d.dev_fields else ()
    for p, row in zip(pos, rows):
        raw = unpack.unpack_from(buf, p)
        for i, invalid, scale, column in dev:
            v = raw[i]
            # v != v: NaN, without a function call per value
            column[row] = nan if ((v != v) if invalid is None else (v == invalid)) else float(v) * scale  # noqa: PLR0124
        merged: dict[str, float] = {}  # later non-NaN wins, as in _decode_record_def
        for kind, name, i, a, b, c in steps:
            v = raw[i]
            if kind == _VALUE:
                if (v != v) if a is None else (v == a):  # noqa: PLR0124
                    value = nan
                else:
                    value = float(v)
                    if b:
                        value = value / b
                    if c:
                        value = value - c
            elif kind == _TIME:
                time[row] = nan if v == a else float(v)
                continue
            elif kind == _COMPONENT_TIME:
                t, ok = _int1(v, a, "record timestamp")
                time[row] = float(t) if ok else nan
                continue
            else:
                got = _component1(v, a, b)
                if got is None:
                    continue
                value = _scaled1(got[0], got[1], b)
            if value == value or name not in merged:  # noqa: PLR0124 (not NaN)
                merged[name] = value
        for name, value in merged.items():
            column = fields.get(name)
            if column is None:
                column = fields[name] = np.full(n, np.nan)
            column[row] = value


def _decode_dev_fields(recs: np.ndarray, d: Def, rows: np.ndarray, cols: RecordColumns) -> None:
    for i, f, entry in _dev_entries(d, cols):
        values = recs[f"f{i}"]
        entry[2][rows] = np.where(_valid(values, f.base), values.astype(float) * entry[1], np.nan)


def _dev_entries(d: Def, cols: RecordColumns) -> list[tuple[int, Field, Any]]:
    """(field index, field, column entry) of each developer field of ``d`` that fills a column."""
    # Keyed by (developer index, field number), never by name alone, so that a
    # developer field called "speed" can never overwrite the device's speed.
    out = []
    for i, f in enumerate(d.dev_fields, start=len(d.fields)):
        key = (f.dev_index, f.num)
        entry = cols.dev.get(key)
        if entry is None:
            target = dev_target(f.profile.name, f.profile.units)
            if target is None:
                continue
            entry = (target[0], target[1], np.full(cols.n, np.nan), f.profile)
            cols.dev[key] = entry
        elif entry[3] is not f.profile and dev_key(entry[3]) != dev_key(f.profile):
            raise Unsupported("developer field redefined within the file")
        if f.base.is_array_type or f.count != 1:
            continue
        out.append((i, f, entry))
    return out


def _accumulate(cols: RecordColumns, resets: list[tuple[int, int]]) -> dict[int, np.ndarray]:
    """Accumulated components (compressed distance) in file order, restarting where fitparse does."""
    out: dict[int, np.ndarray] = {}
    for comp_num, (raw, ok, comp) in cols.pending.items():
        starts = sorted({row for row, num in resets if num == comp_num})
        acc = np.zeros(cols.n, np.int64)
        bounds = (starts if starts and starts[0] == 0 else [0] + starts) + [cols.n]
        for a, b in zip(bounds[:-1], bounds[1:]):
            idx = a + np.flatnonzero(ok[a:b])
            if idx.size:
                acc[idx] = _unwrap(raw[idx], 0, comp.bits)
        out[comp_num] = _scaled(acc, ok, comp)
    return out


def decode_records(buf: bytes, walk: Walk, by_def: list[np.ndarray], row_of: np.ndarray,
                   ts: np.ndarray | None, compressed: np.ndarray) -> RecordColumns:
    """Every record message of the file as columns (one row per record, file order).

    ``by_def``: message indices of each definition; ``row_of``: the record row of each
    message; ``ts``: compressed-header timestamps (None: the file has none).
    """
    n = walk.n_records
    cols = RecordColumns(n=n, time=np.full(n, np.nan), fields={})
    defs, pos_of = walk.defs, walk.pos
    # Record definitions in order of their first record (the order fitparse meets them).
    record_defs = sorted((k for k, d in enumerate(defs) if d.mesg_num == P.MESG_RECORD and len(by_def[k])),
                         key=lambda k: int(by_def[k][0]))
    decoded = [(defs[k], None if _decodes_small(defs[k], len(by_def[k])) else
                messages_of(buf, defs[k], pos_of[by_def[k]]), row_of[by_def[k]], by_def[k])
               for k in record_defs]
    for d, recs, rows, _idx in decoded:
        if recs is not None and _accumulated_components(d):
            _collect_accumulated(recs, d, rows, cols)
    accumulated = _accumulate(cols, walk.record_resets) if cols.pending else {}
    for d, recs, rows, idx in decoded:
        if recs is None:
            _decode_record_small(buf, d, pos_of[idx].tolist(), rows.tolist(), cols)
        else:
            _decode_record_def(recs, d, rows, cols, accumulated)
        if ts is not None:  # the header's timestamp is applied last, as fitparse does
            c = compressed[idx]
            cols.time[rows[c]] = ts[idx[c]]
    return cols
