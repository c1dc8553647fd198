"""Evidence-graded rules and the red flag.

Every rule reads the athlete-day table of :func:`gaitrisk.model.dataset.day_table` (days <= t
only): as numpy columns (:class:`.daytable.DayTable`), or as the model's DataFrame.  The evidence
table (``evidence.toml``, :mod:`.evidence`; rendered as ``docs/evidence.md``) holds each rule's
sources, grade, effect, threshold origin and severity; a rule here decides only *whether* it
fires, and its severity is the table's (:func:`levels_of`).  ``high`` belongs to
``see_a_clinician`` alone; a rule whose entry is graded "hypothesis" becomes a flag only when its
entry opts in to the runner's own observed data (``on_observed_data``, camber) and the rule then
reads observed data only.

=====================  =====================================================  ==================
flag                   condition                                               source
=====================  =====================================================  ==================
``session_spike``      a run in 7 d > 1.10 x the longest run of the 30 d       Frandsen 2025
                       before it; the tier (> 10 / 30 / 100 %) and its
                       hazard rate ratio are information, not severity
``return_from_break``  a run in the first 7 days after >= 21 run-free days     Frandsen 2025
                       (declared gap days excluded) >= 50 % of the longest     (design choice)
                       run of the 30 days before the break
``mileage_jump``       the load table's ``week_jump``                          Nielsen 2014;
                       (:func:`gaitrisk.load.metrics.week_change`)             Frandsen 2025
``overstriding``       >= 10 % of 7-day level time <= -5 % against the         Heiderscheit 2011
                       runner's own baseline (>= 10 earlier level runs);
                       without one, > 12 spm under 150 + 6.01 v (fallback)     VU wearable study
``cadence_abs_low``    7-day mean level cadence < 153 spm at >= 2.5 m/s        Garmin FR945 manual
``downhill_load``      the load table's ``descent_spike``                      Gottschall 2005;
                       (:func:`gaitrisk.load.metrics.descent_spike`)           Telhan 2010
``camber_exposure``    >= 70 % of the 28-day road metres with an OBSERVED      hypothesis
                       side (out-and-back, declared) with one leg up-slope,   (observed data)
                       and lateral hip/knee pain >= 3 on that up-slope side
``track_direction``    track >= 20 % of the 28-day distance and >= 10 km,     J Exp Biol 2024;
                       >= 80 % of its bend metres one way, one-sided target   Beukeboom 2000
                       pain in 28 d; names the inside leg
``pain_rising``        target, shin or foot NRS >= 2 points over the mean of   Farrar 2001;
                       the logged days of the 7 before (>= 3 logged), or       Silbernagel 2007
                       next-morning pain >= 1 point over it, or > 5 during a   (design choice)
                       run; an unlogged day is unknown, not 0
``see_a_clinician``    rest pain >= 3 in groin/front hip, buttock, shin or     Song 2020
                       foot; night pain >= 3 anywhere; the last 3 run days
                       within 14 d rising in one region and side; groin pain
                       >= 3 on 2 run days < 7 d apart or on a spike day
=====================  =====================================================  ==================

``return_from_break`` and ``cadence_abs_low`` keep their own codes: a return from a break is
a session spike whose 30-day reference is missing or stale, and an absolute cadence floor is
not the speed-relative residual of ``overstriding``, so a reader sees which rule fired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Mapping, Sequence

import numpy as np

from ..features.gait import BASELINE_DAYS as FEATURE_BASELINE_DAYS
from ..features.gait import MIN_PERSONAL_RUNS, POP_LOW_SPM
from ..load import metrics as M
from . import evidence
from .daytable import DayTable, number
from .evidence import FlagEvidence
from ..pain.compliance import BASELINE_DAYS, BASELINE_MIN_LOGGED
from ..vocab import REGIONS, SIDES

if TYPE_CHECKING:
    import pandas as pd

Row = Mapping[str, Any]   # one athlete-day: DayTable.row, or a DataFrame row (a Series)

Severity = Literal["info", "warn", "high"]
LEVEL = {"info": 1, "warn": 2, "high": 3}

SPIKE_TIERS = (2.0, 1.30, 1.10)       # Frandsen 2025's tiers (large / moderate / small): information only
SPIKE_FLAG = SPIKE_TIERS[2]           # any tier is one spike: the hazard rate ratios do not rise with the tier
WEEK_JUMP = 1.0 + M.WEEK_JUMP         # Nielsen 2014's > 30 %
CADENCE_NOTABLE = -5.0                # Heiderscheit 2011's smallest step-rate change (from the runner's own rate)
CADENCE_LOW_SHARE = 0.10              # design choice: >= 10 % of 7-day level time (evidence table overstriding_personal)
DOWNHILL_SPIKE = M.DESCENT_SPIKE      # the load table's descent spike (design choice)
CAMBER_SHARE = 0.70                   # design choice (evidence table: camber_exposure)
TRACK_SHARE = 0.80                    # design choice (evidence table: track_direction)
# Nearly all track running is counter-clockwise by convention, so "one way" holds by construction:
# the rule speaks only when the track is a material part of the running (design choices).
TRACK_MIN_SHARE = 0.20                # track metres >= 20 % of the 28-day distance
TRACK_MIN_M = 10_000.0                # and >= 10 km of track (25 laps) in 28 days
PAIN_RISE_POINTS, PAIN_HIGH = 2.0, 5.0  # design choice after Farrar 2001 (an improvement MCID) and Silbernagel 2007
MORNING_RISE_POINTS = 1.0             # "next-morning pain above baseline" (Silbernagel 2007); 1 point: design choice
BREAK_DAYS = 21                       # design choice: >= 21 run-free days outside declared gaps
BREAK_WINDOW = 7                      # the first week back counts as "the first runs"
PRE_BREAK_DAYS = 30                   # the pre-break longest run: Frandsen 2025's 30-day window
BREAK_SHARE = 0.50                    # design choice: a first run back >= 50 % of the pre-break longest run
ABS_CADENCE_SPM = 153.0               # Garmin FR945 manual: "red" (< 5th percentile)
ABS_CADENCE_MIN_SPEED = 2.5           # design choice: the floor applies at >= 2.5 m/s
TARGET_PAIN = 3                       # below 3/10 counts as pain-free (design choice)


@dataclass(frozen=True)
class Contributor:
    feature: str
    value: float | None
    weight: float | None = None       # model contribution (log-odds) when it comes from the model


@dataclass(frozen=True)
class Flag:
    """One flag on one day: what, how serious, why (with the numbers) and one thing to do."""

    code: str
    severity: Severity
    date: dt.date
    explanation: str
    suggestion: str
    contributors: tuple[Contributor, ...] = field(default_factory=tuple)
    source: str = ""
    evidence: FlagEvidence | None = None


def _f(row: Row, key: str) -> float:
    return number(row.get(key))


def as_table(frame: pd.DataFrame | DayTable) -> DayTable:
    """An athlete-day table as numpy columns (a DataFrame's rows as they are)."""
    return frame if isinstance(frame, DayTable) else DayTable.from_frame(frame)


# The evidence entry of a rule whose code has more than one, by the method that fired: overstriding
# against the runner's own baseline, or (``fallback``) against the population model before one exists.
FACTOR_OF_CODE = {"overstriding": "overstriding_personal"}
FALLBACK_OF_CODE = {"overstriding": "overstriding_population"}


def rule_factor(code: str, table: evidence.EvidenceTable | None = None, *,
                fallback: bool = False) -> evidence.Factor:
    """The evidence-table entry behind a flag code (its first entry unless ``FACTOR_OF_CODE`` or,
    for a fallback method, ``FALLBACK_OF_CODE`` names one)."""
    table = table or evidence.shipped()
    entries = table.for_flag(code)
    if not entries:
        raise KeyError(f"no evidence entry for flag {code!r}")
    wanted = (FALLBACK_OF_CODE if fallback else FACTOR_OF_CODE).get(code)
    return next((f for f in entries if f.id == wanted), entries[0])


def is_fallback(code: str, row: Row) -> bool:
    """Whether the row's ``code`` flag comes from its fallback method (overstriding without a personal baseline)."""
    return code in FALLBACK_OF_CODE and _f(row, "cad_personal_7d") != 1.0


def flag_evidence(code: str, *, fallback: bool = False) -> FlagEvidence:
    """What a flag of ``code`` carries as ``evidence`` in JSON."""
    return rule_factor(code, fallback=fallback).flag_evidence()


def rule_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`levels_of` on a DataFrame, as a DataFrame on its index.

    A frame without the pain baseline columns (consecutive days per athlete) gets them here: the
    mean and the count of the logged days of the :data:`BASELINE_DAYS` before each day.
    """
    import pandas as pd

    table = as_table(frame)
    if "pain_base_7d" not in frame:   # NaN = a day without an entry (unknown, not 0)
        by_athlete = frame["pain_today"].groupby(level="athlete")
        base = by_athlete.transform(lambda s: s.shift(1).rolling(BASELINE_DAYS, min_periods=1).mean()).to_numpy()
        logged = by_athlete.transform(lambda s: s.notna().astype(float).shift(1).rolling(
            BASELINE_DAYS, min_periods=1).sum()).to_numpy()
        table = DayTable(table.athlete, table.days,
                         {**table.columns, "pain_base_7d": base, "pain_logged_7d": logged})
    return pd.DataFrame(levels_of(table), index=frame.index)


def levels_of(table: DayTable) -> dict[str, np.ndarray]:
    """Vectorised: severity level (0 = off, 1 info, 2 warn, 3 high) of each risk rule on every row.

    Each rule decides whether it fires; the level is its evidence entry's severity, so no rule
    is stronger than its evidence (a "none" entry never fires).
    """
    col = table.col

    def fires(name: str) -> np.ndarray:   # a flag (1.0 / 0.0 / NaN): unknown is not firing
        return np.nan_to_num(col(name), nan=0.0) > 0

    fired: dict[str, np.ndarray] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        fired["session_spike"] = table["spike_max_7d"].astype(float) > SPIKE_FLAG
        fired["return_from_break"] = col("return_ratio_7d") >= BREAK_SHARE
        fired["mileage_jump"] = fires("week_jump")
        # Each baseline's own cut is applied per window by the features; here the share of level time.
        fired["overstriding"] = col("cad_low_share_7d") >= CADENCE_LOW_SHARE
        fired["cadence_abs_low"] = col("cad_level_7d") < ABS_CADENCE_SPM
        fired["downhill_load"] = fires("descent_spike")
        left_leg, right_leg = camber_legs(table)
        fired["camber_exposure"] = left_leg | right_leg
        track = col("track_m_28d")
        material = (track >= TRACK_MIN_M) & (track >= TRACK_MIN_SHARE * col("dist_28d"))
        ccw, cw = col("track_ccw_m_28d"), col("track_cw_m_28d")
        one_way = M.safe_ratio(np.maximum(ccw, cw), ccw + cw) >= TRACK_SHARE
        side_pain = (col("pain_L_28d") >= TARGET_PAIN) != (col("pain_R_28d") >= TARGET_PAIN)
        fired["track_direction"] = material & one_way & side_pain
        today, base, logged = col("pain_today"), col("pain_base_7d"), col("pain_logged_7d")
        # A rise is measured against the logged days only, and only when enough of them exist; the
        # > 5/10 during a run limit needs no baseline.
        judged = logged >= BASELINE_MIN_LOGGED
        morning = col("pain_morning")
        fired["pain_rising"] = ((judged & (((today - base) >= PAIN_RISE_POINTS)
                                           | ((morning > 0) & (morning - base >= MORNING_RISE_POINTS))))
                                | (col("pain_run_today") > PAIN_HIGH))
        own = col("cad_personal_7d") == 1.0
    entries = evidence.shipped()
    out = {}
    for code, on in fired.items():
        level = LEVEL.get(rule_factor(code, entries).severity, 0)
        if code in FALLBACK_OF_CODE:
            level = np.where(own, level, LEVEL.get(rule_factor(code, entries, fallback=True).severity, 0))
        out[code] = np.where(on, level, 0)
    return out


def camber_flag_legs(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """:func:`camber_legs` on a DataFrame, as Series on its index."""
    import pandas as pd

    left, right = camber_legs(as_table(frame))
    return pd.Series(left, index=frame.index), pd.Series(right, index=frame.index)


def camber_legs(table: DayTable) -> tuple[np.ndarray, np.ndarray]:
    """Per day, whether ``camber_exposure`` fires for the left / the right leg: that leg up-slope on
    >= 70 % of the observed road metres and lateral pain on its side."""
    left_up, right_up = up_shares(table)
    lat_l = table.col("lat_pain_L_28d" if "lat_pain_L_28d" in table else "pain_L_28d")
    lat_r = table.col("lat_pain_R_28d" if "lat_pain_R_28d" in table else "pain_R_28d")
    with np.errstate(invalid="ignore"):
        return (left_up >= CAMBER_SHARE) & (lat_l >= TARGET_PAIN), (right_up >= CAMBER_SHARE) & (lat_r >= TARGET_PAIN)


def camber_up_shares(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """:func:`up_shares` on a DataFrame, as Series on its index."""
    import pandas as pd

    left, right = up_shares(as_table(frame))
    return pd.Series(left, index=frame.index), pd.Series(right, index=frame.index)


def up_shares(table: DayTable) -> tuple[np.ndarray, np.ndarray]:
    """Shares of the 28-day road metres with an observed side that had the left / the right leg
    up-slope (NaN without observed road metres).  The up-slope leg is the one away from the low side:
    keeping to the left edge of a crowned road puts the left foot low and the right leg up-slope."""
    observed = table.col("road_obs_m_28d")
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(observed > 0, observed, np.nan)
        return table.col("road_obs_right_low_m_28d") / observed, table.col("road_obs_left_low_m_28d") / observed


def rule_score(frame: pd.DataFrame) -> np.ndarray:
    """The rules-only risk score: the sum of the fired rules' severity levels."""
    return rule_levels(frame).sum(axis=1).to_numpy(float)


SUGGESTIONS = {
    "session_spike": "cap the next long run at 10 % over your 30-day longest run",
    "return_from_break": "keep the first runs back under half of your longest run before the break",
    "cadence_abs_low": "raise cadence 5-10 % at the same pace (shorter, quicker steps)",
    "mileage_jump": "hold next week's distance at or below this week's instead of adding more",
    "overstriding": "raise cadence 5-10 % at the same pace (shorter, quicker steps)",
    "downhill_load": "cut steep descents this week; walk or run them slower and shorter",
    "camber_exposure": ("to see whether it matters for you, change the side of the road you keep to where it is "
                        "safe (or run out-and-back on the same edge both ways) and note whether the pain changes"),
    "track_direction": "alternate track direction every few laps, or move some sessions off the track",
    "pain_rising": "reduce load until pain settles by the next morning; keep pain during runs <= 5/10",
}


def flags_for_day(row: Row, day: dt.date, levels: Mapping[str, Any] | None = None) -> list[Flag]:
    """The rule flags of one athlete-day row, with explanations naming the numbers.

    ``levels``: the row's level per rule code (:func:`levels_of`) when the caller has computed them
    for many days at once (they are computed from the row alone otherwise)."""
    if levels is None:
        # One float per column; a nullable column's NA (e.g. week_jump before 14 days of data) is NaN.
        one = DayTable("", np.array([day], "datetime64[D]"), {k: np.array([number(v)]) for k, v in row.items()})
        levels = {code: lv[0] for code, lv in levels_of(one).items()}
    out: list[Flag] = []
    sev = {1: "info", 2: "warn", 3: "high"}
    texts = {
        "session_spike": (f"your longest run of the last 7 days was {_f(row, 'spike_max_7d'):.2f} x the longest run "
                          f"of the 30 days before it (flag > {SPIKE_FLAG:.2f}); "
                          f"{spike_tier_text(_f(row, 'spike_max_7d'))}",
                          "spike_max_7d"),
        "return_from_break": (f"a run in your first week back after >= {BREAK_DAYS} days without running (declared "
                              f"data gaps not counted) was {100 * _f(row, 'return_ratio_7d'):.0f} % of your longest "
                              "run before the break (flag >= 50 %)", "return_ratio_7d"),
        "cadence_abs_low": (f"7-day level cadence is {_f(row, 'cad_level_7d'):.0f} steps/min at >= 2.5 m/s "
                            f"(flag < 153, the lowest 5 % of runners)", "cad_level_7d"),
        "mileage_jump": (f"last 7 days ({_km(row, 'dist_7d')}) were {_f(row, 'week_ratio'):.2f} x your reference week "
                         f"({_km(row, 'dist_ref_7d')}: the larger of the previous 7 days and the mean week of the 14 "
                         f"days before them; flag > {WEEK_JUMP:.2f} from a reference of "
                         f">= {M.WEEK_JUMP_MIN_M / 1000:.0f} km)", "week_ratio"),
        "overstriding": (overstriding_text(row), "cad_low_share_7d"),
        "downhill_load": (f"vertical descent in the last 7 days was {_f(row, 'descent_ratio'):.1f} x your mean week of "
                          f"the 28 days before them (flag > {DOWNHILL_SPIKE:.1f})", "descent_ratio"),
        "camber_exposure": (camber_text(row), "road_obs_m_28d"),
        "track_direction": (track_text(row), "track_m_28d"),
        "pain_rising": (pain_rising_text(row), "pain_today"),
    }
    for code, level in levels.items():
        if level > 0:
            text, key = texts[code]
            factor = rule_factor(code, fallback=is_fallback(code, row))
            out.append(Flag(code, sev[int(level)], day, text, SUGGESTIONS[code],
                            (Contributor(key, _f(row, key)),), factor.cite, factor.flag_evidence()))
    return out


def overstriding_text(row: Row) -> str:
    """The ``overstriding`` explanation: the residual and baseline the flag used, and what a watch cannot see."""
    share, resid = _f(row, "cad_low_share_7d"), _f(row, "cad_resid_7d")
    if _f(row, "cad_personal_7d") == 1.0:
        base = _f(row, "cad_base_pct")
        own = f": {base:+.1f} % against the population model" if base == base else ""
        runs = _f(row, "cad_base_runs")
        n = f"{runs:.0f} " if runs == runs else ""
        what = (f"{100 * share:.0f} % of your level running in the last 7 days was >= {-CADENCE_NOTABLE:.0f} % below "
                f"your own cadence for the speed (the median of your {n}earlier level runs in {FEATURE_BASELINE_DAYS} "
                f"days{own}); flag at >= {100 * CADENCE_LOW_SHARE:.0f} % of level time. Mean level cadence "
                f"{resid:+.1f} % against your own baseline")
    else:
        runs = _f(row, "cad_base_runs")
        what = (f"population fallback, no personal baseline yet: {runs if runs == runs else 0:.0f} of "
                f"{MIN_PERSONAL_RUNS} level runs. {100 * share:.0f} % of your level running in the last 7 days was more "
                f"than {POP_LOW_SPM:.0f} steps/min below the population cadence for the speed (150 + 6.01 x m/s, "
                f"about -7 %); flag at >= {100 * CADENCE_LOW_SHARE:.0f} % of level time. Mean level cadence "
                f"{resid:+.1f} % against the population model")
    return (what + ". A watch sees cadence for speed only, a proxy: where your foot lands relative to your body "
            "is not measured")


def camber_text(row: Row) -> str:
    """The ``camber_exposure`` explanation: the observed exposure, the up-slope leg and the pain, as a hypothesis."""
    observed = _f(row, "road_obs_m_28d")
    observed = observed if observed > 0 else float("nan")   # the texts are built for every row, fired or not
    left_up, right_up = (_f(row, f"road_obs_{low}_low_m_28d") / observed for low in ("right", "left"))
    leg, share = ("left", left_up) if left_up >= right_up else ("right", right_up)
    pain = _f(row, f"lat_pain_{leg[0].upper()}_28d")
    return (f"{100 * share:.0f} % of your {_km(row, 'road_obs_m_28d')} of road running in 28 days with an observed "
            f"road side (out-and-back pairing or a side you declared) had your {leg} leg on the up-slope side "
            f"of the camber, and you logged {leg} lateral hip/knee pain up to {pain:.0f}/10 (flag: >= "
            f"{100 * CAMBER_SHARE:.0f} % one leg up-slope and that side's lateral pain >= {TARGET_PAIN}/10). "
            "A hypothesis: in the lab the up-slope hip adducts more on a side slope, and hip adduction is "
            "associated with ITB and gluteal tendon pain; no study has measured camber exposure against injury, "
            "and your pain is not evidence that camber is involved")


def track_text(row: Row) -> str:
    """The ``track_direction`` explanation: how much track running, which way, the inside leg, the pain side."""
    ccw, cw = _f(row, "track_ccw_m_28d"), _f(row, "track_cw_m_28d")
    way, inside = ("counter-clockwise", "left") if ccw >= cw else ("clockwise", "right")
    one_way = max(ccw, cw) / (ccw + cw) if ccw + cw > 0 else float("nan")
    share = _f(row, "track_m_28d") / _f(row, "dist_28d") if _f(row, "dist_28d") > 0 else float("nan")
    side = "left" if _f(row, "pain_L_28d") >= TARGET_PAIN else "right"
    where = "inside" if side == inside else "outside"
    return (f"track running was {100 * share:.0f} % of your distance in 28 days ({_km(row, 'track_m_28d')}), "
            f"{100 * one_way:.0f} % of its bends {way}, so your {inside} leg ran on the inside; you logged "
            f"{side}-side pain (your {where} leg) (flag: track >= {100 * TRACK_MIN_SHARE:.0f} % of the distance "
            f"and >= {TRACK_MIN_M / 1000:.0f} km, >= {100 * TRACK_SHARE:.0f} % of bends one way, pain on one side). "
            "On a bend the inside leg takes more sideways and less vertical force than the outside leg "
            "(J Exp Biol 2024, sprinters); training one way on a small indoor track has been associated with "
            "uneven ankle strength and injuries (Beukeboom 2000)")


def pain_rising_text(row: Row) -> str:
    """The ``pain_rising`` explanation with the day's numbers and the baseline it was judged against."""
    today, run, morning = _f(row, "pain_today"), _f(row, "pain_run_today"), _f(row, "pain_morning")
    base, logged = _f(row, "pain_base_7d"), _f(row, "pain_logged_7d")
    parts = [f"pain today {today:.0f}/10" if today == today else "no pain entry today"]
    if run > 0:
        parts.append(f"during a run {run:.0f}/10")
    if morning > 0:
        parts.append(f"next morning {morning:.0f}/10")
    n = int(logged) if logged == logged else 0
    if n >= BASELINE_MIN_LOGGED and base == base:
        against = f"against the mean of your {n} logged days of the {BASELINE_DAYS} before: {base:.1f}/10"
    else:
        against = (f"not enough pain log for a baseline ({n} of the {BASELINE_DAYS} days before logged, "
                   f"{BASELINE_MIN_LOGGED} needed)")
    return (", ".join(parts) + f"; {against} (flag: >= {PAIN_RISE_POINTS:.0f} points above that mean, next-morning "
            f"pain {MORNING_RISE_POINTS:.0f} point above it, or above {PAIN_HIGH:.0f}/10 during a run)")


# see_a_clinician triggers; each cites its entry in gaitrisk/model/evidence.toml.
BONE_STRESS_REGIONS: tuple[str, ...] = ("groin_front_hip", "buttock", "shin", "foot")   # buttock = pelvis/buttock
REST_NIGHT_MIN = 3              # design choice: a 1-2/10 ache at rest is common and not a bone red flag
RUN_WHENS = ("during_run", "after_run")
WORSENING_RUNS, WORSENING_WINDOW_DAYS = 3, 14    # the last 3 run days, the first and last < 14 days apart
GROIN_RUN_DAYS_WINDOW = 7                         # two groin run days < 7 days apart
REFER = "stop running and see a clinician before the next run"
# Each trigger's entry in the evidence table: its flag cites the entry's sources and carries its evidence.
CITE_REST_NIGHT = "clinician_rest_night_pain"
CITE_WORSENING = "clinician_worsening_runs"
CITE_GROIN = "clinician_groin_run_days"


def _refer(day: dt.date, text: str, score: float, trigger: str) -> Flag:
    factor = next(f for f in evidence.shipped().for_flag("see_a_clinician") if f.id == trigger)
    return Flag("see_a_clinician", "high", day, text, REFER, (Contributor("pain_score", float(score)),),
                factor.cite, factor.flag_evidence())


def _site(region: str, side: str) -> str:
    return REGIONS.get(region, region) + ("" if side == "both" else f" ({SIDES.get(side, side)})")


def _km(row: Row, key: str) -> str:
    value = _f(row, key)
    return f"{value / 1000:.1f} km" if value == value else "unknown"


def spike_tier_text(ratio: float) -> str:
    """The Frandsen tier of a spike ratio and its hazard rate ratio, as information (not severity)."""
    tier = str(M.spike_tier(np.array([ratio]))[0])
    effect = next((e for e in rule_factor("session_spike").effects if e.label.startswith(tier)), None)
    if effect is None:
        return f"tier: {tier}"
    return (f"tier: {effect.text()} in Frandsen 2025; every tier is one spike, because the hazard "
            "rate ratios do not rise with the tier")


def clinician_flags(entries: Sequence, frame: pd.DataFrame | DayTable, zone) -> list[Flag]:
    """``see_a_clinician`` red flags from the pain entries; never modelled, always referred.

    ``frame``: the athlete's day table (a DataFrame of several athletes is cut to the entries' one).
    """
    names = {e.athlete for e in entries}
    if not isinstance(frame, DayTable) and not frame.empty and "athlete" in frame.index.names and len(names) == 1:
        frame = frame[frame.index.get_level_values("athlete") == next(iter(names))]  # this athlete's days only
    table = as_table(frame)

    def local(e) -> dt.date:
        return e.time_utc.astimezone(zone).date()

    out: list[Flag] = []
    # The pain log records "at night", not whether the pain woke the runner: night pain >= 3/10 is
    # taken as waking pain and refers in any region; rest pain refers in the bone-stress regions.
    for e in entries:
        if e.score < REST_NIGHT_MIN:
            continue
        if e.when == "at_night":
            out.append(_refer(local(e), f"{_site(e.region, e.side)} pain {e.score}/10 at night (night pain at "
                              f"{REST_NIGHT_MIN}/10 or more is taken as pain that wakes you): can mean a bone stress "
                              "injury", e.score, CITE_REST_NIGHT))
        elif e.when == "at_rest" and e.region in BONE_STRESS_REGIONS:
            out.append(_refer(local(e), f"{_site(e.region, e.side)} pain {e.score}/10 at rest: rest pain in a "
                              "bone-stress region can mean a bone stress injury", e.score, CITE_REST_NIGHT))

    # Run days: the frame's days with a run, and any day with run pain logged (one score per day and
    # site: its highest).  A run day without pain at a site is a pain-free run there (score 0).
    run_days = {local(e) for e in entries if e.when in RUN_WHENS}
    if len(table) and "ran" in table:
        run_days |= set(table.days[np.nan_to_num(table.col("ran")) > 0].tolist())
    ordered = sorted(run_days)
    by_site: dict[tuple[str, str], dict[dt.date, int]] = {}
    for e in entries:
        if e.when in RUN_WHENS and e.score > 0:
            days = by_site.setdefault((e.region, e.side), {})
            days[local(e)] = max(days.get(local(e), 0), e.score)
    for (region, side), days in sorted(by_site.items()):
        for i in range(WORSENING_RUNS - 1, len(ordered)):
            chain = ordered[i - WORSENING_RUNS + 1:i + 1]
            scores = [days.get(d, 0) for d in chain]
            if ((chain[-1] - chain[0]).days < WORSENING_WINDOW_DAYS and scores[0] > 0
                    and all(a < b for a, b in zip(scores, scores[1:]))):
                out.append(_refer(chain[-1], f"{_site(region, side)} pain worsened over your last "
                                  f"{WORSENING_RUNS} runs within {WORSENING_WINDOW_DAYS} days "
                                  f"({' -> '.join(map(str, scores))}): can mean a bone stress injury",
                                  scores[-1], CITE_WORSENING))

    # Groin/front-hip pain on two run days close together: a femoral-neck stress injury needs no spike.
    groin: dict[dt.date, int] = {}
    for e in entries:
        if e.region == "groin_front_hip" and e.score >= REST_NIGHT_MIN and local(e) in run_days:
            groin[local(e)] = max(groin.get(local(e), 0), e.score)
    seq = sorted(groin.items())
    for (d1, s1), (d2, s2) in zip(seq, seq[1:]):
        if (d2 - d1).days < GROIN_RUN_DAYS_WINDOW:
            out.append(_refer(d2, f"groin pain {s1}/10 and {s2}/10 on two run days {(d2 - d1).days} days apart: "
                              "possible femoral-neck bone stress, which needs no load spike", s2, CITE_GROIN))
    if len(table):
        with np.errstate(invalid="ignore"):
            spiked = (table.col("spike_max_7d") > SPIKE_TIERS[1]) | (table.col("week_ratio") > WEEK_JUMP)
        spike_days = set(table.days[spiked].tolist())
        for e in entries:
            day = local(e)
            if e.region == "groin_front_hip" and e.score >= TARGET_PAIN and day in spike_days:
                out.append(_refer(day, f"groin pain {e.score}/10 within 7 days of a load spike: possible bone "
                                  "stress", e.score, CITE_GROIN))
    return out
