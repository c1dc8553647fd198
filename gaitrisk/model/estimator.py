"""The risk estimator: a scikit-learn classifier that follows the estimator contract.

:class:`GaitRiskClassifier` = median imputation -> standard scaling -> either an L2
logistic regression or a shallow, strongly regularised histogram gradient-boosted
tree model, with class weights for the imbalance (weights rather than resampling, the
protocol of Bullock 2022), then calibrated so that the probabilities mean what they say
(Bullock 2022: calibration and Brier).  Binary outcomes only (onset ahead or not).

One set of out-of-fold (OOF) scores does three jobs.  With ``groups`` (the athlete of
each row) the folds are ``GroupKFold`` over athletes (Bullock 2022: never rows of one
athlete on both sides); without groups they fall back to stratified folds (what
sklearn's generic checks exercise).

* **Model choice** (``model="auto"``): each candidate's OOF log-odds are put through a
  two-parameter logistic recalibration and scored by log loss.  Boosting is chosen only
  when its loss is lower than the logistic model's by more than ``select_margin``
  (relative, default 2 %): with a few hundred rows and a few dozen onsets the simpler
  model wins ties (Nielsen 2018: with few injuries, penalised logistic and a small feature set).
  In-sample fit never takes part: boosting reached an in-sample ROC-AUC of 0.99 against
  0.74 out of fold on 15 athletes x 16 weeks, and the old choice followed it.
* **Calibration**: the calibrator maps the selected model's OOF log-odds to the outcome
  (sigmoid = Platt; isotonic when ``calibration="auto"`` and the data are large enough,
  ``ISOTONIC_MIN_POSITIVES`` rows of each class).  Then the model is refit on all rows.
  When the OOF log-odds come out with a slope <= 0 (seen on 2-3 of 5 folds of some seeded
  15-athlete cohorts: the inner folds over ~12 athletes can hold every athlete of a
  mechanism), Platt scaling of the refit model's in-sample log-odds is used instead, so the
  calibration never inverts the model's ranking.
  Fitting the calibrator on predictions for athletes the fold model never saw is what
  makes the calibration slope hold for a *new* athlete; the earlier ensemble of
  per-fold calibrated models was too flat out of fold (slope 1.4-2.3).
* **Contributions** (:meth:`GaitRiskClassifier.contributions`): per row and feature
  group (one flag each), the change in the model's log-odds when that group is set to
  the training medians (an occlusion attribution), on the calibrated scale (times the
  sigmoid slope fitted on the OOF scores).  For the logistic model this is the
  coefficient x standardised value summed over the group, times that slope.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

MODELS = ("auto", "logistic", "boosting")
CALIBRATIONS = ("auto", "sigmoid", "isotonic", None)
ISOTONIC_MIN_POSITIVES = 400   # isotonic steps need many events per step; below this Platt's 2 parameters win
_EPS = 1e-6
log = logging.getLogger(__name__)


def _sigmoid_fit(score: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float]:
    """(slope, intercept) of the logistic regression of ``y`` on ``score`` (Platt scaling, unpenalised)."""
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(score.reshape(-1, 1), y, sample_weight=weight)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _expit(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


class GaitRiskClassifier(ClassifierMixin, BaseEstimator):
    """Imputation, scaling, logistic regression or gradient boosting, class weights, calibration.

    Parameters
    ----------
    model : {"auto", "logistic", "boosting"}
        ``"auto"``: the logistic model unless boosting's recalibrated out-of-fold log loss is
        lower by more than ``select_margin``.
    C : float
        Inverse L2 strength of the logistic regression (small data: keep it regularised, Nielsen 2018).
        The default 0.003 (strong shrinkage) was chosen by athlete-grouped out-of-fold ROC-AUC on
        seeded 15-athlete cohorts 1-5 and checked on seeds 6-10 (docs/model.md): from 0.3 to 0.003
        it rose by 0.03-0.09 on four of those five seeds and held on the fifth -- with ~25 onsets a
        weaker penalty fits athlete-specific noise.
    max_depth, learning_rate, max_iter, min_samples_leaf : gradient-boosting settings (shallow, slow
        and with large leaves by default: a few dozen onsets cannot support deep interactions).
    class_weight : "balanced", dict or None
        "balanced" steadies the fit under imbalance; calibration then restores true risks.
        A dict ``{class: weight}`` states costs and is kept through the calibration.
    calibration : {"auto", "sigmoid", "isotonic", None}
        ``"auto"``: isotonic with >= ``ISOTONIC_MIN_POSITIVES`` rows of each class, else sigmoid.
    cv : int
        Folds for the out-of-fold scores (model choice and calibration).
    select_margin : float
        Relative log-loss improvement boosting needs to be chosen over the logistic model.
    random_state : int or None
    """

    def __init__(self, model: str = "auto", C: float = 0.003, max_depth: int = 2, learning_rate: float = 0.05,
                 max_iter: int = 100, min_samples_leaf: int = 40, class_weight: str | dict | None = "balanced",
                 calibration: str | None = "auto", cv: int = 3, select_margin: float = 0.02,
                 random_state: int | None = 0) -> None:
        self.model = model
        self.C = C
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.min_samples_leaf = min_samples_leaf
        self.class_weight = class_weight
        self.calibration = calibration
        self.cv = cv
        self.select_margin = select_margin
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True   # imputed inside
        tags.classifier_tags.multi_class = False
        return tags

    # -- building blocks -----------------------------------------------------------------------
    def _pipeline(self, kind: str):
        if kind == "logistic":
            head = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000)
        else:
            head = HistGradientBoostingClassifier(max_depth=self.max_depth, learning_rate=self.learning_rate,
                                                  max_iter=self.max_iter, min_samples_leaf=self.min_samples_leaf,
                                                  class_weight=self.class_weight, l2_regularization=1.0,
                                                  early_stopping=False, random_state=self.random_state)
        return make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(), head)

    def _splits(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> list | None:
        """Folds for the OOF scores, or None when there is too little data to split."""
        if groups is not None:
            n = min(self.cv, len(np.unique(groups)))
            if n < 2:
                return None
            splits = list(GroupKFold(n_splits=n).split(X, y, groups))
        else:
            n = min(self.cv, int(np.bincount(y).min()))
            if n < 2:
                return None
            splits = list(StratifiedKFold(n_splits=n, shuffle=True, random_state=self.random_state).split(X, y))
        # Every training fold must hold both classes, or the fold model cannot score it.
        if any(len(np.unique(y[tr])) < 2 for tr, _ in splits):
            return None
        return splits

    def _oof_score(self, kind: str, X: np.ndarray, y: np.ndarray, splits: list) -> np.ndarray:
        """Out-of-fold log-odds of ``kind`` (uncalibrated) for every row."""
        score = np.zeros(len(y))
        for tr, te in splits:
            score[te] = self._pipeline(kind).fit(X[tr], y[tr]).decision_function(X[te])
        return score

    def _weights(self, y: np.ndarray) -> np.ndarray | None:
        # "balanced" only steadies the fit and calibration undoes it; an explicit dict states
        # costs, so the calibrated probabilities keep them (sample weights in the calibration).
        if isinstance(self.class_weight, Mapping):
            return np.array([self.class_weight.get(c, 1.0) for c in self.classes_], float)[y]
        return None

    # -- the estimator API ---------------------------------------------------------------------
    def fit(self, X, y, groups: Sequence | None = None):
        """Fit on rows ``X`` (n_samples, n_features; NaN allowed) and labels ``y``; ``groups`` = athlete per row."""
        # One OpenMP thread: on a few hundred rows the tree model's threads only contend (a boosting
        # fit took 18 s with the default threads on a busy 2-core machine and 2.4 s with one).
        with threadpool_limits(1, user_api="openmp"):
            return self._fit(X, y, groups)

    def _fit(self, X, y, groups):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, not {self.model!r}")
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be one of {CALIBRATIONS}, not {self.calibration!r}")
        X, y = validate_data(self, X, y, ensure_all_finite="allow-nan")
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {y_type}.")
        self.classes_, y_enc = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"only one class in y ({self.classes_[0]!r}); a risk model needs both outcomes")
        groups = None if groups is None else np.asarray(groups)
        splits = self._splits(X, y_enc, groups)
        weight = self._weights(y_enc)
        kinds = ("logistic", "boosting") if self.model == "auto" else (self.model,)
        oof = {k: self._oof_score(k, X, y_enc, splits) for k in kinds} if splits is not None else {}
        self.validation_loss_: dict[str, float] = {}
        for k, s in oof.items():
            a, b = _sigmoid_fit(s, y_enc, weight)
            p = np.clip(_expit(a * s + b), _EPS, 1 - _EPS)
            self.validation_loss_[k] = float(log_loss(y_enc, p, sample_weight=weight, labels=[0, 1]))
        loss = self.validation_loss_
        boost_wins = self.model == "auto" and len(loss) == 2 and loss["boosting"] < loss["logistic"] * (
            1.0 - self.select_margin)
        self.selected_ = "boosting" if self.model == "boosting" or boost_wins else "logistic"
        self.estimator_ = self._pipeline(self.selected_).fit(X, y_enc)
        self.n_iter_ = int(np.max(self.estimator_[-1].n_iter_))

        # Calibration on the OOF log-odds of the selected model (see the module docstring).
        self.calibration_: str | None = None
        self.score_scale_ = 1.0
        self.calibration_x_ = self.calibration_y_ = np.zeros(0)
        self.calibration_ab_ = np.array([1.0, 0.0])
        if self.calibration is not None and self.selected_ in oof:
            s = oof[self.selected_]
            self.calibration_ab_ = np.array(_sigmoid_fit(s, y_enc, weight))
            if self.calibration_ab_[0] <= 0:
                # The OOF scores did not confirm the model's direction (with ~12 athletes one inner fold
                # can hold every athlete of a mechanism): a negative slope would invert the refit model's
                # ranking, so fall back to Platt scaling of its in-sample scores (slope > 0 by fit).
                log.info("out-of-fold calibration slope %.2f <= 0: in-sample Platt scaling instead",
                            self.calibration_ab_[0])
                s = self.estimator_.decision_function(X)
                self.calibration_ab_ = np.array(_sigmoid_fit(s, y_enc, weight))
            self.score_scale_ = float(self.calibration_ab_[0])
            method = self.calibration
            if method == "auto":
                method = "isotonic" if np.bincount(y_enc).min() >= ISOTONIC_MIN_POSITIVES else "sigmoid"
            if method == "isotonic":
                iso = IsotonicRegression(y_min=_EPS, y_max=1 - _EPS, out_of_bounds="clip").fit(
                    s, y_enc, sample_weight=weight)
                self.calibration_x_, self.calibration_y_ = iso.X_thresholds_.copy(), iso.y_thresholds_.copy()
            self.calibration_ = method
        self.reference_ = np.where(np.isnan(X).all(axis=0), 0.0, np.nanmedian(np.where(np.isnan(X).all(axis=0),
                                                                                       0.0, X), axis=0))
        return self

    def _score(self, X: np.ndarray) -> np.ndarray:
        """The fitted model's uncalibrated log-odds."""
        with threadpool_limits(1, user_api="openmp"):
            return self.estimator_.decision_function(X)

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        if self.calibration_ is None:
            with threadpool_limits(1, user_api="openmp"):
                return self.estimator_.predict_proba(X)
        s = self._score(X)
        if self.calibration_ == "isotonic":
            # Clipped linear interpolation between the isotonic thresholds, as IsotonicRegression.predict.
            p = np.interp(s, self.calibration_x_, self.calibration_y_)
        else:
            a, b = self.calibration_ab_
            p = _expit(a * s + b)
        p = np.clip(p, _EPS, 1 - _EPS)
        return np.column_stack([1.0 - p, p])

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of the positive class."""
        p = np.clip(self.predict_proba(X)[:, 1], _EPS, 1 - _EPS)
        return np.log(p) - np.log1p(-p)

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]

    # -- explanation ---------------------------------------------------------------------------
    def contributions(self, X, groups: Mapping[str, Sequence[int]]) -> np.ndarray:
        """Per row and group: log-odds(x) - log-odds(x with the group's columns at the training medians).

        ``groups`` maps a name (a flag code) to column positions; returns (n_rows, n_groups) in
        the mapping's order.  Log-odds on the calibrated scale (the model's score times the
        sigmoid slope fitted out of fold), so that they add up like the probability moves.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        full = self._score(X)
        out = np.empty((X.shape[0], len(groups)))
        for j, cols in enumerate(groups.values()):
            Xr = X.copy()
            Xr[:, list(cols)] = self.reference_[list(cols)]
            out[:, j] = (full - self._score(Xr)) * self.score_scale_
        return out


def fresh(estimator: GaitRiskClassifier) -> GaitRiskClassifier:
    """An unfitted copy with the same parameters."""
    return clone(estimator)
