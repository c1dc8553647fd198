"""Scores of predicted probabilities with athlete-bootstrap intervals, and the oracle of a planted hazard.

Pure functions of arrays (numpy and scikit-learn's ranking metrics only): the validation script
feeds them the rows of gaitrisk's athlete-day dataset, and the tests feed them known cases.

The bootstrap resamples *athletes* with replacement (rows of one athlete are not independent)
and recomputes every metric on the rows of the drawn athletes; the interval is the 2.5th and
97.5th percentile of the replicates.  Paired differences use the same draws for both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

EPS = 1e-6
METRICS: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "cal_intercept", "cal_slope", "mean_p", "observed")


def oracle_7d(hazard: np.ndarray, horizon: int = 7, previous: np.ndarray | None = None,
              hr_previous: float = 1.0) -> np.ndarray:
    """Per day t of one athlete's consecutive days: 1 - prod(1 - h[d]) over d = t+1 .. t+horizon.

    ``previous`` (0/1 per day) marks the days whose hazard ``hr_previous`` raised for an earlier
    onset.  An onset inside the window raises the hazard of the window's later days, which would
    let the outcome leak into its own prediction; so the previous-onset factor of every day of
    the window is the one of day t+1 (the onsets up to t).  NaN where the window runs past the
    last day.
    """
    h = np.clip(np.asarray(hazard, float), 0.0, 1.0)
    out = np.full(len(h), np.nan)
    if previous is None:
        variants = {False: h}
        frozen = np.zeros(len(h), bool)
    else:
        prev = np.asarray(previous, bool)
        own = np.where(prev, h / hr_previous, h)            # the hazard without the previous-onset factor
        variants = {False: own, True: np.clip(own * hr_previous, 0.0, 1.0)}
        frozen = np.concatenate([prev[1:], [False]])          # the status of day t+1, per t
    csum = {k: np.concatenate([[0.0], np.cumsum(np.log1p(-np.minimum(v, 1.0 - 1e-12)))])
            for k, v in variants.items()}
    for t in range(len(h) - horizon):
        c = csum[bool(frozen[t])]
        out[t] = 1.0 - np.exp(c[t + 1 + horizon] - c[t + 1])
    # Rounded: equal hazards must give equal probabilities, not ones that differ in the last bit
    # (a ranking metric would read those differences as a ranking).
    return np.round(out, 12)


def calibration(y: np.ndarray, p: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """Intercept and slope of the logistic recalibration y ~ a + b * logit(p) (0 and 1 are ideal).

    Newton-Raphson on the two parameters (unpenalised); NaN when ``y`` holds one class, ``p``
    is constant (no slope to fit) or the fit does not converge (separation).
    """
    y = np.asarray(y, float)
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    x = np.log(p / (1 - p))
    if y.min() == y.max() or np.ptp(x) < 1e-9:
        return float("nan"), float("nan")
    X = np.column_stack([np.ones_like(x), x])
    beta = np.array([0.0, 1.0])
    for _ in range(iterations):
        eta = np.clip(X @ beta, -30, 30)
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = np.maximum(mu * (1 - mu), 1e-12)
        grad = X.T @ (y - mu)
        hess = X.T @ (X * w[:, None])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return float("nan"), float("nan")
        beta = beta + step
        if np.max(np.abs(step)) < 1e-8:
            return float(beta[0]), float(beta[1])
    # No convergence: the outcome is (nearly) separated by p, and the fit runs off to infinity.
    return float("nan"), float("nan")


def score(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every metric of ``METRICS`` for outcomes ``y`` (0/1) and probabilities ``p``."""
    y = np.asarray(y, int)
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    both = 0 < y.sum() < len(y)
    a, b = calibration(y, p) if both else (float("nan"), float("nan"))
    return {"roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
            "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
            "brier": float(np.mean((p - y) ** 2)), "cal_intercept": a, "cal_slope": b,
            "mean_p": float(p.mean()), "observed": float(y.mean())}


@dataclass(frozen=True)
class Estimate:
    """A point value with its bootstrap 95 % interval."""

    value: float
    low: float
    high: float

    def covers(self, x: float) -> bool:
        return bool(self.low <= x <= self.high)

    def text(self, digits: int = 3) -> str:
        if not np.isfinite(self.value):
            return "n/a"
        return f"{self.value:.{digits}f} ({self.low:.{digits}f} – {self.high:.{digits}f})"


def athlete_draws(groups: np.ndarray, replicates: int, seed: int) -> list[np.ndarray]:
    """Row indices of ``replicates`` athlete bootstrap samples (athletes drawn with replacement)."""
    groups = np.asarray(groups)
    names, inverse = np.unique(groups, return_inverse=True)
    rows = [np.flatnonzero(inverse == k) for k in range(len(names))]
    rng = np.random.default_rng(seed)
    return [np.concatenate([rows[k] for k in rng.integers(0, len(names), len(names))]) for _ in range(replicates)]


def interval(point: float, reps: list[float]) -> Estimate:
    r = np.asarray([v for v in reps if np.isfinite(v)], float)
    if not np.isfinite(point) or r.size == 0:
        return Estimate(point, float("nan"), float("nan"))
    return Estimate(point, float(np.percentile(r, 2.5)), float(np.percentile(r, 97.5)))


def bootstrap_scores(y: np.ndarray, preds: Mapping[str, np.ndarray], draws: list[np.ndarray]
                     ) -> dict[str, dict[str, Estimate]]:
    """Per predictor, every metric with its interval over the athlete ``draws``."""
    y = np.asarray(y, int)
    out: dict[str, dict[str, Estimate]] = {}
    for name, p in preds.items():
        point = score(y, p)
        reps = [score(y[idx], p[idx]) for idx in draws]
        out[name] = {m: interval(point[m], [r[m] for r in reps]) for m in METRICS}
    return out


def bootstrap_statistic(stat: Callable[[np.ndarray], float], n: int, draws: list[np.ndarray]) -> Estimate:
    """``stat(row indices)`` on all ``n`` rows and on every draw."""
    return interval(stat(np.arange(n)), [stat(idx) for idx in draws])


def paired_difference(y: np.ndarray, a: np.ndarray, b: np.ndarray, metric: str,
                      draws: list[np.ndarray]) -> Estimate:
    """``metric`` of predictor ``a`` minus that of ``b`` on the same rows, with its interval."""
    y = np.asarray(y, int)

    def diff(idx: np.ndarray) -> float:
        return score(y[idx], a[idx])[metric] - score(y[idx], b[idx])[metric]

    return bootstrap_statistic(diff, len(y), draws)
