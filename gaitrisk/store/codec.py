"""Samples frame <-> compact bytes stored beside the activity row.

A compressed ``.npz`` of one array per column: columnar, about 10x smaller than
the source files, readable without pickle (``allow_pickle=False``), and written
in the same SQLite transaction as the activity so neither can exist without
the other.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from .. import schema as S

FORMAT = "npz-v1"


def encode(samples: pd.DataFrame) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    for col in samples.columns:
        if col not in S.COLUMNS_BY_NAME:
            raise KeyError(f"unknown sample column {col!r}")
        if col == S.TIMESTAMP:
            arrays[col] = samples[col].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
        else:
            arrays[col] = samples[col].to_numpy()
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def decode(blob: bytes) -> pd.DataFrame:
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        data = {k: npz[k] for k in npz.files}
    if S.TIMESTAMP in data:
        data[S.TIMESTAMP] = pd.to_datetime(data[S.TIMESTAMP].view("datetime64[ns]"), utc=True)
    order = [c.name for c in S.SAMPLE_COLUMNS if c.name in data]
    return pd.DataFrame({k: data[k] for k in order})
