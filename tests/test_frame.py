"""Unit rules every reader shares: cadence in steps/min, absent-not-zero, time order, totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gaitrisk import schema as S
from gaitrisk.ingest.frame import build_samples, cumulative_distance, per_foot_to_spm, totals


def _ts(seconds):
    return np.datetime64("2024-05-01T07:00:00", "ns") + np.asarray(seconds, dtype="timedelta64[s]")


def test_per_foot_cadence_doubles_with_fraction():
    assert per_foot_to_spm(np.array([79.0, 85.0]), np.array([0.5, 0.0])).tolist() == [159.0, 170.0]


def test_cadence_already_in_steps_is_left_alone():
    assert per_foot_to_spm(np.array([170.0, 172.0, 0.0])).tolist() == [170.0, 172.0, 0.0]


def test_absent_columns_are_dropped_not_zero_and_rows_sorted():
    df = build_samples(_ts([2, 0, 1, 1]), {S.HEART_RATE: [np.nan] * 4, S.SPEED: [3.0, 1.0, 2.0, 9.0]})
    assert S.HEART_RATE not in df.columns
    assert df[S.SPEED].tolist() == [1.0, 2.0, 3.0]  # sorted, duplicate timestamp dropped (first kept)
    assert df[S.ELAPSED].tolist() == [0.0, 1.0, 2.0]
    assert str(df[S.TIMESTAMP].dt.tz) == "UTC"


def test_unknown_column_is_a_programming_error():
    with pytest.raises(KeyError):
        build_samples(_ts([0]), {"cadence": [80.0]})


def test_distance_from_positions_one_degree_of_latitude():
    lat = np.array([0.0, 0.5, 1.0])
    d = cumulative_distance(lat, np.zeros(3))
    assert d[-1] == pytest.approx(111_195, rel=1e-3)  # 1 degree on the mean Earth sphere


def test_totals_pause_and_gap_excluded_from_moving_time():
    # 0..100 s in segment 0, pause, 200..300 s in segment 1, then a 120 s hole without a pause event.
    t = list(range(0, 101)) + list(range(200, 301)) + [421]
    seg = [0] * 101 + [1] * 101 + [1]
    cols = {S.TIMER_SEGMENT: np.array(seg), S.DISTANCE: np.arange(len(t), dtype=float) * 3,
            S.CADENCE: np.r_[np.full(202, 170.0), 0.0]}
    assert totals(build_samples(_ts(t), cols))["moving_time_s"] == 100 + 100 + 121  # timer events only: the hole counts
    df = build_samples(_ts(t), cols, pause_gap_s=30.0)
    assert df[S.TIMER_SEGMENT].tolist()[-3:] == [1, 1, 2]  # the marked pause once, the 120 s hole added
    out = totals(df)
    assert out["duration_s"] == 421
    assert out["moving_time_s"] == 200
    assert out["distance_m"] == pytest.approx(3 * 202)
    assert out["avg_cadence_spm"] == pytest.approx(170 * 202 / 203)  # device-style: zeros count
    assert out["avg_stance_time_ms"] is None


def test_nomenclature_doc_is_generated_from_schema():
    from .conftest import REPO

    assert (REPO / "docs" / "nomenclature.md").read_text() == S.nomenclature_markdown()


def test_every_reader_column_is_in_the_schema():
    assert len({c.name for c in S.SAMPLE_COLUMNS}) == len(S.SAMPLE_COLUMNS)
    assert pd.api.types.is_float_dtype(np.dtype(S.COLUMNS_BY_NAME[S.CADENCE].dtype))
