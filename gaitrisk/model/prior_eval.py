"""Out-of-sample scores of the prior risk model: the prior updated by the training rows, beside baselines.

Athlete-grouped folds (``GroupKFold``, with 2 athletes or more) and a forward-in-time split
(training rows whose label window reaches past the cut are purged), both on the logged, labelled
rows :func:`train_prior` trains on; a single athlete gets the forward-in-time split alone.  Each split scores four predictors on the same rows: the prior updated with the
training rows (:func:`gaitrisk.model.update.fit_prior`), the population prior without any update,
the rules only and the intercept only.  A training side without an onset leaves the population
prior in place, as ``model train`` does.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from .dataset import Dataset
from .evaluate import Metrics, metrics, rules_proba
from .factors import risk_factors
from .prior import PriorRiskClassifier
from .rules import rule_score
from .update import MOVE_MIN, fit_prior

log = logging.getLogger(__name__)
PREDICTORS = ("model", "prior", "rules", "intercept")


@dataclass(frozen=True)
class PriorSplitReport:
    split: str                 # "athlete_grouped" or "forward_in_time"
    model: Metrics             # the prior updated with the training rows
    prior: Metrics             # the population prior, not updated
    rules: Metrics
    intercept: Metrics
    fits: int                  # training sides with both outcomes (the others keep the population prior)
    moved: int                 # fits that moved a factor's log hazard ratio by MOVE_MIN or more

    def as_json(self) -> dict:
        return {"split": self.split, **{k: asdict(getattr(self, k)) for k in PREDICTORS},
                "fits": self.fits, "moved": self.moved}


def _updated(train: pd.DataFrame, horizon_days: int) -> PriorRiskClassifier:
    y = train["label"].to_numpy(int)
    if len(y) == 0 or y.min() == y.max():
        return PriorRiskClassifier(horizon_days=horizon_days).from_prior()
    return fit_prior(train, horizon_days)


def _score(rows: pd.DataFrame, tr: np.ndarray, te: np.ndarray, horizon_days: int, X: np.ndarray,
           score: np.ndarray, y: np.ndarray) -> tuple[dict[str, np.ndarray], PriorRiskClassifier]:
    model = _updated(rows.iloc[tr], horizon_days)
    prior = PriorRiskClassifier(horizon_days=horizon_days).from_prior()
    return {"model": model.predict_proba(X[te])[:, 1], "prior": prior.predict_proba(X[te])[:, 1],
            "rules": rules_proba(score[tr], y[tr], score[te]),
            "intercept": np.full(len(te), y[tr].mean())}, model


def evaluate_prior(ds: Dataset, n_splits: int = 5, train_share: float = 0.6) -> list[PriorSplitReport]:
    """Both splits of the logged rows; the forward-in-time split alone when one athlete holds them.

    Raises ``ValueError`` (one line) when no split can be scored.
    """
    rows = ds.logged_rows
    horizon = ds.spec.horizon_days
    y = rows["label"].to_numpy(int)
    groups = rows.index.get_level_values("athlete").to_numpy()
    athletes = len(np.unique(groups))
    X = risk_factors(rows).to_numpy(float)
    score = rule_score(rows)
    reports = []
    if athletes >= 2:
        oof = {k: np.zeros(len(y)) for k in PREDICTORS}
        fits = moved = 0
        for tr, te in GroupKFold(n_splits=min(n_splits, athletes)).split(X, y, groups):
            out, model = _score(rows, tr, te, horizon, X, score, y)
            for k in PREDICTORS:
                oof[k][te] = out[k]
            fits += int(model.n_rows_ > 0)
            moved += int(model.n_rows_ > 0 and model.prior_shift_ >= MOVE_MIN)
        reports.append(PriorSplitReport("athlete_grouped", *(metrics(y, oof[k]) for k in PREDICTORS), fits, moved))
    days = pd.DatetimeIndex(rows.index.get_level_values("day"))
    cut = days.min() + (days.max() - days.min()) * train_share
    tr = np.flatnonzero(np.asarray(days + np.timedelta64(horizon, "D") < cut))   # purged label windows
    te = np.flatnonzero(np.asarray(days >= cut))
    if len(tr) and len(np.unique(y[te])) == 2:
        out, model = _score(rows, tr, te, horizon, X, score, y)
        reports.append(PriorSplitReport("forward_in_time", *(metrics(y[te], out[k]) for k in PREDICTORS),
                                        int(model.n_rows_ > 0),
                                        int(model.n_rows_ > 0 and model.prior_shift_ >= MOVE_MIN)))
    elif athletes >= 2:
        log.warning("forward-in-time split skipped: no training rows before the cut or one class after it")
    else:
        raise ValueError("the forward-in-time split needs training rows before the cut and both outcomes after "
                         "it, and athlete-grouped folds need at least 2 athletes with logged days (the store has 1)")
    return reports


__all__ = ["PREDICTORS", "PriorSplitReport", "evaluate_prior"]
