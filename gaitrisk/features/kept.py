"""A run pass as it is kept between the import's workers and the finished records: pickled
and compressed, so that the importing process can hold one per new run of a large export.

Its own module so that :mod:`.handoff` (which makes passes) and :mod:`.compute` (which uses
them) both depend on it instead of on each other.
"""

from __future__ import annotations

import pickle
from typing import Any

# zstd's default level: a pass shrinks 2.6x in ≈ 0.1 ms.
LEVEL = 3


def pack(value: Any) -> bytes:
    """``value`` pickled and zstd-compressed."""
    import zstandard

    return zstandard.ZstdCompressor(level=LEVEL).compress(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


def unpack(kept: bytes) -> Any:
    """What :func:`pack` kept: only this package's own pickles reach here (made by the import's
    workers, like the executor's results)."""
    import zstandard

    return pickle.loads(zstandard.ZstdDecompressor().decompress(kept))
