"""Two copies of one run (two devices, two exports): which one is worth more by the channels each
recorded, and the channels the kept copy lacks taken from the other where their samples align.

Pure functions of column names and samples frames; the pipeline decides what is stored.
numpy and pandas load on first use (a no-op nightly import never compares two copies).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .. import schema as S

if TYPE_CHECKING:
    import pandas as pd

# Two samples are the same moment when they are no further apart than half the coarser copy's
# recording interval (each sample stands for the time nearer to it than to its neighbours), and
# never further than this: two devices' clocks agree to about a second, and a value carried
# further than 2 s would describe another stride than the one it is set beside.
MAX_ALIGN_S = 2.0


def channels(columns: Iterable[str]) -> frozenset[str]:
    """The channels a copy recorded, from its sample columns (the time axis is no channel)."""
    return frozenset(columns) - frozenset(S.TIME_COLUMNS)


def feature_channels(recorded: frozenset[str]) -> tuple[str, ...]:
    """The labels of :data:`gaitrisk.schema.FEATURE_CHANNELS` a copy recorded in full."""
    return tuple(label for label, cols in S.FEATURE_CHANNELS.items() if all(c in recorded for c in cols))


def preference(new: frozenset[str], old: frozenset[str]) -> int:
    """> 0 when the copy that recorded ``new`` is worth more than the one that recorded ``old``,
    < 0 when it is worth less, 0 when their channels do not tell them apart.

    A copy that records everything the other does and more is worth more; otherwise the one
    that records more of the channels the features are made of.
    """
    if new > old:
        return 1
    if old > new:
        return -1
    return len(feature_channels(new)) - len(feature_channels(old))


def recording_interval_s(samples: pd.DataFrame) -> float:
    """The copy's usual time between samples (the median of its positive steps), 0 if it has none."""
    import numpy as np

    steps = np.diff(samples[S.ELAPSED].to_numpy(dtype=float))
    steps = steps[steps > 0]
    return float(np.median(steps)) if steps.size else 0.0


def align_tolerance_s(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """How far apart a sample of ``a`` and one of ``b`` may be and still be the same moment."""
    return min(max(recording_interval_s(a), recording_interval_s(b)) / 2.0, MAX_ALIGN_S)


@dataclass(frozen=True)
class Filled:
    """A copy's samples with the channels taken from another copy; ``channels``: the columns that
    gained values (in schema order), empty when the other copy had nothing to give."""

    samples: pd.DataFrame
    channels: tuple[str, ...]


def fill(chosen: pd.DataFrame, other: pd.DataFrame) -> Filled:
    """``chosen`` with every channel only ``other`` recorded, each sample given the value of
    ``other``'s nearest sample in time within :func:`align_tolerance_s` (NaN where none is).

    ``chosen``'s own rows and values are kept as they are; both frames are sorted by time.
    """
    import numpy as np
    import pandas as pd

    lacking = [c.name for c in S.SAMPLE_COLUMNS
               if c.name in other and c.name not in chosen and c.name not in S.TIME_COLUMNS]
    if not lacking or other.empty or chosen.empty:
        return Filled(chosen, ())
    t = chosen[S.TIMESTAMP].to_numpy("datetime64[ns]").view(np.int64)
    u = other[S.TIMESTAMP].to_numpy("datetime64[ns]").view(np.int64)
    after = np.clip(np.searchsorted(u, t), 0, u.size - 1)
    before = np.clip(after - 1, 0, u.size - 1)
    gap_after, gap_before = np.abs(u[after] - t), np.abs(t - u[before])
    nearest = np.where(gap_after < gap_before, after, before)  # a tie goes to the earlier sample
    aligned = np.minimum(gap_after, gap_before) <= align_tolerance_s(chosen, other) * 1e9
    gained: dict[str, np.ndarray] = {}
    for name in lacking:
        values = np.where(aligned, other[name].to_numpy(dtype=float)[nearest], np.nan)
        if np.isfinite(values).any():  # a column without a value is absent, never all-NaN
            gained[name] = values
    if not gained:
        return Filled(chosen, ())
    data = {c.name: gained[c.name] if c.name in gained else chosen[c.name]
            for c in S.SAMPLE_COLUMNS if c.name in gained or c.name in chosen}
    return Filled(pd.DataFrame(data, index=chosen.index), tuple(gained))
