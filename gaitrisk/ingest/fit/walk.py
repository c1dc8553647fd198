"""The FIT message walk: every data message's position and definition, in file order.

Between two definitions every message's size follows from its header byte, so the
walk is a pointer chase through a header-byte -> size table.  It runs in C
(``_fitwalk.c``, a few ns per message) where setup.py could build it, and otherwise in
Python: one list append per message, with runs of one header byte skipped by
comparing every ``size``-th byte with numpy.  Like fitparse's reader it stops at the
first damage and keeps what precedes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anycrc
import numpy as np
from fitparse.utils import FitEOFError, FitHeaderError, FitParseError

from . import profile as P
from .definitions import Def, DevTypes, parse_definition
from .errors import Unsupported, crc_error, eof_error, need
from .messages import register_developer_field

try:
    from . import _fitwalk  # the message walk in C, built by setup.py where a compiler is present
except ImportError:  # pragma: no cover - depends on the install
    _fitwalk = None

# FIT's checksum is CRC-16/ARC.  anycrc's C code (slice-by-N tables) runs ≈ 40x faster than a
# byte-at-a-time table, which would be about a tenth of a decode.
crc16 = anycrc.Model("CRC16-ARC").calc
_HEADER_MIN = 12
# Run detection compares header bytes in chunks that grow by this factor, so a
# long run costs a few numpy calls and a short one costs one comparison.
_FIRST_CHUNK = 16
_CHUNK_GROWTH = 4


@dataclass
class Walk:
    """Every data message in file order, as flat arrays (a Python object per message would cost more than its decode)."""

    defs: list[Def] = field(default_factory=list)
    def_ids: dict[Def, int] = field(default_factory=dict)  # Def hashes by identity
    pos: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))   # header byte position
    def_index: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # into ``defs``
    seg: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))   # chained file number
    # (record row, component field number): a record definition that resets an accumulator
    record_resets: list[tuple[int, int]] = field(default_factory=list)
    n_records: int = 0
    error: Exception | None = None
    # developer index -> field number -> fitparse DevField, for this file only
    dev_types: DevTypes = field(default_factory=dict)

    def cut(self, index: int) -> None:
        """Keep only the data messages before ``index`` (file order)."""
        self.pos, self.def_index, self.seg = self.pos[:index], self.def_index[:index], self.seg[:index]
        kinds = np.array([d.mesg_num for d in self.defs], np.int64)[self.def_index]
        self.n_records = int((kinds == P.MESG_RECORD).sum())
        self.record_resets = [(row, num) for row, num in self.record_resets if row <= self.n_records]


def _eof_inside(buf: bytes, pos: int, d: Def) -> FitEOFError:
    """The error fitparse raises for a data message cut off by the end of the file."""
    n = len(buf)
    q = pos + 1
    for f in d.fields + d.dev_fields:
        if n - q < f.size:
            return eof_error(f.size, n - q)
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
    need(n, pos, _HEADER_MIN)
    if buf[pos + 8:pos + 12] != b".FIT":
        raise FitHeaderError("Invalid .FIT File Header")
    header_size = buf[pos]
    data_size = int.from_bytes(buf[pos + 4:pos + 8], "little")
    q = pos + _HEADER_MIN
    extra = header_size - _HEADER_MIN
    if extra > 0:
        if extra < 2:
            raise FitHeaderError("Irregular File Header Size")
        need(n, q, 2)
        read = int.from_bytes(buf[q:q + 2], "little")
        if check_crc:
            computed = crc16(buf[pos:q])
            if computed != read and read != 0:  # a zero header CRC means "not computed"
                raise crc_error(computed, read)
        q += 2
        if extra > 2:
            need(n, q, extra - 2)
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

    def __init__(self, walk: Walk, seg: int) -> None:
        self.walk, self.seg = walk, seg
        self.starts: list[int] = []   # message positions; -(start + 1) for a run (its length in counts)
        self.counts: list[int] = []
        # header byte -> (message size, index into walk.defs); size 0 = leave the fast loop.
        # Normal data headers are 0x00-0x3F (local number in the low 4 bits), 0x40-0x7F are
        # definitions, compressed-timestamp headers 0x80-0xFF (local number in bits 5-6).
        self.size = [0] * 256
        self.index = [-1] * 256

    def define(self, num: int, d: Def) -> None:
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
                        register_developer_field(buf, p, walk.defs[k], walk.dev_types)
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
                register_developer_field(buf, int(pos[i]), walk.defs[int(def_index[i])], walk.dev_types)
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

    def __init__(self, walk: Walk, seg: int, sink: _Sink) -> None:
        self.walk, self.seg, self.sink = walk, seg, sink
        # per header byte: size | flag << 24 | definition index << 32 (the layout _fitwalk.c reads)
        self.table = np.zeros(256, np.int64)
        self.start = sink.count  # the block's first message in the sink
        self.records = self.flagged = 0

    def define(self, num: int, d: Def) -> None:
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
                register_developer_field(buf, int(pos[i]), walk.defs[int(def_index[i])], walk.dev_types)
        out.append((pos, def_index))
        self.start, self.records, self.flagged = sink.count, 0, 0


def _def_index(walk: Walk, d: Def) -> int:
    index = walk.def_ids.get(d)
    if index is None:
        index = walk.def_ids[d] = len(walk.defs)
        walk.defs.append(d)
    return index


# A file with at most this many data messages has its positions converted to arrays once.
_SMALL_FILE = 256


def walk_messages(buf: bytes, check_crc: bool, native: bool | None = None) -> Walk:
    """Find every data message, stopping (like fitparse) at the first error.

    ``native``: walk in C (True) or Python (False); by default in C where it was built.
    """
    walk = Walk()
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
            local: dict[int, Def] = {}
            block = _CBlock(walk, seg, sink) if sink is not None else _Block(walk, seg)
            while True:
                pos = block.scan(buf, heads, pos, end)
                if pos >= end:
                    break
                need(n, pos, 1)
                header = buf[pos]
                compressed = bool(header & 0x80)
                if not compressed and header & 0x40:
                    _flush(block, buf, heads, out, segs)
                    d, pos, restarts = parse_definition(buf, pos, header, walk.dev_types)
                    # fitparse restarts accumulation at every record definition with such a component
                    walk.record_resets.extend((walk.n_records, num) for num in restarts)
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
            need(n, pos, 2)
            if check_crc:
                computed, read = crc16(buf[seg_start:pos]), int.from_bytes(buf[pos:pos + 2], "little")
                if computed != read:
                    raise crc_error(computed, read)
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
