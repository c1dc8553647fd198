"""The risk estimator follows scikit-learn's contract (sklearn estimator_checks, run for real)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from gaitrisk.model.estimator import GaitRiskClassifier, _sigmoid_fit

pytestmark = pytest.mark.slow


# The logistic path with calibration; "auto"/"boosting" share every code path but the head and
# take minutes under the ~50 checks (run them by hand).
@parametrize_with_checks([GaitRiskClassifier(model="logistic")])
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


def _planted(n: int = 1200, seed: int = 0):
    """y depends on column 0 (strongly) and column 2 (weakly); column 1 is noise with NaNs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    logit = -2.0 + 2.0 * X[:, 0] + 0.7 * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X[rng.random(n) < 0.2, 1] = np.nan
    return X, y, np.repeat(np.arange(n // 40), 40)


def test_auto_selects_by_grouped_validation_and_calibrates():
    X, y, groups = _planted()
    m = GaitRiskClassifier(random_state=0).fit(X, y, groups=groups)
    assert set(m.validation_loss_) == {"logistic", "boosting"}
    # The truth is linear in the log-odds: the logistic model must win the validation.
    assert m.selected_ == "logistic"
    p = m.predict_proba(X)[:, 1]
    # Calibrated despite class_weight="balanced": mean predicted risk within 2 points of the base rate.
    assert abs(p.mean() - y.mean()) < 0.02


def test_contributions_point_at_the_planted_column():
    X, y, groups = _planted()
    m = GaitRiskClassifier(model="logistic").fit(X, y, groups=groups)
    high = X[:, 0] > 1.5
    c = m.contributions(X[high], {"a": [0], "noise": [1], "b": [2]})
    # For rows with a high column 0, its group raises the log-odds by > 1 on average; the noise column ~0.
    assert c[:, 0].mean() > 1.0
    assert abs(c[:, 1].mean()) < 0.15
    assert (np.argmax(np.abs(c), axis=1) == 0).mean() > 0.9


def test_bad_options_are_refused():
    X, y, _ = _planted(200)
    with pytest.raises(ValueError, match="model must be"):
        GaitRiskClassifier(model="forest").fit(X, y)


def test_auto_takes_boosting_only_when_it_is_clearly_better():
    # An interaction (risk when columns 0 and 1 share a sign) no linear model can express.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1200, 3))
    y = (rng.random(1200) < np.where(X[:, 0] * X[:, 1] > 0, 0.35, 0.05)).astype(int)
    groups = np.repeat(np.arange(30), 40)
    m = GaitRiskClassifier(random_state=0).fit(X, y, groups=groups)
    loss = m.validation_loss_
    assert loss["boosting"] < loss["logistic"] * (1 - m.select_margin) and m.selected_ == "boosting"
    # The same data with a margin boosting cannot meet: the simpler model is kept.
    strict = GaitRiskClassifier(random_state=0, select_margin=0.99).fit(X, y, groups=groups)
    assert strict.selected_ == "logistic" and strict.validation_loss_ == loss


def test_calibration_is_fitted_out_of_fold_and_auto_picks_by_size():
    X, y, groups = _planted()
    m = GaitRiskClassifier(model="logistic").fit(X, y, groups=groups)
    assert m.calibration_ == "sigmoid"          # < ISOTONIC_MIN_POSITIVES rows of the rarer class
    big_X, big_y, big_g = _planted(n=6000, seed=2)
    big = GaitRiskClassifier(model="logistic").fit(big_X, big_y, groups=big_g)
    assert big.calibration_ == "isotonic" and np.bincount(big_y).min() >= 400
    p = big.predict_proba(big_X)[:, 1]
    assert abs(p.mean() - big_y.mean()) < 0.01 and np.all(np.diff(p[np.argsort(big.decision_function(big_X))]) >= 0)


def test_multiclass_is_refused_with_the_standard_message():
    X, _, _ = _planted(300)
    with pytest.raises(ValueError, match="Only binary classification is supported"):
        GaitRiskClassifier(model="logistic").fit(X, np.arange(300) % 3)


def test_calibration_never_inverts_the_ranking_when_the_out_of_fold_slope_is_negative():
    # Three athletes whose level of x and base rate differ (0: low x, 15 %; 1: mid x, 50 %;
    # 2: high x, 25 %): pooled, more x means more onsets, but every leave-one-athlete-out model
    # scores the held-out athlete against their rate, so the out-of-fold slope is negative.
    rng = np.random.default_rng(0)
    parts = [(rng.normal(mu, 0.3, 300), rng.random(300) < p) for mu, p in ((0.0, 0.15), (1.0, 0.5), (2.0, 0.25))]
    X = np.concatenate([x for x, _ in parts]).reshape(-1, 1)
    y = np.concatenate([b for _, b in parts]).astype(int)
    groups = np.repeat([0, 1, 2], 300)
    est = GaitRiskClassifier(model="logistic", C=1.0)
    oof = est._oof_score("logistic", X, y, est._splits(X, y, groups))
    assert _sigmoid_fit(oof, y)[0] < 0                       # the planted trap is real
    m = est.fit(X, y, groups=groups)
    assert m.estimator_[-1].coef_[0, 0] > 0 and m.calibration_ab_[0] > 0
    p = m.predict_proba(X)[:, 1]
    order = np.argsort(X[:, 0])
    assert np.all(np.diff(p[order]) >= 0)                    # same ranking as the refit model
