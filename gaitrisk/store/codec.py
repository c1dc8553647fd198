"""Samples frame <-> compact bytes stored beside the activity row.

Written in the same SQLite transaction as the activity so neither can exist without the other.
Import workers call :func:`encoded` and ship the bytes to the single writer instead of the frame.

Format ``zcol-v1`` (what the store writes): ``MAGIC``, a 4-byte little-endian header length, a
JSON header ``{"n": rows, "cols": [[name, dtype], ...]}``, then one zstd frame holding every
column's little-endian bytes in order, each column byte-shuffled (all first bytes of its values, then all second
bytes, ...).  Shuffling puts the slowly varying high bytes of neighbouring samples side by side,
which is what lets a fast compressor level work: on a one-hour 1 s run it encodes in ≈ 2 ms
instead of the 13 ms the former zlib ``.npz`` took, and the blob is ≈ 20 % smaller.  Column names
and dtypes are checked against :mod:`gaitrisk.schema` on the way in and out, the decompressed size
must be exactly what the header promises (a blob cannot inflate without bound), and nothing is
ever unpickled.

``npz-v1`` (a zlib ``.npz`` of one array per column) is the older format;
it is still read, so an existing store needs no migration.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import schema as S

if TYPE_CHECKING:  # numpy and pandas load on first use: a no-op nightly import never needs them
    import numpy as np
    import pandas as pd

FORMAT = "zcol-v1"
LEGACY_FORMAT = "npz-v1"
FORMATS = (FORMAT, LEGACY_FORMAT)
MAGIC = b"GRZC"
# zstd level 3 (its default) on shuffled columns: 1.6 ms for a one-hour run; level 1 saves 0.6 ms
# for 9 % more bytes, which the store keeps for years.
_ZSTD_LEVEL = 3
_MAX_HEADER = 4096
# A zcol-v1 blob's header lies within its first this many bytes: all :func:`column_names` needs.
HEADER_BYTES = 8 + _MAX_HEADER
# The timestamp column is stored as int64 nanoseconds since the epoch, UTC.
_STORED_DTYPE = {c.name: ("int64" if c.name == S.TIMESTAMP else c.dtype) for c in S.SAMPLE_COLUMNS}


class CodecError(ValueError):
    """A samples blob that is not what its format promises."""


@dataclass(frozen=True)
class Encoded:
    """Samples ready to store: small and picklable (what an import worker returns)."""

    format: str
    n_rows: int
    blob: bytes = field(repr=False)


def encoded(samples: pd.DataFrame) -> Encoded:
    return Encoded(FORMAT, len(samples), encode(samples))


def _column_arrays(samples: pd.DataFrame) -> dict:
    import numpy as np

    arrays: dict[str, np.ndarray] = {}
    for col in samples.columns:
        if col not in S.COLUMNS_BY_NAME:
            raise KeyError(f"unknown sample column {col!r}")
        if col == S.TIMESTAMP:
            # a tz-aware column converts to UTC wall time here (pandas' contract for to_numpy)
            arrays[col] = samples[col].to_numpy("datetime64[ns]").view(np.int64)
        else:
            arrays[col] = np.ascontiguousarray(samples[col].to_numpy(), dtype=_STORED_DTYPE[col])
    return arrays


def encode(samples: pd.DataFrame) -> bytes:
    import numpy as np
    import zstandard

    arrays = _column_arrays(samples)
    n = len(samples)
    header = json.dumps({"n": n, "cols": [[k, str(a.dtype)] for k, a in arrays.items()]},
                        separators=(",", ":")).encode()
    # Little-endian whatever the machine (a store moves between machines), then (n, itemsize)
    # bytes -> transposed: byte 0 of every value, then byte 1, ...
    body = b"".join(a.astype(a.dtype.newbyteorder("<"), copy=False).view(np.uint8).reshape(n, a.itemsize).T.tobytes()
                    for a in arrays.values())
    packed = zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(body)
    return MAGIC + struct.pack("<I", len(header)) + header + packed


def column_names(blob: bytes, fmt: str = FORMAT) -> tuple[str, ...]:
    """The sample columns a blob holds, from its header alone (nothing is decompressed).

    For ``zcol-v1`` the blob's first :data:`HEADER_BYTES` bytes are enough.
    """
    if fmt == FORMAT:
        return tuple(name for name, _ in _zcol_header(blob)[1])
    if fmt == LEGACY_FORMAT:
        import numpy as np

        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            return tuple(npz.files)
    raise CodecError(f"unknown samples format {fmt!r}")


def decode(blob: bytes, fmt: str = FORMAT) -> pd.DataFrame:
    """The samples frame back from a blob in ``fmt`` (``zcol-v1`` or the legacy ``npz-v1``)."""
    import pandas as pd

    data = decode_columns(blob, fmt)
    if S.TIMESTAMP in data:
        data[S.TIMESTAMP] = pd.to_datetime(data[S.TIMESTAMP], utc=True)
    return pd.DataFrame(data)


def decode_columns(blob: bytes, fmt: str = FORMAT) -> dict[str, np.ndarray]:
    """The samples back as one array per column, in :data:`gaitrisk.schema.SAMPLE_COLUMNS` order
    (the timestamps as naive UTC ``datetime64[ns]``): :func:`decode` without pandas."""
    if fmt == FORMAT:
        data = _decode_zcol(blob)
    elif fmt == LEGACY_FORMAT:
        data = _decode_npz(blob)
    else:
        raise CodecError(f"unknown samples format {fmt!r}")
    if S.TIMESTAMP in data:
        data[S.TIMESTAMP] = data[S.TIMESTAMP].view("datetime64[ns]")
    return {c.name: data[c.name] for c in S.SAMPLE_COLUMNS if c.name in data}


def _zcol_header(blob: bytes) -> tuple[int, list[tuple[str, str]], int]:
    """(rows, [(column, stored dtype), ...], header length) of a zcol-v1 blob, checked."""
    if blob[:4] != MAGIC or len(blob) < 8:
        raise CodecError("not a zcol-v1 samples blob")
    (hlen,) = struct.unpack_from("<I", blob, 4)
    if hlen > _MAX_HEADER or 8 + hlen > len(blob):
        raise CodecError("samples blob header is damaged")
    try:
        header = json.loads(blob[8:8 + hlen])
        n, cols = int(header["n"]), [(str(k), str(t)) for k, t in header["cols"]]
    except (ValueError, KeyError, TypeError) as e:
        raise CodecError(f"samples blob header is damaged: {e}") from None
    for name, dtype in cols:
        if _STORED_DTYPE.get(name) != dtype:
            raise CodecError(f"samples blob has an unexpected column {name!r} ({dtype})")
    if n < 0:
        raise CodecError("samples blob header is damaged: negative row count")
    return n, cols, hlen


def _decode_zcol(blob: bytes) -> dict:
    import numpy as np
    import zstandard

    n, cols, hlen = _zcol_header(blob)
    sizes = [np.dtype(t).itemsize * n for _, t in cols]
    expected = sum(sizes)
    packed = blob[8 + hlen:]
    try:
        # The frame states its size; checking it first means a lying frame allocates nothing.
        if zstandard.frame_content_size(packed) != expected:
            raise CodecError(f"samples blob's frame does not hold the {expected} bytes its header promises")
        body = zstandard.ZstdDecompressor().decompress(packed, max_output_size=expected)
    except zstandard.ZstdError as e:
        raise CodecError(f"samples blob does not decompress: {e}") from None
    if len(body) != expected:
        raise CodecError(f"samples blob holds {len(body)} bytes, its header promises {expected}")
    raw = np.frombuffer(body, dtype=np.uint8)
    data, at = {}, 0
    for (name, dtype), size in zip(cols, sizes):
        item = np.dtype(dtype).itemsize
        # Undo the shuffle: (itemsize, n) -> (n, itemsize), contiguous, then the stored
        # little-endian dtype, then this machine's.
        little = np.dtype(dtype).newbyteorder("<")
        data[name] = raw[at:at + size].reshape(item, n).T.copy().view(little).reshape(n).astype(dtype, copy=False)
        at += size
    return data


def _decode_npz(blob: bytes) -> dict:
    import numpy as np

    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}
