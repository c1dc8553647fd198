"""A vectorised FIT decoder that gives exactly what the fitparse reader gives, much faster.

The message-header walk is a pointer chase through a header-byte -> size table
(between two definitions every message's size follows from its header byte).  It
runs in C (``_fitwalk.c``, a few ns per message) where setup.py could build it, and
otherwise in Python: one list append per message, with runs of one header byte
skipped by comparing every ``size``-th byte with numpy.  Either way it yields every
data message's position in file order.  Record messages are then decoded per
definition in bulk: one structured array (a strided view, or one gather when
records interleave with other messages), invalid-value sentinels to NaN,
scale/offset, components
(``enhanced_*``, compressed speed/distance with its accumulated distance) and
compressed timestamps.  Of the few messages the activity builder reads as dicts
(file_id, session, lap, event, sport, activity) only the fields behind the keys
it reads (:data:`.profile.DICT_FIELDS`) are decoded, with fitparse's profile
objects (subfields, components, render, scale/offset) and its type processors.
Definition layouts are cached across files by their bytes.

Everything after the byte work is shared with the reference reader
(:func:`.common.decode_with`).  The fast path raises :class:`Unsupported`
for what it does not reproduce exactly (odd field sizes, developer fields
declared in an earlier file, ...); :func:`decode_fit_fast` then reads the file
with fitparse and logs why.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

import anycrc
import numpy as np
from fitparse.processors import FitFileDataProcessor
from fitparse.profile import FIELD_TYPE_TIMESTAMP
from fitparse.records import BASE_TYPES, BaseType, DevField
from fitparse.utils import FitCRCError, FitEOFError, FitHeaderError, FitParseError

from ...records import DecodeResult
from . import profile as P
from .common import RECORD_FIELD_NAMES, FitMessages, decode_with, dev_target, device_name
from .reference import decode_fit

try:
    from . import _fitwalk  # the message walk in C, built by setup.py where a compiler is present
except ImportError:  # pragma: no cover - depends on the install
    _fitwalk = None

log = logging.getLogger(__name__)

# FIT's checksum is CRC-16/ARC.  anycrc's C code (slice-by-N tables) runs ≈ 40x faster than
# crcmod's byte-at-a-time table: on the real files the CRC went from 10 % of the decode to 0.3 %.
_crc16 = anycrc.Model("CRC16-ARC").calc
_HEADER_MIN = 12
# Run detection compares header bytes in chunks that grow by this factor, so a
# long run costs a few numpy calls and a short one costs one comparison.
_FIRST_CHUNK = 16
_CHUNK_GROWTH = 4


class Unsupported(Exception):
    """A file feature the fast path does not reproduce exactly; fitparse reads the file instead."""


class _ReferenceFailed(Exception):
    """fitparse's own parse/render/type-processor code raised on a message's values.

    fitparse's reader stops at such a message as at any damage (it reads messages in
    order), so the fast path stops there too, with the very same exception.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _StopAt(Exception):
    """Message ``index`` (in file order) is where fitparse's reader would stop, with ``error``."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(str(error))
        self.index, self.error = index, error


# Type processors that do arithmetic on the value (fitparse's FitFileDataProcessor):
# they raise for an array, a string, and can overflow for 64-bit or float values.
_ARITHMETIC_TYPES = frozenset({"date_time", "local_date_time", "localtime_into_day"})


def _processor_may_fail(prof: Any, base: P.BaseInfo, count: int) -> bool:
    """Whether fitparse's type processor could raise on this field's values, in any message type.

    Checked per definition, so fitparse's failure on such messages (which the fast path
    does not otherwise decode) is reproduced exactly by handing the file to fitparse.
    """
    if prof is None or not (base.is_array_type or base.is_float or base.size == 8 or count > 1):
        return False
    return any(v.type.name in _ARITHMETIC_TYPES for v in (prof, *(prof.subfields or ())))


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
    def_size: int = 0              # the definition message itself, without its header byte
    _dtype: np.dtype | None = None
    # decode plans by the names wanted (None: every field), built on first use
    plans: dict[frozenset[str] | None, Any] = field(default_factory=dict)
    # record decoding steps and accumulated components, built on first use: a cached
    # definition is met again in every file of one watch, so this is per-watch work
    _record_steps: tuple[Any, ...] | None = None
    _accumulated: tuple[Any, ...] | None = None
    _small: tuple[Any, ...] | None = None  # (struct.Struct of the message, steps by field index)

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


@dataclass
class _Walk:
    """Every data message in file order, as flat arrays (a Python object per message would cost more than its decode)."""

    defs: list[_Def] = field(default_factory=list)
    def_ids: dict[_Def, int] = field(default_factory=dict)  # _Def hashes by identity
    pos: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))   # header byte position
    def_index: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # into ``defs``
    seg: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))   # chained file number
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


# Definition layouts already parsed (key: the definition's bytes after the header and
# reserved byte), shared across files: a definition without developer fields depends
# on its bytes alone, and _Def carries no per-file state.  A definition with developer
# fields also depends on the descriptions the file registered for them, so its key adds
# those (by value: every file of one app repeats the same descriptions).
_DEF_CACHE: dict[Any, tuple[_Def, tuple[int, ...]]] = {}
_DEF_CACHE_MAX = 4096


def _dev_key(prof: Any) -> tuple[Any, ...]:
    """A developer field description by value (what a decode depends on)."""
    return (prof.dev_data_index, prof.def_num, prof.type.identifier, prof.name, prof.units, prof.native_field_num)


def _cache_key(buf: bytes, pos: int, header: int, fields_end: int, walk: _Walk) -> Any:
    """The definition's cache key, or None when it is cut off or uses an undescribed developer field."""
    n = len(buf)
    if fields_end > n:
        return None
    if not header & 0x20:
        return bytes(buf[pos + 2:fields_end])
    if fields_end >= n:
        return None
    dev_end = fields_end + 1 + 3 * buf[fields_end]
    if dev_end > n:
        return None
    profs = []
    for j in range(fields_end + 1, dev_end, 3):
        prof = walk.dev_types.get(buf[j + 2], {}).get(buf[j])
        if prof is None:
            return None
        profs.append(_dev_key(prof))
    return (bytes(buf[pos + 2:dev_end]), tuple(profs))


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
    key = _cache_key(buf, pos, header, q + 3 * n_fields, walk)
    cached = _DEF_CACHE.get(key) if key is not None else None
    if cached is not None:  # the same layout again (every file of one watch repeats its definitions)
        d, resets = cached
        walk.record_resets.extend((walk.n_records, num) for num in resets)
        return d, pos + 1 + d.def_size
    mesg_type = P.message_type(mesg_num)
    fields: list[_Field] = []
    offset = 1
    unreadable = None
    resets_before = len(walk.record_resets)
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
        if _processor_may_fail(prof, base, size // base.size):
            unreadable = unreadable or f"field {prof.name}: a date/time of {size} byte(s) of {base.fitparse.name}"
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
    d = _Def(mesg_num, endian, tuple(fields), tuple(dev_fields), offset, unreadable, def_size=q - pos - 1)
    if key is not None:
        if len(_DEF_CACHE) >= _DEF_CACHE_MAX:
            _DEF_CACHE.clear()
        _DEF_CACHE[key] = (d, tuple(num for row, num in walk.record_resets[resets_before:]))
    return d, q


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


# Blocks with at most this many runs are listed in plain Python (cheaper than numpy setup).
_SMALL_BLOCK = 32
# The data-message header bytes of each local number, as (slice of the 256 header bytes, its
# length): normal headers 0x00-0x3F (local number in the low 4 bits; 0x40-0x7F are
# definitions) and compressed-timestamp headers 0x80-0xFF (local number in bits 5-6, so
# only local numbers 0-3).
_HEADER_SLICES = tuple(((slice(num, 64, 16), 4),) + (((slice(0x80 + 32 * num, 0xA0 + 32 * num), 32),) if num < 4 else ())
                       for num in range(16))
# Messages a later definition may depend on (developer field descriptions): each block
# reads them before the next definition is parsed.
_READ_FIRST = (P.MESG_DEVELOPER_DATA_ID, P.MESG_FIELD_DESCRIPTION)
# Runs are followed in Python up to this many messages before numpy takes over.
_PY_RUN = 8


class _Block:
    """Data messages between two definition messages: the local definitions cannot change inside."""

    def __init__(self, walk: _Walk, seg: int) -> None:
        self.walk, self.seg = walk, seg
        self.starts: list[int] = []   # message positions; -(start + 1) for a run (its length in counts)
        self.counts: list[int] = []
        # header byte -> (message size, index into walk.defs); size 0 = leave the fast loop.
        # Normal data headers are 0x00-0x3F (local number in the low 4 bits), 0x40-0x7F are
        # definitions, compressed-timestamp headers 0x80-0xFF (local number in bits 5-6).
        self.size = [0] * 256
        self.index = [-1] * 256

    def define(self, num: int, d: _Def) -> None:
        """A definition for local number ``num`` (call after :meth:`flush`: it changes the tables)."""
        size, index = (0, -1) if d.unreadable else (d.size, _def_index(self.walk, d))
        for headers, count in _HEADER_SLICES[num]:
            self.size[headers] = (size,) * count
            self.index[headers] = (index,) * count

    def scan(self, buf: bytes, heads: np.ndarray, pos: int, end: int) -> int:
        """Step over data messages from ``pos``; returns where a definition, the end or trouble starts.

        Each message's size follows from its header byte alone, so this is a pointer
        chase through a lookup table (one list append per message: interleaved files
        have ten thousand one-message runs); runs of one header byte are skipped with
        numpy and stored as ``-(start + 1)`` with their length in ``counts``.
        """
        n, size = len(buf), self.size
        lim = min(end, n)  # a file cut at a message boundary: the walk reports the EOF
        append = self.starts.append
        while pos < lim:
            h = buf[pos]
            s = size[h]
            if not s:
                break
            nxt = pos + s
            if nxt > n:
                break
            if nxt < lim and buf[nxt] == h and h < 0x80 and nxt + s <= n:
                kmax = min(-(-(end - pos) // s), (n - pos) // s)
                k = 2
                while k < kmax and k < _PY_RUN and buf[pos + k * s] == h:  # short runs (hrv pairs) stay in Python
                    k += 1
                if k == _PY_RUN and k < kmax:
                    k = _run_length(heads, pos, s, kmax, h, False)
                append(-pos - 1)
                self.counts.append(k)
                pos += k * s
            else:
                append(pos)
                pos = nxt
        return pos

    def flush(self, buf: bytes, heads: np.ndarray, out: list[tuple[Any, Any]]) -> None:
        """The block's messages as (positions, definition indices); registers developer fields met."""
        if not self.starts:
            return
        walk = self.walk
        if len(self.starts) <= _SMALL_BLOCK:  # a few runs: plain Python beats a dozen numpy calls
            pos: Any = []
            def_index: Any = []
            multi = iter(self.counts)
            for start in self.starts:
                count = 1
                if start < 0:
                    start, count = -start - 1, next(multi)
                h = buf[start]
                k, size = self.index[h], self.size[h]
                pos.extend(range(start, start + count * size, size))
                def_index.extend([k] * count)
                mesg_num = walk.defs[k].mesg_num
                if mesg_num == P.MESG_RECORD:
                    walk.n_records += count
                elif mesg_num in _READ_FIRST:
                    for p in range(start, start + count * size, size):
                        _register_developer_field(buf, p, walk.defs[k], walk.dev_types)
        else:
            starts = np.array(self.starts, np.int64)
            runs = starts < 0
            starts[runs] = -starts[runs] - 1
            counts = np.ones(len(starts), np.int64)
            counts[runs] = self.counts
            first = heads[starts]
            sizes = np.array(self.size, np.int64)[first]
            defs = np.array(self.index, np.int64)[first]
            before = np.repeat(np.cumsum(counts) - counts, counts)
            pos = np.repeat(starts, counts) + (np.arange(int(counts.sum())) - before) * np.repeat(sizes, counts)
            def_index = np.repeat(defs, counts)
            kinds = np.array([d.mesg_num for d in walk.defs], np.int64)[def_index]
            walk.n_records += int((kinds == P.MESG_RECORD).sum())
            for i in np.flatnonzero(np.isin(kinds, _READ_FIRST)):
                _register_developer_field(buf, int(pos[i]), walk.defs[int(def_index[i])], walk.dev_types)
        out.append((pos, def_index))
        self.starts, self.counts = [], []


# Flags the C walk counts per header byte (see _fitwalk.c): records, and _READ_FIRST messages.
_FLAG_RECORD, _FLAG_READ = 1, 2


class _Sink:
    """The message arrays the C walk writes into, one pair per file, grown when full."""

    def __init__(self, n_bytes: int) -> None:
        cap = max(64, n_bytes // 16)  # one-hour record files: ≈ 25-40 bytes per message
        self.pos = np.empty(cap, np.int64)
        self.defs = np.empty(cap, np.int32)
        self.count = 0

    def grow(self) -> None:
        cap = 2 * len(self.pos)
        pos, defs = np.empty(cap, np.int64), np.empty(cap, np.int32)
        pos[:self.count], defs[:self.count] = self.pos[:self.count], self.defs[:self.count]
        self.pos, self.defs = pos, defs


class _CBlock:
    """:class:`_Block` with the walk in C: the same messages, without a Python step per message."""

    def __init__(self, walk: _Walk, seg: int, sink: _Sink) -> None:
        self.walk, self.seg, self.sink = walk, seg, sink
        # per header byte: size | flag << 24 | definition index << 32 (the layout _fitwalk.c reads)
        self.table = np.zeros(256, np.int64)
        self.start = sink.count  # the block's first message in the sink
        self.records = self.flagged = 0

    def define(self, num: int, d: _Def) -> None:
        """A definition for local number ``num`` (header bytes as in :meth:`_Block.define`)."""
        if d.unreadable:
            entry = 0
        else:
            flag = (_FLAG_RECORD if d.mesg_num == P.MESG_RECORD else
                    _FLAG_READ if d.mesg_num in _READ_FIRST else 0)
            entry = d.size | flag << 24 | _def_index(self.walk, d) << 32
        for headers, _count in _HEADER_SLICES[num]:
            self.table[headers] = entry

    def scan(self, buf: bytes, heads: np.ndarray, pos: int, end: int) -> int:
        sink = self.sink
        while True:
            pos, sink.count, records, flagged = _fitwalk.scan(buf, pos, end, self.table, sink.pos, sink.defs, sink.count)
            self.records += records
            self.flagged += flagged
            if sink.count < len(sink.pos):
                return pos
            sink.grow()

    def flush(self, buf: bytes, heads: np.ndarray, out: list[tuple[Any, Any]]) -> None:
        sink, walk = self.sink, self.walk
        if sink.count == self.start:
            return
        pos, def_index = sink.pos[self.start:sink.count], sink.defs[self.start:sink.count]
        walk.n_records += self.records
        if self.flagged:  # developer field descriptions: read before the next definition needs them
            if len(pos) <= _SMALL_BLOCK:  # most such blocks: a few numpy calls would cost more
                found = [i for i, k in enumerate(def_index.tolist()) if walk.defs[k].mesg_num in _READ_FIRST]
            else:
                found = np.flatnonzero(((self.table[heads[pos]] >> 24) & 0xFF) == _FLAG_READ).tolist()
            for i in found:
                _register_developer_field(buf, int(pos[i]), walk.defs[int(def_index[i])], walk.dev_types)
        out.append((pos, def_index))
        self.start, self.records, self.flagged = sink.count, 0, 0


def _def_index(walk: _Walk, d: _Def) -> int:
    index = walk.def_ids.get(d)
    if index is None:
        index = walk.def_ids[d] = len(walk.defs)
        walk.defs.append(d)
    return index


# A file with at most this many data messages has its positions converted to arrays once.
_SMALL_FILE = 256


def _walk(buf: bytes, check_crc: bool, native: bool | None = None) -> _Walk:
    """Find every data message, stopping (like fitparse) at the first error.

    ``native``: walk in C (True) or Python (False); by default in C where it was built.
    """
    walk = _Walk()
    sink = _Sink(len(buf)) if (_fitwalk is not None if native is None else native) else None
    heads = np.frombuffer(buf, np.uint8)
    n = len(buf)
    pos, seg = 0, 0
    out: list[tuple[np.ndarray, np.ndarray]] = []
    segs: list[int] = []
    block: _Block | _CBlock | None = None
    try:
        while True:
            seg_start = pos
            pos, end = _file_header(buf, pos, check_crc)
            local: dict[int, _Def] = {}
            block = _CBlock(walk, seg, sink) if sink is not None else _Block(walk, seg)
            while True:
                pos = block.scan(buf, heads, pos, end)
                if pos >= end:
                    break
                _need(n, pos, 1)
                header = buf[pos]
                compressed = bool(header & 0x80)
                if not compressed and header & 0x40:
                    _flush(block, buf, heads, out, segs)
                    d, pos = _definition(buf, pos, header, walk)
                    local[header & 0x0F] = d
                    block.define(header & 0x0F, d)
                    continue
                num = (header >> 5) & 0x3 if compressed else header & 0x0F
                d = local.get(num)
                if d is None:
                    raise FitParseError("Got data message with invalid local message type %d" % num)
                if d.unreadable:
                    raise Unsupported(d.unreadable)
                raise _eof_inside(buf, pos, d)  # the only other reason the scan stops
            _flush(block, buf, heads, out, segs)
            block = None
            _need(n, pos, 2)
            if check_crc:
                computed, read = _crc16(buf[seg_start:pos]), int.from_bytes(buf[pos:pos + 2], "little")
                if computed != read:
                    raise _crc_error(computed, read)
            pos += 2
            if pos >= n:
                break
            seg += 1
    except FitParseError as exc:  # damage: keep what precedes it, as fitparse does
        walk.error = exc
        if block is not None:
            _flush(block, buf, heads, out, segs)
    if sink is not None:  # the blocks' messages lie one after another in the sink
        walk.pos = sink.pos[:sink.count].copy()
        walk.def_index = sink.defs[:sink.count].astype(np.int64)
        walk.seg = np.repeat(np.array(segs, np.int64), [len(p) for p, _ in out])
    elif out and sum(len(p) for p, _ in out) <= _SMALL_FILE and all(type(p) is list for p, _ in out):
        # a small file: one conversion, not one per block
        walk.pos = np.array([x for p, _ in out for x in p], np.int64)
        walk.def_index = np.array([x for _, d in out for x in d], np.int64)
        walk.seg = np.array([g for (p, _), g in zip(out, segs) for _ in p], np.int64)
    elif out:
        walk.pos = np.concatenate([np.asarray(p, np.int64) for p, _ in out])
        walk.def_index = np.concatenate([np.asarray(d, np.int64) for _, d in out])
        walk.seg = np.repeat(np.array(segs, np.int64), [len(p) for p, _ in out])
    return walk


def _flush(block: _Block | _CBlock, buf: bytes, heads: np.ndarray, out: list, segs: list[int]) -> None:
    had = len(out)
    block.flush(buf, heads, out)
    if len(out) > had:
        segs.append(block.seg)


# ---------------------------------------------------------------------------- one message as fitparse sees it


@dataclass(frozen=True)
class _Plan:
    """Which fields of a definition one message decode needs (all, or those behind some names)."""

    process: tuple[int, ...]            # field indices whose values are produced, in field order
    parse: tuple[int, ...]              # field indices whose raw values are read (process + subfield refs)
    unpackers: tuple[Any, ...]          # struct.Struct per field index in ``parse``
    timestamp: bool                     # whether a compressed header's timestamp is wanted


def _profile_names(prof: Any, mesg_type: Any) -> set[str]:
    """Every name a field can appear under in ``get_values()``: itself, its subfields, its components."""
    names = {prof.name}
    for variant in (prof, *(prof.subfields or ())):
        names.add(variant.name)
        for comp in variant.components or ():
            target = mesg_type.fields.get(comp.def_num) if mesg_type else None
            if target is not None:
                names |= {target.name, *(sub.name for sub in target.subfields or ())}
    return names


def _plan(d: _Def, only: frozenset[str] | None) -> _Plan:
    cached = d.plans.get(only)
    if cached is not None:
        return cached
    every = d.fields + d.dev_fields
    if only is None:
        process = tuple(range(len(every)))
    else:
        process = tuple(i for i, f in enumerate(every) if f.profile is not None and (
            f.profile.name in only if f.dev_index is not None else _profile_names(f.profile, d.mesg_type) & only))
    refs = {ref.def_num for i in process if every[i].dev_index is None
            for sub in (every[i].profile.subfields or ()) for ref in sub.ref_fields}
    parse = tuple(sorted(set(process) | {i for i, f in enumerate(d.fields) if f.num in refs}))
    unpackers = tuple(struct.Struct(f"{d.endian}{every[i].count}{every[i].base.fitparse.fmt}") for i in parse)
    plan = _Plan(process, parse, unpackers, only is None or "timestamp" in only)
    d.plans[only] = plan
    return plan


def _raw_values(buf: bytes, pos: int, d: _Def, plan: _Plan) -> list[Any]:
    """Raw values of one message (None where the plan does not need them), parsed exactly as fitparse parses them."""
    every = d.fields + d.dev_fields
    raws: list[Any] = [None] * len(every)
    for i, unpacker in zip(plan.parse, plan.unpackers):
        f = every[i]
        bt = f.base.fitparse
        got = unpacker.unpack_from(buf, pos + f.offset)
        try:
            if bt.name == "byte":
                raws[i] = bt.parse(got)
            elif len(got) > 1:
                raws[i] = tuple(bt.parse(v) for v in got)
            else:
                raws[i] = bt.parse(got[0])
        except Exception as exc:  # fitparse's parser on these bytes (e.g. a string it cannot decode)
            raise _ReferenceFailed(exc) from exc
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


def _type_processor(type_name: str) -> Callable[[Any], None] | None:
    """fitparse's data-processor method for a field type (date_time, bool, ...), None when it has none.

    The default FitFileDataProcessor only has type processors (no field or unit ones),
    and they read and write just ``value`` and ``units``.
    """
    if type_name not in _TYPE_PROCESSORS:
        _TYPE_PROCESSORS[type_name] = getattr(_PROCESSOR, "process_type_%s" % type_name, None)
    return _TYPE_PROCESSORS[type_name]


class _Value:
    """What a fitparse type processor touches of a FieldData."""

    __slots__ = ("value", "units")

    def __init__(self, value: Any) -> None:
        self.value, self.units = value, None


_PROCESSOR = FitFileDataProcessor()
_TYPE_PROCESSORS: dict[str, Callable[[Any], None] | None] = {}


def _processed(prof: Any, value: Any) -> Any:
    fn = _type_processor(prof.type.name)
    if fn is None:
        return value
    holder = _Value(value)
    try:
        fn(holder)
    except Exception as exc:  # e.g. a date_time beyond datetime's range
        raise _ReferenceFailed(exc) from exc
    return holder.value


def _message_values(buf: bytes, pos: int, d: _Def, timestamp: int | None, name: str) -> dict[str, Any]:
    """``get_values()`` of a dict message, restricted to the keys the activity builder reads.

    The same steps as :func:`_message` (subfields, components, render, scale/offset,
    fitparse's type processors) without building fitparse's objects, for only the
    fields behind the wanted names; tests compare both decoders on every real file.
    """
    only = P.DICT_FIELDS[name]
    plan = _plan(d, only)
    raws = _raw_values(buf, pos, d, plan)
    every = d.fields + d.dev_fields
    pairs: list[tuple[str, Any]] = []  # in fitparse's FieldData order: later names win
    for i in plan.process:
        f, raw = every[i], raws[i]
        prof = f.profile
        if f.dev_index is not None:
            pairs.append((prof.name, _processed(prof, raw)))
            continue
        prof, _parent = _resolve_subfield(prof, d, raws)
        for comp in prof.components or ():
            try:
                craw = comp.render(raw)
            except ValueError:  # fitparse skips the component
                continue
            except Exception as exc:  # e.g. an array with invalid (None) elements: fitparse stops here
                raise _ReferenceFailed(exc) from exc
            if comp.accumulate and craw is not None:
                raise Unsupported("accumulated component outside record messages")
            cprof, _ = _resolve_subfield(d.mesg_type.fields[comp.def_num], d, raws)
            pairs.append((cprof.name, _processed(cprof, cprof.render(_scale_offset(comp, craw)))))
        pairs.append((prof.name, _processed(prof, _scale_offset(prof, prof.render(raw)))))
    if timestamp is not None and plan.timestamp:
        pairs.append((FIELD_TYPE_TIMESTAMP.name,
                      _processed(FIELD_TYPE_TIMESTAMP, FIELD_TYPE_TIMESTAMP.render(timestamp))))
    return {k: v for k, v in pairs if k in only}


_DEV_NAMES = frozenset({"developer_data_index", "field_definition_number", "fit_base_type_id", "field_name",
                        "units", "native_field_num"})


def _raw_by_name(buf: bytes, pos: int, d: _Def, names: frozenset[str]) -> dict[str, Any]:
    """fitparse's ``get_raw_value(name)`` for each of ``names`` (the first field of that name)."""
    plan = _plan(d, names)
    raws = _raw_values(buf, pos, d, plan)
    every = d.fields + d.dev_fields
    out: dict[str, Any] = {}
    for i in plan.process:
        out.setdefault(every[i].profile.name, raws[i])
    return out


# Developer field descriptions already read: (definition, message bytes) -> raw values.
# The definition is a cached, never mutated _Def (hashed by identity), so the bytes decide.
_DEV_RAW_CACHE: dict[tuple[_Def, bytes], dict[str, Any]] = {}
_DEV_FIELDS: dict[tuple[Any, ...], Any] = {}


def _register_developer_field(buf: bytes, pos: int, d: _Def, dev_types: dict[int, dict[int, Any]]) -> None:
    """fitparse's add_dev_data_id / add_dev_field_description, on this file's own registry."""
    key = (d, bytes(buf[pos:pos + d.size]))
    raw = _DEV_RAW_CACHE.get(key)
    try:
        if raw is None:
            raw = _raw_by_name(buf, pos, d, _DEV_NAMES)
            if len(_DEV_RAW_CACHE) >= _DEF_CACHE_MAX:
                _DEV_RAW_CACHE.clear()
            _DEV_RAW_CACHE[key] = raw
    except _ReferenceFailed as exc:  # fitparse stops here; the walk has no message order to cut at yet
        raise Unsupported(f"fitparse fails on a developer field description: {exc}") from exc
    index = raw.get("developer_data_index")
    if d.mesg_num == P.MESG_DEVELOPER_DATA_ID:
        dev_types[index] = {}
        return
    num = raw.get("field_definition_number")
    base_id = raw.get("fit_base_type_id")
    if index is None or index not in dev_types or base_id not in BASE_TYPES:
        raise Unsupported("developer field description fitparse would reject or resolve from earlier files")
    if not isinstance(num, int):  # an array of field numbers: fitparse fails on it (a TypeError)
        raise Unsupported(f"developer field description with field number {num!r}")
    name = raw.get("field_name") or "unnamed_dev_field_%s" % num
    value = (index, num, base_id, name, raw.get("units"), raw.get("native_field_num"))
    prof = _DEV_FIELDS.get(value)
    if prof is None:  # one object per description, so the definitions cached by value share it
        if len(_DEV_FIELDS) >= _DEF_CACHE_MAX:
            _DEV_FIELDS.clear()
        prof = _DEV_FIELDS[value] = DevField(dev_data_index=index, def_num=num, type=BASE_TYPES[base_id],
                                             name=name, units=value[4], native_field_num=value[5])
    dev_types[index][num] = prof


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


def _messages_of(buf: bytes, d: _Def, pos: np.ndarray) -> np.ndarray:
    """The structured array of one definition's messages at ``pos`` (a view when evenly spaced)."""
    if len(pos) <= _SMALL_GROUP:  # plain Python: a few numpy calls would cost more
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


def _ts_raw(buf: bytes, d: _Def, pos: np.ndarray) -> np.ndarray | None:
    """Field 253 (timestamp) of one definition's messages as float seconds, NaN where invalid."""
    found = [(i, f) for i, f in enumerate(d.fields) if f.num == P.TIMESTAMP_FIELD]
    if not found:
        return None
    if len(found) > 1 or any(f.num == P.TIMESTAMP_FIELD for f in d.dev_fields):
        raise Unsupported("several timestamp fields in one message")
    i, f = found[0]
    values, ok = _scalar_int(_messages_of(buf, d, pos)[f"f{i}"], f.base, "timestamp")
    return np.where(ok, values.astype(float), np.nan)


def _compressed_times(buf: bytes, walk: _Walk, by_def: list[np.ndarray]) -> np.ndarray:
    """Timestamp of every compressed-header message (NaN elsewhere), with fitparse's accumulator.

    fitparse keeps the last timestamp seen (0 at the start of each chained file) and
    adds each compressed header's 5-bit offset to it, rolling over when the offset is
    below the last one's low bits.  Between two anchors (a message with a timestamp
    field, or a chained file's start) that is a 5-bit unwrap: the anchor's high bits,
    plus the offset, plus 32 per rollover so far -- one cumulative sum for the file.
    """
    m = len(walk.pos)
    stamp = np.full(m, np.nan)
    for k, idx in enumerate(by_def):
        raw = _ts_raw(buf, walk.defs[k], walk.pos[idx]) if len(idx) else None
        if raw is not None:
            stamp[idx] = raw
    header = np.frombuffer(buf, np.uint8)[walk.pos]
    has_stamp = ~np.isnan(stamp)
    anchor = has_stamp.copy()
    anchor[0] = True
    anchor[1:] |= walk.seg[1:] != walk.seg[:-1]
    anchor_value = np.where(has_stamp, stamp, 0.0)[anchor].astype(np.int64)
    group = np.cumsum(anchor) - 1
    c = np.flatnonzero(header & 0x80)
    g = group[c]
    off = (header[c] & 0x1F).astype(np.int64)
    base = anchor_value[g]
    first = np.ones(len(c), bool)
    first[1:] = g[1:] != g[:-1]
    prev = np.empty(len(c), np.int64)
    prev[1:] = off[:-1]
    prev[first] = base[first] & 0x1F
    roll = (off < prev).astype(np.int64)
    rolls = np.cumsum(roll)
    starts = np.flatnonzero(first)
    within = rolls - (rolls - roll)[starts][np.cumsum(first) - 1]
    out = np.full(m, np.nan)
    out[c] = (base & ~0x1F) + off + 32 * within
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


def _accumulated_components(d: _Def) -> tuple[tuple[int, _Field, Any], ...]:
    """(field index, field, component) of the accumulated components this definition feeds a column with."""
    if d._accumulated is None:
        d._accumulated = tuple(
            (i, f, comp) for i, f in enumerate(d.fields)
            for comp in (f.profile.components if f.profile is not None else None) or ()
            if comp.accumulate and d.mesg_type.fields[comp.def_num].name in RECORD_FIELD_NAMES)
    return d._accumulated


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


# Steps of a record definition's decode (see _record_steps).
_TIME, _ACCUMULATED, _COMPONENT, _VALUE = range(4)


def _record_steps(d: _Def) -> tuple[tuple[Any, ...], ...]:
    """What :func:`_decode_record_def` does with each field of a record definition, in fitparse's order.

    Depends on the definition alone, so it is worked out once per (cached) definition.
    """
    if d._record_steps is not None:
        return d._record_steps
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
    d._record_steps = tuple(steps)
    return d._record_steps


def _decode_record_def(recs: np.ndarray, d: _Def, rows: np.ndarray, cols: _RecordColumns,
                       accumulated: dict[int, np.ndarray]) -> None:
    """Decode every record message of one definition and scatter it into the columns."""
    outputs: list[tuple[str, np.ndarray]] = []  # in fitparse's FieldData order; later non-NaN wins
    for step in _record_steps(d):
        kind = step[0]
        if kind == _TIME:
            t, ok = _scalar_int(recs[step[1]], step[2].base, "record timestamp")
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


def _decodes_small(d: _Def, count: int) -> bool:
    return count <= _SMALL_RECORDS and not _accumulated_components(d)


def _small_plan(d: _Def) -> tuple[Any, ...]:
    """(struct.Struct of the whole message, steps), once per definition.

    The steps are :func:`_record_steps` with field indices and what a value needs
    spelled out: (kind, column name, field index, invalid sentinel (None: float), scale,
    offset) for values, (kind, column name, field index, field, component, None) for components.
    """
    if d._small is None:
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
        d._small = (struct.Struct(d.endian + "x" + codes), tuple(steps))
    return d._small


def _int1(v: Any, f: _Field, what: str) -> tuple[int, bool]:
    """:func:`_scalar_int` for one value."""
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


def _component1(v: Any, f: _Field, comp: Any) -> tuple[int, bool] | None:
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


def _decode_record_small(buf: bytes, d: _Def, pos: list[int], rows: list[int], cols: _RecordColumns) -> None:
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


def _decode_dev_fields(recs: np.ndarray, d: _Def, rows: np.ndarray, cols: _RecordColumns) -> None:
    for i, f, entry in _dev_entries(d, cols):
        values = recs[f"f{i}"]
        entry[2][rows] = np.where(_valid(values, f.base), values.astype(float) * entry[1], np.nan)


def _dev_entries(d: _Def, cols: _RecordColumns) -> list[tuple[int, _Field, Any]]:
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
        elif entry[3] is not f.profile and _dev_key(entry[3]) != _dev_key(f.profile):
            raise Unsupported("developer field redefined within the file")
        if f.base.is_array_type or f.count != 1:
            continue
        out.append((i, f, entry))
    return out


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


# Files (or definitions) with at most this many data messages are grouped in plain Python:
# a tiny file's decode is otherwise a few dozen numpy calls of ~1 µs each.
_SMALL_GROUP = 64


def _group_by_def(walk: _Walk) -> list[np.ndarray]:
    """Message indices (file order) of each definition in ``walk.defs``."""
    if len(walk.pos) <= _SMALL_GROUP:
        groups: list[list[int]] = [[] for _ in walk.defs]
        for i, k in enumerate(walk.def_index.tolist()):
            groups[k].append(i)
        return [np.array(g, np.int64) for g in groups]
    order = np.argsort(walk.def_index, kind="stable")
    split = np.searchsorted(walk.def_index[order], np.arange(len(walk.defs) + 1)).tolist()
    return [order[split[k]:split[k + 1]] for k in range(len(walk.defs))]


def _assemble(buf: bytes, walk: _Walk) -> FitMessages:
    n = walk.n_records
    msgs = FitMessages(n_records=n)
    cols = _RecordColumns(n=n, time=np.full(n, np.nan), fields={})
    defs = walk.defs
    by_def = _group_by_def(walk)
    heads = np.frombuffer(buf, np.uint8)
    compressed = (heads[walk.pos] & 0x80) != 0
    ts = _compressed_times(buf, walk, by_def) if compressed.any() else None
    is_record = np.array([d.mesg_num == P.MESG_RECORD for d in defs], bool)[walk.def_index]
    row_of = np.cumsum(is_record) - 1  # record row of each message (file order)

    dict_defs = [k for k, d in enumerate(defs) if d.mesg_num in P.DICT_MESSAGES and len(by_def[k])]
    dict_msgs = sorted(i for k in dict_defs for i in by_def[k].tolist())  # few per file, in file order
    pos_of = walk.pos
    for i in dict_msgs:
        d = defs[int(walk.def_index[i])]
        name = P.DICT_MESSAGES[d.mesg_num]
        stamp = int(ts[i]) if ts is not None and compressed[i] else None
        try:
            values = _message_values(buf, int(pos_of[i]), d, stamp, name)
        except _ReferenceFailed as exc:
            raise _StopAt(i, exc.error) from exc
        _take_dict_message(msgs, name, values)

    # Record definitions in order of their first record (the order fitparse meets them).
    record_defs = sorted((k for k, d in enumerate(defs) if d.mesg_num == P.MESG_RECORD and len(by_def[k])),
                         key=lambda k: int(by_def[k][0]))
    decoded = [(defs[k], None if _decodes_small(defs[k], len(by_def[k])) else
                _messages_of(buf, defs[k], pos_of[by_def[k]]), row_of[by_def[k]], by_def[k])
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
    msgs.record_time = cols.time
    msgs.record_fields = cols.fields
    msgs.dev_columns = [(column, values) for column, _scale, values, _prof in cols.dev.values()]
    return msgs


def _take_dict_message(msgs: FitMessages, name: str, v: dict[str, Any]) -> None:
    """What the activity builder keeps of a non-record message (the same rules as the fitparse reader)."""
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
    try:
        return _assemble(data, walk), walk.error
    except _StopAt as stop:  # earlier in the file than any error the walk met
        _cut(walk, stop.index)
        walk.error = stop.error
        return _assemble(data, walk), walk.error


def _cut(walk: _Walk, index: int) -> None:
    """Keep only the data messages before ``index`` (file order)."""
    walk.pos, walk.def_index, walk.seg = walk.pos[:index], walk.def_index[:index], walk.seg[:index]
    kinds = np.array([d.mesg_num for d in walk.defs], np.int64)[walk.def_index]
    walk.n_records = int((kinds == P.MESG_RECORD).sum())
    walk.record_resets = [(row, num) for row, num in walk.record_resets if row <= walk.n_records]


# Prefix of the error a no-fallback decode returns for a file the fast path refuses on purpose.
UNSUPPORTED_PREFIX = "fast FIT decoder cannot read this file exactly"


def decode_fit_fast(data: bytes, name: str = "<fit>", fallback: bool = True) -> DecodeResult:
    """Decode FIT bytes like :func:`.reference.decode_fit`, falling back to it where the fast path cannot.

    Every fallback is logged (INFO) with the file name and reason.  ``fallback=False``
    is for the fuzzers, which must see the fast path's own behaviour: a deliberate
    :class:`Unsupported` becomes a one-line error result, and any other exception (a
    bug that the fallback would hide) propagates.
    """
    try:
        return decode_with(read_fast, bytes(data))
    except Unsupported as exc:
        reason = str(exc)
        if not fallback:
            return DecodeResult(error=f"{UNSUPPORTED_PREFIX} ({reason.splitlines()[0] if reason else 'unsupported'})")
    except Exception as exc:  # a fast-path bug must cost speed, never a file
        if not fallback:
            raise
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
    log.info("fast FIT decoder fell back to fitparse for %s: %s", name, reason)
    return decode_fit(data, name)
