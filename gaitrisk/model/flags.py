"""One athlete's current risk picture: rule flags, red flags and the model's view (issue 4).

The library entry point behind ``gaitrisk flags``, the reports and the nightly run:
:func:`assess` reads the store, builds the athlete-day rows and returns an
:class:`Assessment` -- red flags first, then rule flags by severity, and the
model's probability with its per-flag contributions when a trained model exists
and the athlete has enough labelled onsets (``MIN_ONSETS``; below that the rules
decide alone).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from .dataset import FEATURE_GROUPS, FEATURES, Dataset, build_dataset
from .rules import LEVEL, Flag, clinician_flags, flags_for_day, rule_levels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelView:
    """The model's probability of a pain onset within ``horizon_days`` after ``date``."""

    probability: float
    date: dt.date
    horizon_days: int
    at_risk: bool
    base_rate: float
    contributions: tuple[tuple[str, float], ...]  # (flag code, log-odds), largest magnitude first

    def as_json(self) -> dict:
        return {"probability": self.probability, "date": self.date.isoformat(), "horizon_days": self.horizon_days,
                "at_risk": self.at_risk, "base_rate": self.base_rate,
                "contributions": [{"flag": k, "log_odds": round(v, 4)} for k, v in self.contributions]}


@dataclass(frozen=True)
class Assessment:
    """Flags of one athlete on the days ``first`` .. ``last`` (inclusive, local calendar days)."""

    athlete: str
    first: dt.date
    last: dt.date
    flags: tuple[Flag, ...] = field(default_factory=tuple)
    model: ModelView | None = None
    model_note: str = ""

    @property
    def red_flags(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.code == "see_a_clinician")


def flag_json(f: Flag) -> dict:
    """The JSON form of a flag (``gaitrisk flags --json``, the report schema)."""
    return {"code": f.code, "severity": f.severity, "date": f.date.isoformat(), "explanation": f.explanation,
            "suggestion": f.suggestion, "source": f.source,
            "contributors": [{"feature": c.feature, "value": c.value, "weight": c.weight} for c in f.contributors]}


def rule_flags(frame: pd.DataFrame, first: dt.date, last: dt.date) -> list[Flag]:
    """Each rule's strongest (then latest) flag on the days first..last."""
    days = frame.index.get_level_values("day")
    window = frame[(days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))]
    fired = rule_levels(window).sum(axis=1) > 0
    best: dict[str, Flag] = {}
    for (_, day), row in window[fired.to_numpy()].iterrows():
        for f in flags_for_day(row, day.date()):
            old = best.get(f.code)
            if old is None or (LEVEL[f.severity], f.date) >= (LEVEL[old.severity], old.date):
                best[f.code] = f
    return list(best.values())


def model_view(path: Path | None, ds: Dataset, athlete: str, day: dt.date) -> tuple[ModelView | None, str]:
    """The model's probability on ``day`` with its contributions, or None and the reason."""
    from .persist import MIN_ONSETS, ModelFileError, load_model

    if path is None or not Path(path).exists():
        return None, "no trained model (gaitrisk model train)"
    onsets = int(ds.onsets().get(athlete, 0))
    if onsets < MIN_ONSETS:
        return None, f"rules only: {onsets} labelled onset(s), the model is shown from {MIN_ONSETS}"
    try:
        est, card = load_model(path)
    except ModelFileError as exc:
        return None, str(exc)
    if list(card.get("features", [])) != list(FEATURES):
        return None, "the model was trained on other features; train again"
    key = (athlete, pd.Timestamp(day))
    if key not in ds.frame.index:
        return None, f"no data for {day}"
    row = ds.frame.loc[[key], list(FEATURES)].to_numpy(float)
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(FEATURES):
        groups.setdefault(FEATURE_GROUPS[name], []).append(j)
    contrib = est.contributions(row, groups)[0]
    order = np.argsort(-np.abs(contrib))
    at_risk = bool(ds.frame.loc[key, "at_risk"])
    view = ModelView(float(est.predict_proba(row)[0, 1]), day, int(card["label"]["horizon_days"]), at_risk,
                     card["data"]["positive_rows"] / max(card["data"]["rows"], 1),
                     tuple((list(groups)[k], float(contrib[k])) for k in order))
    return view, "" if at_risk else "already in a pain episode: the model is meant for pain-free days"


def assess(store, athlete: str, zone: ZoneInfo, *, last: dt.date | None = None, days: int = 7,
           model_path: str | Path | None = None, dataset: Dataset | None = None,
           pain_entries: Sequence | None = None) -> Assessment:
    """Flags of ``athlete`` over the ``days`` days ending on ``last``.

    ``last`` defaults to the athlete's last day with a run or a pain entry and is
    capped there.  Raises ``LookupError`` when the athlete has no runs.  Pass
    ``dataset``/``pain_entries`` to reuse what the caller already read.
    """
    ds = dataset if dataset is not None else build_dataset(store, [athlete], zone)
    entries = pain_entries if pain_entries is not None else store.pain_entries(athlete)
    if ds.frame.empty or athlete not in ds.frame.index.get_level_values("athlete"):
        raise LookupError(f"no runs for {athlete}")
    frame = ds.frame.loc[[athlete]]
    all_days = frame.index.get_level_values("day")
    end = all_days.max().date()
    last = min(last, end) if last else end
    first = last - dt.timedelta(days=days - 1)
    red = [f for f in clinician_flags(entries, frame, zone) if first <= f.date <= last]
    rules = sorted(rule_flags(frame, first, last), key=lambda f: (-LEVEL[f.severity], -f.date.toordinal(), f.code))
    flags = sorted(red, key=lambda f: f.date, reverse=True) + rules
    if pd.Timestamp(last) < all_days.min():
        model, note = None, ""
    else:
        model, note = model_view(Path(model_path) if model_path else None, ds, athlete, last)
    return Assessment(athlete, first, last, tuple(flags), model, note)
