"""The risk contract: one athlete's probability of a target-region pain onset, day by day, with its drivers.

:func:`risk_for` reads the store and returns a :class:`RiskReport`: per day the probability of an
onset within the horizon, its interval, and the factors present that day, each with its hazard
ratio, interval and evidence.  It uses the store's trained prior model when one exists and the
population prior otherwise, so a runner without a single logged onset still gets a risk.  The
JSON of ``gaitrisk risk --json`` is :meth:`RiskReport.as_json`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np

from .dataset import Dataset, LabelSpec, build_dataset, label_sources
from .evidence import FlagEvidence, shipped
from .factors import FACTOR_TITLES, RISK_FACTORS, factor_matrix, factor_priors
from .posterior import Posterior
from .update import label_text

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger(__name__)
LEVEL = 0.95
TOP_FACTORS = 3   # the raising factors a text names: a short list a runner reads
# Short names for tables and lists; FACTOR_TITLES holds the full definitions.
FACTOR_LABELS: dict[str, str] = {
    "spike_small": "run spike 10-30 %",
    "spike_moderate": "run spike 30-100 %",
    "spike_large": "run spike > 100 %",
    "week_jump": "week jump > 30 %",
    "previous_injury": "earlier pain episode",
    "return_after_break": "return after a break",
    "low_cadence": "low cadence for speed",
    "downhill": "downhill",
    "camber": "camber",
}
NO_RAISE_TEXT = "no factor present raises it above what is typical for your running"


@dataclass(frozen=True)
class RiskContributor:
    """A factor present on the day, with the model's hazard ratio and the evidence behind it."""

    factor: str
    value: float
    hazard_ratio: float
    low: float
    high: float
    evidence: FlagEvidence

    @property
    def title(self) -> str:
        return FACTOR_TITLES[self.factor]

    @property
    def label(self) -> str:
        """The factor's short name ("return after a break")."""
        return FACTOR_LABELS.get(self.factor, self.factor.replace("_", " "))

    @property
    def raises(self) -> bool:
        """Whether the factor raises the risk: a hazard ratio above 1 as shown (an HR of 1.00 raises nothing)."""
        return round(self.hazard_ratio, 2) > 1.0

    def text(self) -> str:
        return (f"{self.title}: HR {self.hazard_ratio:.2f} ({self.low:.2f}–{self.high:.2f}), "
                f"evidence grade {self.evidence.grade} [{self.evidence.source}]")

    def as_json(self) -> dict[str, Any]:
        return {"factor": self.factor, "value": self.value, "hazard_ratio": self.hazard_ratio, "low": self.low,
                "high": self.high, "evidence": self.evidence.as_json()}


@dataclass(frozen=True)
class RiskDay:
    date: dt.date
    probability: float
    low: float
    high: float
    contributors: tuple[RiskContributor, ...]

    def raising(self, top: int | None = TOP_FACTORS) -> tuple[RiskContributor, ...]:
        """The factors present that raise the risk, strongest first (at most ``top``; None: all)."""
        up = tuple(c for c in self.contributors if c.raises)
        return up if top is None else up[:top]

    def present_without_effect(self) -> tuple[RiskContributor, ...]:
        """The factors present whose hazard ratio is 1.00 as shown: found in the data, no effect on the risk."""
        return tuple(c for c in self.contributors if not c.raises)

    def without_effect_text(self) -> str | None:
        """The factors present that raise nothing, in one line (None when there are none)."""
        flat = self.present_without_effect()
        if not flat:
            return None
        return ("present, with no published effect on injury rate (hazard ratio 1.00): "
                + ", ".join(c.label for c in flat))

    def factor_lines(self, top: int | None = TOP_FACTORS) -> list[str]:
        """The day's factors in words: each raising one in full, then those present without an effect;
        the no-raise sentence only when no factor is present at all."""
        lines = ["raised by " + c.text() for c in self.raising(top)]
        flat = self.without_effect_text()
        if flat:
            lines.append(flat)
        return lines or [NO_RAISE_TEXT]

    def as_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "probability": self.probability, "low": self.low, "high": self.high,
                "contributors": [c.as_json() for c in self.contributors]}


@dataclass(frozen=True)
class RiskReport:
    """``base_rate``: the model's probability for a day with no factor present."""

    athlete: str
    horizon_days: int
    base_rate: float
    label: str
    days: tuple[RiskDay, ...]
    model: str = "population prior"      # which model spoke: the population prior or the store's trained one

    def as_json(self) -> dict[str, Any]:
        return {"athlete": self.athlete, "horizon_days": self.horizon_days, "base_rate": self.base_rate,
                "label": self.label, "days": [d.as_json() for d in self.days]}

    @property
    def model_text(self) -> str:
        """What the risk model is, in plain words."""
        if self.model == "population prior":
            return "the population prior (published effects; no personal onsets needed)"
        return f"the population prior {self.model}"

    def on(self, day: dt.date) -> RiskReport:
        """The report cut to its last day on or before ``day``; raises ``LookupError`` when there is none."""
        kept = [d for d in self.days if d.date <= day]
        if not kept:
            raise LookupError(f"no risk for {self.athlete} on or before {day}")
        return replace(self, days=(kept[-1],))

    def line(self, day: RiskDay | None = None) -> str:
        """The one-line risk of ``day`` (default: the last day)."""
        d = day or self.days[-1]
        return (f"risk of a hip/lateral-knee pain onset in the next {self.horizon_days} days: "
                f"{_pct(d.probability)} ({_pct(d.low)}–{_pct(d.high)}); typical for your running: "
                f"{_pct(self.base_rate)}")

    def table_lines(self) -> list[str]:
        """Several days as a compact table (date, probability, interval, the raising factors' short names),
        then each factor named in it once with its hazard ratio, interval and evidence."""
        rows = [(str(d.date), _pct(d.probability), f"{_pct(d.low)}–{_pct(d.high)}",
                 ", ".join(c.label for c in d.raising(None)) or "-") for d in self.days]
        head = ("date", "risk", "interval", "raised by")
        widths = [max(len(r[i]) for r in (head, *rows)) for i in range(3)]
        lines = [f"risk of a hip/lateral-knee pain onset in the next {self.horizon_days} days; "
                 f"typical for your running: {_pct(self.base_rate)}"]
        for r in (head, *rows):
            lines.append(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}")
        seen: dict[str, RiskContributor] = {}
        for d in self.days:
            for c in d.raising(None):
                seen.setdefault(c.factor, c)
        flat = {c.factor: c for d in self.days for c in d.present_without_effect()}
        if seen:
            lines.append("factors:")
            lines += [f"    {c.label}: {c.text()}" for c in seen.values()]
        if flat:
            lines.append("present on some days, with no published effect on injury rate (hazard ratio 1.00): "
                         + ", ".join(c.label for c in flat.values()))
        if not seen and not flat:
            lines.append(NO_RAISE_TEXT)
        return lines


def _pct(p: float) -> str:
    if p < 0.01:
        return f"{p * 100:.2f} %"
    return f"{p * 100:.1f} %" if p < 0.1 else f"{p * 100:.0f} %"


def read_risk_model(model_path: str | Path | None) -> tuple[Posterior, str]:
    """The store's trained prior model when one exists and is readable, else the population prior."""
    from .persist import ModelFileError, read_posterior

    if model_path is not None and Path(model_path).exists():
        try:
            model, card = read_posterior(model_path)
        except ModelFileError as exc:
            log.warning("%s; using the population prior", exc)
        else:
            if model is not None and list(card.get("features", [])) == list(RISK_FACTORS):
                n = card["data"]["onsets_total"]
                return model, f"updated with {n} onset{'' if n == 1 else 's'}"
    return Posterior.from_prior(), "population prior"


def risk_for(store: Store, athlete: str, zone: ZoneInfo, first: dt.date | None = None, last: dt.date | None = None,
             model_path: str | Path | None = None, spec: LabelSpec | None = None,
             dataset: Dataset | None = None) -> RiskReport:
    """Risk of ``athlete`` on the days ``first``..``last`` (default: the last day with data).

    ``dataset``: the athlete's rows when the caller has built them already (its label spec is used).
    Raises ``LookupError`` when the athlete has no runs or no day in the range.
    """
    if dataset is not None:
        spec, ds = dataset.spec, dataset
    else:
        spec = spec or LabelSpec()
        ds = build_dataset(store, [athlete], zone, spec)
    table = ds.table(athlete)
    if table is None or not len(table):
        raise LookupError(f"no runs for {athlete}")
    last = last or table.day(len(table) - 1)
    first = first or last
    window = table.between(first, last)
    if not len(window):
        raise LookupError(f"no data for {athlete} between {first} and {last} "
                          f"(data from {table.day(0)} to {table.day(len(table) - 1)})")
    model, which = read_risk_model(model_path)
    X = factor_matrix(window)
    p = model.probability(X)
    low, high = model.interval(X, LEVEL)
    hr, hr_low, hr_high = model.hazard_ratios(LEVEL)
    entries = {f.id: f for f in shipped().factors}
    evidence = [entries[prior.evidence_id].flag_evidence() for prior in factor_priors()]
    out = []
    for i in range(len(window)):
        present = np.flatnonzero(X[i] != 0)
        present = present[np.argsort(-hr[present])]
        contributors = tuple(RiskContributor(RISK_FACTORS[j], float(X[i, j]), float(hr[j]), float(hr_low[j]),
                                             float(hr_high[j]), evidence[j]) for j in present)
        out.append(RiskDay(window.day(i), float(p[i]), float(low[i]), float(high[i]), contributors))
    source = label_sources(table).get(athlete, "nrs_onset")   # weekly OSTRC answers or the 0-10 log
    return RiskReport(athlete, spec.horizon_days, model.baseline_probability(), label_text(spec, source), tuple(out),
                      which)
