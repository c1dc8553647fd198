"""The population risk model: a logistic regression anchored on published effects (docs/model.md).

:class:`PriorRiskClassifier` is a Bayesian logistic regression with an independent Normal prior
on each coefficient and on the intercept.  Fitting finds the maximum a posteriori (MAP)
coefficients: the log-likelihood plus the log-prior, so the penalty pulls each coefficient toward
its published value, not toward 0.  The optimiser is scipy's trust-region Newton method with
the exact gradient and Hessian (the problem is strictly convex, so it converges in a few steps).

The Laplace approximation turns the Hessian at the MAP into a posterior covariance
(``covariance_``): each factor's hazard ratio gets an interval, and each day's probability gets
one from the interval of its log-odds, transformed (:meth:`PriorRiskClassifier.predict_interval`).

Without data the model is the prior itself (:meth:`PriorRiskClassifier.from_prior`): the
published effects, the base rate and their spreads.  Labelled rows move it in proportion to the
information they hold, so a handful of onsets barely moves it.

The priors of :mod:`gaitrisk.model.factors` apply when ``X`` holds the :data:`RISK_FACTORS`
columns; for any other number of columns (scikit-learn's generic checks) each coefficient gets a
neutral prior, mean 0 and SD ``NEUTRAL_SD``, unless ``prior_mean``/``prior_sd`` are given.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .factors import RISK_FACTORS, factor_priors, intercept_prior
from .posterior import Posterior

NEUTRAL_SD = 1.0
log = logging.getLogger(__name__)


def _log1pexp(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"sample_weight needs {n} finite, non-negative values, one per row of X")
    if not w.sum() > 0:
        raise ValueError("sample_weight is all zero: no row would count")
    return w


class PriorRiskClassifier(ClassifierMixin, BaseEstimator):
    """MAP logistic regression with Normal priors centred on published log hazard ratios.

    Parameters
    ----------
    prior_mean, prior_sd : sequence of float or None
        Per column of ``X``: the prior's mean and SD on the log-odds scale.  None: the evidence
        priors of :data:`gaitrisk.model.factors.RISK_FACTORS` when ``X`` has that many columns,
        else mean 0 and SD ``NEUTRAL_SD``.
    intercept_mean, intercept_sd : float or None
        The intercept's prior.  None: the published base rate (:func:`gaitrisk.model.factors.intercept_prior`).
    horizon_days : int
        The label horizon the base rate is converted to.
    max_iter : int
        Iterations of the optimiser.
    """

    def __init__(self, prior_mean=None, prior_sd=None, intercept_mean: float | None = None,
                 intercept_sd: float | None = None, horizon_days: int = 7, max_iter: int = 100) -> None:
        self.prior_mean = prior_mean
        self.prior_sd = prior_sd
        self.intercept_mean = intercept_mean
        self.intercept_sd = intercept_sd
        self.horizon_days = horizon_days
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        # The intercept's prior sits at a rare-event base rate: on balanced toy data the
        # predictions stay shrunk toward it, so sklearn's accuracy bar does not apply.
        tags.classifier_tags.poor_score = True
        return tags

    # -- the prior -----------------------------------------------------------------------------
    def _prior(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, sd) over [intercept, coefficients]."""
        if self.prior_mean is None and self.prior_sd is None and n_features == len(RISK_FACTORS):
            priors = factor_priors()
            mean, sd = np.array([p.mean for p in priors]), np.array([p.sd for p in priors])
        else:
            mean = np.zeros(n_features) if self.prior_mean is None else np.asarray(self.prior_mean, float)
            sd = np.full(n_features, NEUTRAL_SD) if self.prior_sd is None else np.asarray(self.prior_sd, float)
            if mean.shape != (n_features,) or sd.shape != (n_features,):
                raise ValueError(f"prior_mean and prior_sd need one value per column of X ({n_features})")
        if not (np.all(np.isfinite(mean)) and np.all(sd > 0) and np.all(np.isfinite(sd))):
            raise ValueError("prior means must be finite and prior SDs finite and positive")
        b_mean, b_sd = intercept_prior(self.horizon_days)
        b_mean = b_mean if self.intercept_mean is None else float(self.intercept_mean)
        b_sd = b_sd if self.intercept_sd is None else float(self.intercept_sd)
        if not (np.isfinite(b_mean) and np.isfinite(b_sd) and b_sd > 0):
            raise ValueError("the intercept's prior needs a finite mean and a finite, positive SD")
        return np.r_[b_mean, mean], np.r_[b_sd, sd]

    def _set(self, theta: np.ndarray, cov: np.ndarray, prior_mean: np.ndarray, prior_sd: np.ndarray) -> None:
        self.intercept_ = theta[:1].copy()
        self.coef_ = theta[1:].reshape(1, -1).copy()
        self.covariance_ = cov
        self.prior_mean_ = prior_mean
        self.prior_sd_ = prior_sd
        # How far the data moved the factors from their priors (log hazard ratio).
        self.prior_shift_ = float(np.max(np.abs(theta[1:] - prior_mean[1:]))) if len(theta) > 1 else 0.0

    def from_prior(self, n_features: int = len(RISK_FACTORS)) -> PriorRiskClassifier:
        """The model before any data: coefficients at their prior means, the prior covariance."""
        mean, sd = self._prior(n_features)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = n_features
        self.n_rows_ = 0
        self.n_positive_ = 0
        self._set(mean.copy(), np.diag(sd ** 2), mean, sd)
        return self

    # -- fitting ---------------------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """MAP fit; ``sample_weight`` scales each row's likelihood (the prior is not weighted)."""
        X, y = validate_data(self, X, y)
        target = type_of_target(y, input_name="y", raise_unknown=True)
        if target not in ("binary", "unknown") and len(np.unique(y)) > 2:
            raise ValueError(f"Only binary classification is supported (onset or not). The type of the target "
                             f"is {target}.")
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(f"only one class in y ({self.classes_[0]!r}); a risk model needs both outcomes")
        t = (y == self.classes_[1]).astype(float)
        w = _weights(sample_weight, len(X))
        mean, sd = self._prior(X.shape[1])
        A = np.c_[np.ones(len(X)), X]
        precision = 1.0 / sd ** 2

        def objective(theta):
            eta = A @ theta
            diff = theta - mean
            value = np.sum(w * (_log1pexp(eta) - t * eta)) + 0.5 * np.sum(precision * diff ** 2)
            grad = A.T @ (w * (expit(eta) - t)) + precision * diff
            return value, grad

        def hessian(theta):
            p = expit(A @ theta)
            return (A * (w * p * (1.0 - p))[:, None]).T @ A + np.diag(precision)

        res = minimize(objective, mean.copy(), jac=True, hess=hessian, method="trust-exact",
                       options={"maxiter": self.max_iter, "gtol": 1e-8})
        # trust-exact reports a failure when the gradient is already at rounding level
        if not res.success and np.max(np.abs(res.jac)) > 1e-5:
            log.warning("MAP fit stopped before convergence: %s", res.message)
        theta = res.x
        self.n_iter_ = int(res.nit)
        self.n_rows_ = int(len(X))
        self.n_positive_ = int(t.sum())
        self._set(theta, np.linalg.inv(hessian(theta)), mean, sd)
        return self

    # -- prediction ------------------------------------------------------------------------------
    def decision_function(self, X) -> np.ndarray:
        """The log-odds of an onset within the horizon."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False)
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X) -> np.ndarray:
        p = self.posterior().probability(validate_data(self, X, reset=False))
        return np.c_[1.0 - p, p]

    def predict(self, X) -> np.ndarray:
        above = self.decision_function(X) > 0
        return self.classes_[above.astype(int)]

    def posterior(self) -> Posterior:
        """The fitted intercept, coefficients and covariance, which predict without scikit-learn."""
        check_is_fitted(self, "coef_")
        return Posterior(float(self.intercept_[0]), self.coef_[0], self.covariance_)

    def predict_interval(self, X, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the (low, high) probability from the Laplace interval of its log-odds."""
        check_is_fitted(self, "coef_")
        return self.posterior().interval(validate_data(self, X, reset=False), level)

    def hazard_ratios(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per column: the hazard ratio (exp of the coefficient) and its (low, high) interval."""
        return self.posterior().hazard_ratios(level)

    def baseline_probability(self) -> float:
        """The probability with no factor present (every column 0)."""
        return self.posterior().baseline_probability()
