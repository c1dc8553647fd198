"""A vectorised FIT decoder that gives exactly what the fitparse reader gives, much faster.

The message-header walk jumps over runs of data messages that share one local
definition (consecutive messages of one definition have one fixed size, so a
run is found by comparing every ``size``-th header byte with numpy) and record
messages are decoded per definition in bulk: one structured ``np.frombuffer``
(or one gather, when records interleave with other messages), invalid-value
sentinels to NaN, scale/offset, components (``enhanced_*``, compressed
speed/distance with its accumulated distance) and compressed timestamps as
vectorised unwraps.  The few messages the activity builder reads as dicts
(file_id, session, lap, event, sport, activity) and the developer-field
registry are decoded one by one with fitparse's own field objects and data
processor, so their values are fitparse's by construction.

Everything after the byte work is shared with the reference reader
(:func:`.fit_common.decode_with`).  The fast path raises :class:`Unsupported`
for what it does not reproduce exactly (odd field sizes, developer fields
declared in an earlier file, ...); :func:`decode_fit_fast` then reads the file
with fitparse and logs why.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from typing import Any

import crcmod.predefined
import numpy as np
from fitparse.processors import FitFileDataProcessor
from fitparse.profile import FIELD_TYPE_TIMESTAMP
from fitparse.records import (BASE_TYPES, BaseType, DataMessage, DevField, DevFieldDefinition, FieldData,
                              FieldDefinition)
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from ..records import DecodeResult
from . import fit_profile as P
from .fit_common import RECORD_FIELD_NAMES, FitMessages, decode_with, dev_target, device_name
from .fit_fitparse import decode_fit

log = logging.getLogger(__name__)

# FIT's checksum is CRC-16/ARC (crcmod's predefined "crc-16"), computed in C.
_crc16 = crcmod.predefined.mkCrcFun("crc-16")
_HEADER_MIN = 12
# Run detection compares header bytes in chunks that grow by this factor, so a
# long run costs a few numpy calls and a short one costs one comparison.
_FIRST_CHUNK = 16
_CHUNK_GROWTH = 4


class Unsupported(Exception):
    """A file feature the fast path does not reproduce exactly; fitparse reads the file instead."""


# ---------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class _Field:
    num: int
    size: int
    base: P.BaseInfo
    offset: int            # from the message's header byte
    profile: Any | None    # fitparse Field, or DevField for developer fields
    dev_index: int | None = None

    @property
    def count(self) -> int:
        return self.size // self.base.size


@dataclass(eq=False)
class _Def:
    """One definition message: the layout of the data messages that use its local number."""

    mesg_num: int
    endian: str
    fields: tuple[_Field, ...]
    dev_fields: tuple[_Field, ...]
    size: int                     # whole data message, header byte included
    unreadable: str | None = None  # why fitparse would read these messages differently
    _dtype: np.dtype | None = None

    @property
    def mesg_type(self) -> Any | None:
        return P.message_type(self.mesg_num)

    @property
    def dtype(self) -> np.dtype:
        """A structured dtype for the whole message (header byte at offset 0)."""
        if self._dtype is None:
            names, formats, offsets = [], [], []
            for i, f in enumerate(self.fields + self.dev_fields):
                code = self.endian + f.base.kind
                shape = (f.size,) if f.base.is_array_type else ((f.count,) if f.count > 1 else ())
                names.append(f"f{i}")
                formats.append((code, shape) if shape else code)
                offsets.append(f.offset)
            self._dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": self.size})
        return self._dtype


@dataclass(frozen=True)
class _Run:
    """Consecutive data messages of one definition inside one chained FIT file."""

    seg: int
    d: _Def
    start: int
    count: int
    compressed: bool


@dataclass
class _Walk:
    runs: list[_Run] = field(default_factory=list)
    # (record row, component field number): a record definition that resets an accumulator
    record_resets: list[tuple[int, int]] = field(default_factory=list)
    n_records: int = 0
    error: Exception | None = None
    # developer index -> field number -> fitparse DevField, for this file only
    dev_types: dict[int, dict[int, Any]] = field(default_factory=dict)


def _eof(size: int, got: int) -> FitEOFError:
    # fitparse's wording, so that problems read the same whichever decoder ran
    return FitEOFError("Tried to read %d bytes from .FIT file but got %d" % (size, max(got, 0)))


def _need(n: int, pos: int, size: int) -> None:
    if n - pos < size:
        raise _eof(size, n - pos)


def _crc_error(computed: int, read: int) -> FitCRCError:
    return FitCRCError("CRC Mismatch [computed: 0x%04X, read: 0x%04X]" % (computed, read))


def _definition(buf: bytes, pos: int, header: int, walk: _Walk) -> tuple[_Def, int]:
    """Parse a definition message at ``pos``; returns it and the position after it."""
    n = len(buf)
    q = pos + 1
    _need(n, q, 2)
    endian = ">" if buf[q + 1] else "<"
    q += 2
    _need(n, q, 3)
    mesg_num, n_fields = struct.unpack_from(endian + "HB", buf, q)
    q += 3
    mesg_type = P.message_type(mesg_num)
    fields: list[_Field] = []
    offset = 1
    unreadable = None
    for _ in range(n_fields):
        _need(n, q, 3)
        num, size, base_num = buf[q], buf[q + 1], buf[q + 2]
        q += 3
        base = P.base_info(base_num)
        if size % base.size:
            raise FitParseError("Invalid field size %d for type '%s' (expected a multiple of %d)"
                                % (size, base.fitparse.name, base.size))
        if size == 0:
            unreadable = "zero-size field"
        prof = mesg_type.fields.get(num) if mesg_type else None
        if prof is not None and mesg_num == P.MESG_RECORD:
            for comp in prof.components or ():
                if comp.accumulate:  # fitparse restarts accumulation at every such definition
                    walk.record_resets.append((walk.n_records, comp.def_num))
        fields.append(_Field(num, size, base, offset, prof))
        offset += size
    dev_fields: list[_Field] = []
    if header & 0x20:
        _need(n, q, 1)
        n_dev = buf[q]
        q += 1
        for _ in range(n_dev):
            _need(n, q, 3)
            num, size, dev_index = buf[q], buf[q + 1], buf[q + 2]
            q += 3
            prof = walk.dev_types.get(dev_index, {}).get(num)
            if prof is None:  # fitparse would look it up in state left by earlier files
                raise Unsupported(f"developer field {dev_index}/{num} used before its description")
            base = P.base_info(prof.type.identifier)
            if size == 0 or size % base.size:
                unreadable = "developer field size is not a multiple of its base type"
            dev_fields.append(_Field(num, size, base, offset, prof, dev_index))
            offset += size
    return _Def(mesg_num, endian, tuple(fields), tuple(dev_fields), offset, unreadable), q


def _eof_inside(buf: bytes, pos: int, d: _Def) -> FitEOFError:
    """The error fitparse raises for a data message cut off by the end of the file."""
    n = len(buf)
    q = pos + 1
    for f in d.fields + d.dev_fields:
        if n - q < f.size:
            return _eof(f.size, n - q)
        q += f.size
    raise Unsupported("data message does not fit but every field does")  # unreachable


def _run_length(heads: np.ndarray, pos: int, stride: int, kmax: int, header: int, compressed: bool) -> int:
    """How many messages from ``pos`` on share the header byte (compressed: its local type)."""
    mask = 0xE0 if compressed else 0xFF
    want = header & mask
    if kmax < 2 or (int(heads[pos + stride]) & mask) != want:
        return 1  # the common interleaved case, without a numpy call
    k, chunk = 2, _FIRST_CHUNK
    while k < kmax:
        stop = min(kmax, k + chunk)
        seen = heads[pos + k * stride: pos + (stop - 1) * stride + 1: stride]
        bad = np.flatnonzero((seen & mask) != want) if compressed else np.flatnonzero(seen != want)
        if bad.size:
            return k + int(bad[0])
        k, chunk = stop, chunk * _CHUNK_GROWTH
    return k


def _file_header(buf: bytes, pos: int, check_crc: bool) -> tuple[int, int]:
    """Parse one FIT file header at ``pos``: returns (first message position, end of data)."""
    n = len(buf)
    _need(n, pos, _HEADER_MIN)
    if buf[pos + 8:pos + 12] != b".FIT":
        raise FitHeaderError("Invalid .FIT File Header")
    header_size = buf[pos]
    data_size = int.from_bytes(buf[pos + 4:pos + 8], "little")
    q = pos + _HEADER_MIN
    extra = header_size - _HEADER_MIN
    if extra > 0:
        if extra < 2:
            raise FitHeaderError("Irregular File Header Size")
        _need(n, q, 2)
        read = int.from_bytes(buf[q:q + 2], "little")
        if check_crc:
            computed = _crc16(buf[pos:q])
            if computed != read and read != 0:  # a zero header CRC means "not computed"
                raise _crc_error(computed, read)
        q += 2
        if extra > 2:
            _need(n, q, extra - 2)
            q += extra - 2
    return q, q + data_size


def _walk(buf: bytes, check_crc: bool) -> _Walk:
    """Find every run of data messages, stopping (like fitparse) at the first error."""
    walk = _Walk()
    heads = np.frombuffer(buf, np.uint8)
    n = len(buf)
    pos, seg = 0, 0
    try:
        while True:
            seg_start = pos
            pos, end = _file_header(buf, pos, check_crc)
            local: dict[int, _Def] = {}
            while pos < end:
                _need(n, pos, 1)
                header = buf[pos]
                compressed = bool(header & 0x80)
                if not compressed and header & 0x40:
                    d, pos = _definition(buf, pos, header, walk)
                    local[header & 0x0F] = d
                    continue
                num = (header >> 5) & 0x3 if compressed else header & 0x0F
                d = local.get(num)
                if d is None:
                    raise FitParseError("Got data message with invalid local message type %d" % num)
                if d.unreadable:
                    raise Unsupported(d.unreadable)
                stride = d.size
                kmax = min(-(-(end - pos) // stride), (n - pos) // stride)
                if kmax == 0:
                    raise _eof_inside(buf, pos, d)
                k = _run_length(heads, pos, stride, kmax, header, compressed)
                run = _Run(seg, d, pos, k, compressed)
                walk.runs.append(run)
                if d.mesg_num == P.MESG_RECORD:
                    walk.n_records += k
                elif d.mesg_num in (P.MESG_DEVELOPER_DATA_ID, P.MESG_FIELD_DESCRIPTION):
                    _register_developer_fields(buf, run, walk.dev_types)
                pos += k * stride
            _need(n, pos, 2)
            if check_crc:
                computed, read = _crc16(buf[seg_start:pos]), int.from_bytes(buf[pos:pos + 2], "little")
                if computed != read:
                    raise _crc_error(computed, read)
            pos += 2
            if pos >= n:
                return walk
            seg += 1
    except FitParseError as exc:  # damage: keep what precedes it, as fitparse does
        walk.error = exc
    return walk


# ---------------------------------------------------------------------------- one message as fitparse sees it


def _raw_values(buf: bytes, pos: int, d: _Def) -> list[Any]:
    """Raw values of one message, parsed exactly as fitparse parses them."""
    raws = []
    for f in d.fields + d.dev_fields:
        bt = f.base.fitparse
        got = struct.unpack_from(f"{d.endian}{f.count}{bt.fmt}", buf, pos + f.offset)
        if bt.name == "byte":
            raws.append(bt.parse(got))
        elif len(got) > 1:
            raws.append(tuple(bt.parse(v) for v in got))
        else:
            raws.append(bt.parse(got[0]))
    return raws


def _resolve_subfield(prof: Any, d: _Def, raws: list[Any]) -> tuple[Any, Any]:
    for sub in prof.subfields or ():
        for ref in sub.ref_fields:
            for f, raw in zip(d.fields, raws):
                if f.num == ref.def_num and ref.raw_value == raw:
                    return sub, prof
    return prof, None


def _scale_offset(prof: Any, raw: Any) -> Any:
    if isinstance(raw, tuple):
        return tuple(_scale_offset(prof, x) for x in raw)
    if isinstance(raw, (int, float)):
        if prof.scale:
            raw = float(raw) / prof.scale
        if prof.offset:
            raw = raw - prof.offset
    return raw


def _message(buf: bytes, pos: int, d: _Def, timestamp: int | None) -> DataMessage:
    """One data message with fitparse's field objects and data processor (for the few non-record ones)."""
    raws = _raw_values(buf, pos, d)
    datas = []
    for f, raw in zip(d.fields + d.dev_fields, raws):
        prof, parent = f.profile, None
        if f.dev_index is not None:
            fdef: Any = DevFieldDefinition(field=prof, dev_data_index=f.dev_index, def_num=f.num, size=f.size)
        else:
            fdef = FieldDefinition(field=prof, def_num=f.num, base_type=f.base.fitparse, size=f.size)
        if prof is not None and f.dev_index is None:
            prof, parent = _resolve_subfield(prof, d, raws)
            for comp in prof.components or ():
                try:
                    craw = comp.render(raw)
                except ValueError:
                    continue
                if comp.accumulate and craw is not None:
                    raise Unsupported("accumulated component outside record messages")
                craw = _scale_offset(comp, craw)
                cprof, cparent = _resolve_subfield(d.mesg_type.fields[comp.def_num], d, raws)
                datas.append(FieldData(field_def=None, field=cprof, parent_field=cparent,
                                       value=cprof.render(craw), raw_value=craw))
            value = _scale_offset(prof, prof.render(raw))
        else:
            value = raw
        datas.append(FieldData(field_def=fdef, field=prof, parent_field=parent, value=value, raw_value=raw))
    if timestamp is not None:
        datas.append(FieldData(field_def=None, field=FIELD_TYPE_TIMESTAMP, parent_field=None,
                               value=FIELD_TYPE_TIMESTAMP.render(timestamp), raw_value=timestamp))
    processor = FitFileDataProcessor()
    for fd in datas:
        processor.run_type_processor(fd)
        processor.run_field_processor(fd)
        processor.run_unit_processor(fd)
    return DataMessage(header=None, def_mesg=None, fields=datas)


def _register_developer_fields(buf: bytes, run: _Run, dev_types: dict[int, dict[int, Any]]) -> None:
    """fitparse's add_dev_data_id / add_dev_field_description, on this file's own registry."""
    for i in range(run.count):
        msg = _message(buf, run.start + i * run.d.size, run.d, None)
        index = msg.get_raw_value("developer_data_index")
        if run.d.mesg_num == P.MESG_DEVELOPER_DATA_ID:
            dev_types[index] = {}
            continue
        num = msg.get_raw_value("field_definition_number")
        base_id = msg.get_raw_value("fit_base_type_id")
        if index is None or index not in dev_types or base_id not in BASE_TYPES:
            raise Unsupported("developer field description fitparse would reject or resolve from earlier files")
        dev_types[index][num] = DevField(
            dev_data_index=index, def_num=num, type=BASE_TYPES[base_id],
            name=msg.get_raw_value("field_name") or "unnamed_dev_field_%s" % num,
            units=msg.get_raw_value("units"), native_field_num=msg.get_raw_value("native_field_num"))


# ---------------------------------------------------------------------------- bulk decoding


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


def _scalar_int(values: np.ndarray, base: P.BaseInfo, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(int64 values, valid mask) of a one-value integer field."""
    if base.is_float or base.is_array_type or values.ndim != 1:
        raise Unsupported(f"{what} is not a single integer")
    ok = _valid(values, base)
    if base.kind == "u8" and (values[ok] >= 2**63).any():
        raise Unsupported(f"{what} beyond int64")
    return values.astype(np.int64), ok


def _ts_raw(buf: bytes, run: _Run) -> np.ndarray | None:
    """Field 253 (timestamp) of a run's messages as float seconds, NaN where invalid."""
    found = [(i, f) for i, f in enumerate(run.d.fields) if f.num == P.TIMESTAMP_FIELD]
    if not found:
        return None
    if len(found) > 1 or any(f.num == P.TIMESTAMP_FIELD for f in run.d.dev_fields):
        raise Unsupported("several timestamp fields in one message")
    i, f = found[0]
    recs = np.frombuffer(buf, run.d.dtype, count=run.count, offset=run.start)
    values, ok = _scalar_int(recs[f"f{i}"], f.base, "timestamp")
    return np.where(ok, values.astype(float), np.nan)


def _compressed_times(buf: bytes, runs: list[_Run]) -> dict[int, np.ndarray]:
    """Timestamps of compressed-header messages, per run index (fitparse's accumulator semantics)."""
    heads = np.frombuffer(buf, np.uint8)
    out: dict[int, np.ndarray] = {}
    acc, seg = 0, 0
    for i, run in enumerate(runs):
        if run.seg != seg:  # each chained file starts its own accumulator
            acc, seg = 0, run.seg
        raw = _ts_raw(buf, run)
        if not run.compressed:
            if raw is not None and (~np.isnan(raw)).any():
                acc = int(raw[~np.isnan(raw)][-1])
            continue
        offsets = heads[run.start: run.start + run.count * run.d.size: run.d.size].astype(np.int64) & 0x1F
        if raw is None:
            values = _unwrap(offsets, acc, 5)
        else:  # rare: a compressed header on a message that also carries a timestamp
            vals = []
            for off, t in zip(offsets, raw):
                if not np.isnan(t):
                    acc = int(t)
                acc = int(_unwrap(np.array([off]), acc, 5)[0])
                vals.append(acc)
            values = np.array(vals, dtype=np.int64)
        acc = int(values[-1])
        out[i] = values.astype(float)
    return out


@dataclass
class _RecordColumns:
    """Record columns being filled, one row per record message in file order."""

    n: int
    time: np.ndarray
    fields: dict[str, np.ndarray]
    # component field number -> (raw int64, valid, component) awaiting accumulation in file order
    pending: dict[int, tuple[np.ndarray, np.ndarray, Any]] = field(default_factory=dict)
    dev: dict[tuple[int, int], tuple[str, float, np.ndarray, Any]] = field(default_factory=dict)


def _records_of(buf: bytes, d: _Def, runs: list[_Run]) -> np.ndarray:
    """The structured array of a definition's record messages (a view when they are contiguous)."""
    if len(runs) == 1:
        return np.frombuffer(buf, d.dtype, count=runs[0].count, offset=runs[0].start)
    heads = np.frombuffer(buf, np.uint8)
    starts = np.concatenate([r.start + d.size * np.arange(r.count) for r in runs])
    gathered = heads[starts[:, None] + np.arange(d.size)]
    return np.ascontiguousarray(gathered).reshape(-1).view(d.dtype)


def _component_raw(values: np.ndarray, f: _Field, comp: Any) -> tuple[np.ndarray, np.ndarray] | None:
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
        whole, ok = _scalar_int(values, f.base, f"component source {f.profile.name}")
    return (whole >> comp.bit_offset) & ((1 << comp.bits) - 1), ok


def _scaled(values: np.ndarray, ok: np.ndarray, prof: Any) -> np.ndarray:
    out = values.astype(float)
    if prof.scale:
        out = out / prof.scale
    if prof.offset:
        out = out - prof.offset
    return np.where(ok, out, np.nan)


def _accumulated_components(d: _Def) -> list[tuple[int, _Field, Any]]:
    """(field index, field, component) of the accumulated components this definition feeds a column with."""
    out = []
    for i, f in enumerate(d.fields):
        for comp in (f.profile.components if f.profile is not None else None) or ():
            if comp.accumulate and d.mesg_type.fields[comp.def_num].name in RECORD_FIELD_NAMES:
                out.append((i, f, comp))
    return out


def _collect_accumulated(recs: np.ndarray, d: _Def, rows: np.ndarray, cols: _RecordColumns) -> None:
    """First pass: raw accumulated components, to be unwrapped across definitions in file order."""
    for i, f, comp in _accumulated_components(d):
        got = _component_raw(recs[f"f{i}"], f, comp)
        if got is None:
            continue
        pending = cols.pending.setdefault(comp.def_num, (np.zeros(cols.n, np.int64), np.zeros(cols.n, bool), comp))
        if pending[2] is not comp:
            raise Unsupported("two accumulated components feed one field")
        pending[0][rows], pending[1][rows] = got


def _decode_record_def(recs: np.ndarray, d: _Def, rows: np.ndarray, cols: _RecordColumns,
                       accumulated: dict[int, np.ndarray]) -> None:
    """Decode every record message of one definition and scatter it into the columns."""
    mesg_type = d.mesg_type
    outputs: list[tuple[str, np.ndarray]] = []  # in fitparse's FieldData order; later non-NaN wins
    for i, f in enumerate(d.fields):
        prof = f.profile
        if prof is None:
            continue
        values = recs[f"f{i}"]
        if f.num == P.TIMESTAMP_FIELD:
            t, ok = _scalar_int(values, f.base, "record timestamp")
            cols.time[rows] = np.where(ok, t.astype(float), np.nan)
            continue
        for comp in prof.components or ():
            target = mesg_type.fields[comp.def_num]
            if target.name not in RECORD_FIELD_NAMES:
                continue
            if comp.accumulate:
                if comp.def_num in accumulated:
                    outputs.append((target.name, accumulated[comp.def_num][rows]))
                continue
            got = _component_raw(values, f, comp)
            if got is not None:
                outputs.append((target.name, _scaled(got[0], got[1], comp)))
        if prof.name not in RECORD_FIELD_NAMES or f.base.is_array_type or f.count != 1:
            continue  # arrays and strings are not numbers to fitparse's reader either
        if not isinstance(prof.type, BaseType):
            raise Unsupported(f"record field {prof.name} has a typed (enum/bool/time) value")
        outputs.append((prof.name, _scaled(values, _valid(values, f.base), prof)))
    merged: dict[str, np.ndarray] = {}
    for name, values in outputs:
        merged[name] = values if name not in merged else np.where(np.isnan(values), merged[name], values)
    for name, values in merged.items():
        cols.fields[name][rows] = values
    _decode_dev_fields(recs, d, rows, cols)


def _decode_dev_fields(recs: np.ndarray, d: _Def, rows: np.ndarray, cols: _RecordColumns) -> None:
    # Keyed by (developer index, field number), never by name alone, so that a
    # developer field called "speed" can never overwrite the device's speed.
    for i, f in enumerate(d.dev_fields, start=len(d.fields)):
        key = (f.dev_index, f.num)
        entry = cols.dev.get(key)
        if entry is None:
            target = dev_target(f.profile.name, f.profile.units)
            if target is None:
                continue
            entry = (target[0], target[1], np.full(cols.n, np.nan), f.profile)
            cols.dev[key] = entry
        elif entry[3] is not f.profile:
            raise Unsupported("developer field redefined within the file")
        if f.base.is_array_type or f.count != 1:
            continue
        values = recs[f"f{i}"]
        entry[2][rows] = np.where(_valid(values, f.base), values.astype(float) * entry[1], np.nan)


def _accumulate(cols: _RecordColumns, resets: list[tuple[int, int]]) -> dict[int, np.ndarray]:
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


def _assemble(buf: bytes, walk: _Walk) -> FitMessages:
    runs = walk.runs
    ts = _compressed_times(buf, runs) if any(r.compressed for r in runs) else {}
    msgs = FitMessages(n_records=walk.n_records)
    cols = _RecordColumns(n=walk.n_records, time=np.full(walk.n_records, np.nan),
                          fields={name: np.full(walk.n_records, np.nan) for name in RECORD_FIELD_NAMES})
    by_def: dict[_Def, tuple[list[_Run], list[np.ndarray]]] = {}
    row = 0
    for i, run in enumerate(runs):
        if run.d.mesg_num == P.MESG_RECORD:
            rows = np.arange(row, row + run.count)
            row += run.count
            entry = by_def.setdefault(run.d, ([], []))
            entry[0].append(run)
            entry[1].append(rows)
            if i in ts:
                cols.time[rows] = ts[i]
        elif run.d.mesg_num in P.DICT_MESSAGES:
            for j in range(run.count):
                stamp = int(ts[i][j]) if i in ts else None
                _take_dict_message(msgs, P.DICT_MESSAGES[run.d.mesg_num],
                                   _message(buf, run.start + j * run.d.size, run.d, stamp))
    decoded = [(d, _records_of(buf, d, d_runs), np.concatenate(d_rows), d_runs, d_rows)
               for d, (d_runs, d_rows) in by_def.items()]  # in order of each definition's first record
    for d, recs, rows, _runs, _rows in decoded:
        _collect_accumulated(recs, d, rows, cols)
    accumulated = _accumulate(cols, walk.record_resets)
    for d, recs, rows, d_runs, d_rows in decoded:
        compressed_rows = np.concatenate([r for r, run in zip(d_rows, d_runs) if run.compressed] or [[]]).astype(int)
        keep = cols.time[compressed_rows].copy()
        _decode_record_def(recs, d, rows, cols, accumulated)
        cols.time[compressed_rows] = keep  # the header's timestamp is applied last, as fitparse does
    msgs.record_time = cols.time
    msgs.record_fields = cols.fields
    msgs.dev_columns = [(column, values) for column, _scale, values, _prof in cols.dev.values()]
    return msgs


def _take_dict_message(msgs: FitMessages, name: str, message: DataMessage) -> None:
    """What the activity builder keeps of a non-record message (the same rules as the fitparse reader)."""
    v = message.get_values()
    if name == "event":
        if v.get("event") == "timer" and v.get("timestamp") is not None:
            msgs.timer_events.append((v["timestamp"], str(v.get("event_type"))))
    elif name == "session":
        msgs.sessions.append(v)
    elif name == "lap":
        msgs.laps.append(v)
    elif name == "file_id" and msgs.file_type is None:
        msgs.file_type = str(v.get("type")) if v.get("type") is not None else None
        msgs.device = device_name(v)
    elif name == "sport" and msgs.sport is None:
        msgs.sport = v
    elif name == "activity":
        msgs.activity = v


def read_fast(data: bytes, check_crc: bool) -> tuple[FitMessages, Exception | None]:
    """Read FIT bytes into the shared column form; raises :class:`Unsupported` (or a bug) for fallback."""
    walk = _walk(data, check_crc)
    return _assemble(data, walk), walk.error


def decode_fit_fast(data: bytes, name: str = "<fit>") -> DecodeResult:
    """Decode FIT bytes like :func:`.fit_fitparse.decode_fit`, falling back to it where the fast path cannot."""
    try:
        return decode_with(read_fast, bytes(data))
    except Unsupported as exc:
        reason = str(exc)
    except Exception as exc:  # a fast-path bug must cost speed, never a file
        reason = f"{type(exc).__name__}: {exc}"
    log.info("fast FIT decoder fell back to fitparse for %s: %s", name, reason)
    return decode_fit(data, name)
