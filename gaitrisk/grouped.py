"""Reductions of values over numbered groups, unknown values skipped.

The athlete-day table sums and takes maxima of its runs per day; the run chart takes means,
minima and maxima of its samples per distance bin.  Both are one reduction over groups
0..n-1 in which NaN means "not known" and a group without a known value stays NaN.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

How = Literal["sum", "mean", "min", "max", "last"]


def reduce_groups(groups: np.ndarray, values: np.ndarray, n: int, how: How) -> np.ndarray:
    """Per group 0..n-1, over the values that are known (not NaN): their ``sum``, ``mean``, ``min``,
    ``max`` or ``last`` (the latest in the given order); NaN for a group without one.

    ``groups[i]`` (an integer in 0..n-1) is the group of ``values[i]``.
    """
    known = ~np.isnan(values)
    g, v = groups[known], values[known]
    out = np.full(n, np.nan)
    if how in ("sum", "mean"):
        count = np.bincount(g, minlength=n)
        has = count > 0
        total = np.bincount(g, weights=v, minlength=n)
        out[has] = total[has] / count[has] if how == "mean" else total[has]
    elif how in ("min", "max"):
        (np.fmin if how == "min" else np.fmax).at(out, g, v)
    else:
        latest = np.full(n, -1)
        np.maximum.at(latest, g, np.arange(len(g)))
        has = latest >= 0
        out[has] = v[latest[has]]
    return out
