"""The population risk model (gaitrisk.model.prior): the estimator contract, the prior it starts from,
how much data move it, its Laplace intervals, skops persistence, and unlogged pain left out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.special import expit, logit
from sklearn.utils.estimator_checks import check_estimator

from gaitrisk.model import evidence
from gaitrisk.model.factors import (RATE_PER_1000_H, RISK_FACTORS, base_rate, factor_priors, horizon_probability,
                                    intercept_prior)
from gaitrisk.model.prior import PriorRiskClassifier

N = len(RISK_FACTORS)
CAMBER = RISK_FACTORS.index("camber")
SPIKE = RISK_FACTORS.index("spike_small")


def cohort(n: int, seed: int, log_hr: dict[int, float], base: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Rows of independent exposures (30 % each) and outcomes drawn from a known logistic hazard."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, N)) < 0.3).astype(float)
    eta = logit(base) + sum(X[:, j] * b for j, b in log_hr.items())
    return X, (rng.random(n) < expit(eta)).astype(int)


def test_the_estimator_contract_holds():
    check_estimator(PriorRiskClassifier())
    est = PriorRiskClassifier(intercept_sd=2.0)
    assert est.get_params()["intercept_sd"] == 2.0 and est.set_params(max_iter=5).max_iter == 5
    assert not hasattr(est, "coef_")   # nothing happens in __init__


def test_without_data_the_model_is_the_published_evidence():
    m = PriorRiskClassifier().from_prior()
    hr, low, high = m.hazard_ratios()
    entry = {f.id: f for f in evidence.shipped().factors}["session_spike"].effects[0]
    # the prior's 95 % interval is the study's 95 % CI, its centre the study's estimate
    assert hr[SPIKE] == pytest.approx(entry.estimate, rel=1e-9)
    assert (low[SPIKE], high[SPIKE]) == (pytest.approx(entry.ci_low, rel=1e-3), pytest.approx(entry.ci_high, rel=1e-3))
    assert hr[CAMBER] == 1.0 and 0.3 < low[CAMBER] < 0.5 and 2.0 < high[CAMBER] < 3.0   # hypothesis: wide, centred on 1
    zero = np.zeros((1, N))
    assert m.predict_proba(zero)[0, 1] == pytest.approx(base_rate(7)) == pytest.approx(m.baseline_probability())
    spike = zero.copy()
    spike[0, SPIKE] = 1
    assert m.predict_proba(spike)[0, 1] / base_rate(7) == pytest.approx(entry.estimate, rel=0.01)


def test_the_base_rate_follows_the_cited_incidence():
    rates = {f.id: f for f in evidence.shipped().factors}["injury_base_rate"].effects
    assert any(e.estimate == RATE_PER_1000_H and e.unit.strip() == "per 1,000 h" for e in rates)
    # 7.7 injuries per 1,000 h x 3 h x 15 %: 1 - exp(-0.003465)
    assert horizon_probability(7.7, 3.0, 0.15, 7) == pytest.approx(1 - math.exp(-7.7e-3 * 3 * 0.15))
    assert intercept_prior(7)[0] == pytest.approx(math.log(base_rate(7) / (1 - base_rate(7))))
    assert base_rate(14) > base_rate(7)


def test_one_onset_barely_moves_the_prior():
    X, _ = cohort(300, 1, {})
    y = np.zeros(300, int)
    y[7] = 1
    m = PriorRiskClassifier().fit(X, y)
    prior = np.array([p.mean for p in factor_priors()])
    sd = np.array([p.sd for p in factor_priors()])
    delta = np.abs(m.coef_[0] - prior)
    # each factor stays within a third of its prior SD (a hazard ratio changes by < 15 %)
    assert np.all(delta < sd / 3) and np.max(delta) < math.log(1.15)
    assert m.prior_shift_ == pytest.approx(np.max(delta))


def test_a_large_sample_with_a_planted_effect_moves_toward_it():
    planted = math.log(3.0)   # camber, whose prior is centred on no effect
    X, y = cohort(30_000, 2, {CAMBER: planted, SPIKE: math.log(1.64)})
    m = PriorRiskClassifier().fit(X, y)
    hr, low, high = m.hazard_ratios()
    assert abs(m.coef_[0, CAMBER] - planted) < 0.25 and low[CAMBER] > 1.5
    assert low[SPIKE] < 1.64 < high[SPIKE]
    # less data of the same kind moves it less
    small = PriorRiskClassifier().fit(*cohort(1_000, 2, {CAMBER: planted, SPIKE: math.log(1.64)}))
    assert small.coef_[0, CAMBER] < m.coef_[0, CAMBER]


def test_intervals_contain_the_point_and_widen_with_less_data():
    effects = {CAMBER: math.log(2.0)}
    big = PriorRiskClassifier().fit(*cohort(20_000, 3, effects))
    small = PriorRiskClassifier().fit(*cohort(1_000, 3, effects))
    X = np.eye(N)[[CAMBER, SPIKE]]
    for m in (big, small):
        p = m.predict_proba(X)[:, 1]
        low, high = m.predict_interval(X)
        assert np.all(low < p) and np.all(p < high)
        narrow_low, narrow_high = m.predict_interval(X, level=0.5)
        assert np.all(low < narrow_low) and np.all(narrow_high < high)
    width = lambda m: np.diff(np.log(np.c_[m.hazard_ratios()[1], m.hazard_ratios()[2]]), axis=1)[:, 0]
    assert np.all(width(small) > width(big))
    assert np.all(width(small) <= width(PriorRiskClassifier().from_prior()) + 1e-9)


@pytest.mark.slow
def test_skops_round_trip_with_the_trusted_types(tmp_path):
    from gaitrisk.model.persist import read_model, save_model

    m = PriorRiskClassifier().fit(*cohort(2_000, 4, {CAMBER: 0.7}))
    path = save_model(m, {"card_version": 1, "features": list(RISK_FACTORS)}, tmp_path / "m.skops")
    loaded, card = read_model(path)
    X = np.eye(N)
    assert isinstance(loaded, PriorRiskClassifier) and card["features"] == list(RISK_FACTORS)
    np.testing.assert_array_equal(loaded.predict_proba(X), m.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict_interval(X)[1], m.predict_interval(X)[1])
    assert loaded.get_params() == m.get_params()


def test_the_prior_model_read_without_skops_predicts_exactly_as_the_estimator(tmp_path, monkeypatch):
    """read_posterior takes the three arrays out of the archive with numpy; skops is not needed."""
    from gaitrisk.model import persist

    m = PriorRiskClassifier().fit(*cohort(2_000, 4, {CAMBER: 0.7}))
    path = persist.save_model(m, {"card_version": 1, "features": list(RISK_FACTORS)}, tmp_path / "m.skops")
    monkeypatch.setattr(persist, "read_model", lambda *_: pytest.fail("fell back to skops"))
    posterior, card = persist.read_posterior(path)
    X = np.r_[np.eye(N), np.ones((1, N)), np.zeros((1, N))]
    assert card["features"] == list(RISK_FACTORS)
    np.testing.assert_array_equal(posterior.probability(X), m.predict_proba(X)[:, 1])
    for ours, theirs in zip(posterior.interval(X), m.predict_interval(X)):
        np.testing.assert_array_equal(ours, theirs)
    for ours, theirs in zip(posterior.hazard_ratios(), m.hazard_ratios()):
        np.testing.assert_array_equal(ours, theirs)
    assert posterior.baseline_probability() == m.baseline_probability()


def test_the_population_prior_without_a_model_is_the_unfitted_estimators(tmp_path):
    from gaitrisk.model.posterior import Posterior

    X = np.r_[np.eye(N), np.ones((1, N))]
    prior, m = Posterior.from_prior(), PriorRiskClassifier().from_prior()
    np.testing.assert_array_equal(prior.probability(X), m.predict_proba(X)[:, 1])
    np.testing.assert_array_equal(prior.interval(X)[0], m.predict_interval(X)[0])


def test_a_model_archive_of_another_kind_goes_through_skops_and_its_checks(tmp_path):
    from gaitrisk.model.estimator import GaitRiskClassifier
    from gaitrisk.model.persist import ModelFileError, read_posterior, save_model

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    other = save_model(GaitRiskClassifier(model="logistic").fit(X, y, groups=np.repeat(np.arange(10), 20)),
                       {"card_version": 1}, tmp_path / "other.skops")
    assert read_posterior(other)[0] is None
    changed = save_model(PriorRiskClassifier().from_prior(), {"card_version": 1}, tmp_path / "changed.skops")
    changed.write_bytes(changed.read_bytes() + b"x")
    with pytest.raises(ModelFileError, match="does not match its card"):
        read_posterior(changed)


@pytest.mark.slow
def test_unlogged_pain_is_unknown_and_left_out_of_training(tmp_path):
    """A day is labelled only when some pain entry lies in the 14 days up to it or in its horizon."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import pandas as pd

    from gaitrisk.cli.main import cli
    from gaitrisk.model.dataset import build_dataset
    from gaitrisk.model.update import train_prior
    from gaitrisk.store import Store
    from gaitrisk.synth.cohort import CohortConfig, write_cohort

    write_cohort(CohortConfig(seed=5, athletes=1, weeks=9, warmup_weeks=9, sample_interval_s=60), tmp_path / "c")
    (folder,) = [p for p in (tmp_path / "c").iterdir() if (p / "runs").is_dir()]
    db = tmp_path / "s.db"
    run = lambda *a: CliRunner().invoke(cli, ["--db", str(db), *map(str, a)])
    assert run("import", folder / "runs", "--athlete", "r").exit_code == 0
    # logged from 2024-01-10 to 2024-01-25 (one onset on the 20th), then nothing
    logged = [dt.date(2024, 1, d) for d in range(10, 26)]
    rows = [f"{d.isoformat()},{4 if d.day == 20 else 0},lateral_hip,L,next_morning\n" for d in logged]
    (tmp_path / "pain.csv").write_text("date,score,region,side,when\n" + "".join(rows), encoding="utf-8")
    assert run("pain", "import", tmp_path / "pain.csv", "--athlete", "r", "--tz", "UTC").exit_code == 0
    zone = ZoneInfo("UTC")
    with Store(db) as store:
        ds = build_dataset(store, ["r"], zone)
        frame = ds.frame.loc["r"]
        for day, unlogged in frame["label_unlogged"].items():
            near = any(day.date() - dt.timedelta(days=13) <= d <= day.date() + dt.timedelta(days=7) for d in logged)
            assert bool(unlogged) is (not near), day
        assert frame["label_unlogged"].any() and not frame["label_unlogged"].all()
        left_out = len(ds.rows) - len(ds.logged_rows)
        assert left_out > 0 and not ds.logged_rows["label_unlogged"].any()
        _, card, _ = train_prior(store, zone)
    assert card["data"]["unlogged_rows_removed"] == left_out
    assert card["data"]["rows"] == len(ds.logged_rows)
    assert card["data"]["last_day"] < pd.Timestamp("2024-02-10").date().isoformat()
    # one onset (seven labelled days, each weighted 1/7) leaves the published hazard ratios standing
    assert not card["model"]["moved"] and "1 onset: the population prior barely moves" in card["model"]["summary"]
    assert card["metrics"]["apparent"] is None
