"""The prior risk model's state as plain arrays, and the predictions a day's risk needs from it.

A risk (``gaitrisk risk``, ``flags``, ``report``) needs the intercept, the coefficients and their
covariance, nothing of the fitting: :class:`Posterior` predicts with numpy alone, so that the
everyday commands do not import scikit-learn or scipy.  :class:`~gaitrisk.model.prior.PriorRiskClassifier`
predicts through it too, so both give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .factors import RISK_FACTORS, factor_priors, intercept_prior, z_score


def expit(z: np.ndarray) -> np.ndarray:
    """The logistic function, 1 / (1 + exp(-z)); a log-odds far below 0 gives 0, not an overflow warning."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))


@dataclass(frozen=True)
class Posterior:
    """The intercept, the coefficients (one per column of ``X``) and the covariance over
    [intercept, coefficients] of the prior model: the published prior itself, or its update."""

    intercept: float
    coef: np.ndarray
    covariance: np.ndarray

    @classmethod
    def from_prior(cls, horizon_days: int = 7) -> Posterior:
        """The model before any data: the published effects of :data:`RISK_FACTORS` and their spreads."""
        priors = factor_priors()
        b_mean, b_sd = intercept_prior(horizon_days)
        sd = np.r_[b_sd, [p.sd for p in priors]]
        return cls(b_mean, np.array([p.mean for p in priors]), np.diag(sd ** 2))

    @property
    def n_features(self) -> int:
        return len(self.coef)

    def _checked(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X needs {self.n_features} columns ({', '.join(RISK_FACTORS)}), not shape {X.shape}")
        return X

    def log_odds(self, X) -> np.ndarray:
        """Per row: the log-odds of an onset within the horizon."""
        return self._checked(X) @ self.coef + self.intercept

    def probability(self, X) -> np.ndarray:
        """Per row: the probability of an onset within the horizon."""
        return expit(self.log_odds(X))

    def interval(self, X, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the (low, high) probability from the Laplace interval of its log-odds."""
        X = self._checked(X)
        eta = X @ self.coef + self.intercept
        A = np.c_[np.ones(len(eta)), X]
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", A, self.covariance, A), 0.0))
        z = z_score(level)
        return expit(eta - z * se), expit(eta + z * se)

    def hazard_ratios(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per column: the hazard ratio (exp of the coefficient) and its (low, high) interval."""
        se = np.sqrt(np.diag(self.covariance)[1:])
        z = z_score(level)
        return np.exp(self.coef), np.exp(self.coef - z * se), np.exp(self.coef + z * se)

    def baseline_probability(self) -> float:
        """The probability with no factor present (every column 0)."""
        return float(expit(self.intercept))
