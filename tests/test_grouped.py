"""reduce_groups: per-group reductions with unknown values skipped, on values worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from gaitrisk.grouped import reduce_groups

GROUPS = np.array([0, 0, 2, 2, 2, 3])
VALUES = np.array([1.0, 4.0, np.nan, 5.0, 2.0, np.nan])


@pytest.mark.parametrize("how, expected", [
    ("sum", [5.0, np.nan, 7.0, np.nan, np.nan]),
    ("mean", [2.5, np.nan, 3.5, np.nan, np.nan]),
    ("min", [1.0, np.nan, 2.0, np.nan, np.nan]),
    ("max", [4.0, np.nan, 5.0, np.nan, np.nan]),
    ("last", [4.0, np.nan, 2.0, np.nan, np.nan]),   # the latest known value: group 2's NaN is skipped
])
def test_each_reduction_skips_unknown_values_and_leaves_empty_groups_unknown(how, expected):
    np.testing.assert_array_equal(reduce_groups(GROUPS, VALUES, 5, how), np.array(expected))
