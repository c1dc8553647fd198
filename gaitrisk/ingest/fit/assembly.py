"""Assembly: the walked messages of one file into the column form both FIT readers share.

Compressed-header timestamps are worked out for the whole file, the few summary
messages are decoded one by one (:mod:`.messages`) and the records in bulk
(:mod:`.record_columns`); everything after that is shared with the reference reader
(:func:`.common.decode_with`).
"""

from __future__ import annotations

import numpy as np

from . import profile as P
from .common import FitMessages
from .definitions import Def
from .errors import ReferenceFailed, StopAt, Unsupported
from .messages import message_values, take_dict_message
from .record_columns import SMALL_GROUP, decode_records, messages_of, scalar_int
from .walk import Walk


def _ts_raw(buf: bytes, d: Def, pos: np.ndarray) -> np.ndarray | None:
    """Field 253 (timestamp) of one definition's messages as float seconds, NaN where invalid."""
    found = [(i, f) for i, f in enumerate(d.fields) if f.num == P.TIMESTAMP_FIELD]
    if not found:
        return None
    if len(found) > 1 or any(f.num == P.TIMESTAMP_FIELD for f in d.dev_fields):
        raise Unsupported("several timestamp fields in one message")
    i, f = found[0]
    values, ok = scalar_int(messages_of(buf, d, pos)[f"f{i}"], f.base, "timestamp")
    return np.where(ok, values.astype(float), np.nan)


def _compressed_times(buf: bytes, walk: Walk, by_def: list[np.ndarray]) -> np.ndarray:
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


def _group_by_def(walk: Walk) -> list[np.ndarray]:
    """Message indices (file order) of each definition in ``walk.defs``."""
    if len(walk.pos) <= SMALL_GROUP:
        groups: list[list[int]] = [[] for _ in walk.defs]
        for i, k in enumerate(walk.def_index.tolist()):
            groups[k].append(i)
        return [np.array(g, np.int64) for g in groups]
    order = np.argsort(walk.def_index, kind="stable")
    split = np.searchsorted(walk.def_index[order], np.arange(len(walk.defs) + 1)).tolist()
    return [order[split[k]:split[k + 1]] for k in range(len(walk.defs))]


def assemble(buf: bytes, walk: Walk) -> FitMessages:
    """The walked messages in the shared column form; raises :class:`.errors.StopAt` where fitparse would stop."""
    n = walk.n_records
    msgs = FitMessages(n_records=n)
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
            values = message_values(buf, int(pos_of[i]), d, stamp, name)
        except ReferenceFailed as exc:
            raise StopAt(i, exc.error) from exc
        take_dict_message(msgs, name, values)

    cols = decode_records(buf, walk, by_def, row_of, ts, compressed)
    msgs.record_time = cols.time
    msgs.record_fields = cols.fields
    msgs.dev_columns = [(column, values) for column, _scale, values, _prof in cols.dev.values()]
    return msgs

