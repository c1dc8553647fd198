"""One athlete's current risk picture: rule flags, red flags and the model's view.

The library entry point behind ``gaitrisk flags``, the reports and the nightly run:
:func:`assess` reads the store, builds the athlete-day rows and returns an
:class:`Assessment` -- red flags first, then rule flags by severity, and the
model's probability with its per-flag contributions when a trained model exists
and the athlete has enough labelled onsets (``MIN_ONSETS``; below that the rules
decide alone).

When the model view exists it is merged into the flags (:func:`merge_model`):

* every rule flag whose code is a model feature group gets the model's features of that
  group as extra ``contributors`` (``weight`` = the feature's log-odds contribution,
  largest first), after the rule's own number (``weight`` None);
* a group the model leans on strongly (>= ``MODEL_FLAG_LOG_ODDS`` log-odds, i.e. the
  odds x 1.65 or more) while no rule of that code fired in the window becomes an
  ``info`` flag of that code with ``source = "model"`` (never for a code the evidence table
  grades a hypothesis): the explanation names the log-odds and the features, the suggestion
  is the rule's.  It never raises a severity
  and never stands in for a red flag.  Only on an at-risk day (not inside a pain episode).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from .dataset import FEATURE_GROUPS, FEATURES, Dataset, build_dataset
from .daytable import DayTable
from .rules import (
    LEVEL,
    SUGGESTIONS,
    Contributor,
    Flag,
    as_table,
    clinician_flags,
    flag_evidence,
    flags_for_day,
    levels_of,
    rule_factor,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..records import PainEntry
    from ..store import Store

log = logging.getLogger(__name__)

MODEL_FLAG_LOG_ODDS = 0.5      # a model-only info flag from this group contribution up (odds x 1.65)
MODEL_FEATURES_PER_FLAG = 3    # the model features listed per flag


@dataclass(frozen=True)
class ModelView:
    """The model's probability of a pain onset within ``horizon_days`` after ``date``."""

    probability: float
    date: dt.date
    horizon_days: int
    at_risk: bool
    base_rate: float
    contributions: tuple[tuple[str, float], ...]  # (flag code, log-odds), largest magnitude first
    # (flag code, feature, value, log-odds) per model feature, largest magnitude first; value None = missing
    features: tuple[tuple[str, str, float | None, float], ...] = ()

    def as_json(self) -> dict[str, Any]:
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


def flag_json(f: Flag) -> dict[str, Any]:
    """The JSON form of a flag (``gaitrisk flags --json``, the report schema).

    ``evidence`` is the flag's own, or else its code's entry in the evidence table: every flag
    carries the grade, source, effect and threshold origin it rests on.
    """
    evidence = f.evidence or flag_evidence(f.code)
    return {"code": f.code, "severity": f.severity, "date": f.date.isoformat(), "explanation": f.explanation,
            "suggestion": f.suggestion, "source": f.source, "evidence": evidence.as_json(),
            "contributors": [{"feature": c.feature, "value": c.value, "weight": c.weight} for c in f.contributors]}


def rule_flags(frame: pd.DataFrame | DayTable, first: dt.date, last: dt.date) -> list[Flag]:
    """Each rule's strongest (then latest) flag on the days first..last of one athlete's day table."""
    window = as_table(frame).between(first, last)
    levels = levels_of(window)
    best: dict[str, Flag] = {}
    for i in np.flatnonzero(sum(levels.values()) > 0).tolist():
        for f in flags_for_day(window.row(i), window.day(i), {code: lv[i] for code, lv in levels.items()}):
            old = best.get(f.code)
            if old is None or (LEVEL[f.severity], f.date) >= (LEVEL[old.severity], old.date):
                best[f.code] = f
    return list(best.values())


def _model_contributors(view: ModelView, code: str) -> tuple[Contributor, ...]:
    picked = [(f, v, w) for g, f, v, w in view.features if g == code][:MODEL_FEATURES_PER_FLAG]
    return tuple(Contributor(f, v, round(w, 4)) for f, v, w in picked)


def merge_model(flags: Sequence[Flag], view: ModelView, last: dt.date) -> list[Flag]:
    """Rule flags with the model's contributors of their group, plus model-only info flags (see the module doc)."""
    groups = dict(view.contributions)
    out = [dataclasses.replace(f, contributors=tuple(f.contributors) + _model_contributors(view, f.code))
           if f.code in groups else f for f in flags]
    fired = {f.code for f in flags}
    for code, log_odds in view.contributions:
        if not view.at_risk or log_odds < MODEL_FLAG_LOG_ODDS or code in fired or code not in SUGGESTIONS:
            continue
        if rule_factor(code).grade == "hypothesis":   # only the rule may raise a hypothesis, on observed data
            continue
        contributors = _model_contributors(view, code)
        named = ", ".join(f"{c.feature} = {c.value:.3g}" if c.value is not None else f"{c.feature} missing"
                          for c in contributors if c.weight and c.weight > 0)
        out.append(Flag(code, "info", last,
                        f"the model raises your odds of a pain onset in the next {view.horizon_days} days "
                        f"x{np.exp(log_odds):.1f} (log-odds {log_odds:+.2f}) from these features: {named}; "
                        f"no rule of this kind fired", SUGGESTIONS[code], contributors, "model",
                        flag_evidence(code)))
    return out


def model_view(path: Path | None, ds: Dataset, athlete: str, day: dt.date) -> tuple[ModelView | None, str]:
    """The model's probability on ``day`` with its contributions, or None and the reason."""
    from .persist import MIN_ONSETS, ModelFileError, read_model, read_card
    from .update import MODEL_KIND as PRIOR_KIND

    if path is None or not Path(path).exists():
        return None, "no trained model (gaitrisk model train)"
    try:
        if read_card(path).get("model", {}).get("selected") == PRIOR_KIND:
            return None, ""   # the prior model speaks through the risk line, with no onset minimum
    except ModelFileError as exc:
        return None, str(exc)
    onsets = int(ds.onsets().get(athlete, 0))
    if onsets < MIN_ONSETS:
        return None, f"rules only: {onsets} labelled onset(s), the model is shown from {MIN_ONSETS}"
    try:
        est, card = read_model(path)
    except ModelFileError as exc:
        return None, str(exc)
    if list(card.get("features", [])) != list(FEATURES):
        return None, "the model was trained on other features; train again"
    import pandas as pd   # the model itself needs it

    key = (athlete, pd.Timestamp(day))
    if key not in ds.frame.index:
        return None, f"no data for {day}"
    row = ds.frame.loc[[key], list(FEATURES)].to_numpy(float)
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(FEATURES):
        groups.setdefault(FEATURE_GROUPS[name], []).append(j)
    contrib = est.contributions(row, groups)[0]
    order = np.argsort(-np.abs(contrib))
    single = est.contributions(row, {name: [j] for j, name in enumerate(FEATURES)})[0]
    per_feature = tuple((FEATURE_GROUPS[FEATURES[j]], FEATURES[j],
                         float(row[0, j]) if np.isfinite(row[0, j]) else None, float(single[j]))
                        for j in np.argsort(-np.abs(single)))
    at_risk = bool(ds.frame.loc[key, "at_risk"])
    view = ModelView(float(est.predict_proba(row)[0, 1]), day, int(card["label"]["horizon_days"]), at_risk,
                     card["data"]["positive_rows"] / max(card["data"]["rows"], 1),
                     tuple((list(groups)[k], float(contrib[k])) for k in order), per_feature)
    return view, "" if at_risk else "already in a pain episode: the model is meant for pain-free days"


def assess(store: Store, athlete: str, zone: ZoneInfo, *, last: dt.date | None = None, days: int = 7,
           model_path: str | Path | None = None, dataset: Dataset | None = None,
           pain_entries: Sequence[PainEntry] | None = None) -> Assessment:
    """Flags of ``athlete`` over the ``days`` days ending on ``last``.

    ``last`` defaults to the athlete's last day with a run or a pain entry and is
    capped there.  Raises ``LookupError`` when the athlete has no runs.  Pass
    ``dataset``/``pain_entries`` to reuse what the caller already read.
    """
    ds = dataset if dataset is not None else build_dataset(store, [athlete], zone)
    entries = pain_entries if pain_entries is not None else store.pain_entries(athlete)
    table = ds.table(athlete)
    if table is None or not len(table):
        raise LookupError(f"no runs for {athlete}")
    end = table.day(len(table) - 1)
    last = min(last, end) if last else end
    first = last - dt.timedelta(days=days - 1)
    red = [f for f in clinician_flags(entries, table, zone) if first <= f.date <= last]
    rules = sorted(rule_flags(table, first, last), key=lambda f: (-LEVEL[f.severity], -f.date.toordinal(), f.code))
    flags = sorted(red, key=lambda f: f.date, reverse=True) + rules
    if last < table.day(0):
        model, note = None, ""
    else:
        model, note = model_view(Path(model_path) if model_path else None, ds, athlete, last)
    if model is not None:
        flags = merge_model(flags, model, last)
    return Assessment(athlete, first, last, tuple(flags), model, note)
