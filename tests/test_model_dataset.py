"""Cohort -> files -> import -> features -> athlete-day rows, checked against the planted truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gaitrisk.model.dataset import FEATURES
from gaitrisk.synth.cohort import CohortConfig, plan_cohort

pytestmark = pytest.mark.slow

SMALL = CohortConfig(seed=3, athletes=5, weeks=9, sample_interval_s=30)


@pytest.fixture(scope="module")
def small_cohort(synthetic_cohort):
    """The session's cohort (conftest.py): files -> CLI import -> pain import -> athlete-day rows."""
    _, truth, _, ds, _ = synthetic_cohort
    return truth, ds


def test_cohort_is_seeded_and_plants_one_mechanism_each():
    a, b = plan_cohort(SMALL), plan_cohort(SMALL)
    assert [(p.name, p.onsets, len(p.runs)) for p in a] == [(p.name, p.onsets, len(p.runs)) for p in b]
    assert {p.mechanism for p in a} == {"session_spike", "low_cadence", "camber", "downhill", "none"}
    for p in a:
        assert (p.mechanism == "none") == (not any(r.exposure for r in p.runs))
        if p.mechanism == "none":
            assert not p.onsets and not any(r.score >= 3 and r.region in ("lateral_hip", "lateral_knee_itb")
                                            for r in p.pain)


def test_labels_recover_every_planted_onset(small_cohort):
    truth, ds = small_cohort
    onsets = ds.onsets()
    for name, t in truth["athletes"].items():
        assert onsets[name] == len(t["onsets"]), name
        f = ds.frame.loc[name]
        found = [d.date().isoformat() for d in f.index[f["onset"] == 1]]
        assert found == t["onsets"]


def test_rows_are_at_risk_and_labelled_from_the_next_7_days_only(small_cohort):
    truth, ds = small_cohort
    rows = ds.rows
    assert rows["pain_max_7d"].max() < 3          # at-risk days: no target pain >= 3 in the last 7 days
    for name, t in truth["athletes"].items():
        if name not in rows.index.get_level_values(0):
            continue
        r = rows.loc[name]
        onset_days = np.array(t["onsets"], dtype="datetime64[D]")
        days = r.index.values.astype("datetime64[D]")
        ahead = (onset_days[None, :] - days[:, None]).astype(int)
        expected = ((ahead >= 1) & (ahead <= 7)).any(axis=1).astype(int)
        assert (r["label"].to_numpy(int) == expected).all(), name
    assert list(ds.X.columns) == list(FEATURES)


def test_planted_exposures_show_in_the_features(small_cohort):
    truth, ds = small_cohort
    f = ds.frame
    def mean_on(name, col, exposure: bool):
        days = set(truth["athletes"][name]["exposure_days"])
        g = f.loc[name]
        mask = np.array([d.date().isoformat() in days for d in g.index])
        return g.loc[mask if exposure else ~mask, col].mean()
    names = {t["mechanism"]: n for n, t in truth["athletes"].items()}
    # Low-cadence block runs: 10-13 % under the expected cadence -> the 7-day residual is <= -5 % on those days.
    assert mean_on(names["low_cadence"], "cad_resid_7d", True) < -5
    assert mean_on(names["downhill"], "dh5_m_7d", True) > 2 * mean_on(names["downhill"], "dh5_m_7d", False)
    assert mean_on(names["camber"], "camber_measured_m_7d", True) > 2 * mean_on(names["camber"],
                                                                                 "camber_measured_m_7d", False)
    assert f.loc[names["session_spike"], "spike_max_7d"].max() > 1.7
    assert json.dumps(truth)  # the truth file is plain JSON


def test_return_ratio_marks_the_first_week_after_a_21_day_break():
    import pandas as pd

    from gaitrisk.model.dataset import return_ratio

    days = pd.to_datetime(["2024-01-01", "2024-01-10", "2024-02-01", "2024-02-05", "2024-02-09", "2024-02-12"])
    runs = pd.Series(days, index=range(6))
    dist = pd.Series([10000.0, 12000.0, 7000.0, 5000.0, 9000.0, 9000.0], index=runs.index)
    longest = pd.Series(dist.to_numpy(), index=days).reindex(pd.date_range("2024-01-01", "2024-02-12"))
    r = return_ratio(runs, dist, longest)
    # 2024-01-10 -> 2024-02-01: 21 days without a run in between (22 days apart): a break.
    # Pre-break longest (30 days up to 2024-01-10) = 12 km; the first week back is 02-01 .. 02-07.
    assert np.isnan(r.iloc[0]) and np.isnan(r.iloc[1])
    np.testing.assert_allclose(r.iloc[2:4], [7000 / 12000, 5000 / 12000])
    assert np.isnan(r.iloc[4]) and np.isnan(r.iloc[5])
    # 20 days without a run is not a break.
    short = pd.Series(pd.to_datetime(["2024-01-10", "2024-01-31"]), index=[0, 1])
    assert np.isnan(return_ratio(short, dist.iloc[:2], longest).to_numpy()).all()
