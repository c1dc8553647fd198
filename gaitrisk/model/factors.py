"""The risk model's exposures and their priors: one definition for training, prediction and the risk contract.

:data:`RISK_FACTORS` are a few interpretable yes/no exposures of an athlete-day, each standing
for one evidence-table entry (:data:`FACTOR_PRIORS`).  :func:`risk_factors` computes them from
the athlete-day table of :func:`gaitrisk.model.dataset.day_table` with the rules' own
thresholds, so a factor means what the matching flag means.  An exposure that cannot be
computed (a gap, too little history) reads as absent: the model then falls back on the base
rate instead of guessing an exposure.

Each factor's prior is a Normal distribution on its log hazard ratio: centred on the published
estimate with the spread of its 95 % CI, ``(ln hi - ln lo) / 3.92``, or centred on 0 with a stated
spread where the evidence is a hypothesis or shows no effect.  With a 7-day onset probability
under a few per cent the odds ratio of the logistic model and the hazard ratio agree to within
the probability itself, so the published hazard ratios serve as log-odds priors.

The intercept's prior is the base rate (:func:`base_rate`): recreational runners' injury rate per
1,000 h of running (Videbæk 2015), times a typical week's running hours, times the share of injuries
in the target regions, as the probability of a target-region onset within the label horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from . import evidence
from .daytable import DayTable
from .rules import BREAK_SHARE, CADENCE_LOW_SHARE, CAMBER_SHARE, SPIKE_TIERS, as_table, up_shares

if TYPE_CHECKING:
    import pandas as pd

LARGE, MODERATE, SMALL = SPIKE_TIERS
Z95 = 1.959963984540054
HYPOTHESIS_SD = 0.5   # log HR: 95 % of the prior between HR 0.38 and 2.66 -- wide, not flat

# The base rate (evidence table: injury_base_rate).
RATE_PER_1000_H = 7.7          # recreational runners, Videbæk 2015 (95 % CI 6.9-8.7)
TYPICAL_WEEKLY_HOURS = 3.0     # design choice: about 30 km a week at 6 min/km
TARGET_SHARE = 0.15            # design choice: share of running injuries in hip, groin, buttock and lateral knee
INTERCEPT_SD = 1.0             # logit scale: novice vs recreational (x2.3), 1.5-6 h a week and a 8-30 % share


@dataclass(frozen=True)
class FactorPrior:
    """The Normal prior on one factor's log hazard ratio and the evidence entry behind it."""

    factor: str
    evidence_id: str          # the evidence-table entry (gaitrisk/model/evidence.toml)
    mean: float               # log hazard ratio
    sd: float
    origin: str               # how mean and sd were derived, in words

    @property
    def hazard_ratio(self) -> float:
        return math.exp(self.mean)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        z = z_score(level)
        return math.exp(self.mean - z * self.sd), math.exp(self.mean + z * self.sd)


def z_score(level: float) -> float:
    """The two-sided normal quantile of ``level`` (0.95 -> 1.96)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie between 0 and 1, not {level}")
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def _entry(evidence_id: str) -> evidence.Factor:
    return next(f for f in evidence.shipped().factors if f.id == evidence_id)


def _from_effect(factor: str, evidence_id: str, index: int) -> FactorPrior:
    e = _entry(evidence_id).effects[index]
    if e.estimate is None or e.ci_low is None or e.ci_high is None:
        raise ValueError(f"evidence entry {evidence_id} effect {index} has no estimate with a 95 % CI")
    sd = (math.log(e.ci_high) - math.log(e.ci_low)) / (2 * Z95)
    return FactorPrior(factor, evidence_id, math.log(e.estimate), sd,
                       f"{e.measure} {e.estimate:g} (95 % CI {e.ci_low:g}-{e.ci_high:g})")


def _centred(factor: str, evidence_id: str, sd: float, why: str) -> FactorPrior:
    return FactorPrior(factor, evidence_id, 0.0, sd, why)


def _week_jump() -> FactorPrior:
    # Nielsen 2014's subgroup HR 1.59 (0.96-2.66) is not statistically certain and Frandsen 2025 found
    # no link in a larger cohort: centred on no effect, with the spread of Nielsen's interval.
    e = _entry("mileage_jump").effects[0]
    sd = (math.log(e.ci_high) - math.log(e.ci_low)) / (2 * Z95)
    return FactorPrior("week_jump", "mileage_jump", 0.0, sd,
                       f"no effect (Frandsen 2025), spread of Nielsen 2014's HR {e.estimate:g} "
                       f"(95 % CI {e.ci_low:g}-{e.ci_high:g})")


def factor_priors() -> tuple[FactorPrior, ...]:
    """Every factor's prior, in :data:`RISK_FACTORS` order, read from the shipped evidence table."""
    return (
        _from_effect("spike_small", "session_spike", 0),
        _from_effect("spike_moderate", "session_spike", 1),
        _from_effect("spike_large", "session_spike", 2),
        _week_jump(),
        _from_effect("previous_injury", "previous_injury", 0),
        _centred("return_after_break", "return_from_break", HYPOTHESIS_SD,
                 f"no effect size published: mean 0, SD {HYPOTHESIS_SD:g} (design choice)"),
        _centred("low_cadence", "overstriding_personal", HYPOTHESIS_SD,
                 f"lab evidence without an injury endpoint: mean 0, SD {HYPOTHESIS_SD:g} (design choice)"),
        _centred("downhill", "downhill_load", HYPOTHESIS_SD,
                 f"hypothesis: mean 0, SD {HYPOTHESIS_SD:g} (design choice)"),
        _centred("camber", "camber_exposure", HYPOTHESIS_SD,
                 f"hypothesis: mean 0, SD {HYPOTHESIS_SD:g} (design choice)"),
    )


RISK_FACTORS: tuple[str, ...] = ("spike_small", "spike_moderate", "spike_large", "week_jump", "previous_injury",
                                 "return_after_break", "low_cadence", "downhill", "camber")
FACTOR_TITLES: dict[str, str] = {
    "spike_small": "a run in the last 7 days 10-30 % longer than your longest of the 30 days before it",
    "spike_moderate": "a run in the last 7 days 30-100 % longer than your longest of the 30 days before it",
    "spike_large": "a run in the last 7 days more than twice your longest of the 30 days before it",
    "week_jump": "the last 7 days more than 30 % longer than your reference week",
    "previous_injury": "an earlier pain episode in your pain log",
    "return_after_break": "a first week back after a break of 3 weeks or more",
    "low_cadence": "10 % or more of the last 7 days' level running 5 % or more below your own usual cadence for the speed",
    "downhill": "the last 7 days with more than 1.5 x your usual weekly descent",
    "camber": "70 % or more of your road metres in 28 days with an observed road side with the same leg up-slope",
}


def horizon_probability(rate_per_1000_h: float = RATE_PER_1000_H, weekly_hours: float = TYPICAL_WEEKLY_HOURS,
                        share: float = TARGET_SHARE, days: int = 7) -> float:
    """Probability of a target-region injury within ``days`` at a constant rate (Poisson)."""
    hours = weekly_hours * days / 7.0
    return 1.0 - math.exp(-rate_per_1000_h / 1000.0 * hours * share)


def base_rate(days: int = 7) -> float:
    """The population prior's probability of a target-region onset within ``days`` for a typical runner."""
    return horizon_probability(days=days)


def base_rate_text(days: int = 7) -> str:
    """Where the population base rate comes from, in one sentence with its sources and grade."""
    entry = _entry("injury_base_rate")
    return (f"population base rate {base_rate(days) * 100:.2f} % in {days} days: {RATE_PER_1000_H:g} running injuries "
            f"per 1,000 h in recreational runners x {TYPICAL_WEEKLY_HOURS:g} h of running a week x "
            f"{TARGET_SHARE * 100:.0f} % of injuries in the target regions (the hours and the share are design choices) "
            f"[{entry.cite}; evidence grade {entry.grade}]")


def intercept_prior(days: int = 7) -> tuple[float, float]:
    """(mean, sd) of the intercept's prior on the logit scale."""
    p = base_rate(days)
    return math.log(p / (1.0 - p)), INTERCEPT_SD


def risk_factors(frame: pd.DataFrame) -> pd.DataFrame:
    """The :data:`RISK_FACTORS` (0/1 floats) of every row of an athlete-day frame; unknown = 0."""
    import pandas as pd

    return pd.DataFrame(factor_matrix(as_table(frame)), index=frame.index, columns=list(RISK_FACTORS))


def factor_matrix(table: DayTable) -> np.ndarray:
    """:func:`risk_factors` of a day table: one row per day, one 0/1 column per :data:`RISK_FACTORS`."""
    col = table.col
    spike = col("spike_max_7d")

    def flag(name: str) -> np.ndarray:   # unknown reads as absent
        return np.nan_to_num(col(name), nan=0.0) != 0

    left_up, right_up = up_shares(table)   # observed road sides only, as the camber rule reads them
    with np.errstate(invalid="ignore"):
        factors = {
            "spike_small": (spike > SMALL) & (spike <= MODERATE),
            "spike_moderate": (spike > MODERATE) & (spike <= LARGE),
            "spike_large": spike > LARGE,
            "week_jump": flag("week_jump"),
            "previous_injury": col("prior_onsets") > 0,
            "return_after_break": col("return_ratio_7d") >= BREAK_SHARE,
            "low_cadence": col("cad_low_share_7d") >= CADENCE_LOW_SHARE,
            "downhill": flag("descent_spike"),
            "camber": np.fmax(left_up, right_up) >= CAMBER_SHARE,
        }
    # Factor by factor, then transposed: the column-major layout a DataFrame's values have, so that the
    # model's sums run in the same order whichever way the factors came.
    return np.array([factors[name] for name in RISK_FACTORS], float).reshape(len(RISK_FACTORS), len(table)).T
