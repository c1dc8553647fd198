"""Two decodes of one file are the same result: outcome, problems, activities and every sample."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Channels that hold whole numbers in every FIT profile we read: compared exactly.
EXACT_CHANNELS = {"timestamp", "timer_segment", "heart_rate_bpm", "power_w"}


def assert_same_result(ref, fast) -> None:
    assert (fast.error, fast.skipped_reason, fast.partial) == (ref.error, ref.skipped_reason, ref.partial)
    assert fast.problems == ref.problems
    assert len(fast.activities) == len(ref.activities)
    for a, b in zip(ref.activities, fast.activities):
        assert (b.fmt, b.sport, b.sub_sport, b.device, b.start_time, b.leg_index, b.name) == \
               (a.fmt, a.sport, a.sub_sport, a.device, a.start_time, a.leg_index, a.name)
        assert b.summary == a.summary
        assert b.laps == a.laps
        assert list(b.samples.columns) == list(a.samples.columns)
        for col in a.samples.columns:
            x, y = a.samples[col], b.samples[col]
            if col in EXACT_CHANNELS:
                pd.testing.assert_series_equal(y, x, check_exact=True)
            else:
                np.testing.assert_allclose(y.to_numpy(float), x.to_numpy(float), rtol=1e-9, atol=0, equal_nan=True)
