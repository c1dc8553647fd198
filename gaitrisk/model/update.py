"""Updating the population prior with the store's labelled days, and the card that says what it became.

:func:`train_prior` builds the athlete-day rows, leaves out the rows whose label is unknown because
no pain was logged around them (``label_unlogged``), fits :class:`PriorRiskClassifier` on the
:data:`RISK_FACTORS` and writes the model card.  When the data move no factor's log hazard
ratio by ``MOVE_MIN``, the card and ``model train`` say that the published hazard ratios stand and
show no discrimination metric: a handful of onsets is no evidence for or against the literature.
The intercept, the base rate, is updated all the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Sequence
from zoneinfo import ZoneInfo

import numpy as np

from .dataset import Dataset, LabelSpec, build_dataset
from .factors import (RATE_PER_1000_H, RISK_FACTORS, TARGET_SHARE, TYPICAL_WEEKLY_HOURS, base_rate,
                      factor_priors)
from .persist import CARD_VERSION, label_card, library_versions

if TYPE_CHECKING:
    from .prior import PriorRiskClassifier

if TYPE_CHECKING:
    from ..store import Store

PRIOR_VERSION = 1     # the priors and base rate of gaitrisk.model.factors; raised when they change
MOVE_MIN = 0.1        # log HR (a hazard ratio changing by < 10.5 %): below it the data do not move the prior
MODEL_KIND = "prior"


class NothingToLearn(ValueError):
    """The store's labelled days cannot update the prior; the message is one line."""


@dataclass(frozen=True)
class Update:
    """What the data did to the prior."""

    rows: int
    onsets: int
    unlogged_rows: int
    shift: float          # largest |posterior - prior| log hazard ratio over the factors
    moved: bool

    def summary(self) -> str:
        onsets = f"{self.onsets} onset{'' if self.onsets == 1 else 's'}"
        if self.moved:
            return (f"{onsets} in {self.rows} athlete-days moved the population prior "
                    f"(max |Δ log HR| {self.shift:.2f})")
        return (f"{onsets}: the population prior barely moves (max |Δ log HR| {self.shift:.2f}); "
                f"its hazard ratios stand as published")


REGION_WORDS = {"lateral_hip": "lateral hip", "groin_front_hip": "groin/front hip", "buttock": "buttock",
                "lateral_knee_itb": "lateral knee (ITB)"}


def label_text(spec: LabelSpec, source: str = "nrs_onset") -> str:
    """The label in words: ``source`` is a key of :data:`gaitrisk.model.dataset.LABEL_SOURCES`."""
    regions = ", ".join(REGION_WORDS.get(r, r.replace("_", " ")) for r in spec.regions)
    if source == "ostrc_substantial":
        return (f"a substantial problem (weekly OSTRC) in {regions} after a problem-free answered week, "
                f"within the next {spec.horizon_days} days")
    return (f"pain >= {spec.min_score}/10 in {regions} after {spec.pain_free_days} pain-free days, "
            f"within the next {spec.horizon_days} days")


def label_texts(label: dict, spec: LabelSpec) -> dict[str, str]:
    """The words of each label a card's ``label`` records, keyed by source."""
    return {source: label_text(spec, source) for source in sorted(set((label.get("sources") or {}).values()))}


def prior_description(horizon_days: int) -> dict:
    """The priors and base rate as plain JSON (the card's record of what the model started from)."""
    return {"prior_version": PRIOR_VERSION,
            "base_rate": {"probability": base_rate(horizon_days), "rate_per_1000_h": RATE_PER_1000_H,
                          "weekly_hours": TYPICAL_WEEKLY_HOURS, "target_share": TARGET_SHARE,
                          "horizon_days": horizon_days},
            "factors": [{"factor": p.factor, "evidence": p.evidence_id, "log_hr_mean": p.mean, "log_hr_sd": p.sd,
                         "hazard_ratio": p.hazard_ratio, "origin": p.origin} for p in factor_priors()]}


def train_prior(store: Store, zone: ZoneInfo, athletes: Sequence[str] | None = None,
                spec: LabelSpec | None = None) -> tuple[PriorRiskClassifier, dict, Dataset]:
    """Fit the prior model on the store's logged, labelled athlete-days; raises :class:`NothingToLearn`."""
    spec = spec or LabelSpec()
    ds = build_dataset(store, athletes, zone, spec)
    rows = ds.logged_rows
    unlogged = len(ds.rows) - len(rows)
    if len(rows) == 0:
        raise NothingToLearn("no labelled athlete-days with a pain log around them: import runs and a pain log "
                             "first (gaitrisk risk uses the population prior meanwhile)")
    y = rows["label"].to_numpy(int)
    if y.max() == 0:
        raise NothingToLearn(f"no pain onset in the {len(y)} labelled days: nothing to learn "
                             "(gaitrisk risk uses the population prior as is)")
    if y.min() == 1:
        raise NothingToLearn(f"every one of the {len(y)} labelled days has an onset ahead: nothing to learn")
    model = fit_prior(rows, spec.horizon_days)
    onsets = int(ds.onsets().sum())
    update = Update(len(rows), onsets, unlogged, model.prior_shift_, model.prior_shift_ >= MOVE_MIN)
    return model, prior_card(ds, rows, model, update, zone), ds


def fit_prior(rows, horizon_days: int) -> PriorRiskClassifier:
    """The prior updated with labelled ``rows`` (both outcomes present): the fit of :func:`train_prior`."""
    from .factors import risk_factors
    from .prior import PriorRiskClassifier

    X = risk_factors(rows).to_numpy(float)
    y = rows["label"].to_numpy(int)
    # Each day lies in the label windows of ``horizon_days`` overlapping rows, so one onset labels up to
    # that many rows: weighting each row by 1/horizon counts an onset once, not seven times.
    weight = np.full(len(y), 1.0 / horizon_days)
    return PriorRiskClassifier(horizon_days=horizon_days).fit(X, y, sample_weight=weight)


def train_model(store: Store, zone: ZoneInfo, kind: str = MODEL_KIND, folds: int = 0):
    """``(estimator, card)`` of ``kind``: the prior updated by :func:`train_prior`, or the older feature
    classifier (``auto``, ``logistic``, ``boosting``; ``folds`` scores it out-of-fold).

    Raises ``ValueError`` (:class:`NothingToLearn` for the prior) when the data cannot train it.
    """
    if kind == MODEL_KIND:
        est, card, _ = train_prior(store, zone)
        return est, card
    from .estimator import GaitRiskClassifier
    from .persist import train

    est, card, _ = train(store, zone, estimator=GaitRiskClassifier(model=kind), folds=folds)
    return est, card


def update_lines(card: dict) -> list[str]:
    """What updating the prior did, in the words of ``model train`` and the nightly summary."""
    d = card["data"]
    return [f"updated the population prior with {d['rows']} athlete-days of {len(d['athletes'])} athletes "
            f"({d['first_day']} to {d['last_day']}; {d['onsets_total']} onsets; {d['unlogged_rows_removed']} "
            f"days left out: no pain logged around them)", card["model"]["summary"]]


def prior_card(ds: Dataset, rows, model: PriorRiskClassifier, update: Update, zone: ZoneInfo) -> dict:
    """The model card of a prior model (same envelope as :func:`gaitrisk.model.persist.model_card`)."""
    from .evaluate import metrics
    from .factors import risk_factors

    days = rows.index.get_level_values("day")
    onsets = ds.onsets()
    hr, low, high = model.hazard_ratios()
    label = label_card(ds)
    label["texts"] = label_texts(label, ds.spec)
    return {
        "card_version": CARD_VERSION,
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "libraries": library_versions(),
        "zone": str(zone),
        "label": label,
        "label_text": "; ".join(label["texts"].values()) or label_text(ds.spec),
        "features": list(RISK_FACTORS),
        "data": {"first_day": days.min().date().isoformat() if len(days) else None,
                 "last_day": days.max().date().isoformat() if len(days) else None,
                 "athletes": sorted(set(rows.index.get_level_values("athlete"))),
                 "rows": len(rows), "positive_rows": int(rows["label"].sum()),
                 "unlogged_rows_removed": update.unlogged_rows,
                 "onsets": {str(k): int(v) for k, v in onsets.items()}, "onsets_total": int(onsets.sum())},
        "model": {"selected": MODEL_KIND, "params": model.get_params(), **prior_description(ds.spec.horizon_days),
                  "moved": update.moved, "prior_shift": update.shift, "summary": update.summary(),
                  "baseline_probability": model.baseline_probability(),
                  "hazard_ratios": [{"factor": f, "hazard_ratio": float(h), "low": float(lo), "high": float(hi)}
                                    for f, h, lo, hi in zip(RISK_FACTORS, hr, low, high)]},
        # In-sample only, and only when the data moved the prior (a prior-only model has nothing to show).
        "metrics": {"apparent": asdict(metrics(rows["label"].to_numpy(int), model.predict_proba(
            risk_factors(rows).to_numpy(float))[:, 1])) if update.moved else None, "validation": None},
    }
