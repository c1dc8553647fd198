"""The risk estimator: a scikit-learn classifier that follows the estimator contract (issue 4).

:class:`GaitRiskClassifier` = median imputation -> standard scaling -> either an L2
logistic regression or a histogram gradient-boosted tree model, with class weights for
the imbalance (evidence base §7.2 item 3: "prefer class weights"), chosen by
validation when ``model="auto"``, then calibrated (sigmoid/Platt) so that the
probabilities mean what they say (§7.2 item 3, §0 row 23: calibration and Brier).

Model choice and calibration use folds grouped by athlete when ``fit`` is given
``groups`` (§7.2 item 1: never shuffled rows of one athlete across folds); without
groups they fall back to stratified folds (what sklearn's generic checks exercise).

Contributions (:meth:`GaitRiskClassifier.contributions`) are model-agnostic and per
row: for each group of features (one flag each), the change in log-odds when that
group is set to the training medians (an occlusion attribution).  For the logistic
model this is coefficient x standardised value summed over the group.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

MODELS = ("auto", "logistic", "boosting")
_EPS = 1e-6


class GaitRiskClassifier(ClassifierMixin, BaseEstimator):
    """Imputation, scaling, logistic regression or gradient boosting, class weights, calibration.

    Parameters
    ----------
    model : {"auto", "logistic", "boosting"}
        ``"auto"`` picks the one with the lower out-of-fold log loss.
    C : float
        Inverse L2 strength of the logistic regression (small data: keep it regularised, §7.2 item 4).
    max_depth, learning_rate, max_iter : gradient-boosting settings (shallow and slow by default).
    class_weight : "balanced", dict or None
        "balanced" steadies the fit under imbalance; calibration then restores true risks.
        A dict ``{class: weight}`` states costs and is kept through the calibration.
    calibration : {"sigmoid", "isotonic", None}
    cv : int
        Folds for the model choice and the calibration.
    random_state : int or None
    """

    def __init__(self, model: str = "auto", C: float = 0.3, max_depth: int = 3, learning_rate: float = 0.05,
                 max_iter: int = 150, class_weight: str | None = "balanced", calibration: str | None = "sigmoid",
                 cv: int = 3, random_state: int | None = 0) -> None:
        self.model = model
        self.C = C
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.calibration = calibration
        self.cv = cv
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True   # imputed inside
        return tags

    # -- building blocks -----------------------------------------------------------------------
    def _pipeline(self, kind: str):
        if kind == "logistic":
            head = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        else:
            head = HistGradientBoostingClassifier(max_depth=self.max_depth, learning_rate=self.learning_rate,
                                                  max_iter=self.max_iter, class_weight=self.class_weight,
                                                  l2_regularization=1.0, random_state=self.random_state)
        return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(), head)

    def _splits(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> list | None:
        """Folds for selection/calibration, or None when there is too little data to split."""
        counts = np.unique(y, return_counts=True)[1]
        if groups is not None:
            n = min(self.cv, len(np.unique(groups)))
            if n < 2:
                return None
            splits = list(GroupKFold(n_splits=n).split(X, y, groups))
        else:
            n = min(self.cv, int(counts.min()))
            if n < 2:
                return None
            splits = list(StratifiedKFold(n_splits=n, shuffle=True, random_state=self.random_state).split(X, y))
        # Every training fold must hold every class, or the fold model cannot score it.
        if any(len(np.unique(y[tr])) < len(self.classes_) for tr, _ in splits):
            return None
        return splits

    def _oof_loss(self, kind: str, X: np.ndarray, y: np.ndarray, splits: list) -> float:
        proba = np.zeros((len(y), len(self.classes_)))
        for tr, te in splits:
            m = self._pipeline(kind).fit(X[tr], y[tr])
            proba[te] = m.predict_proba(X[te])
        return float(log_loss(y, np.clip(proba, _EPS, 1 - _EPS), labels=np.arange(len(self.classes_))))

    # -- the estimator API ---------------------------------------------------------------------
    def fit(self, X, y, groups: Sequence | None = None):
        """Fit on rows ``X`` (n_samples, n_features; NaN allowed) and labels ``y``; ``groups`` = athlete per row."""
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, not {self.model!r}")
        if self.calibration not in ("sigmoid", "isotonic", None):
            raise ValueError(f"calibration must be 'sigmoid', 'isotonic' or None, not {self.calibration!r}")
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        check_classification_targets(y)
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"only one class in y ({self.classes_[0]!r}); a risk model needs both outcomes")
        groups = None if groups is None else np.asarray(groups)
        splits = self._splits(X, y_enc, groups)
        self.validation_loss_: dict[str, float] = {}
        if self.model == "auto" and splits is not None:
            self.validation_loss_ = {k: self._oof_loss(k, X, y_enc, splits) for k in ("logistic", "boosting")}
            self.selected_ = min(self.validation_loss_, key=self.validation_loss_.get)
        else:
            self.selected_ = "logistic" if self.model == "auto" else self.model
        base = self._pipeline(self.selected_)
        if self.calibration is not None and splits is not None:
            # "balanced" only steadies the fit and calibration undoes it; an explicit dict states
            # costs, so the calibrated probabilities keep them (sample weights in the calibration).
            weight = None
            if isinstance(self.class_weight, Mapping):
                weight = np.array([self.class_weight.get(c, 1.0) for c in self.classes_], float)[y_enc]
            self.estimator_ = CalibratedClassifierCV(base, method=self.calibration, cv=splits).fit(
                X, y_enc, sample_weight=weight)
        else:
            self.estimator_ = base.fit(X, y_enc)
        fitted = ([c.estimator for c in self.estimator_.calibrated_classifiers_]
                  if isinstance(self.estimator_, CalibratedClassifierCV) else [self.estimator_])
        self.n_iter_ = int(max(np.max(p[-1].n_iter_) for p in fitted))
        self.reference_ = np.where(np.isnan(X).all(axis=0), 0.0, np.nanmedian(np.where(np.isnan(X).all(axis=0),
                                                                                       0.0, X), axis=0))
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return self.estimator_.predict_proba(X)

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of the positive class (binary) or log-probabilities (multiclass)."""
        p = np.clip(self.predict_proba(X), _EPS, 1 - _EPS)
        if len(self.classes_) == 2:
            return np.log(p[:, 1]) - np.log(p[:, 0])
        return np.log(p)

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- explanation ---------------------------------------------------------------------------
    def contributions(self, X, groups: Mapping[str, Sequence[int]]) -> np.ndarray:
        """Per row and group: log-odds(x) - log-odds(x with the group's columns at the training medians).

        ``groups`` maps a name (a flag code) to column positions; returns (n_rows, n_groups) in
        the mapping's order.  Binary problems only.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        if len(self.classes_) != 2:
            raise ValueError("contributions are defined for binary risk models only")
        full = self.decision_function(X)
        out = np.empty((X.shape[0], len(groups)))
        for j, cols in enumerate(groups.values()):
            Xr = X.copy()
            Xr[:, list(cols)] = self.reference_[list(cols)]
            out[:, j] = full - self.decision_function(Xr)
        return out


def fresh(estimator: GaitRiskClassifier) -> GaitRiskClassifier:
    """An unfitted copy with the same parameters."""
    return clone(estimator)
