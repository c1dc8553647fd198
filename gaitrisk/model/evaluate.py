"""Honest validation of the risk model (Bullock 2022; Nielsen 2018; Bahr 2016).

Two splits, never shuffled rows of one athlete across folds (Bullock 2022):

* **athlete-grouped**: ``GroupKFold`` over athletes; every athlete's rows are scored by a
  model that never saw that athlete;
* **forward in time**: train on days before a cut-off, test on days after it; training
  rows whose 7-day label window reaches past the cut-off are purged (no label leaks into training).

Each split scores three predictors side by side (Impellizzeri 2020): the model, the rules only
(the rule score of :func:`gaitrisk.model.rules.rule_score`, turned into a probability by a
logistic fit on the training rows) and the intercept only (the training base rate).
Metrics: ROC-AUC, PR-AUC (average precision), Brier score, and calibration intercept and
slope (logistic recalibration of the outcome on the predicted log-odds; 0 and 1 are ideal; None,
with a note, when the predictions separate the outcomes and the fit has no estimate).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold

from .dataset import FEATURE_GROUPS, FEATURES, Dataset
from .estimator import GaitRiskClassifier, fresh
from .rules import rule_score

log = logging.getLogger(__name__)
_EPS = 1e-6


@dataclass(frozen=True)
class Metrics:
    roc_auc: float | None
    pr_auc: float | None
    brier: float
    calibration_intercept: float | None
    calibration_slope: float | None
    n: int
    positives: int
    calibration_note: str | None = None   # why the calibration is None when both outcomes are present


@dataclass(frozen=True)
class SplitReport:
    split: str                 # "athlete_grouped" or "forward_in_time"
    model: Metrics
    rules: Metrics
    intercept: Metrics

    def as_json(self) -> dict:
        return {"split": self.split, "model": asdict(self.model), "rules": asdict(self.rules),
                "intercept": asdict(self.intercept)}


def metrics(y: np.ndarray, p: np.ndarray) -> Metrics:
    """Discrimination, Brier score and calibration of probabilities ``p`` for outcomes ``y``."""
    y = np.asarray(y, int)
    p = np.clip(np.asarray(p, float), _EPS, 1 - _EPS)
    both = 0 < y.sum() < len(y)
    auc = float(roc_auc_score(y, p)) if both else None
    ap = float(average_precision_score(y, p)) if both else None
    intercept = slope = note = None
    if both and np.ptp(p) > 1e-9:
        logit = np.log(p / (1 - p))
        if separated(logit, y):
            note = f"not estimable: the predictions separate the {int(y.sum())} positive rows from the others"
        else:
            cal = LogisticRegression(C=1e6, max_iter=1000).fit(logit.reshape(-1, 1), y)
            intercept, slope = float(cal.intercept_[0]), float(cal.coef_[0, 0])
    return Metrics(auc, ap, float(brier_score_loss(y, p)), intercept, slope, len(y), int(y.sum()), note)


def separated(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether ``x`` separates the outcomes ``y`` completely or quasi-completely (ties at the border).

    A logistic fit of ``y`` on such an ``x`` has no maximum-likelihood estimate: its slope grows
    without bound, so the recalibration numbers would be artefacts of the optimiser's stopping point.
    """
    pos, neg = x[y == 1], x[y == 0]
    return bool(pos.min() >= neg.max() or pos.max() <= neg.min())


def rules_proba(score_train: np.ndarray, y_train: np.ndarray, score_test: np.ndarray) -> np.ndarray:
    """The rule score as a probability: a logistic fit on the training rows (their base rate for one class)."""
    if len(np.unique(y_train)) < 2:
        return np.full(len(score_test), float(np.mean(y_train)))
    lr = LogisticRegression(max_iter=1000).fit(score_train.reshape(-1, 1), y_train)
    return lr.predict_proba(score_test.reshape(-1, 1))[:, 1]


def flag_groups() -> dict[str, list[int]]:
    """Column positions of ``FEATURES`` per flag code (the model's contribution groups)."""
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(FEATURES):
        groups.setdefault(FEATURE_GROUPS[name], []).append(j)
    return groups


def grouped_predictions(ds: Dataset, estimator: GaitRiskClassifier | None = None, n_splits: int = 5,
                        contributions: bool = False) -> dict[str, np.ndarray]:
    """Out-of-fold probabilities for every at-risk row: model, rules, intercept (athlete-grouped).

    With ``contributions``, also ``"contributions"``: (rows, flag groups in :func:`flag_groups`
    order) log-odds contributions, each from the fold model that never saw the row's athlete.
    """
    X, y, groups = ds.X.to_numpy(float), ds.y, ds.groups
    score = rule_score(ds.rows)
    est = estimator or GaitRiskClassifier()
    out = {k: np.zeros(len(y)) for k in ("model", "rules", "intercept")}
    cols = flag_groups()
    if contributions:
        out["contributions"] = np.zeros((len(y), len(cols)))
    n = min(n_splits, len(np.unique(groups)))
    for tr, te in GroupKFold(n_splits=n).split(X, y, groups):
        m = fresh(est).fit(X[tr], y[tr], groups=groups[tr])
        out["model"][te] = m.predict_proba(X[te])[:, 1]
        if contributions:
            out["contributions"][te] = m.contributions(X[te], cols)
        out["rules"][te] = rules_proba(score[tr], y[tr], score[te])
        out["intercept"][te] = y[tr].mean()
    return out


def evaluate(ds: Dataset, estimator: GaitRiskClassifier | None = None, n_splits: int = 5,
             train_share: float = 0.6) -> list[SplitReport]:
    """Both splits, each with the model, the rules and the intercept-only baseline."""
    y = ds.y
    oof = grouped_predictions(ds, estimator, n_splits)
    reports = [SplitReport("athlete_grouped", *(metrics(y, oof[k]) for k in ("model", "rules", "intercept")))]
    days = ds.days
    cut = days.min() + (days.max() - days.min()) * train_share
    horizon = np.timedelta64(ds.spec.horizon_days, "D")
    tr = np.asarray(days + horizon < cut)        # label window wholly before the cut (purged)
    te = np.asarray(days >= cut)
    if len(np.unique(y[tr])) == 2 and len(np.unique(y[te])) == 2:
        X, score = ds.X.to_numpy(float), rule_score(ds.rows)
        m = fresh(estimator or GaitRiskClassifier()).fit(X[tr], y[tr], groups=ds.groups[tr])
        reports.append(SplitReport("forward_in_time", metrics(y[te], m.predict_proba(X[te])[:, 1]),
                                   metrics(y[te], rules_proba(score[tr], y[tr], score[te])),
                                   metrics(y[te], np.full(te.sum(), y[tr].mean()))))
    else:
        log.warning("forward-in-time split skipped: a side of the cut holds only one class")
    return reports


__all__ = ["FEATURES", "Metrics", "SplitReport", "evaluate", "flag_groups", "grouped_predictions", "metrics", "rules_proba",
           "separated"]
